package proxy

import (
	"bytes"
)

// headerFacts is what one pass over a request's header block, as it came on
// the wire, found. fasthttp has parsed the block by then; what it accepts
// but the shop must not see, or see only in one reading, is found here.
type headerFacts struct {
	// badName: a field name that is not an RFC 9110 token (fasthttp
	// accepts a space inside one).
	badName bool
	// underscore: a field name with '_', which CGI-style shops cannot tell
	// apart from the same name with '-' (both become HTTP_X_FOO).
	underscore bool
	// forwarded: a header in forwardedHeaders, another X-Forwarded-*, or
	// one of them spelled with '_' for '-'.
	forwarded bool
	// forwardedTwice: one of forwardedHeaders came more than once.
	forwardedTwice bool
	// badTransferEncoding: a Transfer-Encoding other than chunked (fasthttp
	// lets "identity" through, and then frames the body by Content-Length).
	badTransferEncoding bool
}

// scanHeaders reads a request's raw header block (RequestHeader.RawHeaders:
// one field a line, the request line not included) in one pass, without
// allocating. A request not read from the wire has no raw block: then
// nothing is known, and forwarded is assumed, so that its forwarded headers
// are removed all the same.
func scanHeaders(raw []byte) (f headerFacts) {
	if len(raw) == 0 {
		f.forwarded = true
		return f
	}
	var seen uint16 // bit i: forwardedHeaders[i] seen
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' || line[0] == '\r' {
			continue // the blank line ending the block, or a folded continuation
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			f.badName = true
			continue
		}
		name := line[:colon]
		under := false
		for _, c := range name {
			if !tchar[c] {
				f.badName = true
			}
			under = under || c == '_'
		}
		f.underscore = f.underscore || under
		switch name[0] | 0x20 {
		case 'x', 'f':
			if i := forwardedIndex(name); i >= 0 {
				f.forwarded = true
				if i < len(forwardedHeaders) && !under {
					if seen&(1<<i) != 0 {
						f.forwardedTwice = true
					}
					seen |= 1 << i
				}
			}
		case 't':
			if bytes.EqualFold(name, []byte("Transfer-Encoding")) {
				v := bytes.Trim(line[colon+1:], " \t\r")
				f.badTransferEncoding = f.badTransferEncoding || !bytes.EqualFold(v, []byte("chunked"))
			}
		}
	}
	return f
}

// forwardedIndex reports whether name is a forwarded header, reading '_' as
// '-': its index in forwardedHeaders, len(forwardedHeaders) for another
// X-Forwarded-* name, or -1.
func forwardedIndex(name []byte) int {
	for i, k := range forwardedHeaders {
		if nameEqual(name, k) {
			return i
		}
	}
	const prefix = "x-forwarded-"
	if len(name) > len(prefix) && nameEqual(name[:len(prefix)], prefix) {
		return len(forwardedHeaders)
	}
	return -1
}

// nameEqual compares a field name with k, ignoring case and reading '_' in
// name as '-'.
func nameEqual(name []byte, k string) bool {
	if len(name) != len(k) {
		return false
	}
	for i := range len(name) {
		a, b := name[i], k[i]
		if a == '_' {
			a = '-'
		}
		if a != b && (a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z') {
			return false
		}
	}
	return true
}

// tchar holds the bytes of an RFC 9110 token (section 5.6.2), what a field
// name is made of.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()
