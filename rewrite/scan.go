package rewrite

import (
	"bytes"
)

// tokenKind is the kind of token the scanner found.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokText
	tokStartTag
	tokEndTag
	tokComment // comments, doctypes, processing instructions, CDATA
	tokRawText // the content of script, style, textarea, title and the like
)

// scanner splits an HTML document into tokens, keeping their byte offsets. It
// follows the WHATWG tokenizer closely enough for the tree builder to agree
// with a browser on well-formed and commonly malformed pages: quoted
// attribute values may hold '>', comments end at "-->" or "--!>", and the
// content of raw text elements (script, style, textarea, ...) is never
// searched for tags, including script's escaped and double-escaped states.
//
// The scanner never allocates: names and attributes are byte ranges of src.
type scanner struct {
	src []byte
	pos int

	// The current token.
	kind        tokenKind
	start, end  int // token bytes are src[start:end]
	name        []byte
	attrs       []byte // the bytes between the tag name and '>'
	selfClosing bool
	truncated   bool // the token ran into EOF before it ended

	// rawEnd, when non-nil, is the lowercase name of the raw text element
	// whose content the next token is.
	rawEnd []byte
	// foreign is set while inside svg or math, where CDATA sections exist and
	// no element has raw text content.
	foreign bool
}

// next advances to the next token and returns its kind.
func (s *scanner) next() tokenKind {
	s.name, s.attrs, s.selfClosing, s.truncated = nil, nil, false, false
	s.start = s.pos
	if s.pos >= len(s.src) {
		s.kind, s.end = tokEOF, s.pos
		return tokEOF
	}
	if s.rawEnd != nil {
		name := s.rawEnd
		s.rawEnd = nil
		var end int
		if bytes.Equal(name, nameScript) {
			end = scriptEnd(s.src, s.pos)
		} else if bytes.Equal(name, namePlaintext) {
			end = len(s.src)
		} else {
			end = rawTextEnd(s.src, s.pos, name)
		}
		if end > s.pos {
			s.kind, s.end = tokRawText, end
			s.pos = end
			return tokRawText
		}
		// Empty raw text: fall through to the end tag.
	}
	src, i := s.src, s.pos
	if src[i] != '<' {
		j := bytes.IndexByte(src[i:], '<')
		if j < 0 {
			j = len(src) - i
		}
		// A '<' that opens no markup is text; take it and what follows.
		s.kind, s.end = tokText, i+j
		if j == 0 {
			s.end = i + 1
		}
		s.pos = s.end
		return tokText
	}
	// src[i] == '<'
	if i+1 >= len(src) {
		return s.text(i + 1)
	}
	switch c := src[i+1]; {
	case isASCIILetter(c):
		return s.tag(i, i+1, tokStartTag)
	case c == '/':
		if i+2 >= len(src) {
			return s.text(len(src))
		}
		c2 := src[i+2]
		if isASCIILetter(c2) {
			return s.tag(i, i+2, tokEndTag)
		}
		if c2 == '>' { // "</>" is dropped by browsers
			return s.comment(i + 3)
		}
		return s.bogusComment(i + 2)
	case c == '!':
		if bytes.HasPrefix(src[i+2:], []byte("--")) {
			return s.comment(commentEnd(src, i+4))
		}
		if s.foreign && bytes.HasPrefix(src[i+2:], []byte("[CDATA[")) {
			if k := bytes.Index(src[i+9:], []byte("]]>")); k >= 0 {
				return s.comment(i + 9 + k + 3)
			}
			s.truncated = true
			return s.comment(len(src))
		}
		return s.bogusComment(i + 2)
	case c == '?':
		return s.bogusComment(i + 1)
	default:
		return s.text(i + 1)
	}
}

func (s *scanner) text(end int) tokenKind {
	s.kind, s.end, s.pos = tokText, end, end
	return tokText
}

func (s *scanner) comment(end int) tokenKind {
	if end > len(s.src) {
		end = len(s.src)
	}
	s.kind, s.end, s.pos = tokComment, end, end
	return tokComment
}

