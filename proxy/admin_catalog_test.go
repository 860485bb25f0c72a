package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/rules"
)

// catalogShop is a shop whose product pages carry the markups the catalog
// reads; it records the paths that reached it.
type catalogShop struct {
	mu    sync.Mutex
	paths []string
	pages map[string]string // path -> <head> and <body> contents
}

func (s *catalogShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page, ok := s.pages[r.URL.Path]
	if !ok {
		page = `<title>Home</title></head><body><main><section id="hero"><h1>Hi</h1></section></main>`
	}
	fmt.Fprintf(w, "<!DOCTYPE html><html><head>%s</body></html>", page)
}

func (s *catalogShop) reached(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.paths {
		if p == path {
			return true
		}
	}
	return false
}

func ldPage(title, ld string) string {
	return `<title>` + title + `</title><script type="application/ld+json">` + ld + `</script></head><body><main><h1>` + title + `</h1></main>`
}

// catalogPages are the product pages of catalogShop: JSON-LD, microdata,
// OpenGraph, and an image on a host that is not the shop's.
var catalogPages = map[string]string{
	"/p/1": ldPage("Red Shoe", `[{"@context":"https://schema.org","@type":"Product","name":"Red Shoe","sku":"RS-1","gtin13":"4022664223553",
		"brand":{"@type":"Brand","name":"Acme"},"image":"/img/rs.jpg",
		"offers":{"@type":"Offer","price":"59.90","priceCurrency":"EUR","availability":"https://schema.org/InStock"}},
		{"@context":"https://schema.org","@type":"BreadcrumbList","itemListElement":[{"@type":"ListItem","position":1,"name":"Home","item":"/"},
		{"@type":"ListItem","position":2,"name":"Shoes","item":"/c/shoes"}]}]`),
	"/p/2": `<title>Blue Boot</title><meta property="og:image" content="https://img.shopcdn.example/b.jpg"></head><body>
		<div itemscope itemtype="https://schema.org/Product"><nav itemprop="breadcrumb" itemscope itemtype="https://schema.org/BreadcrumbList">
		<span itemprop="name">Boots</span></nav><h1 itemprop="name">Blue Boot</h1>
		<div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><span itemprop="price" content="80">£80</span>
		<meta itemprop="priceCurrency" content="GBP"><link itemprop="availability" href="https://schema.org/InStock"></div></div>`,
	"/p/3": `<title>Green Hat</title><meta property="og:type" content="product"><meta property="og:title" content="Green Hat">
		<meta property="product:price:amount" content="12"><meta property="product:price:currency" content="USD"></head><body><main></main>`,
	"/p/4": ldPage("Mug 4", `{"@type":"Product","name":"Mug 4","image":"https://evil.example/pixel.png","url":"https://evil.example/p/4"}`),
	"/p/5": ldPage("Mug 5", `{"@type":"Product","name":"Mug 5","image":"https://www.shop.example/img/m5.jpg"}`),
	"/p/6": ldPage("Sold Out Boot", `{"@type":"Product","name":"Sold Out Boot","image":"/img/sold.jpg","offers":[
		{"@type":"Offer","price":"70","availability":"OutOfStock"},{"@type":"Offer","price":"70","availability":"SoldOut"}]}`),
}

var catalogPaths = []string{"/p/1", "/p/2", "/p/3", "/p/4", "/p/5", "/p/6"}

const catalogConfig = `
upstream: {url: %s}
server: {listen: "127.0.0.1:0", hosts: [%s]}
identity: {keys: [{id: t, secret_env: X}]}
catalog: {asset_hosts: [%s]}
pages:
  - {type: home, path: '^/$'}
  - {type: product, path: '^/p/'}
recommendations:
  blocks:
    - id: popular
      pages: [home]
      selector: '#hero'
      strategy: popular
      count: 8
`

