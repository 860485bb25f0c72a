package proxy

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"shopedge/rewrite/golden"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"shopedge/bench/shop"
	"shopedge/rules"
)

// blockHTML returns the block a page shows with the given id, as HTML,
// or "".
func blockHTML(t *testing.T, body, id string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="` + regexp.QuoteMeta(id) + `".*?</section>`)
	return re.FindString(body)
}

// blockLinks returns the links of a block, in page order.
func blockLinks(t *testing.T, body, id string) []string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	doc.Find(fmt.Sprintf(`[data-se-block=%q] a`, id)).Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		out = append(out, href)
	})
	return out
}

// withoutPersonal cuts what a visitor may see differently from the shop's
// page (the menu, the blocks), to compare the rest.
func withoutPersonal(body string) string { return withoutBlocks(withoutNav(body)) }

var blockSection = regexp.MustCompile(`(?s)<section class="se-rec".*?</section>\n?|<link rel="stylesheet" href="/_shopedge/shopedge\.css\?v=[0-9a-f]+">|<dialog class="se-ov.*?</dialog>\n|\n<script src="/_shopedge/shopedge\.js\?v=[0-9a-f]+" defer data-se-beacon="/_shopedge/beacon"></script>\n|<p class="se-banner[^>]*>[^<]*</p>\n?`)

// withoutBlocks cuts what the proxy adds out of a page: recommendation
// blocks, banners, overlays, and the stylesheet and script.
func withoutBlocks(body string) string { return blockSection.ReplaceAllString(body, "") }

// links are the links a visitor follows from a block.
func links(block string, prods ...*shop.Product) []string {
	var out []string
	for _, p := range prods {
		out = append(out, p.URL()+"?se_rec="+block)
	}
	return out
}

// inStock returns n in-stock products of a category, in the shop's order.
func (e *env) inStock(slug string, n int) []*shop.Product {
	var out []*shop.Product
	for _, p := range e.shop.Catalog.Categories[slug].Products {
		if p.InStock && len(out) < n {
			out = append(out, p)
		}
	}
	if len(out) < n {
		e.t.Fatalf("category %s has %d products in stock, want %d", slug, len(out), n)
	}
	return out
}

// TestRecommendationBlocks is the demo's recommendation story: what one
// visitor views teaches the engine what to show the next, and each page
// shows its configured blocks with the right products; the rest of the
// page is the shop's, byte for byte.
func TestRecommendationBlocks(t *testing.T) {
	t.Parallel()
	e := newShopEnvAt(t, nil, ticking())
	ps := e.inStock("kids", 3)
	a, b, c := ps[0], ps[1], ps[2]

	first := e.visitor()
	for _, p := range ps {
		if pg := first.get(e.url + p.URL()); pg.resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p.URL(), pg.resp.StatusCode)
		}
	}

	// A new visitor on a product the first one viewed sees what was viewed
	// with it, most often together first.
	next := e.visitor()
	pg := next.get(e.url + a.URL())
	if got, want := blockLinks(t, pg.body, "also-viewed"), links("also-viewed", b, c); !slices.Equal(got, want) {
		t.Errorf("also viewed with %s = %v\nwant %v", a.Name, got, want)
	}
	golden.Check(t, filepath.Join("testdata", "blocks", "also-viewed.html"), blockHTML(t, pg.body, "also-viewed"))
	if withoutPersonal(pg.body) != withoutPersonal(e.direct(t, a.URL(), host(e.url))) {
		a, b := withoutPersonal(pg.body), withoutPersonal(e.direct(t, a.URL(), host(e.url)))
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		t.Errorf("the product page outside the block differs from the shop's at %d: %q vs %q", i, a[max(0, i-80):min(len(a), i+200)], b[max(0, i-80):min(len(b), i+200)])
	}
	if cc := pg.resp.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("page with a block: Cache-Control %q", cc)
	}

	// On the home page: what this visitor viewed, and what is popular.
	next.get(e.url + c.URL())
	home := next.get(e.url + "/")
	if got, want := blockLinks(t, home.body, "recently-viewed"), links("recently-viewed", c, a); !slices.Equal(got, want) {
		t.Errorf("recently viewed = %v\nwant %v", got, want)
	}
	popular := blockLinks(t, home.body, "popular")
	if len(popular) != 3 || !slices.Contains(popular, links("popular", b)[0]) || popular[2] != links("popular", b)[0] {
		t.Errorf("popular = %v, want %s and %s (viewed twice) before %s (once)", popular, a.Name, c.Name, b.Name)
	}
	if !strings.Contains(home.body, "<h2>Recently viewed</h2>") || !strings.Contains(home.body, "<h2>Popular right now</h2>") {
		t.Errorf("home page blocks lack their titles")
	}
	if i, j := strings.Index(home.body, `data-se-block="recently-viewed"`), strings.Index(home.body, `id="bestsellers"`); i < 0 || j < i {
		t.Errorf("recently viewed is not before the bestsellers (at %d, %d)", i, j)
	}
	if withoutPersonal(home.body) != withoutPersonal(e.direct(t, "/", host(e.url))) {
		t.Errorf("the home page outside the blocks differs from the shop's")
	}

	// The same page in every coding the visitor may take.
	for _, enc := range []string{"gzip", "br"} {
		req, _ := http.NewRequest("GET", e.url+"/", nil)
		req.Header.Set("Accept-Encoding", enc)
		if z := next.do(req); z.body != home.body || z.resp.Header.Get("Content-Encoding") != enc {
			t.Errorf("home page in %s (Content-Encoding %q) differs from the identity one", enc, z.resp.Header.Get("Content-Encoding"))
		}
	}

	// On a category page: its popular products, re-ranked for the
	// visitor; the shop's overall favourites where the category has none.
	electronics := e.inStock("electronics", 1)[0]
	v := e.visitor()
	for range 2 {
		v.get(e.url + electronics.URL())
	}
	cat := v.get(e.url + "/c/kids")
	if got := blockLinks(t, cat.body, "category-popular"); len(got) != 3 || !slices.Contains(got, links("category-popular", b)[0]) {
		t.Errorf("kids popular = %v, want the three viewed kids' products", got)
	}
	other := v.get(e.url + "/c/home-living")
	if got := blockLinks(t, other.body, "category-popular"); len(got) != 4 || got[0] != links("category-popular", electronics)[0] {
		t.Errorf("home & living popular = %v, want the shop's four most popular, %s (this visitor's interest) first", got, electronics.Name)
	}
}

// TestCartAndPurchaseExcluded: products in the cart or just bought are
// never recommended.
func TestCartAndPurchaseExcluded(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	ps := e.inStock("men", 4)
	v := e.visitor()
	for _, p := range ps {
		v.get(e.url + p.URL())
	}
	add := func(p *shop.Product) {
		req, _ := http.NewRequest("POST", e.url+"/cart/add", strings.NewReader(url.Values{"sku": {p.SKU}, "qty": {"1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if pg := v.do(req); pg.resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add to cart: %d", pg.resp.StatusCode)
		}
	}
	add(ps[0])
	cart := v.get(e.url + "/cart")
	got := blockLinks(t, cart.body, "also-bought")
	if want := links("also-bought", ps[3], ps[2], ps[1]); !slices.Equal(got, want) {
		t.Errorf("cart page also bought = %v\nwant %v (viewed with the cart's product, nearest first; not the cart's)", got, want)
	}
	if !strings.Contains(cart.body, `<h2>Often bought together</h2>
<ul class="se-rec-grid">`) {
		t.Errorf("cart block lacks its title")
	}
	if i, j := strings.Index(cart.body, `data-se-block="also-bought"`), strings.Index(cart.body, `</main>`); i < 0 || j < i || strings.Contains(cart.body[i:j], "<footer") {
		t.Errorf("also bought is not the last thing in <main>")
	}

	add(ps[1])
	req, _ := http.NewRequest("POST", e.url+"/checkout/place", strings.NewReader("first=A"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	v.get(e.url + v.do(req).resp.Header.Get("Location"))
	pg := v.get(e.url + ps[2].URL())
	got = blockLinks(t, pg.body, "also-viewed")
	if want := links("also-viewed", ps[3]); !slices.Equal(got, want) {
		t.Errorf("after buying %s and %s, also viewed = %v, want %v", ps[0].Name, ps[1].Name, got, want)
	}
}

// uriLog records the request URIs a handler receives.
type uriLog struct {
	h    http.Handler
	mu   sync.Mutex
	uris []string
}

func (r *uriLog) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.uris = append(r.uris, req.RequestURI)
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func (r *uriLog) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.uris[len(r.uris)-1]
}

// TestClickAttribution: following a recommended link counts a click for
// its block, and the shop never sees the parameter.
func TestClickAttribution(t *testing.T) {
	t.Parallel()
	s := shop.New(1)
	rec := &uriLog{h: s}
	up := httptest.NewServer(rec)
	t.Cleanup(up.Close)
	e := startProxy(t, demoConfig(t, up.URL, nil))
	e.shop = s
	ps := e.inStock("shoes", 2)
	v := e.visitor()
	v.get(e.url + ps[0].URL())
	link := blockLinks(t, v.get(e.url+ps[1].URL()).body, "also-viewed")
	if len(link) != 1 {
		t.Fatalf("also viewed = %v, want one link", link)
	}

	for _, c := range []struct{ visit, shopSees string }{
		{link[0], ps[0].URL()},
		{ps[0].URL() + "?size=38&se_rec=also-viewed&colour=red", ps[0].URL() + "?size=38&colour=red"},
		{ps[0].URL() + "?se_rec=no-such-block", ps[0].URL()},
		{"/search?q=shoe&se_rec=popular", "/search?q=shoe"},
	} {
		if pg := v.get(e.url + c.visit); pg.resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", c.visit, pg.resp.StatusCode)
		}
		if got := rec.last(); got != c.shopSees {
			t.Errorf("GET %s: the shop got %s, want %s", c.visit, got, c.shopSees)
		}
	}
	var m bytes.Buffer
	e.proxy.metrics.WriteTo(&m, nil)
	for _, want := range []string{
		`shopedge_block_clicks_total{block="also-viewed"} 2`,
		`shopedge_block_clicks_total{block="popular"} 1`,
		`shopedge_block_clicks_total{block="recently-viewed"} 0`,
	} {
		if !strings.Contains(m.String(), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(m.String(), "shopedge_block"))
		}
	}
	if strings.Contains(m.String(), "no-such-block") {
		t.Errorf("a click on an unknown block made a metric")
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSearchReranked: search results put what the visitor viewed first
// (latest first), then products of the categories they care most about,
// then the rest in the shop's order; nothing is added or lost, and the rest
// of the page is the shop's.
func TestSearchReranked(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	const q = "grey"
	results := e.shop.Catalog.Search(q)
	var dresses, women, others []*shop.Product
	for _, p := range results {
		switch {
		case p.Category.Slug == "women/dresses":
			dresses = append(dresses, p)
		case strings.HasPrefix(p.Category.Slug, "women/"):
			women = append(women, p)
		default:
			others = append(others, p)
		}
	}
	if len(dresses) < 3 || len(women) < 2 || len(others) < 2 {
		t.Fatalf("search %q: %d dresses, %d women's, %d others: pick another query", q, len(dresses), len(women), len(others))
	}
	// Someone has seen every result, so the catalog knows their
	// categories.
	crawler := e.visitor()
	for _, p := range results {
		crawler.get(e.url + p.URL())
	}
	v := e.visitor()
	viewed := []*shop.Product{dresses[2], dresses[0]}
	for _, p := range viewed {
		v.get(e.url + p.URL())
	}
	pg := v.get(e.url + "/search?q=" + q)

	var want []string
	add := func(ps ...*shop.Product) {
		for _, p := range ps {
			if !slices.Contains(want, p.URL()) {
				want = append(want, p.URL())
			}
		}
	}
	shopPage := e.direct(t, "/search?q="+q, host(e.url))
	shopOrder := cardLinks(t, shopPage)
	add(dresses[0], dresses[2])
	add(dresses...)
	add(women...)
	for _, u := range shopOrder {
		if !slices.Contains(want, u) {
			want = append(want, u)
		}
	}
	if got := cardLinks(t, pg.body); !slices.Equal(got, want) {
		t.Errorf("results for %q:\n got %v\nwant %v", q, got, want)
	}
	if got := cardLinks(t, pg.body); !slices.Equal(sorted(got), sorted(shopOrder)) {
		t.Errorf("results were added or lost")
	}
	// Outside the list, the page is the shop's.
	cards := regexp.MustCompile(`(?s)<article class="card product-card".*?</article>`)
	if cards.ReplaceAllString(withoutPersonal(pg.body), "") != cards.ReplaceAllString(withoutPersonal(shopPage), "") {
		t.Errorf("the search page outside the results differs from the shop's")
	}
	if len(pg.body) != len(shopPage) {
		t.Errorf("page is %d bytes, the shop's %d: results must only move", len(pg.body), len(shopPage))
	}

	// A new visitor gets the shop's order.
	if got := cardLinks(t, e.visitor().get(e.url+"/search?q="+q).body); !slices.Equal(got, shopOrder) {
		t.Errorf("a new visitor's results are not in the shop's order")
	}
}

// cardLinks returns the product of each search result, in page order.
func cardLinks(t *testing.T, body string) []string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	doc.Find(".search-results article.product-card a.card-title").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		out = append(out, href)
	})
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// hostileShop serves product pages whose data tries to break out of the
// block: names with markup, a javascript: image, quotes.
func hostileShop() http.Handler {
	products := map[string]string{
		"/p/evil": `{"@context":"https://schema.org","@type":"Product","name":"<script>alert(\"name\")<\/script> & \"Co\" <b>bold</b>","sku":"EVIL-1",` +
			`"brand":{"@type":"Brand","name":"Bad & Co"},"image":"javascript:alert('img')","url":"/p/evil",` +
			`"offers":{"@type":"Offer","price":"19.5","priceCurrency":"EUR","availability":"https://schema.org/InStock"}}`,
		"/p/nice": `{"@context":"https://schema.org","@type":"Product","name":"Plain Mug","sku":"NICE-1","image":"/img/mug.jpg",` +
			`"url":"/p/nice?ref=a&b=\"c\"","offers":{"@type":"Offer","price":"8","priceCurrency":"USD"}}`,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if ld, ok := products[r.URL.Path]; ok {
			fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>P</title><script type=\"application/ld+json\">%s</script></head>"+
				"<body><main><div class=\"product\"><h1>P</h1></div></main></body></html>", ld)
			return
		}
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Home</title></head><body><main><section id=\"hero\"><h1>Hi</h1></section></main></body></html>")
	})
}

const hostileConfig = `
upstream: {url: %s}
server: {listen: "127.0.0.1:0"}
identity: {keys: [{id: t, secret_env: X}]}
pages:
  - {type: home, path: '^/$'}
  - {type: product, path: '^/p/'}
recommendations:
  blocks:
    - id: seen
      pages: [home]
      selector: '#hero'
      strategy: recently_viewed
      title: 'Seen <again> & "loved"'
    - id: custom
      pages: [home]
      selector: main
      position: append
      strategy: recently_viewed
      template: custom-block.html
`

// TestBlocksEscape: whatever the shop's data holds, a block shows it as
// text: names with markup, quotes in URLs, a javascript: image. Both the
// built-in template and one from the configuration.
func TestBlocksEscape(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(hostileShop())
	t.Cleanup(up.Close)
	cfg, err := rules.Parse("testdata/blocks/hostile.yaml", fmt.Appendf(nil, hostileConfig, up.URL))
	if err != nil {
		t.Fatal(err)
	}
	e := startProxy(t, cfg.Config)
	v := e.visitor()
	v.get(e.url + "/p/nice")
	v.get(e.url + "/p/evil")
	home := v.get(e.url + "/")
	for _, id := range []string{"seen", "custom"} {
		got := blockHTML(t, home.body, id)
		if id == "custom" {
			got = regexp.MustCompile(`(?s)<aside class="my-recs" data-block="custom">.*?</aside>`).FindString(home.body)
		}
		if got == "" {
			t.Fatalf("no %s block on the home page:\n%s", id, home.body)
		}
		golden.Check(t, filepath.Join("testdata", "blocks", "escaped-"+id+".html"), got)
		if strings.Contains(got, "<script>") || strings.Contains(got, "<b>") || strings.Contains(got, "javascript:") {
			t.Errorf("%s block lets markup through:\n%s", id, got)
		}
	}
}

func TestStripParam(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ query, rest, value string }{
		{"se_rec=a", "", "a"},
		{"q=1&se_rec=a", "q=1", "a"},
		{"se_rec=a&q=1&x=%20y", "q=1&x=%20y", "a"},
		{"q=1&se_rec=a&se_rec=b&z", "q=1&z", "a"},
		{"se_recx=a&xse_rec=b", "se_recx=a&xse_rec=b", ""},
		{"se_rec", "", ""},
	} {
		rest, value, found := stripParam([]byte(c.query), "se_rec")
		if string(rest) != c.rest || string(value) != c.value || found != (c.rest != c.query) {
			t.Errorf("stripParam(%q) = %q, %q, %v; want %q, %q", c.query, rest, value, found, c.rest, c.value)
		}
	}
}
