package rules

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

// TestCheckGolden runs every testdata/check/*.txt case: a configuration, a
// line "----", then the problems Parse must report (or its warnings, if
// any, and "ok").
func TestCheckGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/check/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(b), "----\n")
			if !ok {
				t.Fatalf("%s: no ---- separator", f)
			}
			got := "ok\n"
			if c, err := Parse("config.yaml", []byte(in)); err == nil && len(c.Warnings) > 0 {
				got = c.Warnings.Error() + "\nok\n" // valid, with warnings
			} else if err != nil {
				var ps Problems
				if !errors.As(err, &ps) {
					t.Fatalf("error is %T, want Problems: %v", err, err)
				}
				got = ps.Error() + "\n"
			}
			if *update {
				if err := os.WriteFile(f, []byte(in+"----\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("problems differ\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestShippedConfigs loads every configuration under configs/.
func TestShippedConfigs(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no configs found in ../configs")
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}
