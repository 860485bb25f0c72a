package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress shows how far a long read has gone, on one line of a terminal
// rewritten at most five times a second, and writes nothing when the
// output is not a terminal (piped, redirected) or under CI.
type progress struct {
	w     io.Writer
	what  string
	total int64 // bytes in a pass
	n     int64
	pass  int
	last  time.Time
	shown bool
}

// newProgress returns a progress for reading total bytes of what, or nil
// (which shows nothing) when w is not a terminal or CI is set.
func newProgress(w io.Writer, what string, total int64) *progress {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("CI") != "" {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: w, what: what, total: total, pass: 1}
}

// add counts n bytes read, and shows the figure if it is time.
func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		pct := 100.0
		if p.total > 0 {
			pct = 100 * float64(p.n) / float64(p.total)
		}
		fmt.Fprintf(p.w, "\r%s, pass %d: %5.1f%% of %d MB ", p.what, p.pass, pct, p.total>>20)
		p.shown = true
	}
}

// restart starts another pass over the same bytes.
func (p *progress) restart() {
	if p != nil && p.n > 0 {
		p.pass++
		p.n = 0
	}
}

// done clears the line.
func (p *progress) done() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressReader counts what is read through it.
type progressReader struct {
	r io.ReadSeeker
	p *progress
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	return n, err
}

func (r progressReader) Seek(off int64, whence int) (int64, error) {
	if off == 0 && whence == io.SeekStart {
		r.p.restart()
	}
	return r.r.Seek(off, whence)
}