// bogusComment ends at the next '>' (doctype, "<!x", "<?x", "</1").
func (s *scanner) bogusComment(from int) tokenKind {
	k := bytes.IndexByte(s.src[from:], '>')
	if k < 0 {
		s.truncated = true
		return s.comment(len(s.src))
	}
	return s.comment(from + k + 1)
}

// tag scans a start or end tag whose name begins at nameStart.
func (s *scanner) tag(start, nameStart int, kind tokenKind) tokenKind {
	src := s.src
	i := nameStart
	for i < len(src) && !isTagNameEnd(src[i]) {
		i++
	}
	s.name = src[nameStart:i]
	attrStart := i
	// Fast path: no quote before the next '>'.
	if k := bytes.IndexByte(src[i:], '>'); k >= 0 {
		if bytes.IndexByte(src[i:i+k], '"') < 0 && bytes.IndexByte(src[i:i+k], '\'') < 0 {
			i += k
			s.attrs = src[attrStart:i]
			s.selfClosing = i > attrStart && src[i-1] == '/' && selfClosingSlash(src[attrStart:i])
			s.kind, s.start, s.end, s.pos = kind, start, i+1, i+1
			return kind
		}
	}
	// Find the '>' that ends the tag, skipping quoted attribute values.
	// Quotes only open a value right after the '=' (possibly with spaces)
	// that follows an attribute's name: a '=' where a name would start
	// begins the name (<div ='>'> ends at the first '>'), and an unquoted
	// value runs to white space, quotes and '=' included.
	afterEq, named := false, false
	for i < len(src) {
		c := src[i]
		switch {
		case c == '>':
			s.attrs = src[attrStart:i]
			s.selfClosing = i > attrStart && src[i-1] == '/' && selfClosingSlash(src[attrStart:i])
			s.kind, s.start, s.end, s.pos = kind, start, i+1, i+1
			return kind
		case afterEq && isSpace(c):
			i++
		case afterEq && (c == '"' || c == '\''):
			k := bytes.IndexByte(src[i+1:], c)
			if k < 0 {
				i = len(src)
				continue
			}
			i += k + 2
			afterEq, named = false, false
		case afterEq:
			for i < len(src) && !isSpace(src[i]) && src[i] != '>' {
				i++
			}
			afterEq, named = false, false
		case c == '=' && named:
			afterEq = true
			i++
		case isSpace(c):
			i++
		case c == '/':
			named = false
			i++
		default:
			named = true
			i++
		}
	}
	// EOF inside a tag: browsers drop the tag. Treat the rest as a comment.
	s.truncated = true
	s.kind, s.start, s.end, s.pos = tokComment, start, len(src), len(src)
	return tokComment
}

// selfClosingSlash reports whether the '/' before '>' is a self-closing flag
// and not the end of an unquoted attribute value such as href=/a/.
func selfClosingSlash(attrs []byte) bool {
	// attrs ends with '/'. Walk back over the preceding run of non-space
	// bytes; if it contains an unquoted '=', the slash belongs to the value.
	j := len(attrs) - 1
	for j > 0 && !isSpace(attrs[j-1]) {
		j--
	}
	run := attrs[j : len(attrs)-1]
	eq := bytes.IndexByte(run, '=')
	if eq < 0 {
		return true
	}
	// a="x"/ : the value was quoted, so the slash stands alone.
	v := run[eq+1:]
	return len(v) > 0 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] && len(v) >= 2
}

// commentEnd returns the offset just after the comment whose body starts at
// from (after "<!--"). "<!-->", "<!--->", "-->" and "--!>" end comments.
func commentEnd(src []byte, from int) int {
	if from < len(src) && src[from] == '>' {
		return from + 1
	}
	if from+1 < len(src) && src[from] == '-' && src[from+1] == '>' {
		return from + 2
	}
	i := from
	for {
		k := bytes.Index(src[i:], []byte("--"))
		if k < 0 {
			return len(src)
		}
		j := i + k + 2
		if j < len(src) && src[j] == '>' {
			return j + 1
		}
		if j+1 < len(src) && src[j] == '!' && src[j+1] == '>' {
			return j + 2
		}
		i = i + k + 1
	}
}

