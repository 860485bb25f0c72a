package markup

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func TestRenderBlockEscapes(t *testing.T) {
	t.Parallel()
	out, err := RenderBlock(nil, DefaultBlockTemplate, BlockData{ID: "b1", Title: `Picks <for> "you"`, Items: []BlockItem{
		{Name: `<script>alert(1)</script>`, URL: "javascript:alert(1)", Image: `x" onerror="alert(1)`, Price: "€1"},
		{Name: "Fine & dandy", URL: "/p/fine?se_rec=b1", Image: "https://cdn.example/f.jpg", Price: "€2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, bad := range []string{"<script>alert", `href="javascript:`, `onerror="alert`, `<for>`} {
		if strings.Contains(s, bad) {
			t.Errorf("rendered block contains %q:\n%s", bad, s)
		}
	}
	for _, good := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `href="#ZgotmplZ"`, "Fine &amp; dandy", `href="/p/fine?se_rec=b1"`, `Picks &lt;for&gt; &#34;you&#34;`} {
		if !strings.Contains(s, good) {
			t.Errorf("rendered block lacks %q:\n%s", good, s)
		}
	}
	// What it renders parses to exactly one section.
	nodes, err := html.ParseFragment(bytes.NewReader(out), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	var elems int
	for _, n := range nodes {
		if n.Type == html.ElementNode {
			elems++
		}
	}
	if elems != 1 {
		t.Errorf("block parses to %d top-level elements, want 1", elems)
	}
}

// TestBlockParts: a block assembled from its parts is byte for byte the
// block RenderBlock makes.
func TestBlockParts(t *testing.T) {
	t.Parallel()
	items := []BlockItem{
		{Name: `<script>alert("x")</script> & "Co"`, URL: "/p/a?x=1&se_rec=b", Image: "/a.jpg", Price: "€9.99"},
		{Name: "Plain", URL: "javascript:alert(1)"},
	}
	for _, data := range []BlockData{
		{ID: "b", Title: `Seen <again> & "loved"`, Items: items},
		{ID: "b", Items: items},
		{ID: "b", Title: "Empty"},
	} {
		want, err := RenderBlock(nil, DefaultBlockTemplate, data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendBlockHead(nil, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range data.Items {
			if got, err = AppendBlockCard(got, it); err != nil {
				t.Fatal(err)
			}
		}
		got = AppendBlockFoot(got)
		if string(got) != string(want) {
			t.Errorf("parts:\n%s\nwhole:\n%s", got, want)
		}
	}
}

// TestScriptDismissPrefix: the script reads and writes the dismissal
// cookie under DismissCookiePrefix, the name the proxy checks, and holds
// no other name for it; nothing of its template is left.
func TestScriptDismissPrefix(t *testing.T) {
	t.Parallel()
	js := string(Script())
	name := `"` + DismissCookiePrefix + `" + id + "=1`
	if got := strings.Count(js, name); got != 2 {
		t.Errorf("script names the dismissal cookie %s %d times, want 2 (read and write)", name, got)
	}
	if got := strings.Count(js, `" + id + "=1`); got != 2 {
		t.Errorf("script names %d cookies by id, want 2, both with DismissCookiePrefix", got)
	}
	if strings.Contains(js, "{{") {
		t.Errorf("script keeps template actions:\n%s", js)
	}
}
