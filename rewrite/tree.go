package rewrite

import (
	"bytes"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// flags describe how far an element's source bytes can be trusted.
type flags uint8

const (
	// fExplicitEnd: the element ended with its own end tag, or is void.
	fExplicitEnd flags = 1 << iota
	// fDirty: a browser's tree may differ from this one in or around the
	// element's subtree (misnesting, implied wrappers, foster parenting, an
	// element left open). Dirty subtrees are never moved or replaced.
	fDirty
	// fSynthetic: the parser implied the element; it has no tags in the source.
	fSynthetic
	// fOpaque: svg, math or template; the content is not indexed.
	fOpaque
	// fFostered: a table out of which a browser moves content, to just
	// before it (foster parenting).
	fFostered
	// fNoBlocks: no block goes in the element: browsers may move what is
	// in it out of it (a formatting element closed with elements open in
	// it, by the adoption agency), put it elsewhere (foster parenting), or
	// parsers disagree on it.
	fNoBlocks
)

// span holds an element's offsets in the source:
//
//	<ul class=x> <li>..</li> </ul>
//	^start      ^inner      ^close^end
//
// For an element without an end tag, close == end == where it was closed.
type span struct {
	start, inner, close, end int32
	flags                    flags
	kind                     kind
}

// Doc is an index of an HTML document: a tree of its elements, each with the
// byte offsets of its tags in the source, built by a fast single-pass scanner
// that mirrors the HTML5 tree builder where it matters (implied end tags,
// raw text, tables, misnesting) and marks the places where it may not agree
// with a browser. The tree is made of *html.Node values, so goquery and
// cascadia selectors run on it; it holds elements only (no text nodes).
//
// A Doc aliases its source: strings in the tree point into it, so the source
// must not change while the Doc is in use. A Doc is not safe for concurrent
// mutation, but any number of goroutines may read one.
type Doc struct {
	src   []byte
	nodes []html.Node // nodes[0] is the document node
	spans []span      // parallel to nodes
	attrs []html.Attribute

	stack []int32 // open elements (indexes into nodes)
	html  int32   // index of the html element, or 0 when absent
	head  int32
	body  int32

	afterBody bool
	// opaque is the index of the svg, math or template element whose content
	// is being skipped; opaqueDepth counts nested elements of the same name.
	opaque      int32
	opaqueDepth int
	// htmlInForeign: an HTML start tag came in an integration point of the
	// svg or math element being skipped; what it left open (a formatting
	// element a browser re-creates after it, say) the index does not see.
	htmlInForeign bool
	// integration counts open HTML integration points (foreignObject, desc,
	// title, mtext, ...) inside svg or math, where HTML tags stay put.
	integration int
	// leaks records formatting elements left open (the browser re-creates
	// them around later content): the marker element each belongs to, or 0.
	leaks []int32
	// leakFrom is where leaks last became non-empty; leakRanges holds the
	// spans of source in which formatting elements left open were still
	// active (a browser re-creates them around content put there), or in
	// which the adoption agency left open a block the index closed.
	leakFrom   int32
	leakRanges [][2]int32
	// form is the element a browser's "form element pointer" holds: set by
	// <form>, cleared by </form> only. A <form> tag while it is set is
	// ignored.
	form int32
	// noQuirks: the page starts with <!DOCTYPE html>, so that browsers
	// build it in no-quirks mode (where <table> closes an open <p>).
	noQuirks bool

	jsonLD [][2]int32 // content ranges of <script type="application/ld+json">
	metas  []int32    // indexes of meta and link elements
}

var docPool = sync.Pool{New: func() any { return new(Doc) }}

// Parse indexes src. It never fails: where the source is malformed, the
// affected elements are marked so that no edit touches them. Call Release
// when done with the Doc to recycle its memory.
func Parse(src []byte) *Doc {
	d := docPool.Get().(*Doc)
	d.reset(src)
	d.build()
	return d
}

// Release returns the Doc's memory to a pool. The Doc, its nodes and any
// Element taken from it must not be used afterwards.
func (d *Doc) Release() {
	if d == nil {
		return
	}
	if cap(d.nodes) > 1<<16 { // do not keep huge slabs alive
		d.nodes, d.spans, d.attrs = nil, nil, nil
	}
	d.src = nil
	docPool.Put(d)
}

func (d *Doc) reset(src []byte) {
	d.src = src
	// Every element but a handful of implied ones starts with '<': that bounds
	// the number of nodes, so the slab never moves once built (node pointers
	// stay valid, and an element's index is its offset in the slab).
	n := bytes.Count(src, []byte{'<'}) + 8
	if cap(d.nodes) < n {
		d.nodes = make([]html.Node, 0, n)
		d.spans = make([]span, 0, n)
	} else {
		clear(d.nodes[:cap(d.nodes)])
		d.nodes = d.nodes[:0]
		d.spans = d.spans[:0]
	}
	if d.attrs == nil {
		d.attrs = make([]html.Attribute, 0, n)
	} else {
		clear(d.attrs[:cap(d.attrs)])
		d.attrs = d.attrs[:0]
	}
	d.stack = d.stack[:0]
	d.html, d.head, d.body = 0, 0, 0
	d.afterBody = false
	d.opaque, d.opaqueDepth, d.integration = 0, 0, 0
	d.htmlInForeign = false
	d.leaks = d.leaks[:0]
	d.leakFrom, d.leakRanges = 0, d.leakRanges[:0]
	d.form = 0
	d.noQuirks = false
	d.jsonLD = d.jsonLD[:0]
	d.metas = d.metas[:0]
}

// Source returns the bytes the Doc indexes.
func (d *Doc) Source() []byte { return d.src }

// Root returns the document node, for goquery.NewDocumentFromNode.
func (d *Doc) Root() *html.Node { return &d.nodes[0] }

// index returns the position of n in the node slab, or -1 if n is not one of
// this Doc's nodes.
func (d *Doc) index(n *html.Node) int32 {
	if n == nil || len(d.nodes) == 0 {
		return -1
	}
	base := uintptr(unsafe.Pointer(&d.nodes[0]))
	p := uintptr(unsafe.Pointer(n))
	size := unsafe.Sizeof(html.Node{})
	if p < base || p >= base+uintptr(len(d.nodes))*size || (p-base)%size != 0 {
		return -1
	}
	return int32((p - base) / size)
}

func (d *Doc) build() {
	d.nodes = append(d.nodes, html.Node{Type: html.DocumentNode})
	d.spans = append(d.spans, span{end: int32(len(d.src)), close: int32(len(d.src)), flags: fExplicitEnd})
	d.stack = append(d.stack, 0)
	// A UTF-8 byte order mark is not text: the browser's decoder takes it
	// (https://encoding.spec.whatwg.org/#decode), so the tree starts after
	// it, and no offset (so no edit) ever falls before it.
	s := scanner{src: d.src, pos: bomLen(d.src)}
	d.noQuirks = isHTML5Doctype(d.src[s.pos:])
	for {
		switch s.next() {
		case tokEOF:
			d.closeAll()
			return
		case tokText:
			d.text(&s)
		case tokRawText:
			if top := d.top(); d.opaque == 0 && d.nodes[top].DataAtom == atom.Script && d.isJSONLD(top) {
				d.jsonLD = append(d.jsonLD, [2]int32{int32(s.start), int32(s.end)})
			}
		case tokStartTag:
			if d.opaque != 0 {
				d.opaqueStart(&s)
			} else {
				d.startTag(&s)
			}
		case tokEndTag:
			if d.opaque != 0 {
				d.opaqueEnd(&s)
			} else {
				d.endTag(&s)
			}
		}
	}
}

// utf8BOM is the UTF-8 encoding of U+FEFF.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// bomLen returns the length of the byte order mark src starts with, or 0.
func bomLen(src []byte) int {
	if bytes.HasPrefix(src, utf8BOM) {
		return len(utf8BOM)
	}
	return 0
}

func (d *Doc) top() int32 { return d.stack[len(d.stack)-1] }

func (d *Doc) atomOf(i int32) atom.Atom { return d.nodes[i].DataAtom }

// isHTML5Doctype reports whether src starts, after white space, with the
// doctype <!DOCTYPE html> and nothing more in it: the one doctype that
// certainly puts a browser in no-quirks mode. Any other start is taken as
// maybe quirks.
func isHTML5Doctype(src []byte) bool {
	src = bytes.TrimLeft(src, " \t\n\r\f")
	const dt = "<!doctype"
	if len(src) < len(dt) || !bytes.EqualFold(src[:len(dt)], []byte(dt)) {
		return false
	}
	rest := bytes.TrimLeft(src[len(dt):], " \t\n\r\f")
	if len(rest) == len(src)-len(dt) || len(rest) < 4 || !bytes.EqualFold(rest[:4], []byte("html")) {
		return false
	}
	rest = bytes.TrimLeft(rest[4:], " \t\n\r\f")
	return len(rest) > 0 && rest[0] == '>'
}

// lowerASCII returns a copy of b with A-Z lowered, as HTML lowers tag and
// attribute names: other bytes, UTF-8 or not, stay as they are
// (bytes.ToLower would lower non-ASCII letters and replace invalid bytes).
func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = lower(c)
	}
	return out
}

