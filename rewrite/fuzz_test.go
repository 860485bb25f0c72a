package rewrite

import (
	"bytes"
	"errors"
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
