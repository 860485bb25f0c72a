package rewrite

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// FuzzReorder: for any input, Parse does not panic, and reversing every
// list the index calls movable changes the page a browser builds exactly as
// moving those items in the browser's own tree would: nothing else moves,
// appears or disappears.
func FuzzReorder(f *testing.F) {
	for _, s := range []string{
		`<ul><li>a</li><li>b</li><li>c</li></ul>`,
		`<nav><ul class=m><li><a href=/a>A</a><ul><li>x</li></ul></li><li><a href=/b>B</a></li></ul></nav>`,
		`<ul><li>a<li>b</ul><table><tr><td><ul><li>1</li><li>2</li></ul></table>`,
		`<ul><li><b>a</li><li>b</li></ul>`,
		`<ul><li>a</li><!-- </ul> --><li>b</li><script>"</ul>"</script></ul>`,
		`<svg><ul><li>a</li><li>b</li></ul></svg><ul><li>c</li><li>d</li></ul>`,
		`<template><ul><li>a</li></ul></template><ul><li>x</li><li>y</li></ul>`,
		`<p><ul><li>a</li><li>b</li></ul></p>`,
		`<ul><li>a</li><div>b</div><li>c</li></ul>`,
		`<select><ul><li>a</li><li>b</li></ul></select>`,
		`<ul><li>a</li><li>b</li></ul></body><ul><li>c</li><li>d</li></ul>`,
		"\xEF\xBB\xBF<!DOCTYPE html><html><head></head><body><ul><li>a</li><li>b</li></ul></body></html>",
	} {
		f.Add([]byte(s))
	}
	isUL := matchFunc(func(n *html.Node) bool { return n.DataAtom == atom.Ul })
	isLI := matchFunc(func(n *html.Node) bool { return n.DataAtom == atom.Li })
	isProbe := matchFunc(func(n *html.Node) bool { return hasAttr(n, probe) })
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 || bytes.Contains(src, []byte(probe)) {
			return
		}
		d := Parse(src)
		marked := markStartTags(src, d.Find(isUL))
		d.Release()

		d = Parse(marked)
		defer d.Release()
		ed := d.Edit()
		done := map[string]int{}
		for _, ul := range d.Find(isProbe) {
			items := ul.FindOutermost(isLI)
			if len(items) < 2 {
				continue
			}
			err := ed.Reorder(items, reversed(len(items)))
			if err == nil {
				v, _ := ul.Attr(probe)
				done[v] = len(items)
			} else if !errors.Is(err, ErrUnsafe) && !errors.Is(err, ErrOverlap) {
				t.Fatalf("Reorder: %v", err)
			}
		}
		out := ed.Bytes(nil)
		if len(done) == 0 {
			if !bytes.Equal(out, marked) {
				t.Fatalf("no edit, yet the output differs from the input")
			}
			return
		}
		refIn, err := html.Parse(bytes.NewReader(marked))
		if err != nil {
			t.Fatal(err)
		}
		refOut, err := html.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		probes := map[string]*html.Node{}
		findProbes(refIn, probes)
		for v, n := range done {
			p := probes[v]
			if p == nil {
				t.Fatalf("list %s: the browser has no such list\ninput: %q", v, marked)
			}
			items := outermost(p, atom.Li, nil)
			if len(items) != n {
				t.Fatalf("list %s: browser sees %d items, index %d\ninput: %q", v, len(items), n, marked)
			}
			permute(items, reversed(n))
		}
		if got, want := render(t, refOut), render(t, refIn); got != want {
			t.Fatalf("reordered page differs from the reference\ninput:  %q\noutput: %q\n got: %s\nwant: %s", marked, out, got, want)
		}
	})
}

// siteProbe is what FuzzBlockSite splices at a site: a block made of what
// shopedge's blocks carry (a heading, a list of links with text, an image,
// a paragraph), so that anything a browser does to such a block shows.
const siteProbe = `<section id="se-probe"><h2>t</h2><ul><li><a href="/x"><img src="/i" alt="">x</a></li></ul><p>p</p></section>`