// startCatalogShop runs catalogShop behind a proxy that answers for
// serverHosts (any host when empty) and whose catalog allows images on
// assetHosts.
func startCatalogShop(t *testing.T, serverHosts, assetHosts string) (*env, *catalogShop) {
	t.Helper()
	s := &catalogShop{pages: catalogPages}
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	cfg, err := rules.Parse("catalog.yaml", fmt.Appendf(nil, catalogConfig, up.URL, serverHosts, assetHosts))
	if err != nil {
		t.Fatal(err)
	}
	return startProxyAt(t, cfg.Config, ticking()), s
}

// startAdmin serves the proxy's admin handler with token on a loopback
// port and returns its base URL.
func startAdmin(t *testing.T, e *env, token string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: e.proxy.Admin(token)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

func adminCall(t *testing.T, method, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestAdminCatalog (issue 9): the admin shows what the proxy learned from
// the pages that went through it, with the markup each field came from,
// paged and filtered, behind the admin token.
func TestAdminCatalog(t *testing.T) {
	t.Parallel()
	e, shop := startCatalogShop(t, "", `"*.shopcdn.example"`)
	v := e.visitor()
	for _, p := range catalogPaths {
		if pg := v.get(e.url + p); pg.resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, pg.resp.StatusCode)
		}
		if !shop.reached(p) {
			t.Fatalf("%s did not reach the shop", p)
		}
	}
	admin := startAdmin(t, e, "sesame")
	list := func(t *testing.T, query string) catalogList {
		t.Helper()
		resp, body := adminCall(t, "GET", admin+"/catalog"+query, "sesame")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET /catalog%s: %d %s\n%s", query, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var l catalogList
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatalf("GET /catalog%s: %v\n%s", query, err, body)
		}
		return l
	}
	names := func(l catalogList) []string {
		var out []string
		for _, p := range l.Products {
			out = append(out, p.Name)
		}
		return out
	}
	price := func(f float64) *float64 { return &f }
	shoeID := fmt.Sprintf("%016x", uint64(catalog.KeyOf("RS-1")))
	shoe := catalogView{
		ID: shoeID, URL: "/p/1", Name: "Red Shoe", Price: price(59.9), Currency: "EUR", Availability: "InStock",
		SKU: "RS-1", GTIN: "4022664223553", Brand: "Acme", Image: "/img/rs.jpg",
		Categories: []categoryView{{Name: "Shoes", Path: "/c/shoes"}},
		Source: map[string]string{"name": "jsonld", "sku": "jsonld", "gtin": "jsonld", "brand": "jsonld", "image": "jsonld",
			"price": "jsonld", "currency": "jsonld", "availability": "jsonld", "url": "page", "categories": "jsonld"},
	}
	boot := catalogView{
		ID: fmt.Sprintf("%016x", uint64(catalog.KeyOf("/p/2"))), URL: "/p/2", Name: "Blue Boot", Price: price(80), Currency: "GBP",
		Availability: "InStock", Image: "https://img.shopcdn.example/b.jpg", Categories: []categoryView{},
		Source: map[string]string{"name": "microdata", "price": "microdata", "currency": "microdata", "availability": "microdata",
			"image": "opengraph", "url": "page"},
	}

	t.Run("all", func(t *testing.T) {
		l := list(t, "")
		if want := []string{"Blue Boot", "Green Hat", "Mug 4", "Mug 5", "Sold Out Boot", "Red Shoe"}; l.Total != 6 || !reflect.DeepEqual(names(l), want) {
			t.Fatalf("got total %d %q, want 6 %q", l.Total, names(l), want)
		}
		if !reflect.DeepEqual(l.Products[5], shoe) {
			t.Errorf("got  %+v\nwant %+v", l.Products[5], shoe)
		}
		if sold := l.Products[4]; sold.Availability != "OutOfStock" {
			t.Errorf("Sold Out Boot: got availability %q, want OutOfStock", sold.Availability)
		}
		if !reflect.DeepEqual(l.Products[0], boot) {
			t.Errorf("got  %+v\nwant %+v", l.Products[0], boot)
		}
		if mug := l.Products[2]; mug.Image != "" || mug.URL != "/p/4" || mug.Price != nil {
			t.Errorf("Mug 4: got image %q url %q price %v, want no image, /p/4, no price", mug.Image, mug.URL, mug.Price)
		}
	})
	t.Run("paging", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string
		}{
			{"?limit=2", []string{"Blue Boot", "Green Hat"}},
			{"?limit=2&offset=2", []string{"Mug 4", "Mug 5"}},
			{"?limit=2&offset=4", []string{"Sold Out Boot", "Red Shoe"}},
			{"?limit=2&offset=5", []string{"Red Shoe"}},
			{"?offset=9", nil},
			{"?limit=0", nil},
		}
		for _, tt := range tests {
			if l := list(t, tt.query); l.Total != 6 || !reflect.DeepEqual(names(l), tt.want) {
				t.Errorf("%s: got total %d %q, want 6 %q", tt.query, l.Total, names(l), tt.want)
			}
		}
	})
	t.Run("q", func(t *testing.T) {
		tests := []struct {
			q    string
			want []string
		}{
			{"boot", []string{"Blue Boot", "Sold Out Boot"}}, {"MUG", []string{"Mug 4", "Mug 5"}}, {"acme", []string{"Red Shoe"}},
			{"rs-1", []string{"Red Shoe"}}, {"4022664223553", []string{"Red Shoe"}}, {"/p/3", []string{"Green Hat"}},
			{"nothing like it", nil},
		}
		for _, tt := range tests {
			l := list(t, "?q="+strings.ReplaceAll(tt.q, " ", "+"))
			if l.Total != len(tt.want) || !reflect.DeepEqual(names(l), tt.want) {
				t.Errorf("q=%s: got total %d %q, want %d %q", tt.q, l.Total, names(l), len(tt.want), tt.want)
			}
		}
	})
	t.Run("one", func(t *testing.T) {
		for _, ident := range []string{shoeID, "RS-1"} {
			resp, body := adminCall(t, "GET", admin+"/catalog/"+ident, "sesame")
			var got catalogView
			if err := json.Unmarshal(body, &got); resp.StatusCode != 200 || err != nil {
				t.Fatalf("GET /catalog/%s: %d %v\n%s", ident, resp.StatusCode, err, body)
			}
			if !reflect.DeepEqual(got, shoe) {
				t.Errorf("GET /catalog/%s: got %+v\nwant %+v", ident, got, shoe)
			}
		}
		for _, ident := range []string{"0000000000000000", "nope", "zzzzzzzzzzzzzzzz"} {
			resp, body := adminCall(t, "GET", admin+"/catalog/"+ident, "sesame")
			if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || string(body) != `{"error":"no such product"}`+"\n" {
				t.Errorf("GET /catalog/%s: got %d %s %q, want 404 JSON", ident, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, query := range []string{"?limit=abc", "?limit=-1", "?limit=1001", "?offset=-2", "?offset=x"} {
			resp, body := adminCall(t, "GET", admin+"/catalog"+query, "sesame")
			var e map[string]string
			if resp.StatusCode != 400 || json.Unmarshal(body, &e) != nil || e["error"] == "" {
				t.Errorf("GET /catalog%s: got %d %q, want 400 with a JSON error", query, resp.StatusCode, body)
			}
		}
		if resp, _ := adminCall(t, "POST", admin+"/catalog", "sesame"); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST /catalog: got %d Allow %q, want 405 GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("token required", func(t *testing.T) {
		for _, path := range []string{"/catalog", "/catalog/" + shoeID, "/catalog?q=shoe"} {
			for _, token := range []string{"", "wrong"} {
				resp, body := adminCall(t, "GET", admin+path, token)
				if resp.StatusCode != 401 || strings.Contains(string(body), "Red Shoe") {
					t.Errorf("GET %s with token %q: got %d, want 401 and no product", path, token, resp.StatusCode)
				}
			}
		}
	})
}

// TestCatalogLinksConfined (issue 9): an image from a product's JSON-LD on a
// host that is neither the shop's nor an allowed CDN never reaches another
// visitor's page; one on an allowed CDN does; a product linked elsewhere
// is linked to its page on the shop.
func TestCatalogLinksConfined(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, serverHosts, assetHosts string
		cdn, www                      bool // the CDN's image, www.shop.example's image is shown
	}{
		{"CDN allowed", "", `"*.shopcdn.example"`, true, false},
		{"no CDN allowed", "", ``, false, false},
		{"the shop's other host", "127.0.0.1, www.shop.example", ``, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := startCatalogShop(t, tt.serverHosts, tt.assetHosts)
			learner := e.visitor()
			for _, p := range catalogPaths {
				learner.get(e.url + p)
			}
			home := e.visitor().get(e.url + "/")
			block := blockHTML(t, home.body, "popular")
			if block == "" {
				t.Fatalf("no popular block on another visitor's home page:\n%s", home.body)
			}
			if strings.Contains(home.body, "evil.example") {
				t.Errorf("another visitor's page shows evil.example:\n%s", block)
			}
			if !slices.Contains(blockLinks(t, home.body, "popular"), "/p/4?se_rec=popular") {
				t.Errorf("Mug 4 (linked to evil.example) is not linked to its page on the shop: %q", blockLinks(t, home.body, "popular"))
			}
			if !strings.Contains(block, `src="/img/rs.jpg"`) {
				t.Errorf("the shop's own image is missing:\n%s", block)
			}
			if got := strings.Contains(block, `src="https://img.shopcdn.example/b.jpg"`); got != tt.cdn {
				t.Errorf("CDN image shown: got %v, want %v\n%s", got, tt.cdn, block)
			}
			if got := strings.Contains(block, `src="https://www.shop.example/img/m5.jpg"`); got != tt.www {
				t.Errorf("image on www.shop.example shown: got %v, want %v\n%s", got, tt.www, block)
			}
			if !strings.Contains(block, "Blue Boot") || strings.Contains(block, "Sold Out Boot") {
				t.Errorf("want Blue Boot shown (with or without its image), never the boot sold out in every size:\n%s", block)
			}
		})
	}
}

// TestAdminCatalogRating: a product's rating, as the demo shop's JSON-LD
// states it, in the admin's catalog, with where it came from; a product
// the shop shows no rating for has none.
func TestAdminCatalogRating(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	ratingValue := regexp.MustCompile(`"ratingValue":\s*"?([0-9.]+)`)
	want := map[string]string{} // product URL -> ratingValue, "" for none
	for _, p := range e.productsIn("shoes", 8) {
		m := ratingValue.FindStringSubmatch(v.get(e.url + p).body)
		want[p] = ""
		if m != nil {
			want[p] = m[1]
		}
	}
	admin := startAdmin(t, e, "sesame")
	resp, body := adminCall(t, "GET", admin+"/catalog?limit=100", "sesame")
	var l catalogList
	if err := json.Unmarshal(body, &l); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET /catalog: %d %v\n%s", resp.StatusCode, err, body)
	}
	rated, unrated := 0, 0
	for _, p := range l.Products {
		w, ok := want[p.URL]
		if !ok {
			continue
		}
		switch {
		case w == "" && p.Rating != nil:
			t.Errorf("%s: rating %+v, the shop shows none", p.URL, p.Rating)
		case w == "":
			unrated++
		case p.Rating == nil:
			t.Errorf("%s: no rating, the shop shows %s", p.URL, w)
		default:
			rated++
			if got := strconv.FormatFloat(p.Rating.Value, 'f', -1, 64); got != w || p.Rating.Best != 5 || p.Rating.Count == 0 {
				t.Errorf("%s: rating %+v, the shop shows %s of 5", p.URL, p.Rating, w)
			}
			if p.Source["rating"] != "jsonld" {
				t.Errorf("%s: rating from %q, want jsonld", p.URL, p.Source["rating"])
			}
		}
	}
	if rated == 0 {
		t.Errorf("no rated product among %d viewed", len(want))
	}
	t.Logf("%d rated, %d unrated", rated, unrated)
}
