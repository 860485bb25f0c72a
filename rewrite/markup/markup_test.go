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
		{Name: "Rated", URL: "/p/r", Brand: "B", Price: "€1", Rating: Rating{Value: 4.25, Best: 5, Count: 3}},
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

// TestRatingWords: what a card says of a rating, and how much of its
// stars it fills.
func TestRatingWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r           Rating
		text, width string
	}{
		{Rating{Value: 4.5, Best: 5, Count: 132, Reviews: true}, "Rated 4.5 out of 5, 132 reviews", "108"},
		{Rating{Value: 4.757894736842105, Best: 5, Count: 190}, "Rated 4.8 out of 5, 190 ratings", "114.2"},
		{Rating{Value: 5, Best: 5, Count: 1, Reviews: true}, "Rated 5 out of 5, 1 review", "120"},
		{Rating{Value: 8.7, Best: 10, Count: 1}, "Rated 8.7 out of 10, 1 rating", "104.4"},
		{Rating{Value: 0, Best: 5, Count: 2}, "Rated 0 out of 5, 2 ratings", "0"},
	} {
		if got := tt.r.Text(); got != tt.text {
			t.Errorf("Text() = %q, want %q", got, tt.text)
		}
		if got := tt.r.StarsWidth(); got != tt.width {
			t.Errorf("%v: StarsWidth() = %q, want %q", tt.r, got, tt.width)
		}
	}
}

// TestCardRating: a card shows stars and their words only for a rating
// with a count; the stars are drawn inline (no image to fetch, no style
// attribute a page's policy could refuse).
func TestCardRating(t *testing.T) {
	t.Parallel()
	card := func(r Rating) string {
		out, err := AppendBlockCard(nil, BlockItem{Name: "Lamp", URL: "/p/lamp", Price: "€9", Rating: r})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	rated := card(Rating{Value: 4.5, Best: 5, Count: 132, Reviews: true})
	for _, want := range []string{`role="img" aria-label="Rated 4.5 out of 5, 132 reviews"`, `<svg class="se-rec-stars"`,
		`aria-hidden="true">4.5</span>`, `aria-hidden="true">(132)</span>`} {
		if !strings.Contains(rated, want) {
			t.Errorf("rated card lacks %q:\n%s", want, rated)
		}
	}
	for _, bad := range []string{"style=", "<img", "url(", "href=\"http"} {
		if strings.Contains(rated, bad) {
			t.Errorf("rated card holds %q:\n%s", bad, rated)
		}
	}
	if plain := card(Rating{}); strings.Contains(plain, "se-rec-rating") || strings.Contains(plain, "<svg") {
		t.Errorf("a card without a rating shows one:\n%s", plain)
	}
}