// FuzzBlockSite: wherever BlockSite accepts a site, the browser's tree of
// the page with a block spliced there is the tree of the page without it
// plus exactly the block, at the place BlockSite promised: just before the
// element, just after it, first in it, last in it or instead of it. The
// element is the pick-th the index holds (modulo their number), the
// position the pos-th of Positions.
func FuzzBlockSite(f *testing.F) {
	seeds := []string{
		`<body><main><div id=t>a</div><p>b</p></main></body>`,
		`<!DOCTYPE html><html><head><title>x</title></head><body><nav><ul><li><a href=/a>A</a></li></ul></nav><main><div>a</div></main></body></html>`,
		`<body><table><tr><td>a</td><td>b</td></tr></table><div>c</div></body>`,
		`<table><caption>c</caption><thead><tr><th>h</thead><tbody><tr><td>x<td>y</tbody></table>`,
		`<table><div>x</div><tr><td>y</table>`,
		`<p>a<div>b</div><p>c<span>d</span>e</p>`,
		`<p><table><tr><td><div>a</div></td></tr></table></p>`,
		`<p><button><div>a</div></button></p>`,
		`<b><div>a</div></b><i>x<div>y</div>`,
		`<div><b>x</div><main><span>y</span></main>`,
		`<b><i>x</b>y</i><div>z</div>`,
		`<a href=/1><div>x</div></a><div>y</div>`,
		`<ul><li>a<li>b</ul><ul><li>c</li><li>d</li></ul>`,
		`<dl><dt>a<dd>b</dl><div>c</div>`,
		`<select><option>a<option>b</select><div>x</div>`,
		`<template><div>a</div></template><div>b</div>`,
		`<div><svg><g><path/></g><foreignObject><div>x</div></foreignObject></svg><span>y</span></div>`,
		`<math><mi>x</mi></math><div>y</div>`,
		`<pre>` + "\n\n" + `x</pre><listing>` + "\n" + `y</listing><div>z</div>`,
		`<textarea>a</textarea><div>b</div><noscript><div>c</div></noscript>`,
		`<h1>a<h2>b</h2></h1><div>c</div>`,
		`<form><div><form><div>x</div></form></div></form>`,
		`<object><div>a</div></object><marquee><div>b</div></marquee>`,
		`<html><body><div>a</div></body></html><p>after</p>`,
		`<head><title>t</title></head><div>a</div><link rel=x href=y>`,
		`<div>x</span></div><div>y</br></div>`,
		`<body><main><img src=x><br><hr></main></body>`,
		"\xEF\xBB\xBF<!DOCTYPE html><html><head></head><body><div>a</div></body></html>",
	}
	if b, err := os.ReadFile("testdata/demo-home.html"); err == nil {
		seeds = append(seeds, string(b))
	} else {
		f.Fatal(err)
	}
	for _, s := range seeds {
		for _, pick := range []uint16{0, 1, 2, 3, 4, 5, 7, 11, 19, 40, 97} {
			for pos := range Positions {
				f.Add([]byte(s), pick, uint8(pos))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, pick uint16, pos uint8) {
		// "se-probe" is in the mark, the block and the comment.
		if len(src) > 1<<16 || bytes.Contains(src, []byte("se-probe")) {
			return
		}
		at := Positions[int(pos)%len(Positions)]
		d := Parse(src)
		elems := d.Find(matchFunc(func(*html.Node) bool { return true }))
		if len(elems) == 0 {
			d.Release()
			return
		}
		e := elems[int(pick)%len(elems)]
		if d.spans[e.i].flags&fSynthetic != 0 {
			// An implied element has no tags to mark, nor to put a block
			// beside.
			if s, err := e.BlockSite(at); err == nil {
				t.Fatalf("%s implied <%s>: site %v accepted\ninput: %q", at, e.Tag(), s, src)
			}
			d.Release()
			return
		}
		marked := markStartTag(src, e)
		d.Release()

		d = Parse(marked)
		defer d.Release()
		found := d.Find(matchFunc(func(n *html.Node) bool { return hasAttr(n, probe) }))
		if len(found) != 1 {
			return // the mark changed the page: it was not a start tag of its own
		}
		s, err := found[0].BlockSite(at)
		if err != nil {
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("BlockSite: %v", err)
			}
			return
		}
		var sp Splice
		if err := sp.Replace(s.Range, []byte(siteProbe)); err != nil {
			t.Fatal(err)
		}
		out := sp.Bytes(nil, marked)

		refIn, refOut := browserTree(t, marked), browserTree(t, out)
		// The first: a browser re-creating a formatting element left open
		// copies its attributes, the probe with them.
		tgt := firstProbe(refIn)
		if tgt == nil || tgt.Parent == nil {
			t.Fatalf("%s <%s>: site accepted, but the browser has no such element\ninput: %q", at, found[0].Tag(), marked)
		}
		if at == Append && tgt.DataAtom == atom.Body {
			// What follows </body> goes into body too, after the block. So
			// the block is to go where a comment put at the site goes, last
			// in body but for that, and the comment is to change nothing
			// else.
			var sp Splice
			_ = sp.Insert(s.Start, []byte("<!--se-probe-->"))
			withComment := sp.Bytes(nil, marked)
			ref := browserTree(t, withComment)
			c := findComment(ref, "se-probe")
			if c == nil || c.Parent.DataAtom != atom.Body {
				t.Fatalf("append <body>: a comment at the site is not in body\ninput: %q", marked)
			}
			c.Parent.RemoveChild(c)
			if got, want := render(t, ref), render(t, refIn); got != want {
				t.Fatalf("append <body>: a comment at the site changes the page\ninput: %q\n got: %s\nwant: %s", marked, got, want)
			}
			refIn = browserTree(t, withComment)
			tgt, at = findComment(refIn, "se-probe"), Replace
		}
		place(tgt, at, probeNode(t))
		if got, want := render(t, refOut), render(t, refIn); got != want {
			t.Fatalf("%s <%s>: the browser's page with the block differs from the page plus the block\ninput:  %q\noutput: %q\n got: %s\nwant: %s", at, found[0].Tag(), marked, out, got, want)
		}
	})
}

