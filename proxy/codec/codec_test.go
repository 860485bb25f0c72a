package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	page := []byte(strings.Repeat("<li><a href=\"/c/shoes\">Shoes & more</a></li>\n", 2000))
	e := NewEncoder(5, 4)
	for _, enc := range []Encoding{Identity, Gzip, Brotli} {
		t.Run(enc.String(), func(t *testing.T) {
			t.Parallel()
			z, err := e.Encode(nil, page, enc)
			if err != nil {
				t.Fatal(err)
			}
			if enc != Identity && len(z) >= len(page)/4 {
				t.Errorf("%s: %d bytes from %d: not compressed", enc, len(z), len(page))
			}
			got, err := Decode(nil, z, enc, len(page))
			if err != nil || !bytes.Equal(got, page) {
				t.Fatalf("round trip: err %v, equal %v", err, bytes.Equal(got, page))
			}
		})
	}
}

// TestBomb: a body that inflates far past the limit stops at the limit.
func TestBomb(t *testing.T) {
	t.Parallel()
	huge := make([]byte, 50<<20)
	e := NewEncoder(9, 5)
	for _, enc := range []Encoding{Gzip, Brotli} {
		z, err := e.Encode(nil, huge, enc)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Decode(nil, z, enc, 1<<20)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s bomb (%d bytes): err = %v, want ErrTooLarge", enc, len(z), err)
		}
		if cap(out) > 4<<20 {
			t.Errorf("%s bomb: buffer grew to %d bytes", enc, cap(out))
		}
	}
}

func TestCorrupt(t *testing.T) {
	t.Parallel()
	e := NewEncoder(5, 4)
	for _, enc := range []Encoding{Gzip, Brotli} {
		z, _ := e.Encode(nil, []byte(strings.Repeat("hello ", 1000)), enc)
		z = z[:len(z)/2]
		if _, err := Decode(nil, z, enc, 1<<20); err == nil || errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: truncated body decoded, err = %v", enc, err)
		}
	}
	if _, err := Decode(nil, []byte("plain"), Gzip, 100); err == nil {
		t.Errorf("gzip: plain text decoded")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := map[string]Encoding{"": Identity, "identity": Identity, "gzip": Gzip, "GZIP": Gzip, "x-gzip": Gzip, " br ": Brotli,
		"deflate": Unknown, "zstd": Unknown, "gzip, br": Unknown}
	for in, want := range tests {
		if got := Parse([]byte(in)); got != want {
			t.Errorf("Parse(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseAccept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   Accepted
		header string
	}{
		{"gzip, deflate, br, zstd", Accepted{Gzip: true, Brotli: true}, "gzip"},
		{"gzip;q=1.0, br;q=0", Accepted{Gzip: true}, "gzip"},
		{"br;q=0.5", Accepted{Brotli: true}, "br"},
		{"*", Accepted{Gzip: true, Brotli: true}, "gzip"},
		{"gzip;q=0.000", Accepted{}, "identity"},
		{"", Accepted{}, "identity"},
		{"deflate", Accepted{}, "identity"},
	}
	for _, tt := range tests {
		got := ParseAccept([]byte(tt.in))
		if got != tt.want || got.Header() != tt.header {
			t.Errorf("ParseAccept(%q) = %+v (%s), want %+v (%s)", tt.in, got, got.Header(), tt.want, tt.header)
		}
	}
}
