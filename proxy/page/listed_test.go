package page

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"shopedge/bench/shop"
	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/rules"
)

// analyzeCategory analyses body as the category page at url.
func analyzeCategory(t *testing.T, cfg *rules.Compiled, body []byte, url string) *Analysis {
	t.Helper()
	a, err := Analyze(Input{
		Config: cfg, Type: rules.PageCategory, Raw: body, Encoding: codec.Identity,
		ContentType: []byte("text/html; charset=utf-8"), URL: url,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestListedDemo: the demo's men's shirts page lists exactly its
// products, in the shop's order, by their path keys; its breadcrumb trail
// names its parent (the page itself, the trail's last entry, has no link:
// the learn step adds it from the URL).
func TestListedDemo(t *testing.T) {
	t.Parallel()
	s := shop.New(1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	a := analyzeCategory(t, demoConfig(t), fetch(t, srv.URL+"/c/men/shirts"), "http://shop.example/c/men/shirts")
	var want []catalog.ID
	for _, p := range s.Catalog.Categories["men/shirts"].Products {
		want = append(want, catalog.KeyOf(p.URL()))
	}
	if !slices.Equal(a.Listed, want) {
		t.Errorf("listed %d products %v,\nwant the category's %d %v", len(a.Listed), a.Listed, len(want), want)
	}
	if crumbs := []catalog.ID{catalog.KeyOf("/c/men")}; !slices.Equal(a.Crumbs, crumbs) {
		t.Errorf("crumbs %v, want men %v", a.Crumbs, crumbs)
	}
}

// TestListed: what of a category page counts as listed: links to product
// pages (by the configuration's page types) in the page's content, each
// product once, on the page's own host.
func TestListed(t *testing.T) {
	t.Parallel()
	cfg := demoConfig(t)
	k := func(paths ...string) []catalog.ID {
		var out []catalog.ID
		for _, p := range paths {
			out = append(out, catalog.KeyOf(p))
		}
		return out
	}
	var many strings.Builder
	var manyWant []string
	for i := range catalog.MaxListed + 5 {
		fmt.Fprintf(&many, `<a href="/p/%d">%d</a>`, i, i)
		if i < catalog.MaxListed {
			manyWant = append(manyWant, fmt.Sprintf("/p/%d", i))
		}
	}
	for _, tt := range []struct {
		name, body string
		want       []catalog.ID
	}{
		{"cards, each product once", `<main><div class=grid><article><a href="/p/a"><img></a><a href="/p/a">A</a></article><article><a href="/p/b/">B</a></article></div></main>`, k("/p/a", "/p/b")},
		{"not the header, menus, footer or asides", `<header><a href="/p/featured">F</a></header><nav><ul><li><a href="/p/menu">M</a></ul></nav>` +
			`<main><a href="/p/a">A</a><aside><a href="/p/side">S</a></aside></main><footer><a href="/p/best">B</a></footer>`, k("/p/a")},
		{"only product pages", `<main><a href="/c/men">Men</a><a href="/p/a?colour=ivory#top">A</a><a href="?page=2">2</a><a href="#x">x</a><a href="mailto:a@b">m</a></main>`, k("/p/a")},
		{"the page's host, not another's", `<main><a href="http://shop.example/p/a">A</a><a href="https://other.example/p/b">B</a><a href="//other.example/p/c">C</a></main>`, k("/p/a")},
		{"at most MaxListed", "<main>" + many.String() + "</main>", k(manyWant...)},
		{"none", `<main><p>Nothing here yet.</p></main>`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `<!DOCTYPE html><html><head><title>Men</title></head><body>` + tt.body + `</body></html>`
			a := analyzeCategory(t, cfg, []byte(body), "http://shop.example/c/men")
			if !slices.Equal(a.Listed, tt.want) {
				t.Errorf("listed %v, want %v", a.Listed, tt.want)
			}
		})
	}
}

// TestPlainPath: the fast path gives what catalog.PathKey gives, or
// leaves the link to it.
func TestPlainPath(t *testing.T) {
	t.Parallel()
	for _, href := range []string{"/p/a", "/p/a/", "/p/a?x=1", "/p/a#top", "/p/a-b_c.d~e", "/", "//", "/p/%41", "/p/ä", "//other/p/a", "p/a", "/p//a//"} {
		got, ok := plainPath(href)
		if !ok {
			continue
		}
		if want := catalog.PathKey(href); got != want {
			t.Errorf("plainPath(%q) = %q, PathKey gives %q", href, got, want)
		}
	}
	for _, href := range []string{"/p/a", "/p/a/?x=1"} {
		if _, ok := plainPath(href); !ok {
			t.Errorf("plainPath(%q) left to PathKey", href)
		}
	}
}
