package page

import (
	"mime"
	"strings"
	"testing"
)

// TestIsUTF8: a page is rewritten only when a browser would read it as
// UTF-8: what its byte order mark, its Content-Type or its <meta> says,
// else what its bytes are.
func TestIsUTF8(t *testing.T) {
	t.Parallel()
	const page = `<!DOCTYPE html><html><head>%s<title>t</title></head><body><p>caf&eacute;</p></body></html>`
	with := func(meta string) string { return strings.Replace(page, "%s", meta, 1) }
	ascii := with("")
	padding := "<!--" + strings.Repeat("x", 1100) + "-->"
	for _, tc := range []struct {
		name, contentType, body string
		want                    bool
	}{
		{"header utf-8", "text/html; charset=utf-8", ascii, true},
		{"header UTF-8, upper case", "text/html; charset=UTF-8", ascii, true},
		{"header latin-1", "text/html; charset=iso-8859-1", ascii, false},
		{"header us-ascii", "text/html; charset=us-ascii", ascii, false},
		{"BOM utf-8 over a latin-1 header", "text/html; charset=iso-8859-1", "\xef\xbb\xbf" + ascii, true},
		{"header utf-8 over a latin-1 meta", "text/html; charset=utf-8", with(`<meta charset="iso-8859-1">`), true},
		{"meta utf-8", "text/html", with(`<meta charset="utf-8">`), true},
		{"meta latin-1, ASCII bytes", "text/html", with(`<meta charset="iso-8859-1">`), false},
		{"meta windows-1252, ASCII bytes", "text/html", with(`<meta charset=windows-1252>`), false},
		{"meta latin-9, ASCII bytes", "text/html", with(`<meta charset="iso-8859-15">`), false},
		{"http-equiv latin-1, ASCII bytes", "text/html", with(`<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">`), false},
		{"meta latin-1, a latin-1 byte", "text/html", with(`<meta charset="iso-8859-1">`) + "\xe9", false},
		{"undeclared, ASCII", "text/html", ascii, true},
		{"undeclared, no Content-Type", "", ascii, true},
		{"undeclared, UTF-8 in the head", "text/html", with("<title>caf\u00e9</title>"), true},
		{"undeclared, UTF-8 past the first 1024 bytes", "text/html", with(padding) + "caf\u00e9", true},
		{"undeclared, a latin-1 byte in the head", "text/html", with("<title>caf\xe9</title>"), false},
		{"undeclared, a latin-1 byte past the first 1024 bytes", "text/html", with(padding) + "caf\xe9", false},
		// Past the first 1024 bytes, Chromium and WebKit still read a
		// <meta> while the page is in its head (HTMLMetaCharsetParser).
		{"meta latin-1 past the first 1024 bytes, in the head", "text/html", with(padding + `<meta charset="iso-8859-1">`), false},
		{"http-equiv latin-1 past the first 1024 bytes, in the head", "text/html", with(padding + `<meta http-equiv="content-type" content="text/html;charset='latin1'">`), false},
		{"meta latin-1 past 1024 bytes of a head's script and style", "text/html", with("<script>var a='" + strings.Repeat("x", 1100) + "';</script><style>p{}</style><link rel=x href=y>" + `<meta charset="iso-8859-1">`), false},
		{"meta utf-8 past the first 1024 bytes, in the head", "text/html", with(padding+`<meta charset="utf-8">`) + "caf\u00e9", true},
		{"meta utf-16 past the first 1024 bytes (read as UTF-8)", "text/html", with(padding + `<meta charset="utf-16">`), true},
		{"meta of no known name past the first 1024 bytes", "text/html", with(padding + `<meta charset="nonsense">`), true},
		{"meta latin-1 past the first 1024 bytes, in the body", "text/html", strings.Replace(ascii, "<p>", "<p>"+padding+`<meta charset="iso-8859-1">`, 1), true},
		{"meta latin-1 past the first 1024 bytes, after a div in the head", "text/html", with("<div></div>" + padding + `<meta charset="iso-8859-1">`), true},
		{"meta latin-1 in a script past the first 1024 bytes", "text/html", with(padding + `<script>document.write('<meta charset="iso-8859-1">')</script>`), true},
		// A <meta> (25 bytes) whose ">" is among the last bytes the
		// prescan reads (the first 1024), and one whose ">" is past them.
		{"meta latin-1, its > the 1022nd byte", "text/html", strings.Repeat(" ", 1022-25) + `<meta charset=iso-8859-1>` + ascii, false},
		{"meta latin-1, its > the 1024th byte", "text/html", strings.Repeat(" ", 1024-25) + `<meta charset=iso-8859-1>` + ascii, false},
		{"meta latin-1, its > the 1025th byte (still in the head)", "text/html", strings.Repeat(" ", 1025-25) + `<meta charset=iso-8859-1>` + ascii, false},
		{"a 1023-byte page, meta latin-1 at its end", "text/html", strings.Repeat(" ", 1023-25) + `<meta charset=iso-8859-1>`, false},
		{"meta latin-1 in a comment", "text/html", with(`<!-- <meta charset="iso-8859-1"> -->`), true},
		{"meta utf-16 (read as UTF-8)", "text/html", with(`<meta charset="utf-16">`), true},
		{"meta shift_jis, ASCII bytes", "text/html", with(`<meta charset="shift_jis">`), false},
		{"a UTF-16 byte order mark", "text/html; charset=utf-8", "\xff\xfe" + ascii, false},
		{"empty", "text/html", "", true},
		// Headers Go's mime parser refuses, whose charset browsers read.
		{"header latin-1, then a stray token", "text/html; charset=latin1; foo", ascii, false},
		{"header latin-1 after an empty parameter", "text/html;;charset=latin1", ascii, false},
		{"header latin-1, its quote left open", `text/html; charset="latin1`, ascii, false},
		{"header latin-1 after a parameter Go refuses", "text/html; foo=bar/baz; charset=latin1", ascii, false},
		{"header latin-1, then utf-8 (the first counts)", "text/html; charset=latin1; charset=utf-8", ascii, false},
		{"header utf-8, then latin-1 (the first counts)", "text/html; charset=utf-8; charset=latin1", ascii, true},
		{"header latin-1 in a list joined by commas", "text/html; charset=latin1, text/html", ascii, false},
		{"header refused, no charset", "text/html; foo", ascii, true},
		{"header refused, a charset of no known name", "text/html; charset=nonsense; foo", ascii, true},
		{"undeclared, a character across byte 1024", "text/html", strings.Repeat(" ", 1022) + "\u20ac" + ascii, true},
		{"undeclared, a latin-1 byte at byte 1023", "text/html", strings.Repeat(" ", 1023) + "\xe9" + ascii, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := isUTF8([]byte(tc.body), []byte(tc.contentType)); got != tc.want {
				t.Errorf("isUTF8 = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzLenientType: whatever the header, lenientType gives a Content-Type
// the mime parser takes (or none), and keeps one it takes as it is.
func FuzzLenientType(f *testing.F) {
	for _, s := range []string{
		"text/html; charset=utf-8", "text/html; charset=latin1; foo", "text/html;;charset=latin1",
		`text/html; charset="latin1`, "text/html; charset=latin1, text/html", `text/html; charset="a\"b"`, "", ";", "=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		got := lenientType([]byte(ct))
		if _, _, err := mime.ParseMediaType(ct); err == nil {
			if got != ct {
				t.Fatalf("lenientType(%q) = %q, want it as it is", ct, got)
			}
			return
		}
		if got == "" {
			return
		}
		if _, params, err := mime.ParseMediaType(got); err != nil || params["charset"] == "" {
			t.Fatalf("lenientType(%q) = %q: %v, charset %q", ct, got, err, params["charset"])
		}
	})
}

// FuzzLateMetaCharset: any page, however cut or odd its <meta>, gives a
// label no longer than the page (entities decoded), or none, and never
// panics.
func FuzzLateMetaCharset(f *testing.F) {
	for _, s := range []string{
		`<head><meta charset="latin1">`, `<meta http-equiv=content-type content="text/html; charset='x`,
		`<meta http-equiv=Content-Type content=charset>`, `<meta http-equiv=content-type content="charset = ">`,
		`<meta content="a;charset=b" http-equiv="content-type">`, "<head><script>", "<meta", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if label := lateMetaCharset(body); len(label) > len(body) {
			t.Errorf("label %q is longer than the page", label)
		}
	})
}