// rawTextEnd returns the offset of the "</name" that ends raw text starting
// at from, or len(src).
func rawTextEnd(src []byte, from int, name []byte) int {
	i := from
	for {
		k := bytes.IndexByte(src[i:], '<')
		if k < 0 {
			return len(src)
		}
		i += k
		if isEndTagOf(src, i, name) {
			return i
		}
		i++
	}
}

// scriptEnd returns the offset of the "</script" that ends script data
// starting at from, following the tokenizer's escaped ("<!--") and
// double-escaped ("<!-- <script>") states.
func scriptEnd(src []byte, from int) int {
	const (
		data = iota
		escaped
		doubleEscaped
	)
	state := data
	i := from
	for i < len(src) {
		switch state {
		case data:
			k := bytes.IndexByte(src[i:], '<')
			if k < 0 {
				return len(src)
			}
			i += k
			if isEndTagOf(src, i, nameScript) {
				return i
			}
			if bytes.HasPrefix(src[i:], []byte("<!--")) {
				state = escaped
				i += 2 // leave "--" so that "<!-->" ends the escape at once
				continue
			}
			i++
		case escaped, doubleEscaped:
			// The next "-->" or '<', whichever comes first.
			lt := bytes.IndexByte(src[i:], '<')
			cm := bytes.Index(src[i:], []byte("-->"))
			if cm >= 0 && (lt < 0 || cm < lt) {
				state = data
				i += cm + 3
				continue
			}
			if lt < 0 {
				return len(src)
			}
			i += lt
			switch {
			case isEndTagOf(src, i, nameScript):
				if state == escaped {
					return i
				}
				state = escaped
				i += 2 + len(nameScript)
				continue
			case state == escaped && isStartTagOf(src, i, nameScript):
				state = doubleEscaped
				i += 1 + len(nameScript)
				continue
			}
			i++
		}
	}
	return len(src)
}

// isEndTagOf reports whether src[i:] starts with "</name" followed by a
// delimiter (space, '/', '>'), case-insensitively.
func isEndTagOf(src []byte, i int, name []byte) bool {
	if i+2+len(name) > len(src) || src[i] != '<' || src[i+1] != '/' {
		return false
	}
	return hasNameAt(src, i+2, name)
}

func isStartTagOf(src []byte, i int, name []byte) bool {
	if i+1+len(name) > len(src) || src[i] != '<' {
		return false
	}
	return hasNameAt(src, i+1, name)
}

func hasNameAt(src []byte, i int, name []byte) bool {
	if i+len(name) > len(src) {
		return false
	}
	for j, c := range name {
		if lower(src[i+j]) != c {
			return false
		}
	}
	k := i + len(name)
	return k == len(src) || isTagNameEnd(src[k])
}

var (
	nameScript    = []byte("script")
	namePlaintext = []byte("plaintext")
)

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isTagNameEnd(c byte) bool { return isSpace(c) || c == '/' || c == '>' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// attrScanner iterates over the attributes of a tag's attribute bytes.
type attrScanner struct {
	b []byte
	i int
}

// next returns the next attribute's raw name and value (value is nil for an
// attribute without '='). ok is false at the end.
func (a *attrScanner) next() (name, value []byte, ok bool) {
	b := a.b
	i := a.i
	for i < len(b) && (isSpace(b[i]) || b[i] == '/') {
		i++
	}
	if i >= len(b) {
		a.i = i
		return nil, nil, false
	}
	// The first character of a name may be '='.
	ns := i
	i++
	for i < len(b) && !isSpace(b[i]) && b[i] != '/' && b[i] != '=' {
		i++
	}
	name = b[ns:i]
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != '=' {
		a.i = i
		return name, nil, true
	}
	i++ // '='
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		a.i = i
		return name, []byte{}, true
	}
	if q := b[i]; q == '"' || q == '\'' {
		k := bytes.IndexByte(b[i+1:], q)
		if k < 0 {
			value = b[i+1:]
			a.i = len(b)
			return name, value, true
		}
		value = b[i+1 : i+1+k]
		a.i = i + k + 2
		return name, value, true
	}
	vs := i
	for i < len(b) && !isSpace(b[i]) {
		i++
	}
	a.i = i
	return name, b[vs:i], true
}
