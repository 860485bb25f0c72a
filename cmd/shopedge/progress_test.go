package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProgressQuietWhenPiped (issue 14): a long run shows progress on a
// terminal only: written to a pipe or a file (or under CI) it says
// nothing; on a terminal it rewrites one line and clears it.
func TestProgressQuietWhenPiped(t *testing.T) {
	var buf bytes.Buffer
	if p := newProgress(&buf, "reading", 100); p != nil {
		t.Fatal("progress on a buffer")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if p := newProgress(pw, "reading", 100); p != nil {
		t.Error("progress on a pipe")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := newProgress(f, "reading", 100); p != nil {
		t.Error("progress on a file")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		t.Setenv("CI", "1")
		if p := newProgress(tty, "reading", 100); p != nil {
			t.Error("progress on a terminal under CI")
		}
	}
	var none *progress
	none.add(10) // a nil progress shows nothing, and does not fail
	none.restart()
	none.done()

	p := &progress{w: &buf, what: "reading events.csv", total: 100 << 20, pass: 1}
	r := progressReader{strings.NewReader(strings.Repeat("x", 1000)), p}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	p.last = time.Time{}
	p.add(1)
	p.done()
	if out := buf.String(); !strings.Contains(out, "\rreading events.csv, pass 1:") || !strings.Contains(out, "pass 2:") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("progress line: %q", out)
	}
}
