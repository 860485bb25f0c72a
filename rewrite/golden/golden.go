// Package golden is test support: it compares what a test made with a
// golden file, or writes the file when the test runs with -update. Only
// tests import it; it imports nothing of shopedge.
//
// Files: golden.go, Check and the -update flag.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is the -update flag: rewrite the golden files instead of
// comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Check compares got with the file at path, or writes it there (and its
// folder) with -update.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it: go test -run '%s' -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -run '%s' -update accepts it):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}
