package proxy

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"shopedge/bench/shop"
)

// submitAddToCart submits a demo product page's add-to-cart form as a
// browser does: its action, its fields as the page sets them, urlencoded,
// answered by a redirect to the cart, which the browser then opens.
func (v *visitor) submitAddToCart(base, productPage string) {
	v.t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(productPage))
	if err != nil {
		v.t.Fatal(err)
	}
	form := doc.Find("form[data-add-to-cart]")
	action, ok := form.Attr("action")
	if !ok {
		v.t.Fatal("the product page has no add-to-cart form")
	}
	fields := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		fields.Set(name, val)
	})
	pg := v.post(base+action, "application/x-www-form-urlencoded", fields.Encode())
	if pg.resp.StatusCode != http.StatusSeeOther || pg.resp.Header.Get("Location") != "/cart" {
		v.t.Fatalf("add to cart: %d to %q, want 303 to /cart", pg.resp.StatusCode, pg.resp.Header.Get("Location"))
	}
	v.get(base + "/cart")
}

// names are the products' names and categories, for the log.
func names(s *shop.Shop, paths []string) string {
	var out []string
	for _, u := range paths {
		if p, ok := s.Catalog.BySlug[strings.TrimPrefix(u, "/p/")]; ok {
			out = append(out, p.Name+" ("+p.Category.Slug+")")
		}
	}
	return strings.Join(out, ", ")
}

// byCategory returns the demo products of a category slug among ps.
func byCategory(ps []*shop.Product, slug string) []*shop.Product {
	var out []*shop.Product
	for _, p := range ps {
		if p.Category.Slug == slug {
			out = append(out, p)
		}
	}
	return out
}

// urls returns the products' addresses.
func urls(ps ...*shop.Product) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.URL())
	}
	return out
}

// TestSearchSeedsExample is the seeds' example of personalized search on
// the demo shop, through the proxy: a new visitor puts men's trousers in
// the cart (the product page's form, posted) and searches "white
// shirts": the men's shirts come first, before the women's shirt dresses
// the shop ranks between them, though nobody ever opened the shirts' or
// the dresses' pages (the catalog knows their categories from the shop's
// category listings other shoppers browsed). A cart add says more than a
// view: a visitor who also looked at a dress still sees the men's shirts
// first. A new visitor with nothing in the cart gets the shop's order.
func TestSearchSeedsExample(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	const q = "white+shirts"
	results := e.shop.Catalog.Search("white shirts")
	shirts, dresses := byCategory(results, "men/shirts"), byCategory(results, "women/dresses")
	shopOrder := cardLinks(t, e.direct(t, "/search?q="+q, host(e.url)))
	// The shop's own order puts a dress between the shirts.
	if len(shirts) < 2 || len(dresses) < 1 || len(shirts)+len(dresses) != len(results) ||
		slices.Index(shopOrder, shirts[len(shirts)-1].URL()) < slices.Index(shopOrder, dresses[0].URL()) {
		t.Fatalf("the shop's results for %q: %v; want men's shirts after a shirt dress", q, shopOrder)
	}
	// Other shoppers browse the listings, opening no product.
	other := e.visitor()
	for _, c := range []string{"/c/men/shirts", "/c/women/dresses", "/c/men/trousers"} {
		other.get(e.url + c)
	}
	for _, p := range results {
		if _, ok := e.proxy.catalog.Resolve(p.URL()); ok {
			t.Fatalf("the catalog holds %s: its page was read", p.URL())
		}
	}
	trousers := byCategory(e.shop.Catalog.Products, "men/trousers")
	var chinos *shop.Product
	for _, p := range trousers {
		if p.InStock {
			chinos = p
			break
		}
	}
	want := append(urls(shirts...), urls(dresses...)...)
	for _, tt := range []struct {
		name   string
		before func(v *visitor)
	}{
		{"men's trousers in the cart", func(*visitor) {}},
		{"and a shirt dress viewed before", func(v *visitor) { v.get(e.url + byCategory(e.shop.Catalog.Products, "women/dresses")[0].URL()) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := e.visitor()
			v.get(e.url + "/")
			tt.before(v)
			pg := v.get(e.url + chinos.URL())
			v.submitAddToCart(e.url, pg.body)
			got := cardLinks(t, v.get(e.url+"/search?q="+q).body)
			if !slices.Equal(got, want) {
				t.Errorf("results for %q:\n got %v\nwant %v (men's shirts first)\n the shop's %v", q, got, want, shopOrder)
			}
			t.Logf("results for %q: %s (the shop's: %s)", q, names(e.shop, got), names(e.shop, shopOrder))
			// The same results in gzip: the list in the visitor's order is
			// compressed the first time and not kept (over maxStoredFirst),
			// then compressed and kept, then taken as kept.
			v.header.Set("Accept-Encoding", "gzip")
			defer v.header.Del("Accept-Encoding")
			for k := range 3 {
				pg := v.get(e.url + "/search?q=" + q)
				if ce := pg.resp.Header.Get("Content-Encoding"); ce != "gzip" {
					t.Fatalf("Content-Encoding %q, want gzip", ce)
				}
				if got := cardLinks(t, pg.body); !slices.Equal(got, want) {
					t.Errorf("results for %q in gzip (%d):\n got %v\nwant %v", q, k+1, got, want)
				}
			}
		})
	}
	if got := cardLinks(t, e.visitor().get(e.url+"/search?q="+q).body); !slices.Equal(got, shopOrder) {
		t.Errorf("a new visitor's results: %v, want the shop's %v", got, shopOrder)
	}
}