// tagName returns the lowercase name of a tag and its atom, without
// allocating for known names.
func tagName(raw []byte) (atom.Atom, string) {
	var buf [24]byte
	name := raw
	for _, c := range raw {
		if 'A' <= c && c <= 'Z' {
			if len(raw) > len(buf) {
				name = lowerASCII(raw)
			} else {
				for i, c := range raw {
					buf[i] = lower(c)
				}
				name = buf[:len(raw)]
			}
			break
		}
	}
	if a := atom.Lookup(name); a != 0 {
		return a, a.String()
	}
	if &name[0] == &raw[0] {
		return 0, unsafe.String(&raw[0], len(raw))
	}
	return 0, string(name)
}

// text handles a text token: non-space text before body starts the body.
func (d *Doc) text(s *scanner) {
	if d.opaque != 0 {
		return
	}
	top := d.top()
	inBody := d.body != 0 && !d.afterBody
	if inBody && !d.isTableContext(top) {
		return
	}
	t := d.src[s.start:s.end]
	if len(bytes.Trim(t, " \t\n\r\f")) == 0 {
		return
	}
	if inBody {
		d.foster(top) // text directly in a table is moved before it
		return
	}
	if d.afterBody {
		d.markDirty(d.body)
		return
	}
	if top := d.atomOf(d.top()); top == 0 || top == atom.Html || top == atom.Head {
		d.ensureBody(int32(s.start))
	}
}

