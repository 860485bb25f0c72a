package profile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"
	"unsafe"
)

// TestProfileVersion holds profileVersion to layoutVersion: a change of
// Data's layout changes both, so that a profile's version names its
// layout (Install reads earlier layouts by it).
func TestProfileVersion(t *testing.T) {
	t.Parallel()
	if layoutVersion != 2 || profileVersion != layoutVersion {
		t.Errorf("layoutVersion %d, profileVersion %d: bump profileVersion with layoutVersion, then this test", layoutVersion, profileVersion)
	}
}

// encoded returns the bytes of visitor-0's profile in a store of a few
// visitors, and when it was last seen.
func encoded(t *testing.T) ([]byte, uint32) {
	t.Helper()
	now := snapT0
	s := snapStore(t, 10, 24*time.Hour, &now)
	fillVisitors(s, 4, &now)
	b, _, _, ok := s.Encode(visitorID(0), []byte("prefix"))
	if !ok {
		t.Fatal("Encode: visitor-0 not held")
	}
	if len(b) != len("prefix")+EncodedSize || string(b[:6]) != "prefix" {
		t.Fatalf("Encode appended %d bytes, want %d after the prefix", len(b)-6, EncodedSize)
	}
	return b[6:], uint32(snapT0.Unix())
}

// TestInstallRoundTrip: a profile encoded in one store and installed in
// another holds the same Data and last seen, and encodes to the same
// bytes; installing over a held profile replaces its Data in place (a
// pointer held before sees it) and keeps the later last seen.
func TestInstallRoundTrip(t *testing.T) {
	t.Parallel()
	b, seen := encoded(t)
	tests := []struct {
		name     string
		held     time.Duration // a profile held before, last seen at snapT0 plus this; <0: none
		wantSeen uint32
	}{
		{name: "not held", held: -1, wantSeen: seen},
		{name: "held, seen before", held: 0, wantSeen: seen},
		{name: "held, seen since", held: time.Hour, wantSeen: seen + 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := snapT0.Add(2 * time.Hour)
			s := snapStore(t, 10, 24*time.Hour, &now)
			var before *Profile
			if tt.held >= 0 {
				at := snapT0.Add(tt.held)
				s.now = func() time.Time { return at }
				before, _ = s.Load(visitorID(0))
				before.Update(func(d *Data) { d.Search("other") })
				s.now = func() time.Time { return now }
			}
			if err := s.Install(visitorID(0), b, 1); err != nil {
				t.Fatalf("Install: %v", err)
			}
			p, ok := s.Get(visitorID(0))
			if !ok {
				t.Fatal("not held after Install")
			}
			if before != nil && p != before {
				t.Error("Install replaced the held profile instead of its Data")
			}
			d := p.Snapshot()
			if got := dataBytes(&d); !bytes.Equal(got, b[encodedHeader:]) {
				t.Error("installed Data differs from the encoded one")
			}
			again, _, _, ok := s.Encode(visitorID(0), nil)
			if !ok {
				t.Fatal("Encode after Install: not held")
			}
			if got := binary.LittleEndian.Uint32(again[9:]); got != tt.wantSeen {
				t.Errorf("last seen %d, want %d", got, tt.wantSeen)
			}
			if !bytes.Equal(again[encodedHeader:], b[encodedHeader:]) {
				t.Error("re-encoded Data differs")
			}
		})
	}
}

