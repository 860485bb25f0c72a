package rewrite

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// outline renders the element structure under n: tag names and nesting,
// with svg, math and template as leaves (the Doc does not index inside).
func outline(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			b.WriteString(c.Data)
			if c.DataAtom == atom.Svg || c.DataAtom == atom.Math || c.DataAtom == atom.Template {
				b.WriteByte(' ')
				continue
			}
			if c.FirstChild != nil && hasElementChild(c) {
				b.WriteByte('(')
				walk(c)
				b.WriteByte(')')
			}
			b.WriteByte(' ')
		}
	}
	walk(n)
	return strings.TrimSpace(strings.ReplaceAll(b.String(), " )", ")"))
}

func hasElementChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			return true
		}
	}
	return false
}

func TestTreeMatchesBrowser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		dirty bool // the document as a whole is expected to be marked dirty
	}{
		{name: "plain", in: `<!DOCTYPE html><html><head><title>x</title></head><body><nav><ul><li><a href="/a">A</a></li><li><a href="/b">B</a></li></ul></nav></body></html>`},
		{name: "implied html head body", in: `<title>t</title><p>hello<div>x</div>`},
		{name: "optional li end tags", in: `<ul><li>a<li>b<ul><li>c<li>d</ul><li>e</ul>`},
		{name: "optional p end tags", in: `<p>a<p>b<div>c</div><p>d`},
		{name: "dl", in: `<dl><dt>a<dd>b<dt>c<dd>d</dl>`},
		{name: "table implied tbody", in: `<table><tr><td>a<td>b<tr><td>c</table>`},
		{name: "table sections", in: `<table><thead><tr><th>h</thead><tbody><tr><td>x</tbody></table>`},
		{name: "select options", in: `<select><option>a<option>b<optgroup><option>c</select>`},
		{name: "raw text", in: `<script>if (a<b) document.write("<div></div>")</script><style>a>b{}</style><textarea><p>x</textarea><div>y</div>`},
		{name: "script escapes", in: `<script><!-- document.write("<script>x</script>") --></script><p>after</p>`},
		{name: "script escape ended", in: `<script><!--></script><p>after</p>`},
		{name: "comments", in: `<div><!-- <p> --><!--><!---><!-- a --!><span>x</span></div>`},
		{name: "quoted gt", in: `<div title="a>b" data-x='c>d'><span>x</span></div>`},
		{name: "svg", in: `<div><svg viewBox="0 0 1 1"><path d="M0"/><g><path/></g></svg><span>x</span></div>`},
		{name: "template", in: `<div><template><li>x</li><script>"</template>"</script></template><p>y</p></div>`},
		{name: "void self closing", in: `<div><br/><img src=x><input type=text /><span>x</span></div>`},
		{name: "head content", in: `<html><head><meta charset=utf-8><link rel=x href=y><script>1</script></head><body><div></div></body></html>`},
		{name: "uppercase", in: `<DIV><UL><LI>a</LI></UL></DIV>`},
		{name: "long uppercase name, not ASCII", in: "<div><ABCDEFGHIJKLMNOPQRSTUVWXYZ\xc3\x89\x99 id=x>y</ABCDEFGHIJKLMNOPQRSTUVWXYZ\xc3\x89\x99></div>"},
		{name: "headings", in: `<h1>a<h2>b</h2></h1><div>c</div>`, dirty: true},
		{name: "nested a", in: `<a href=1>x<a href=2>y</a></a>`, dirty: true},
		{name: "misnested formatting", in: `<b><i>x</b>y</i><p>z</p>`, dirty: true},
		{name: "stray end tag", in: `<div>x</span></div>`, dirty: true},
		{name: "foster parenting", in: `<table><div>x</div><tr><td>y</table>`, dirty: true},
		{name: "unclosed formatting leaks", in: `<div><b>x</div><p><span>y</span></p>`, dirty: true},
		{name: "content after body", in: `<html><body><div>a</div></body><p>b</p></html>`, dirty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Parse([]byte(tt.in))
			defer d.Release()
			dirty := d.spans[d.html].flags&fDirty != 0
			if dirty != tt.dirty {
				t.Errorf("dirty = %v, want %v", dirty, tt.dirty)
			}
			ref, err := html.Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, want := outline(d.Root()), outline(ref)
			if !dirty && got != want {
				t.Errorf("tree differs from the HTML5 parser's\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestOffsets(t *testing.T) {
	t.Parallel()
	src := `<body><ul class="nav"><li id=a>A</li> <li id=b>B<ul><li>b1</ul></li></ul><p>x`
	d := Parse([]byte(src))
	defer d.Release()
	var lis []Element
	for i := range d.nodes {
		if d.nodes[i].DataAtom == atom.Li && d.nodes[i].Parent.Parent.DataAtom == atom.Body {
			lis = append(lis, Element{d, int32(i)})
		}
	}
	if len(lis) != 2 {
		t.Fatalf("found %d top-level li, want 2", len(lis))
	}
	if got, want := string(lis[0].Outer()), `<li id=a>A</li>`; got != want {
		t.Errorf("Outer = %q, want %q", got, want)
	}
	if got, want := string(lis[1].Outer()), `<li id=b>B<ul><li>b1</ul></li>`; got != want {
		t.Errorf("Outer = %q, want %q", got, want)
	}
	if got, want := lis[1].Text(), "Bb1"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if !lis[1].Movable() {
		t.Errorf("li with nested list is not movable")
	}
	p := Element{d, d.index(d.nodes[d.body].LastChild)}
	if p.Movable() {
		t.Errorf("p closed by EOF is movable")
	}
}

// TestByteOrderMark: a page that starts with a UTF-8 byte order mark has
// its head and body, as in a browser, and nothing goes before the mark
// (issue 9).
func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	const bom = "\xEF\xBB\xBF"
	tests := []struct {
		name string
		in   string
	}{
		{name: "doctype", in: bom + "<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>x</p></body></html>"},
		{name: "no doctype", in: bom + "<html><head><title>t</title></head><body><p>x</p></body></html>"},
		{name: "white space after the mark", in: bom + "\n<!doctype html><html lang=en><head><meta charset=utf-8></head><body><p>x</p></body></html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Parse([]byte(tt.in))
			defer d.Release()
			head, err := d.HeadSite()
			if err != nil {
				t.Fatalf("HeadSite: %v", err)
			}
			if got, want := head.Start, strings.Index(tt.in, "</head>"); got != want {
				t.Errorf("end of head at %d, want %d", got, want)
			}
			body, err := d.BodyEndSite()
			if err != nil {
				t.Fatalf("BodyEndSite: %v", err)
			}
			if got, want := body.Start, strings.Index(tt.in, "</body>"); got != want {
				t.Errorf("end of body at %d, want %d", got, want)
			}
			if got, want := outline(d.Root()), "html(head("+outlineHead(tt.in)+") body(p))"; got != want {
				t.Errorf("tree %s, want %s", got, want)
			}
		})
	}
}

// outlineHead is the outline of the head of TestByteOrderMark's pages.
func outlineHead(in string) string {
	if strings.Contains(in, "<meta") {
		return "meta"
	}
	return "title"
}
