package proxy

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRequestCookie: a cookie read from the Cookie lines as they came, as
// fasthttp's parser reads it (first wins, quotes off), and the lines left
// as they were; dropCookie takes one cookie out and leaves the rest of
// each line byte for byte.
func TestRequestCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string // Cookie header lines
		want  map[string]string
		drop  []string // the lines after dropCookie(h, "c")
	}{
		{"plain", []string{"a=1; c=3; b=2"}, map[string]string{"a": "1", "b": "2", "c": "3", "d": ""}, []string{"a=1; b=2"}},
		{"quoted and escaped", []string{`m="x\054y:1"; c="q"; s=t`}, map[string]string{"m": `x\054y:1`, "c": "q", "s": "t"}, []string{`m="x\054y:1"; s=t`}},
		{"first wins", []string{"c=1", "c=2; a=0"}, map[string]string{"c": "1", "a": "0"}, []string{"a=0"}},
		{"no spaces, odd pairs", []string{"a=1;=bare;;c=;b"}, map[string]string{"a": "1", "c": "", "b": ""}, []string{"a=1;=bare;;b"}},
		{"only c", []string{"c=1"}, map[string]string{"c": "1"}, nil},
		{"name is exact", []string{"C=1; cc=2; c =3"}, map[string]string{"C": "1", "cc": "2", "c": "3"}, []string{"C=1; cc=2"}},
		{"a bare value names no cookie", []string{"c; a=1"}, map[string]string{"c": "", "a": "1"}, []string{"c; a=1"}},
		{"only spaces and tabs are trimmed", []string{"\u00a0c=1;\tc=2"}, map[string]string{"c": "2"}, []string{"\u00a0c=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h fasthttp.RequestHeader
			raw := "GET / HTTP/1.1\r\nHost: x\r\n"
			for _, l := range tt.lines {
				raw += "Cookie: " + l + "\r\n"
			}
			if err := h.Read(bufio.NewReader(strings.NewReader(raw + "\r\n"))); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := string(requestCookie(&h, name)); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if got := string(h.Peek("Cookie")); got != tt.lines[0] {
				t.Errorf("after reading, the first line is %q, want it as it came", got)
			}
			dropCookie(&h, "c")
			var got []string
			for _, v := range h.PeekAll("Cookie") {
				got = append(got, string(v))
			}
			if strings.Join(got, "\n") != strings.Join(tt.drop, "\n") {
				t.Errorf("after dropCookie: %q, want %q", got, tt.drop)
			}
			if s := h.String(); strings.Count(s, "Cookie:") != len(tt.drop) {
				t.Errorf("written: %q", s)
			}
		})
	}
}

// TestRequestCookieEmpty: a cookie sent with an empty value is there (a
// consent gate without matches grants consent by its presence), a cookie
// not sent is not.
func TestRequestCookieEmpty(t *testing.T) {
	t.Parallel()
	var h fasthttp.RequestHeader
	if err := h.Read(bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\nHost: x\r\nCookie: c=; q=\"\"; a=1\r\n\r\n"))); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"c", "q"} {
		if v := requestCookie(&h, name); v == nil || len(v) != 0 {
			t.Errorf("%s: %q (nil: %v), want present and empty", name, v, v == nil)
		}
	}
	if v := requestCookie(&h, "d"); v != nil {
		t.Errorf("d: %q, want nil (not sent)", v)
	}
}
