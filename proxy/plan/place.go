package plan

import "bytes"

// Place is where the request comes from, for the country and language
// conditions of segments. Its zero value is unknown: neither holds.
type Place struct {
	// Country is the ISO 3166 alpha-2 code, upper case, from the header
	// place.country_header names, when the proxy believes it.
	Country [2]byte
	// Language is the primary subtag of the visitor's preferred language
	// (Accept-Language), lowercase, padded with zero bytes.
	Language [3]byte
}

// languageLen is the length of Language.
func (p *Place) languageLen() int {
	n := 0
	for n < len(p.Language) && p.Language[n] != 0 {
		n++
	}
	return n
}

// ParseCountry reads a country header's value: two ASCII letters (any
// case, around spaces) give their code, upper case; anything else (a
// CDN's XX or T1 for unknown and Tor, an empty header) the zero code.
func ParseCountry(h []byte) [2]byte {
	h = bytes.TrimSpace(h)
	if len(h) != 2 || !isLetter(h[0]) || !isLetter(h[1]) {
		return [2]byte{}
	}
	c := [2]byte{h[0] &^ 0x20, h[1] &^ 0x20}
	if c == [2]byte{'X', 'X'} {
		return [2]byte{}
	}
	return c
}

// ParseLanguage reads an Accept-Language header: the primary subtag,
// lowercase, of the language with the highest q (the first of those
// tied), like de for "de-CH, en;q=0.8"; the zero value when there is none
// of two or three letters ("*" and q=0 do not count). It allocates
// nothing.
func ParseLanguage(h []byte) [3]byte {
	var best [3]byte
	bestQ := 0
	for len(h) > 0 {
		var item []byte
		if i := bytes.IndexByte(h, ','); i >= 0 {
			item, h = h[:i], h[i+1:]
		} else {
			item, h = h, nil
		}
		tag, params := item, []byte(nil)
		if i := bytes.IndexByte(item, ';'); i >= 0 {
			tag, params = item[:i], item[i+1:]
		}
		tag = bytes.TrimSpace(tag)
		if i := bytes.IndexByte(tag, '-'); i >= 0 {
			tag = tag[:i]
		}
		if len(tag) < 2 || len(tag) > 3 || !allLetters(tag) {
			continue
		}
		q := qValue(params)
		if q <= bestQ {
			continue
		}
		bestQ = q
		best = [3]byte{}
		for i, c := range tag {
			best[i] = c | 0x20
		}
	}
	return best
}

// qValue reads the q parameter of an Accept-Language item, in thousandths:
// 1000 when there is none, 0 when it is malformed.
func qValue(params []byte) int {
	for len(params) > 0 {
		var p []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		p = bytes.TrimSpace(p)
		if len(p) < 2 || p[0]|0x20 != 'q' || p[1] != '=' {
			continue
		}
		v := bytes.TrimSpace(p[2:])
		if len(v) == 0 || v[0] != '0' && v[0] != '1' {
			return 0
		}
		q, scale := int(v[0]-'0')*1000, 100
		if len(v) > 1 {
			if v[1] != '.' || len(v) > 5 {
				return 0
			}
			for _, c := range v[2:] {
				if c < '0' || c > '9' {
					return 0
				}
				q += int(c-'0') * scale
				scale /= 10
			}
		}
		return min(q, 1000)
	}
	return 1000
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func allLetters(b []byte) bool {
	for _, c := range b {
		if !isLetter(c) {
			return false
		}
	}
	return true
}