// newNode appends an element for the tag the scanner is on.
func (d *Doc) newNode(s *scanner, a atom.Atom, name string, k kind) int32 {
	a0 := len(d.attrs)
	it := attrScanner{b: s.attrs}
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		d.attrs = append(d.attrs, html.Attribute{Key: attrKey(key), Val: attrVal(val)})
	}
	i := int32(len(d.nodes))
	d.nodes = append(d.nodes, html.Node{Type: html.ElementNode, DataAtom: a, Data: name})
	if len(d.attrs) > a0 {
		d.nodes[i].Attr = d.attrs[a0:len(d.attrs):len(d.attrs)]
	}
	d.spans = append(d.spans, span{
		start: int32(s.start), inner: int32(s.end), close: int32(s.end), end: int32(s.end), kind: k,
	})
	return i
}

// synthetic appends an element the parser implies at offset off.
func (d *Doc) synthetic(a atom.Atom, off int32) int32 {
	i := int32(len(d.nodes))
	if cap(d.nodes) == len(d.nodes) {
		return -1 // cannot happen: reset reserves room for implied elements
	}
	d.nodes = append(d.nodes, html.Node{Type: html.ElementNode, DataAtom: a, Data: a.String()})
	d.spans = append(d.spans, span{start: off, inner: off, close: off, end: off, flags: fSynthetic, kind: kindOf(a)})
	return i
}