// browserTree parses src as a browser does. Its decoder takes a leading
// byte order mark, which x/net/html leaves in as text.
func browserTree(t *testing.T, src []byte) *html.Node {
	n, err := html.Parse(bytes.NewReader(bytes.TrimPrefix(src, utf8BOM)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// firstProbe returns the first element, in document order, that has the
// probe attribute.
func firstProbe(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && hasAttr(n, probe) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := firstProbe(c); f != nil {
			return f
		}
	}
	return nil
}

// findComment returns the first comment node with text data under n.
func findComment(n *html.Node, data string) *html.Node {
	if n.Type == html.CommentNode && n.Data == data {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findComment(c, data); f != nil {
			return f
		}
	}
	return nil
}

// markStartTag gives e's start tag the probe attribute with value "0",
// quoted so that a "/" right after the tag name still self-closes it.
func markStartTag(src []byte, e Element) []byte {
	at := e.Offset() + 1 + len(e.Tag())
	out := make([]byte, 0, len(src)+len(probe)+6)
	out = append(out, src[:at]...)
	out = append(out, ` `+probe+`="0"`...)
	return append(out, src[at:]...)
}

// probeNode returns siteProbe as the browser builds it in a body.
func probeNode(t *testing.T) *html.Node {
	doc, err := html.Parse(strings.NewReader("<body>" + siteProbe))
	if err != nil {
		t.Fatal(err)
	}
	var body *html.Node
	for n := doc.FirstChild; n != nil; n = n.NextSibling {
		if n.DataAtom == atom.Html {
			body = n.LastChild
		}
	}
	p := body.FirstChild
	body.RemoveChild(p)
	return p
}

// place puts n where a block at pos relative to tgt goes.
func place(tgt *html.Node, pos Position, n *html.Node) {
	switch pos {
	case Before:
		tgt.Parent.InsertBefore(n, tgt)
	case After:
		tgt.Parent.InsertBefore(n, tgt.NextSibling)
	case Prepend:
		tgt.InsertBefore(n, tgt.FirstChild)
	case Append:
		tgt.AppendChild(n)
	case Replace:
		tgt.Parent.InsertBefore(n, tgt)
		tgt.Parent.RemoveChild(tgt)
	}
}

// FuzzSwapSite: wherever ContentSite or AttrSite accepts a site, the
// browser's tree of the page with the swap spliced in is the tree of the
// page without it, but for exactly what was swapped: the element's
// children replaced by the new text, or the attribute set (the first of
// its name replaced, or a new one first). The element is the pick-th the
// index holds; mode 0 swaps the content for text, 3 for markup with a
// heading and list items at its top level (where ContentSite says they may
// go), 1 the element's first attribute but the probe, 2 an attribute it
// lacks.
func FuzzSwapSite(f *testing.F) {
	seeds := []string{
		`<body><section class=hero><h1>Well made</h1><p>x <a href=/c>c</a></p></section></body>`,
		`<!DOCTYPE html><html><head><title>x</title></head><body><main><div id=a title='q>'>a</div></main></body></html>`,
		`<body><table><tr><td>a</td><td class=b>b</td></tr></table><div>c</div></body>`,
		`<p>a<div>b</div><p>c<span>d</span>e</p>`,
		`<b><div>a</div></b><i>x<div>y</div>`,
		`<b><i>x</b>y</i><div>z</div>`,
		`<ul><li>a<li>b</ul><ul><li>c</li><li>d</li></ul>`,
		`<select><option>a<option>b</select><div>x</div>`,
		`<template><div>a</div></template><div>b</div>`,
		`<div><svg><g><path/></g></svg><span>y</span></div>`,
		"<pre>\n\nx</pre><listing>\r\ny</listing><div>z</div>",
		`<textarea>a</textarea><div>b</div><noscript><div>c</div></noscript>`,
		`<form><div><form><div>x</div></form></div></form>`,
		`<html><body><div>a</div></body></html><p>after</p>`,
		`<div>x</span></div><div>y</br></div>`,
		`<body><a href=/1 href=/2 HREF=/3>x</a><img src=x alt><br/></body>`,
		`<body><div hidden class = "a b">x</div></body>`,
		`<body><ul><li><div>x</div></li></ul><h1><span>y</span></h1><dl><dt><p>z</p></dl></body>`,
	}
	if b, err := os.ReadFile("testdata/demo-home.html"); err == nil {
		seeds = append(seeds, string(b))
	} else {
		f.Fatal(err)
	}
	for _, s := range seeds {
		for _, pick := range []uint16{0, 1, 2, 3, 4, 5, 7, 11, 19, 40, 97} {
			for mode := range uint8(4) {
				f.Add([]byte(s), pick, mode)
			}
		}
	}
	const text, value = "se-swapped", "se-v&amp;1"
	f.Fuzz(func(t *testing.T, src []byte, pick uint16, mode uint8) {
		if len(src) > 1<<16 || bytes.Contains(src, []byte("se-")) {
			return
		}
		d := Parse(src)
		elems := d.Find(matchFunc(func(*html.Node) bool { return true }))
		if len(elems) == 0 {
			d.Release()
			return
		}
		e := elems[int(pick)%len(elems)]
		if d.spans[e.i].flags&fSynthetic != 0 {
			if _, err := e.ContentSite(); err == nil {
				t.Fatalf("content of implied <%s> accepted\ninput: %q", e.Tag(), src)
			}
			if _, err := e.AttrSite("class"); err == nil {
				t.Fatalf("attribute of implied <%s> accepted\ninput: %q", e.Tag(), src)
			}
			d.Release()
			return
		}
		marked := markStartTag(src, e)
		d.Release()

		d = Parse(marked)
		defer d.Release()
		found := d.Find(matchFunc(func(n *html.Node) bool { return hasAttr(n, probe) }))
		if len(found) != 1 {
			return // the mark changed the page
		}
		el := found[0]
		var sp Splice
		attr := ""
		flow := false
		switch mode % 4 {
		case 0, 3:
			s, err := el.ContentSite()
			if err != nil {
				if !errors.Is(err, ErrUnsafe) {
					t.Fatalf("ContentSite: %v", err)
				}
				return
			}
			if flow = mode%4 == 3; flow {
				if !s.Blocks || !s.Items || !s.Headings {
					return
				}
				_ = sp.Replace(s.Range, []byte(flowProbe))
			} else {
				_ = sp.Replace(s.Range, []byte(text))
			}
		default:
			attr = "data-se-new"
			if mode%4 == 1 {
				for _, a := range el.Node().Attr {
					if a.Key != probe {
						attr = a.Key
						break
					}
				}
			}
			if !validAttrName(attr) {
				return
			}
			s, err := el.AttrSite(attr)
			if err != nil {
				if !errors.Is(err, ErrUnsafe) {
					t.Fatalf("AttrSite: %v", err)
				}
				return
			}
			_ = sp.Replace(s.Range, s.AppendAttr(nil, attr, []byte(value)))
		}
		out := sp.Bytes(nil, marked)

		refIn, refOut := browserTree(t, marked), browserTree(t, out)
		tgt := firstProbe(refIn)
		if tgt == nil {
			t.Fatalf("<%s>: site accepted, but the browser has no such element\ninput: %q", el.Tag(), marked)
		}
		switch {
		case flow:
			for c := tgt.FirstChild; c != nil; c = tgt.FirstChild {
				tgt.RemoveChild(c)
			}
			nodes, err := html.ParseFragment(strings.NewReader(flowProbe), &html.Node{Type: html.ElementNode, Data: tgt.Data, DataAtom: tgt.DataAtom})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				tgt.AppendChild(n)
			}
		case attr == "":
			for c := tgt.FirstChild; c != nil; c = tgt.FirstChild {
				tgt.RemoveChild(c)
			}
			tgt.AppendChild(&html.Node{Type: html.TextNode, Data: text})
		default:
			set := false
			for i := range tgt.Attr {
				if tgt.Attr[i].Key == attr && tgt.Attr[i].Namespace == "" {
					tgt.Attr[i].Val, set = html.UnescapeString(value), true
					break
				}
			}
			if !set {
				tgt.Attr = append([]html.Attribute{{Key: attr, Val: html.UnescapeString(value)}}, tgt.Attr...)
			}
		}
		// x/net/html sorts the attributes of formatting elements (for its
		// Noah's Ark clause); browsers keep their order, which no page
		// depends on.
		sortAttrs(refIn)
		sortAttrs(refOut)
		if got, want := render(t, refOut), render(t, refIn); got != want {
			t.Fatalf("swap <%s> %q: the browser's page differs from the page with the swap\ninput:  %q\noutput: %q\n got: %s\nwant: %s", el.Tag(), attr, marked, out, got, want)
		}
	})
}

// flowProbe is what FuzzSwapSite swaps in as markup: a heading, list items
// and a paragraph at its top level, and phrasing elements.
const flowProbe = `<h2>se-t</h2><li>se-a</li><dd>se-d</dd><p>se-<em>p</em></p><div><span>se-s</span></div>`

// validAttrName reports whether a is an attribute name a swap may set
// (the form markup.CheckAttrName accepts, without its refusals).
func validAttrName(a string) bool {
	if a == "" || a[0] < 'a' || a[0] > 'z' {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// sortAttrs sorts the attributes of every element under n by key.
func sortAttrs(n *html.Node) {
	slices.SortStableFunc(n.Attr, func(a, b html.Attribute) int { return strings.Compare(a.Key, b.Key) })
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sortAttrs(c)
	}
}
