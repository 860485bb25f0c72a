package rewrite

import (
	"fmt"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Position says where a block goes relative to an element.
type Position string

// The positions.
const (
	Before  Position = "before"  // just before the element
	After   Position = "after"   // just after it
	Prepend Position = "prepend" // first in it
	Append  Position = "append"  // last in it
	Replace Position = "replace" // instead of it
)

// Positions lists the positions.
var Positions = []Position{Before, After, Prepend, Append, Replace}

// Site is where a block of flow content (a <section>, a <div>) can be
// spliced in: the bytes of Range are replaced by the block; an empty Range
// is an insertion point.
type Site struct {
	Range
}

// BlockSite returns where a block goes relative to e, after checking that
// a browser would put it there and change nothing else: the place must be
// inside body, and not where a block would end an open <p>, be moved out
// of a table (foster parenting), be dropped (select), get formatting
// elements left open re-created in it, or change the text of a <pre>. A
// block appended to body goes after the body's content up to </body>:
// what follows </body> (browsers put it into body too) comes after it.
func (e Element) BlockSite(pos Position) (Site, error) {
	d, sp := e.d, e.d.spans[e.i]
	inside := e // the element the block ends up in
	switch pos {
	case Before, After, Replace:
		p := d.index(e.Node().Parent)
		if p <= 0 {
			return Site{}, fmt.Errorf("%s <%s>: no parent: %w", pos, e.Tag(), ErrUnsafe)
		}
		inside = Element{d, p}
	case Prepend, Append:
		if sp.kind&(kVoid|kRawText) != 0 || sp.flags&fOpaque != 0 {
			return Site{}, fmt.Errorf("%s <%s>: it holds no elements: %w", pos, e.Tag(), ErrUnsafe)
		}
	default:
		return Site{}, fmt.Errorf("unknown position %q", pos)
	}
	if err := holdsBlocks(inside); err != nil {
		return Site{}, fmt.Errorf("%s <%s>: %w", pos, e.Tag(), err)
	}
	var at, end int32
	switch pos {
	case Before:
		if sp.flags&fSynthetic != 0 || d.openUntil(prevElement(e.Node()), sp.start) {
			return Site{}, fmt.Errorf("before <%s>: %w", e.Tag(), ErrUnsafe)
		}
		if sp.flags&fFostered != 0 {
			return Site{}, fmt.Errorf("before <%s>, where browsers move content out of it: %w", e.Tag(), ErrUnsafe)
		}
		at, end = sp.start, sp.start
	case After:
		if sp.flags&fSynthetic != 0 || sp.flags&fExplicitEnd == 0 {
			return Site{}, fmt.Errorf("after <%s>: %w", e.Tag(), ErrUnsafe)
		}
		at, end = sp.end, sp.end
	case Prepend:
		if sp.flags&fSynthetic != 0 {
			return Site{}, fmt.Errorf("prepend to <%s>: %w", e.Tag(), ErrUnsafe)
		}
		if a := e.Node().DataAtom; (a == atom.Pre || a == atom.Listing) && sp.inner < sp.close &&
			(d.src[sp.inner] == '\n' || d.src[sp.inner] == '\r') {
			// Browsers drop a newline right after <pre>, and only there.
			return Site{}, fmt.Errorf("prepend to <%s>, before the newline browsers drop: %w", e.Tag(), ErrUnsafe)
		}
		at, end = sp.inner, sp.inner
	case Append:
		if sp.flags&fSynthetic != 0 || sp.flags&fExplicitEnd == 0 || d.openUntil(e.Node().LastChild, sp.close) {
			return Site{}, fmt.Errorf("append to <%s>: %w", e.Tag(), ErrUnsafe)
		}
		at, end = sp.close, sp.close
	case Replace:
		if !e.Movable() || d.openUntil(prevElement(e.Node()), sp.start) {
			return Site{}, fmt.Errorf("replace <%s>: %w", e.Tag(), ErrUnsafe)
		}
		at, end = sp.start, sp.end
	}
	if d.inLeak(at, end) {
		return Site{}, fmt.Errorf("%s <%s>, where browsers re-create formatting elements left open: %w", pos, e.Tag(), ErrUnsafe)
	}
	return Site{Range{int(at), int(end)}}, nil
}

// openUntil reports whether n is an element still open at off: closed
// there without an end tag (a <li> whose end tag was left out is still
// open right before the next <li>), or closed only after it (an element
// left open at </body> and closed after it), so that what is put at off
// lands in it.
func (d *Doc) openUntil(n *html.Node, off int32) bool {
	i := d.index(n)
	if i <= 0 {
		return false
	}
	sp := d.spans[i]
	return sp.close > off || sp.flags&fExplicitEnd == 0 && sp.close == off
}

func prevElement(n *html.Node) *html.Node {
	for c := n.PrevSibling; c != nil; c = c.PrevSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return nil
}

// holdsBlocks reports whether a block of flow content put into e stays
// there, and everything else where it was.
func holdsBlocks(e Element) error {
	n := e.Node()
	switch a := n.DataAtom; a {
	case atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr:
		return fmt.Errorf("directly in a <%s>, out of which browsers move blocks: %w", a, ErrUnsafe)
	}
	reachP := true // a <p> here would be closed by the block's start tag
	inBody := false
	for ; n != nil && n.Type == html.ElementNode; n = n.Parent {
		if e.d.spans[e.d.index(n)].flags&fNoBlocks != 0 {
			return fmt.Errorf("inside a <%s> browsers may build otherwise: %w", n.Data, ErrUnsafe)
		}
		switch a := n.DataAtom; a {
		case atom.P:
			if reachP {
				return fmt.Errorf("inside a <p>, which a block would end: %w", ErrUnsafe)
			}
		case atom.A:
			return fmt.Errorf("inside a link, which the block's links would end: %w", ErrUnsafe)
		case atom.Select, atom.Option, atom.Optgroup, atom.Datalist:
			return fmt.Errorf("inside a <%s>, which drops blocks: %w", a, ErrUnsafe)
		case atom.Head, atom.Title, atom.Template, atom.Svg, atom.Math:
			return fmt.Errorf("inside <%s>: %w", a, ErrUnsafe)
		case atom.Body:
			inBody = true
		case atom.Button, atom.Td, atom.Th, atom.Caption, atom.Applet, atom.Marquee, atom.Object, atom.Table:
			reachP = false // the end of "p in button scope"
		}
	}
	if !inBody {
		return fmt.Errorf("not inside <body>: %w", ErrUnsafe)
	}
	return nil
}

// HeadSite returns the insertion point at the end of the page's <head>,
// for metadata such as a stylesheet <link>. The head must be written out,
// with its end tag, and end with no element left open.
func (d *Doc) HeadSite() (Site, error) {
	heads := d.Find(tagMatcher(atom.Head))
	if len(heads) == 0 {
		return Site{}, fmt.Errorf("no <head>: %w", ErrUnsafe)
	}
	e := heads[0]
	sp := d.spans[e.i]
	if sp.flags&fSynthetic != 0 || sp.flags&fExplicitEnd == 0 || d.openUntil(e.Node().LastChild, sp.close) {
		return Site{}, fmt.Errorf("end of <head>: not written out: %w", ErrUnsafe)
	}
	return Site{Range{int(sp.close), int(sp.close)}}, nil
}

// BodyEndSite returns the insertion point at the end of the page's
// <body>, for overlays and the script.
func (d *Doc) BodyEndSite() (Site, error) {
	bodies := d.Find(tagMatcher(atom.Body))
	if len(bodies) == 0 {
		return Site{}, fmt.Errorf("no <body>: %w", ErrUnsafe)
	}
	return bodies[0].BlockSite(Append)
}

// tagMatcher matches elements by tag.
type tagMatcher atom.Atom

func (t tagMatcher) Match(n *html.Node) bool {
	return n.Type == html.ElementNode && n.DataAtom == atom.Atom(t)
}

// ContentSite is where an element's content may be replaced: Range is
// the bytes between its start tag and its end tag (after the newline
// browsers drop right after <pre> and <listing>). Text, and phrasing
// elements that are closed in it, may go there; Blocks reports whether
// other elements (a <div>, a <p>, a link) may too.
type ContentSite struct {
	Range
	Blocks bool
	// Items reports whether list items (li, dd, dt) may start the
	// content: no li, dd or dt around the element is one they would
	// close. Headings reports whether a heading may: the element is not
	// one (a heading's start tag closes the heading it is in).
	Items, Headings bool
}

// ContentSite returns where e's content is, to be replaced, after
// checking that a browser would build e from the replacement and change
// nothing else: e must have real start and end tags, nothing in or
// around it in doubt, hold neither raw text (script, style, textarea,
// title, noscript...) nor foreign or inert content (svg, math,
// template), and be neither a part of a table's structure, a select, nor
// the page's html, head or body; nothing it holds may be re-created by a
// browser elsewhere (formatting elements left open), and no element
// around it moves what it holds (foster parenting, select).
func (e Element) ContentSite() (ContentSite, error) {
	d, sp := e.d, e.d.spans[e.i]
	n := e.Node()
	switch {
	case sp.flags&(fSynthetic|fDirty|fOpaque) != 0 || sp.flags&fExplicitEnd == 0:
		return ContentSite{}, fmt.Errorf("content of <%s>: %w", e.Tag(), ErrUnsafe)
	case sp.kind&(kVoid|kRawText|kOpaque) != 0:
		return ContentSite{}, fmt.Errorf("content of <%s>, which holds no elements or raw text only: %w", e.Tag(), ErrUnsafe)
	}
	switch n.DataAtom {
	case atom.Html, atom.Head, atom.Body, atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr,
		atom.Colgroup, atom.Frameset:
		return ContentSite{}, fmt.Errorf("content of <%s>: %w", e.Tag(), ErrUnsafe)
	}
	for a := n; a != nil && a.Type == html.ElementNode; a = a.Parent {
		if d.spans[d.index(a)].flags&fNoBlocks != 0 {
			return ContentSite{}, fmt.Errorf("content of <%s>, inside a <%s> browsers may build otherwise: %w", e.Tag(), a.Data, ErrUnsafe)
		}
		switch a.DataAtom {
		case atom.Head, atom.Select, atom.Datalist, atom.Optgroup, atom.Option, atom.Template, atom.Svg, atom.Math:
			return ContentSite{}, fmt.Errorf("content of <%s>, inside <%s>: %w", e.Tag(), a.Data, ErrUnsafe)
		}
	}
	at := sp.inner
	if a := n.DataAtom; a == atom.Pre || a == atom.Listing {
		// Browsers drop a newline right after the start tag: what goes
		// in comes after it.
		if at < sp.close && d.src[at] == '\n' {
			at++
		} else if at+1 < sp.close && d.src[at] == '\r' && d.src[at+1] == '\n' {
			at += 2
		} else if at < sp.close && d.src[at] == '\r' {
			at++
		}
	}
	if d.inLeak(at, sp.close) {
		return ContentSite{}, fmt.Errorf("content of <%s>, where browsers re-create formatting elements left open: %w", e.Tag(), ErrUnsafe)
	}
	site := ContentSite{Range: Range{int(at), int(sp.close)}, Blocks: holdsBlocks(e) == nil, Items: true}
	site.Headings = sp.kind&kHeading == 0
	// A list item's start tag closes the nearest li (dd, dt) open, up to
	// the first special element but address, div and p.
	for a := n; a != nil && a.Type == html.ElementNode; a = a.Parent {
		if x := a.DataAtom; x == atom.Li || x == atom.Dd || x == atom.Dt {
			site.Items = false
			break
		}
		if k := d.spans[d.index(a)].kind; k&kSpecial != 0 && a.DataAtom != atom.Address && a.DataAtom != atom.Div && a.DataAtom != atom.P {
			break
		}
	}
	return site, nil
}

// AttrSite is where one attribute of an element's start tag goes: when
// Range is empty, an insertion point right after the tag's name, for an
// attribute the tag does not have; otherwise the bytes of the attribute
// (its name, and its value with its quotes), to be replaced. AppendAttr
// writes what goes there.
type AttrSite struct {
	Range
}

// AttrSite returns where the attribute name (lowercase) of e goes: the
// first of that name in its start tag (browsers ignore a repeat), or a
// new one. e must have a real start tag, not be in doubt (an element a
// browser re-creates elsewhere would carry the attribute there too), and
// not be one whose attributes load or run things or belong to the
// document's head (script, style, link, meta, base, iframe, object,
// embed, template, svg, math, noscript, textarea, title, head...).
func (e Element) AttrSite(name string) (AttrSite, error) {
	d, sp := e.d, e.d.spans[e.i]
	if sp.flags&(fSynthetic|fDirty) != 0 {
		return AttrSite{}, fmt.Errorf("attribute %s of <%s>: %w", name, e.Tag(), ErrUnsafe)
	}
	switch a := e.Node().DataAtom; a {
	case atom.Script, atom.Style, atom.Link, atom.Meta, atom.Base, atom.Head, atom.Title,
		atom.Iframe, atom.Frame, atom.Frameset, atom.Object, atom.Embed, atom.Applet, atom.Param,
		atom.Template, atom.Svg, atom.Math, atom.Noscript, atom.Noembed, atom.Noframes,
		atom.Textarea, atom.Xmp, atom.Plaintext:
		return AttrSite{}, fmt.Errorf("attribute %s of <%s>: %w", name, a, ErrUnsafe)
	case 0:
		return AttrSite{}, fmt.Errorf("attribute %s of <%s>, an element browsers may not know: %w", name, e.Tag(), ErrUnsafe)
	}
	s := scanner{src: d.src[:sp.inner], pos: int(sp.start)}
	if s.next() != tokStartTag || s.start != int(sp.start) {
		return AttrSite{}, fmt.Errorf("attribute %s of <%s>: no start tag: %w", name, e.Tag(), ErrUnsafe)
	}
	base := s.start + 1 + len(s.name) // where s.attrs starts in the source
	it := attrScanner{b: s.attrs}
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		if attrKey(key) != name {
			continue
		}
		start := base + cap(s.attrs) - cap(key)
		end := start + len(key)
		if val != nil {
			end = base + it.i
		}
		return AttrSite{Range{start, end}}, nil
	}
	return AttrSite{Range{base, base}}, nil
}

// AppendAttr appends what goes at the attribute site s: name="value",
// with a space before it when s is an insertion point. value must be
// escaped for a double-quoted attribute (no '"', and '&' as in HTML).
func (s AttrSite) AppendAttr(dst []byte, name string, value []byte) []byte {
	if s.Len() == 0 {
		dst = append(dst, ' ')
	}
	dst = append(dst, name...)
	dst = append(dst, '=', '"')
	dst = append(dst, value...)
	return append(dst, '"')
}