func attrKey(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return string(lowerASCII(b))
		}
	}
	if a := atom.Lookup(b); a != 0 {
		return a.String()
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func attrVal(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := unsafe.String(&b[0], len(b))
	if bytes.IndexByte(b, '&') >= 0 {
		return html.UnescapeString(s)
	}
	return s
}

// appendChild links child as the last child of parent.
func (d *Doc) appendChild(parent, child int32) {
	p, c := &d.nodes[parent], &d.nodes[child]
	c.Parent = p
	if p.LastChild != nil {
		p.LastChild.NextSibling = c
		c.PrevSibling = p.LastChild
	} else {
		p.FirstChild = c
	}
	p.LastChild = c
}

// insert appends element i to the current node and, unless void, opens it.
func (d *Doc) insert(i int32, open bool) {
	d.appendChild(d.top(), i)
	if len(d.leaks) > 0 {
		d.spans[i].flags |= fDirty
	}
	if open {
		d.stack = append(d.stack, i)
	} else {
		d.spans[i].flags |= fExplicitEnd
	}
}

// markDirty marks i and its ancestors dirty.
func (d *Doc) markDirty(i int32) {
	for n := &d.nodes[i]; n != nil; n = n.Parent {
		j := d.index(n)
		if d.spans[j].flags&fDirty != 0 {
			return
		}
		d.spans[j].flags |= fDirty
	}
}

// pop closes the current node at offset off without an end tag.
func (d *Doc) pop(off int32) {
	i := d.top()
	d.stack = d.stack[:len(d.stack)-1]
	sp := &d.spans[i]
	sp.close, sp.end = off, off
	if sp.kind&kOptionalEnd == 0 {
		d.markDirty(i)
		if sp.kind&kFormatting != 0 {
			d.leak(off)
		}
	}
	d.closed(i)
}

// leak records, at offset off, a formatting element left open inside the
// innermost open marker.
func (d *Doc) leak(off int32) {
	if len(d.leaks) == 0 {
		d.leakFrom = off
	}
	d.leaks = append(d.leaks, d.markerOf())
}

// closed runs after element i left the stack.
func (d *Doc) closed(i int32) {
	if d.spans[i].kind&kMarker != 0 && len(d.leaks) > 0 {
		// Closing a marker clears the formatting elements opened inside it.
		k := 0
		for _, m := range d.leaks {
			if m != i {
				d.leaks[k] = m
				k++
			}
		}
		d.leaks = d.leaks[:k]
		if k == 0 {
			d.leakRanges = append(d.leakRanges, [2]int32{d.leakFrom, d.spans[i].end})
		}
	}
}

// inLeak reports whether a formatting element left open may be re-created
// by a browser around content put anywhere in [from, to].
func (d *Doc) inLeak(from, to int32) bool {
	for _, r := range d.leakRanges {
		if r[0] <= to && from <= r[1] {
			return true
		}
	}
	return false
}

// markerOf returns the innermost open marker element (td, th, caption,
// template, ...), or 0.
func (d *Doc) markerOf() int32 {
	for j := len(d.stack) - 1; j > 0; j-- {
		if d.spans[d.stack[j]].kind&kMarker != 0 {
			return d.stack[j]
		}
	}
	return 0
}

// popUntil pops elements up to and including the nearest open element with
// atom a. The target itself is closed at closeOff..endOff (its end tag when
// explicit); the ones above it are closed implicitly at closeOff.
func (d *Doc) popUntil(pos int, closeOff, endOff int32, explicit bool) {
	for len(d.stack)-1 > pos {
		d.pop(closeOff)
	}
	i := d.top()
	d.stack = d.stack[:len(d.stack)-1]
	sp := &d.spans[i]
	sp.close, sp.end = closeOff, endOff
	if explicit {
		sp.flags |= fExplicitEnd
	} else if sp.kind&kOptionalEnd == 0 {
		d.markDirty(i)
	}
	d.closed(i)
}

// inScope returns the stack position of the nearest open element with atom a
// in the given scope, or -1. extra adds scope boundaries (button, ol/ul).
func (d *Doc) inScope(a atom.Atom, extra ...atom.Atom) int {
	for j := len(d.stack) - 1; j > 0; j-- {
		i := d.stack[j]
		ai := d.atomOf(i)
		if ai == a {
			return j
		}
		if d.spans[i].kind&kScope != 0 {
			return -1
		}
		for _, x := range extra {
			if ai == x {
				return -1
			}
		}
	}
	return -1
}

func (d *Doc) inTableScope(a atom.Atom) int {
	for j := len(d.stack) - 1; j > 0; j-- {
		ai := d.atomOf(d.stack[j])
		if ai == a {
			return j
		}
		if ai == atom.Html || ai == atom.Table || ai == atom.Template {
			return -1
		}
	}
	return -1
}

// closeP closes an open p element in button scope, as a block start tag does.
func (d *Doc) closeP(off int32) {
	if j := d.inScope(atom.P, atom.Button); j >= 0 {
		d.popUntil(j, off, off, false)
	}
}

func (d *Doc) ensureHTML(off int32) {
	if d.html != 0 {
		return
	}
	i := d.synthetic(atom.Html, off)
	d.appendChild(0, i)
	d.stack = append(d.stack, i)
	d.html = i
}

// ensureBody closes head and opens an implied body when body content arrives
// before any body tag.
func (d *Doc) ensureBody(off int32) {
	d.ensureHTML(off)
	if d.body != 0 {
		return
	}
	if d.head == 0 {
		h := d.synthetic(atom.Head, off)
		d.appendChild(d.html, h)
		d.spans[h].flags |= fExplicitEnd
		d.head = h
	}
	if j := d.stackPos(d.head); j >= 0 {
		d.popUntil(j, off, off, false)
	}
	b := d.synthetic(atom.Body, off)
	d.appendChild(d.html, b)
	d.stack = append(d.stack, b)
	d.body = b
}

func (d *Doc) stackPos(i int32) int {
	for j := len(d.stack) - 1; j > 0; j-- {
		if d.stack[j] == i {
			return j
		}
	}
	return -1
}

func (d *Doc) startTag(s *scanner) {
	a, name := tagName(s.name)
	k := kindOf(a)
	off := int32(s.start)
	switch a {
	case atom.Html:
		if d.html != 0 {
			// Attributes merge into the existing element: the tag counts
			// where it is too (replacing what holds it changes html).
			d.markDirty(d.top())
			d.markDirty(d.html)
			return
		}
		i := d.newNode(s, a, name, k)
		d.appendChild(0, i)
		d.stack = append(d.stack, i)
		d.html = i
		return
	case atom.Head:
		if d.head != 0 || d.body != 0 {
			d.markDirty(d.top()) // ignored by browsers
			return
		}
		d.ensureHTML(off)
		i := d.newNode(s, a, name, k)
		d.insertAt(d.html, i)
		d.head = i
		return
	case atom.Body:
		if d.body != 0 {
			// Attributes merge into the existing body: the tag counts
			// where it is too (replacing what holds it changes body).
			d.markDirty(d.top())
			d.markDirty(d.body)
			return
		}
		d.ensureHTML(off)
		if d.head != 0 {
			if j := d.stackPos(d.head); j >= 0 {
				d.popUntil(j, off, off, false)
			}
		}
		i := d.newNode(s, a, name, k)
		d.insertAt(d.html, i)
		d.body = i
		return
	}
	d.ensureHTML(off)
	if d.body == 0 {
		top := d.atomOf(d.top())
		inHead := top == atom.Head || d.head != 0 && d.stackPos(d.head) >= 0
		switch {
		case k&kHeadContent != 0 && d.head == 0:
			h := d.synthetic(atom.Head, off)
			d.appendChild(d.html, h)
			d.stack = append(d.stack, h)
			d.head = h
		case k&kHeadContent != 0 && inHead:
		case k&kHeadContent != 0:
			// After </head>: browsers put it back into head.
			d.markDirty(d.html)
		default:
			d.ensureBody(off)
		}
	} else if d.afterBody {
		d.markDirty(d.body)
	}

	// Implied end tags and the tree builder's special cases.
	var extra flags // for the new element
	switch {
	case a == atom.Li:
		d.closeListItem(off, atom.Li, atom.Li)
		d.closeP(off)
	case a == atom.Dd || a == atom.Dt:
		d.closeListItem(off, atom.Dd, atom.Dt)
		d.closeP(off)
	case k&kHeading != 0:
		d.closeP(off)
		if d.spans[d.top()].kind&kHeading != 0 {
			d.pop(off)
		}
	case a == atom.Option:
		if d.atomOf(d.top()) == atom.Option {
			d.pop(off)
		}
	case a == atom.Optgroup:
		if d.atomOf(d.top()) == atom.Option {
			d.pop(off)
		}
		if d.atomOf(d.top()) == atom.Optgroup {
			d.pop(off)
		}
	case a == atom.A:
		if j := d.openFormatting(atom.A); j >= 0 {
			// <a> inside <a>: the adoption agency closes the outer one,
			// and leaves open the block it finds in it, if any.
			d.markDirty(d.stack[j])
			if j < len(d.stack)-1 {
				d.leak(off)
			}
			d.popUntil(j, off, off, false)
		}
	case a == atom.Button:
		if j := d.inScope(atom.Button); j >= 0 {
			d.markDirty(d.stack[j])
			d.popUntil(j, off, off, false)
		}
	case a == atom.Form:
		if d.form != 0 {
			// While a form is set (until its end tag, even when closed
			// otherwise), browsers ignore a <form> tag.
			d.markDirty(d.form)
			d.markDirty(d.top())
			return
		}
		d.closeP(off)
	case a == atom.Tr || a == atom.Td || a == atom.Th || k&kTableSection != 0 ||
		a == atom.Caption || a == atom.Colgroup || a == atom.Col:
		// The spec closes a caption at <th> as at <td>; x/net/html (v0.62)
		// ignores the tag. Trust no block in such a th.
		if a == atom.Th && d.inTableScope(atom.Caption) >= 0 {
			extra = fNoBlocks
		}
		if !d.tableStart(a, off) {
			return // ignored outside a table
		}
	case a == atom.Table:
		if d.noQuirks {
			d.closeP(off)
		} else if j := d.inScope(atom.P, atom.Button); j >= 0 {
			// In quirks mode the table goes into the p; in no-quirks mode
			// it closes the p. The index keeps the p open, so no block
			// goes beside the table, and marks it in doubt.
			d.markDirty(d.stack[j])
		}
	case k&kClosesP != 0:
		d.closeP(off)
	}
	// Foster parenting: content directly inside a table is moved before
	// it. The index keeps the element in the table, so no block goes in it.
	if top := d.top(); d.isTableContext(top) && k&kFosterOK == 0 {
		d.foster(top)
		extra |= fNoBlocks
	}

	i := d.newNode(s, a, name, k)
	d.spans[i].flags |= extra
	open := k&kVoid == 0
	d.insert(i, open)
	if a == atom.Form {
		d.form = i
	}
	if !open {
		if a == atom.Meta || a == atom.Link {
			d.metas = append(d.metas, i)
		}
		return
	}
	switch {
	case k&kRawText != 0:
		s.rawEnd = rawTextNames[a]
	case k&kOpaque != 0:
		if s.selfClosing && a != atom.Template {
			d.stack = d.stack[:len(d.stack)-1]
			d.spans[i].flags |= fExplicitEnd
			return
		}
		d.spans[i].flags |= fOpaque
		d.opaque, d.opaqueDepth = i, 1
		s.foreign = a != atom.Template
	}
}

// insertAt appends i to parent and opens it (html, head, body).
func (d *Doc) insertAt(parent, i int32) {
	d.appendChild(parent, i)
	d.stack = append(d.stack, i)
}

// closeListItem closes an open li (or dd/dt) the way a new one does.
func (d *Doc) closeListItem(off int32, a1, a2 atom.Atom) {
	for j := len(d.stack) - 1; j > 0; j-- {
		i := d.stack[j]
		ai := d.atomOf(i)
		if ai == a1 || ai == a2 {
			d.popUntil(j, off, off, false)
			return
		}
		if d.spans[i].kind&kSpecial != 0 && ai != atom.Address && ai != atom.Div && ai != atom.P {
			return
		}
	}
}

// openFormatting returns the stack position of an open formatting element a
// not separated from the top by a marker, or -1.
func (d *Doc) openFormatting(a atom.Atom) int {
	for j := len(d.stack) - 1; j > 0; j-- {
		i := d.stack[j]
		if d.atomOf(i) == a {
			return j
		}
		if d.spans[i].kind&kMarker != 0 {
			return -1
		}
	}
	return -1
}

// foster marks the table around table part i (table, section, row) as one
// out of which content is moved, to just before the table.
func (d *Doc) foster(i int32) {
	d.markDirty(i)
	for n := &d.nodes[i]; n != nil && n.Type == html.ElementNode; n = n.Parent {
		if n.DataAtom == atom.Table {
			d.spans[d.index(n)].flags |= fFostered
			return
		}
	}
}

func (d *Doc) isTableContext(i int32) bool {
	a := d.atomOf(i)
	return a == atom.Table || a == atom.Tr || d.spans[i].kind&kTableSection != 0
}

// tableStart applies the table insertion modes for table parts. It returns
// false when browsers ignore the tag (no table open).
func (d *Doc) tableStart(a atom.Atom, off int32) bool {
	t := d.inTableScope(atom.Table)
	if t < 0 {
		d.markDirty(d.top())
		return false
	}
	// Clear back to the right context, closing what is open implicitly.
	clearTo := func(stop func(atom.Atom) bool) {
		for {
			top := d.top()
			if ta := d.atomOf(top); stop(ta) || ta == atom.Html || ta == atom.Template {
				return
			}
			d.pop(off)
		}
	}
	isSection := func(x atom.Atom) bool { return x == atom.Tbody || x == atom.Thead || x == atom.Tfoot }
	switch {
	case a == atom.Td || a == atom.Th:
		if d.inTableScope(atom.Td) < 0 && d.inTableScope(atom.Th) < 0 && d.inTableScope(atom.Tr) < 0 {
			clearTo(func(x atom.Atom) bool { return x == atom.Table || isSection(x) })
			d.implyRow(off)
			return true
		}
		clearTo(func(x atom.Atom) bool { return x == atom.Tr })
		if d.atomOf(d.top()) != atom.Tr {
			d.implyRow(off)
		}
	case a == atom.Tr:
		clearTo(func(x atom.Atom) bool { return x == atom.Table || isSection(x) })
		if d.atomOf(d.top()) == atom.Table {
			d.implySection(off)
		}
	default: // tbody, thead, tfoot, caption, colgroup, col
		clearTo(func(x atom.Atom) bool { return x == atom.Table })
		if a == atom.Col {
			// <col> directly in a table gets an implied colgroup.
			d.markDirty(d.top())
		}
	}
	return true
}

func (d *Doc) implySection(off int32) {
	i := d.synthetic(atom.Tbody, off)
	d.insert(i, true)
}

func (d *Doc) implyRow(off int32) {
	if d.atomOf(d.top()) == atom.Table {
		d.implySection(off)
	}
	i := d.synthetic(atom.Tr, off)
	d.insert(i, true)
}

func (d *Doc) endTag(s *scanner) {
	a, name := tagName(s.name)
	closeOff, endOff := int32(s.start), int32(s.end)
	switch a {
	case atom.Body, atom.Html:
		target := d.body
		if a == atom.Html {
			target = d.html
			if d.body != 0 && d.spans[d.body].flags&fExplicitEnd == 0 && !d.afterBody {
				d.closeBodyAt(closeOff, closeOff, false)
			}
		}
		if target == 0 {
			return
		}
		if a == atom.Body {
			if d.afterBody {
				return
			}
			d.closeBodyAt(closeOff, endOff, true)
			return
		}
		// </html> keeps html open too; record where it ended.
		sp := &d.spans[target]
		if sp.flags&fExplicitEnd == 0 {
			sp.close, sp.end = closeOff, endOff
			sp.flags |= fExplicitEnd
		}
		return
	case atom.Head:
		if d.head != 0 && d.top() == d.head {
			d.popUntil(len(d.stack)-1, closeOff, endOff, true)
		}
		return
	case atom.P:
		if j := d.inScope(atom.P, atom.Button); j >= 0 {
			d.popUntil(j, closeOff, endOff, true)
			return
		}
		d.inserted() // browsers insert an empty <p>
		return
	case atom.Br:
		d.inserted() // browsers insert a <br>
		return
	case atom.Form:
		d.endForm(closeOff, endOff)
		return
	case atom.Li:
		if j := d.inScope(atom.Li, atom.Ol, atom.Ul); j >= 0 {
			d.popUntil(j, closeOff, endOff, true)
		} else {
			d.markDirty(d.top())
		}
		return
	case atom.Dd, atom.Dt:
		if j := d.inScope(a); j >= 0 {
			d.popUntil(j, closeOff, endOff, true)
		} else {
			d.markDirty(d.top())
		}
		return
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		for j := len(d.stack) - 1; j > 0; j-- {
			i := d.stack[j]
			if d.spans[i].kind&kHeading != 0 {
				if d.atomOf(i) != a {
					d.markDirty(i) // </h2> closing an <h1>
				}
				d.popUntil(j, closeOff, endOff, true)
				return
			}
			if d.spans[i].kind&kScope != 0 {
				break
			}
		}
		d.markDirty(d.top())
		return
	}
	k := kindOf(a)
	if k&kFormatting != 0 {
		j := d.openFormatting(a)
		switch {
		case j < 0:
			d.markDirty(d.top())
		case j == len(d.stack)-1:
			d.popUntil(j, closeOff, endOff, true)
		default:
			// Misnested formatting: the adoption agency restructures the
			// tree and re-creates elements; trust nothing here.
			i := d.stack[j]
			d.markDirty(d.top())
			d.popUntil(j, closeOff, endOff, true)
			d.markDirty(i)
			d.spans[i].flags |= fNoBlocks
			d.leak(closeOff)
		}
		return
	}
	if k&kSpecial != 0 {
		// Block and table end tags close the element if it is in scope,
		// with whatever is open inside it.
		var j int
		switch {
		case a == atom.Table || a == atom.Tr || a == atom.Td || a == atom.Th ||
			k&kTableSection != 0 || a == atom.Caption || a == atom.Colgroup:
			j = d.inTableScope(a)
		default:
			j = d.inScope(a)
		}
		if j < 0 {
			d.markDirty(d.top())
			return
		}
		d.popUntil(j, closeOff, endOff, true)
		return
	}
	// Any other end tag: close the nearest open element of that name,
	// unless a special element stands in the way.
	for j := len(d.stack) - 1; j > 0; j-- {
		i := d.stack[j]
		if d.nodes[i].Data == name {
			d.popUntil(j, closeOff, endOff, true)
			return
		}
		if d.spans[i].kind&kSpecial != 0 {
			break
		}
	}
	d.markDirty(d.top()) // a stray end tag, ignored by browsers
}

// inserted marks where browsers insert an element for a stray end tag
// (</p>, </br>): directly in a table, before the table.
func (d *Doc) inserted() {
	if top := d.top(); d.isTableContext(top) {
		d.foster(top)
		return
	}
	d.markDirty(d.top())
}

// endForm handles </form>: it closes the form the form element pointer
// holds, if in scope, and clears the pointer. Browsers take the form off
// the stack and leave open what is open in it (but for elements whose end
// tags are implied): then the index closes those, in doubt, and the form
// has no end of its own.
func (d *Doc) endForm(closeOff, endOff int32) {
	f := d.form
	d.form = 0
	j := d.stackPos(f)
	if f == 0 || j < 0 || d.inScope(atom.Form) != j {
		d.markDirty(d.top())
		return
	}
	for _, i := range d.stack[j+1:] {
		if d.spans[i].kind&kOptionalEnd == 0 {
			d.markDirty(f)
			d.popUntil(j, closeOff, closeOff, false)
			return
		}
	}
	d.popUntil(j, closeOff, endOff, true)
}

// closeBodyAt records where body ends. As in browsers, nothing is popped:
// content after </body> goes on into whatever element is still open, so
// body stays open too. Elements left open there (other than those whose end
// tags are optional) make the document dirty.
func (d *Doc) closeBodyAt(closeOff, endOff int32, explicit bool) {
	j := d.stackPos(d.body)
	if j < 0 {
		return
	}
	for _, i := range d.stack[j+1:] {
		if d.spans[i].kind&kOptionalEnd == 0 {
			d.markDirty(i)
		}
	}
	sp := &d.spans[d.body]
	sp.close, sp.end = closeOff, endOff
	if explicit {
		sp.flags |= fExplicitEnd
	}
	d.afterBody = true
}

// opaqueStart and opaqueEnd track nesting inside svg, math and template,
// whose content is skipped.
func (d *Doc) opaqueStart(s *scanner) {
	a, name := tagName(s.name)
	oa := d.atomOf(d.opaque)
	switch {
	case a == oa && !(s.selfClosing && s.foreign):
		d.opaqueDepth++
	case s.foreign && d.integration == 0 && breaksOut(a, s.attrs):
		// Browsers leave svg/math here, then handle the tag as HTML.
		d.markDirty(d.opaque)
		d.leaveOpaque(s, int32(s.start))
		d.startTag(s)
	case s.foreign && isIntegrationPoint(name):
		if !s.selfClosing {
			d.integration++
		}
	case !s.foreign || d.integration > 0:
		if s.foreign {
			d.htmlInForeign = true
		}
		if k := kindOf(a); k&kRawText != 0 && !s.foreign {
			s.rawEnd = rawTextNames[a]
		}
	}
}

// breaksOut reports whether a start tag ends svg or math content.
func breaksOut(a atom.Atom, attrs []byte) bool {
	if kindOf(a)&kBreakout != 0 {
		return true
	}
	if a != atom.Font {
		return false
	}
	it := attrScanner{b: attrs}
	for {
		k, _, ok := it.next()
		if !ok {
			return false
		}
		switch string(bytes.ToLower(k)) {
		case "color", "face", "size":
			return true
		}
	}
}

func isIntegrationPoint(name string) bool {
	switch name {
	case "foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext", "annotation-xml":
		return true
	}
	return false
}

// leaveOpaque closes the svg, math or template element at off, without an
// end tag.
func (d *Doc) leaveOpaque(s *scanner, off int32) {
	i := d.opaque
	d.opaque, d.opaqueDepth, d.integration = 0, 0, 0
	s.foreign = false
	d.popUntil(len(d.stack)-1, off, off, false)
	d.foreignDone(i, off)
}

// foreignDone runs when svg or math element i has closed at off: if HTML
// came inside it, the element is in doubt, and so is what follows it, as
// after a formatting element left open.
func (d *Doc) foreignDone(i, off int32) {
	if !d.htmlInForeign {
		return
	}
	d.htmlInForeign = false
	d.markDirty(i)
	d.leak(off)
}

func (d *Doc) opaqueEnd(s *scanner) {
	a, name := tagName(s.name)
	if s.foreign && d.integration > 0 && isIntegrationPoint(name) {
		d.integration--
		return
	}
	if a != d.atomOf(d.opaque) {
		return
	}
	d.opaqueDepth--
	if d.opaqueDepth > 0 {
		return
	}
	i := d.opaque
	d.opaque, d.integration = 0, 0
	s.foreign = false
	// The opaque element is the top of the stack: nothing is pushed inside.
	d.popUntil(len(d.stack)-1, int32(s.start), int32(s.end), true)
	d.foreignDone(i, int32(s.start))
}

// closeAll closes what is still open at the end of the document.
func (d *Doc) closeAll() {
	end := int32(len(d.src))
	defer func() {
		if len(d.leaks) > 0 {
			d.leakRanges = append(d.leakRanges, [2]int32{d.leakFrom, end})
		}
	}()
	if d.opaque != 0 {
		d.markDirty(d.opaque)
		d.opaque = 0
	}
	for len(d.stack) > 1 {
		i := d.top()
		sp := &d.spans[i]
		if sp.flags&fExplicitEnd != 0 { // body, html: their end tags were seen
			d.stack = d.stack[:len(d.stack)-1]
			continue
		}
		d.pop(end)
	}
}

// isJSONLD reports whether script element i holds JSON-LD.
func (d *Doc) isJSONLD(i int32) bool {
	for _, at := range d.nodes[i].Attr {
		if at.Key == "type" {
			return equalFoldTrim(at.Val, "application/ld+json")
		}
	}
	return false
}

func equalFoldTrim(s, want string) bool {
	return strings.EqualFold(strings.TrimSpace(s), want)
}
