package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionNamesCommit builds the command as the README says (go build
// -buildvcs=true, in the git checkout) and checks that version names the
// commit checked out.
func TestVersionNamesCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "shopedge")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("shopedge version: %v", err)
	}
	want := "commit " + strings.TrimSpace(string(head))[:12]
	if !strings.HasPrefix(string(out), "shopedge v") || !strings.Contains(string(out), want) {
		t.Errorf("shopedge version printed %q, want the module version and %q", out, want)
	}
}
