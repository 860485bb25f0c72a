package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// text is a section holding a string, self-delimited by its length.
type text struct{ s string }

func (t *text) section(name string) Section {
	return Section{Name: name,
		Write: func(w io.Writer) error {
			_, err := w.Write(appendString(nil, t.s))
			return err
		},
		Read: func(r *bufio.Reader) error {
			n, err := binary.ReadUvarint(r)
			if err != nil || n > 1<<20 {
				return errors.New("bad length")
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return err
			}
			t.s = string(b)
			return nil
		}}
}

// TestSnapshot: what Save writes Load reads back; a missing file is a
// first start; another shop's, another format, a flipped byte, bytes
// after the end and a file cut anywhere are refused with ErrSnapshot.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.snap")
	a, b := &text{"profiles here"}, &text{"the engine, longer: " + string(bytes.Repeat([]byte("x"), 5000))}
	n, err := Save(path, "http://shop", []Section{a.section("a"), b.section("b")})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if int64(len(raw)) != n {
		t.Errorf("Save said %d bytes, the file has %d", n, len(raw))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	ga, gb := &text{}, &text{}
	if err := Load(path, "http://shop", []Section{ga.section("a"), gb.section("b")}); err != nil || ga.s != a.s || gb.s != b.s {
		t.Fatalf("load: %v, got %q and %d bytes", err, ga.s, len(gb.s))
	}
	if err := Load(filepath.Join(dir, "none"), "http://shop", nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want ErrNotExist", err)
	}
	refused := func(name string, data []byte, owner string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Load(p, owner, []Section{(&text{}).section("a"), (&text{}).section("b")}); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: %v, want ErrSnapshot", name, err)
		}
	}
	refused("foreign", raw, "http://another-shop")
	refused("not a snapshot", []byte("hello"), "http://shop")
	refused("trailing bytes", append(bytes.Clone(raw), 0), "http://shop")
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-100] ^= 0x20 // inside section b's text
	refused("flipped", flipped, "http://shop")
	other := bytes.Clone(raw)
	other[len(magic)] = 9 // the format
	refused("format", other, "http://shop")
	for cut := 0; cut < len(raw); cut += 1 + cut/7 {
		refused("cut", raw[:cut], "http://shop")
	}
}
