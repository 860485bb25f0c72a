package rewrite

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// Matcher selects elements. Compiled cascadia selectors and goquery matchers
// satisfy it.
type Matcher interface {
	Match(n *html.Node) bool
}

// Element is one element of a Doc. The zero Element is not valid.
type Element struct {
	d *Doc
	i int32
}

// Node returns the element's node in the Doc's tree.
func (e Element) Node() *html.Node { return &e.d.nodes[e.i] }

// Valid reports whether e refers to an element.
func (e Element) Valid() bool { return e.d != nil && e.i > 0 }

// Tag returns the element's lowercase tag name.
func (e Element) Tag() string { return e.d.nodes[e.i].Data }

// Attr returns the value of the attribute key (lowercase), entities decoded.
func (e Element) Attr(key string) (string, bool) {
	for _, a := range e.d.nodes[e.i].Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Outer returns the element's source bytes, tags included.
func (e Element) Outer() []byte {
	sp := e.d.spans[e.i]
	return e.d.src[sp.start:sp.end]
}

// Inner returns the source bytes of the element's content.
func (e Element) Inner() []byte {
	sp := e.d.spans[e.i]
	return e.d.src[sp.inner:sp.close]
}

// Offset returns where the element's start tag begins in the source.
func (e Element) Offset() int { return int(e.d.spans[e.i].start) }

// Movable reports whether the element's bytes may be moved or replaced as a
// whole: it has real start and end tags and nothing in it is in doubt.
func (e Element) Movable() bool {
	f := e.d.spans[e.i].flags
	return f&(fDirty|fSynthetic) == 0 && f&fExplicitEnd != 0
}

// Dirty reports whether a browser may build a different tree than the Doc in
// or around this element.
func (e Element) Dirty() bool { return e.d.spans[e.i].flags&fDirty != 0 }

// Text returns the element's text content with entities decoded and runs of
// white space collapsed to one space; script and style content is left out.
func (e Element) Text() string {
	sp := e.d.spans[e.i]
	s := scanner{src: e.d.src[:sp.close], pos: int(sp.inner)}
	var b strings.Builder
	space := false
	for {
		switch s.next() {
		case tokEOF:
			return strings.TrimSpace(b.String())
		case tokText:
			t := e.d.src[s.start:s.end]
			if bytes.IndexByte(t, '&') >= 0 {
				t = []byte(html.UnescapeString(string(t)))
			}
			for _, c := range t {
				if isSpace(c) {
					space = b.Len() > 0
					continue
				}
				if space {
					b.WriteByte(' ')
					space = false
				}
				b.WriteByte(c)
			}
		case tokStartTag:
			if a, _ := tagName(s.name); rawTextNames[a] != nil {
				s.rawEnd = rawTextNames[a]
			}
		}
	}
}

// Find returns the elements matching m in document order.
func (d *Doc) Find(m Matcher) []Element {
	return d.appendMatches(nil, &d.nodes[0], m)
}

// Find returns the descendants of e matching m, in document order.
func (e Element) Find(m Matcher) []Element {
	return e.d.appendMatches(nil, &e.d.nodes[e.i], m)
}

// FindOutermost returns the descendants of e matching m that are not inside
// another match.
func (e Element) FindOutermost(m Matcher) []Element {
	return e.d.appendOutermost(nil, &e.d.nodes[e.i], m)
}

func (d *Doc) appendMatches(dst []Element, n *html.Node, m Matcher) []Element {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if m.Match(c) {
			dst = append(dst, Element{d, d.index(c)})
		}
		dst = d.appendMatches(dst, c, m)
	}
	return dst
}

func (d *Doc) appendOutermost(dst []Element, n *html.Node, m Matcher) []Element {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if m.Match(c) {
			dst = append(dst, Element{d, d.index(c)})
			continue
		}
		dst = d.appendOutermost(dst, c, m)
	}
	return dst
}

// Element returns the Doc's element for n, which must be a node of this Doc.
func (d *Doc) Element(n *html.Node) (Element, bool) {
	i := d.index(n)
	if i <= 0 {
		return Element{}, false
	}
	return Element{d, i}, true
}

// Body returns the body element, if the document has one.
func (d *Doc) Body() (Element, bool) {
	if d.body == 0 {
		return Element{}, false
	}
	return Element{d, d.body}, true
}

// Head returns the head element, if the document has one.
func (d *Doc) Head() (Element, bool) {
	if d.head == 0 {
		return Element{}, false
	}
	return Element{d, d.head}, true
}

// JSONLD returns the contents of the document's
// <script type="application/ld+json"> elements, as raw bytes of the source.
func (d *Doc) JSONLD() [][]byte {
	out := make([][]byte, len(d.jsonLD))
	for i, r := range d.jsonLD {
		out[i] = d.src[r[0]:r[1]]
	}
	return out
}

// Metas returns the document's meta and link elements.
func (d *Doc) Metas() []Element {
	out := make([]Element, len(d.metas))
	for i, m := range d.metas {
		out[i] = Element{d, m}
	}
	return out
}
