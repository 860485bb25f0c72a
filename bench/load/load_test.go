package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestMain lets the harness re-execute this test binary in its roles
// (shop, plain proxy, load generator), as it does its own binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "role" {
		if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuickRun runs the whole harness once, briefly, on loopback: every
// target answers, without errors, and the report is written.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and builds shopedge")
	}
	out := t.TempDir()
	t.Chdir("../..")
	if err := run([]string{"-quick", "-out", out, "-json"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range rep.Cases {
		seen[c.Target] = true
		if c.RPS.Median <= 0 || c.Latency["p50"].Median <= 0 {
			t.Errorf("%s: no throughput or latency measured", c.caseKey)
		}
		if c.Errors > 0 {
			t.Errorf("%s: %d errors", c.caseKey, c.Errors)
		}
	}
	for _, tg := range targets {
		if !seen[tg] {
			t.Errorf("target %s not measured", tg)
		}
	}
	if m := rep.Memory["shopedge"]; m.Rewrites == 0 || m.Profiles == 0 || m.Products == 0 {
		t.Errorf("shopedge with the demo rules personalized nothing: %+v", m)
	}
	for _, f := range []string{"report.md", "latency.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}