// TestInstallRefused: bytes of another version, layout or length, and
// Data no profile could hold, are refused with ErrProfile and change
// nothing.
func TestInstallRefused(t *testing.T) {
	t.Parallel()
	b, _ := encoded(t)
	with := func(f func(c []byte)) []byte {
		c := bytes.Clone(b)
		f(c)
		return c
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", b[:len(b)-1]},
		{"long", append(bytes.Clone(b), 0)},
		{"header only", b[:encodedHeader]},
		{"wrong version", with(func(c []byte) { c[0] = profileVersion + 1 })},
		{"wrong fingerprint", with(func(c []byte) { c[3] ^= 1 })},
		{"count beyond its array", with(func(c []byte) { c[encodedHeader+int(unsafe.Offsetof(Data{}.nRecent))] = MaxRecent + 1 })},
		{"customer neither true nor false", with(func(c []byte) { c[encodedHeader+int(unsafe.Offsetof(Data{}.Customer))] = 2 })},
		{"text beyond its array", with(func(c []byte) { c[encodedHeader+int(unsafe.Offsetof(Data{}.searches))] = searchLen + 1 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := snapT0
			s := snapStore(t, 10, 24*time.Hour, &now)
			held, _ := s.Load(visitorID(0))
			held.Update(func(d *Data) { d.Search("kept") })
			err := s.Install(visitorID(0), tt.b, 1)
			if !errors.Is(err, ErrProfile) {
				t.Fatalf("got %v, want an error wrapping ErrProfile", err)
			}
			if d := held.Snapshot(); len(d.Searches()) != 1 || d.Searches()[0] != "kept" {
				t.Errorf("a refused Install changed the held profile: searches %q", d.Searches())
			}
			if err := s.Install(visitorID(1), tt.b, 1); err == nil {
				t.Error("refused bytes accepted for another visitor")
			}
			if _, ok := s.Get(visitorID(1)); ok {
				t.Error("a refused Install holds a profile")
			}
		})
	}
}

// TestInstallHolding: Install makes room as Load does, does not hold a
// profile past its TTL, and a held profile past its TTL is not encoded.
func TestInstallHolding(t *testing.T) {
	t.Parallel()
	b, _ := encoded(t)
	now := snapT0.Add(time.Minute)
	s := snapStore(t, 1, 24*time.Hour, &now)
	s.Load("someone")
	if err := s.Install(visitorID(0), b, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("someone"); ok {
		t.Error("a full store did not make room for the installed profile")
	}
	if st := s.Stats(); st.Held != 1 || st.Evicted != 1 {
		t.Errorf("held %d, evicted %d; want 1, 1", st.Held, st.Evicted)
	}
	now = snapT0.Add(25 * time.Hour)
	if _, _, _, ok := s.Encode(visitorID(0), nil); ok {
		t.Error("a profile past its TTL was encoded")
	}
	late := snapStore(t, 10, 24*time.Hour, &now)
	if err := late.Install(visitorID(0), b, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := late.Get(visitorID(0)); ok {
		t.Error("a profile last seen past the TTL was held")
	}
	if _, _, _, ok := late.Encode("nobody", nil); ok {
		t.Error("Encode of a visitor not held: ok")
	}
}

// FuzzInstall: Install never panics, refuses only with ErrProfile, and
// bytes it accepts encode again to exactly themselves.
func FuzzInstall(f *testing.F) {
	now := snapT0
	src, err := NewStore(10*Cost, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	src.now = func() time.Time { return now }
	fillVisitors(src, 3, &now)
	for i := range 3 {
		b, _, _, _ := src.Encode(visitorID(i), nil)
		f.Add(b)
	}
	src.Load("empty")
	b, _, _, _ := src.Encode("empty", nil)
	f.Add(b)
	f.Add(b[:encodedHeader])
	if old, err := os.ReadFile("testdata/layout-v1.profile"); err == nil {
		f.Add(old) // an earlier layout, upgraded as installed
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Nothing expires and no last seen is ahead of this clock.
		s, err := NewStore(10*Cost, (1<<32-1)*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return time.Unix(1<<32-1, 0) }
		if err := s.Install("v", b, 1); err != nil {
			if !errors.Is(err, ErrProfile) {
				t.Fatalf("error %v does not wrap ErrProfile", err)
			}
			if _, ok := s.Get("v"); ok {
				t.Fatal("refused bytes hold a profile")
			}
			return
		}
		again, _, _, ok := s.Encode("v", nil)
		if !ok {
			t.Fatal("accepted bytes hold no profile")
		}
		if b[0] != profileVersion {
			// An earlier layout's, upgraded: written again in this
			// build's, which installs as it encodes.
			if again[0] != profileVersion {
				t.Fatalf("an upgraded profile encodes as version %d", again[0])
			}
			s.Delete("v")
			if err := s.Install("v", again, 1); err != nil {
				t.Fatalf("an upgraded profile, encoded again, is refused: %v", err)
			}
			b = again
			again, _, _, _ = s.Encode("v", nil)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", again, b)
		}
		// What a reader of the profile does must not panic either.
		p, _ := s.Get("v")
		d := p.Snapshot()
		_ = d.Recent()
		_ = d.Cart()
		_ = d.Searches()
		_ = d.Source()
		_ = d.Purchased()
	})
}

// TestGenerations: a held profile carries the generation of the shared
// copy it is and a number naming the copy; Written moves the generation on
// only for the copy written; DropCopy drops only that copy; DropOlder only
// older generations; Install keeps a copy as new or newer; Adopt raises a
// fresh copy's generation.
func TestGenerations(t *testing.T) {
	src, _ := NewStore(10*Cost, time.Hour)
	src.Load("v")
	b, gen, _, ok := src.Encode("v", nil)
	if !ok || gen != 0 {
		t.Fatalf("a profile begun here: gen %d, %v; want 0", gen, ok)
	}
	s, _ := NewStore(10*Cost, time.Hour)
	state := func() (uint64, uint32) { _, g, c, _ := s.Encode("v", nil); return g, c }
	if err := s.Install("v", b, 3); err != nil {
		t.Fatal(err)
	}
	g, c := state()
	if g != 3 || c == 0 {
		t.Fatalf("installed at 3: gen %d, copy %d", g, c)
	}
	s.Written("v", c+100, 9) // another copy: nothing
	s.Written("v", c, 4)
	if g, _ := state(); g != 4 {
		t.Errorf("written from the copy to 4: gen %d", g)
	}
	p, _ := s.Get("v")
	p.Update(func(d *Data) { d.Visits = 7 })
	if err := s.Install("v", b, 2); err != nil {
		t.Error(err)
	}
	if g, c2 := state(); g != 4 || c2 != c {
		t.Errorf("an older copy installed over 4: gen %d, copy %d (was %d)", g, c2, c)
	}
	if err := s.Install("v", b, 4); err != nil || p.Snapshot().Visits != 7 {
		t.Errorf("the same copy installed again replaced the held one's changes (visits %d, %v)", p.Snapshot().Visits, err)
	}
	if err := s.Install("v", b, 6); err != nil {
		t.Error(err)
	}
	g6, c6 := state()
	if g6 != 6 || c6 == c {
		t.Errorf("a newer copy installed: gen %d, copy %d (was %d), want 6 and a new copy", g6, c6, c)
	}
	if s.DropCopy("v", c) {
		t.Error("dropped the copy made since")
	}
	if s.DropOlder("v", 6) {
		t.Error("dropped for word of the generation it is")
	}
	if !s.DropOlder("v", 7) {
		t.Error("kept though another instance wrote 7")
	}
	s.Load("w")
	_, _, cw, _ := s.Encode("w", nil)
	s.Adopt("w", 5)
	if _, g, _, _ := s.Encode("w", nil); g != 5 {
		t.Errorf("adopted: gen %d, want 5", g)
	}
	if !s.DropCopy("w", cw) {
		t.Error("DropCopy kept the copy named")
	}
	s.Load("x")
	if !s.DropOlder("x", 0) {
		t.Error("an erasure (0) did not drop the profile")
	}
}