// TestSearchNeverViewed: a shoe lover's search moves up a product of
// their favourite category that nobody ever opened, which the proxy only
// saw on the category's listing page: the grey sneakers come first, the
// rest keep the shop's order (issue 15: a grey sneaker nobody had opened
// stayed 9th for a shoe lover).
func TestSearchNeverViewed(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	const q = "grey"
	sneakers := e.shop.Catalog.Categories["shoes/sneakers"].Products
	listed := sneakers[:min(len(sneakers), 24)] // the listing's first page
	v := e.visitor()
	v.get(e.url + "/c/shoes/sneakers")
	var opened int
	for _, p := range listed {
		if !strings.Contains(p.Name, "Grey") && opened < 3 {
			v.get(e.url + p.URL())
			opened++
		}
	}
	var grey []*shop.Product // the grey sneakers on the listing, in the shop's search order
	shopOrder := cardLinks(t, e.direct(t, "/search?q="+q, host(e.url)))
	for _, u := range shopOrder {
		for _, p := range listed {
			if p.URL() == u {
				grey = append(grey, p)
			}
		}
	}
	if len(grey) < 2 {
		t.Fatalf("the search for %q finds %d listed sneakers: pick another query", q, len(grey))
	}
	last := grey[len(grey)-1] // the one the shop ranks lowest
	if _, ok := e.proxy.catalog.Resolve(last.URL()); ok {
		t.Fatalf("the catalog holds %s: its page was read", last.URL())
	}
	want := urls(grey...)
	for _, u := range shopOrder {
		if !slices.Contains(want, u) {
			want = append(want, u)
		}
	}
	got := cardLinks(t, v.get(e.url+"/search?q="+q).body)
	if !slices.Equal(got, want) {
		t.Errorf("results for %q:\n got %v\nwant %v", q, got, want)
	}
	if from, to := slices.Index(shopOrder, last.URL())+1, slices.Index(got, last.URL())+1; to != len(grey) || from <= to {
		t.Errorf("%s, never opened, is %d of %d (the shop's %d), want %d", last.Name, to, len(got), from, len(grey))
	} else {
		t.Logf("%s, never opened: %d of %d in the shop's order, %d for the shoe lover", last.Name, from, len(got), to)
	}
}
