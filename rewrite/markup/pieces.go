package markup

import (
	"bytes"
	"fmt"
)

// Markup that differs between visitors only by a text (a banner's
// message, an overlay's deadline, a tag's nonce) is rendered by
// html/template once, with a marker where the text goes, and cut there:
// what fills the cut is escaped by appendEscaped as html/template escapes
// text in an element's content or a plain attribute's value, so that the
// pieces and the text give the template's bytes without a template run. html/template chooses its escaping by where an
// action stands in the template, never by the values, so the cut holds for
// every text.

// marker stands for the text when the pieces are rendered: letters and
// noncharacters, which html/template writes as they are in text and in
// attributes.
const marker = "\ufdd0se-text\ufdd0"

// cutAtText splits out, rendered with marker as the text, around it. The
// marker must be there exactly once (the other data could hold it: then
// the pieces cannot be told apart).
func cutAtText(out []byte) (head, tail []byte, err error) {
	i := bytes.Index(out, []byte(marker))
	if i < 0 || bytes.Count(out, []byte(marker)) != 1 {
		return nil, nil, fmt.Errorf("the text's place is not found once")
	}
	return out[:i:i], out[i+len(marker):], nil
}

// appendEscaped appends s escaped as html/template escapes a string in an
// element's content or a quoted attribute's value (its htmlEscaper): NUL
// as U+FFFD, the five characters that could end the text or start markup
// as entities, and '+' too; every other byte as it is, invalid UTF-8
// included.
func appendEscaped(dst []byte, s string) []byte {
	written := 0
	for i := 0; i < len(s); i++ {
		if k := escapes[s[i]]; k != 0 {
			dst = append(dst, s[written:i]...)
			dst = append(dst, replacements[k]...)
			written = i + 1
		}
	}
	return append(dst, s[written:]...)
}

// escapes gives each byte appendEscaped replaces its replacement's index:
// a byte at a time, since every one is ASCII and no byte of a multi-byte
// UTF-8 sequence is.
var escapes = [256]uint8{0: 1, '"': 2, '&': 3, '\'': 4, '+': 5, '<': 6, '>': 7}

var replacements = [...]string{1: "\uFFFD", 2: "&#34;", 3: "&amp;", 4: "&#39;", 5: "&#43;", 6: "&lt;", 7: "&gt;"}
