package proxy

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"shopedge/bench/shop"
	"shopedge/proxy/catalog"
	"shopedge/proxy/profile"
	"shopedge/proxy/proxytest"
	"shopedge/proxy/traffic"
	"shopedge/rules"
)

// withoutNav cuts the main menu out of a page, to compare the rest.
func withoutNav(body string) string {
	i := strings.Index(body, `<ul class="nav-menu">`)
	j := strings.Index(body, `</nav>`)
	if i < 0 || j < i {
		return body
	}
	return body[:i] + body[j:]
}

// direct fetches a page from the shop itself, as the proxy would (same Host).
func (e *env) direct(t *testing.T, path string, host string) string {
	t.Helper()
	return proxytest.Direct(t, e.upstream+path, host)
}

func host(u string) string { x, _ := url.Parse(u); return x.Host }

// TestNavigationFollowsInterest is the demo's story: a visitor looks at
// three products of one category, and the home page's menu then leads with
// that category; everything else on the page is the shop's, byte for byte,
// in identity and in gzip (where the page is assembled from pieces
// compressed apart: splice.Gzip.AppendParts).
func TestNavigationFollowsInterest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ slug, enc string }{{"kids", ""}, {"shoes", ""}, {"electronics", ""}, {"kids", "gzip"}, {"shoes", "gzip"}} {
		slug := c.slug
		t.Run(slug+"/"+cmp.Or(c.enc, "identity"), func(t *testing.T) {
			t.Parallel()
			e := newShopEnv(t, nil)
			v := e.visitor()
			if c.enc != "" {
				v.header.Set("Accept-Encoding", c.enc)
			}
			first := v.get(e.url + "/")
			if got := navOrder(first.body); !equalStrings(got, e.shopNav()) {
				t.Fatalf("new visitor's menu = %v, want the shop's %v", got, e.shopNav())
			}
			for _, p := range e.productsIn(slug, 3) {
				if pg := v.get(e.url + p); pg.resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d", p, pg.resp.StatusCode)
				}
			}
			home := v.get(e.url + "/")
			if got := home.resp.Header.Get("Content-Encoding"); got != c.enc {
				t.Fatalf("Content-Encoding %q, want %q", got, c.enc)
			}
			got := navOrder(home.body)
			want := []string{"/c/" + slug}
			for _, u := range e.shopNav() {
				if u != "/c/"+slug {
					want = append(want, u)
				}
			}
			if !equalStrings(got, want) {
				t.Fatalf("menu after three %s products = %v\nwant %v", slug, got, want)
			}
			shopPage := e.direct(t, "/", host(e.url))
			if c.enc == "gzip" {
				// What the visitor gets is compressed and kept the second
				// time it comes, and taken as kept after: the pages still
				// decode to the shop's page with the visitor's menu.
				for k := range 2 {
					again := v.get(e.url + "/")
					if got := navOrder(again.body); !equalStrings(got, want) || withoutPersonal(again.body) != withoutPersonal(shopPage) {
						t.Fatalf("home page %d more: menu %v, want %v; the page outside the menu and blocks the shop's: %t",
							k+1, got, want, withoutPersonal(again.body) == withoutPersonal(shopPage))
					}
				}
			}
			if withoutPersonal(home.body) != withoutPersonal(shopPage) {
				t.Errorf("the page outside the menu and blocks differs from the shop's")
			}
			if len(withoutBlocks(home.body)) != len(shopPage) {
				t.Errorf("page is %d bytes, the shop's %d: the menu must only move", len(home.body), len(shopPage))
			}
			if slug == "shoes" && !strings.Contains(home.body, `<a href="/c/shoes">Shoes</a>
          <ul class="nav-sub">`) {
				t.Errorf("the Shoes entry lost its submenu")
			}
			if cc := home.resp.Header.Get("Cache-Control"); cc != "private, no-store" {
				t.Errorf("personalized page Cache-Control = %q", cc)
			}
			if got := home.resp.Header.Values("Vary"); !strings.Contains(strings.Join(got, ","), "Cookie") {
				t.Errorf("personalized page Vary = %q, want Cookie", got)
			}
			for _, h := range []string{"Etag", "Last-Modified"} {
				if home.resp.Header.Get(h) != "" {
					t.Errorf("personalized page kept %s", h)
				}
			}
			if cl := home.resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(home.raw)) {
				t.Errorf("Content-Length %s for %d bytes", cl, len(home.raw))
			}
		})
	}
}

// TestNewVisitorGetsShopPage: the first page is the shop's page, plus the
// visitor cookie (and so marked private), and at most an overlay for new
// visitors.
func TestNewVisitorGetsShopPage(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	pg := e.visitor().get(e.url + "/c/women")
	if withoutBlocks(pg.body) != e.direct(t, "/c/women", host(e.url)) {
		t.Errorf("a new visitor's page differs from the shop's")
	}
	c := cookieNamed(pg.resp, "se_vid")
	if c == nil {
		t.Fatalf("no visitor cookie; Set-Cookie: %q", pg.resp.Header.Values("Set-Cookie"))
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || c.MaxAge < 86400*300 {
		t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, not Secure over http, Path=/, a long Max-Age", c)
	}
	if cc := pg.resp.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("page setting a cookie has Cache-Control %q", cc)
	}
}

// TestCompression: personalized pages are decoded, rewritten and re-encoded
// in the coding the client accepts.
func TestCompression(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/")
	for _, p := range e.productsIn("beauty", 3) {
		v.get(e.url + p)
	}
	for _, tt := range []struct{ accept, want string }{
		{"gzip", "gzip"}, {"br", "br"}, {"gzip, deflate, br, zstd", "gzip"}, {"", ""}, {"zstd", ""},
	} {
		t.Run("accept "+tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			pg := v.do(req)
			if got := pg.resp.Header.Get("Content-Encoding"); got != tt.want {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.want)
			}
			if nav := navOrder(pg.body); len(nav) == 0 || nav[0] != "/c/beauty" {
				t.Errorf("menu = %v, want /c/beauty first", nav)
			}
			if cl := pg.resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(pg.raw)) {
				t.Errorf("Content-Length %s for %d bytes on the wire", cl, len(pg.raw))
			}
			vary := strings.Join(pg.resp.Header.Values("Vary"), ",")
			if tt.want != "" && !strings.Contains(vary, "Accept-Encoding") {
				t.Errorf("Vary = %q, want Accept-Encoding", vary)
			}
		})
	}
}

// TestBadCookies: a token that does not verify makes a new visitor: the
// shop's menu order and a fresh cookie, never an error.
func TestBadCookies(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/")
	for _, p := range e.productsIn("men", 3) {
		v.get(e.url + p)
	}
	good, _ := v.v.Cookie("se_vid")
	if nav := navOrder(v.get(e.url + "/").body); nav[0] != "/c/men" {
		t.Fatalf("setup: menu = %v, want /c/men first", nav)
	}
	parts := strings.Split(good, ".")
	tests := map[string]string{
		"tampered signature": parts[0] + "." + parts[1] + "." + strings.Repeat("x", len(parts[2])),
		"alg none":           "eyJhbGciOiJub25lIiwia2lkIjoidDEifQ." + parts[1] + ".",
		"garbage":            "%%%not-a-token%%%",
		"oversized":          good + strings.Repeat("A", 2048),
		"empty":              "",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/", nil)
			req.Header.Set("User-Agent", browserUA)
			req.Header.Set("Accept", "text/html")
			req.Header.Set("Cookie", "se_vid="+tok+"; other=1")
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if nav := navOrder(string(b)); !equalStrings(nav, e.shopNav()) {
				t.Errorf("menu = %v, want the shop's order", nav)
			}
			c := cookieNamed(resp, "se_vid")
			if c == nil || c.Value == good {
				t.Errorf("no fresh visitor cookie")
			}
		})
	}
}

// TestBotsAndGPCSeeTheShop: crawlers and visitors sending Sec-GPC get the
// shop's page and headers untouched, and no cookie, even with the cookie
// of an interested visitor.
func TestBotsAndGPCSeeTheShop(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/")
	for _, p := range e.productsIn("sports-outdoor", 3) {
		v.get(e.url + p)
	}
	for _, tt := range []struct {
		name, ua, gpc string
	}{
		{"googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""},
		{"curl", "curl/8.5.0", ""},
		{"sec-gpc", browserUA, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/", nil)
			req.Header.Set("User-Agent", tt.ua)
			if tt.gpc != "" {
				req.Header.Set("Sec-GPC", tt.gpc)
			}
			pg := v.do(req)
			if pg.body != e.direct(t, "/", host(e.url)) {
				t.Errorf("page differs from the shop's")
			}
			if sc := pg.resp.Header.Values("Set-Cookie"); len(sc) > 0 {
				t.Errorf("Set-Cookie %q", sc)
			}
			if cc := pg.resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
				t.Errorf("Cache-Control = %q, want the shop's", cc)
			}
			if pg.resp.Header.Get("Etag") == "" {
				t.Errorf("the shop's ETag was dropped")
			}
		})
	}
}

// TestPrefetchIsNotAView: speculative loads are forwarded but teach nothing.
func TestPrefetchIsNotAView(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/")
	v.header.Set("Sec-Purpose", "prefetch")
	for _, p := range e.productsIn("kids", 4) {
		if pg := v.get(e.url + p); !strings.Contains(pg.body, `"@type":"Product"`) {
			t.Fatalf("prefetch of %s not forwarded", p)
		}
	}
	v.header.Del("Sec-Purpose")
	if nav := navOrder(v.get(e.url + "/").body); !equalStrings(nav, e.shopNav()) {
		t.Errorf("menu = %v after prefetches only, want the shop's", nav)
	}
}

// visitorProfile returns the profile of the visitor whose jar holds a
// shopedge cookie.
func (e *env) visitorProfile(t *testing.T, v *visitor) profile.Data {
	t.Helper()
	tok, ok := v.v.Cookie("se_vid")
	if !ok {
		t.Fatalf("no visitor cookie in the jar")
	}
	who, ok := e.proxy.ids.Verify(tok)
	if !ok {
		t.Fatalf("jar holds an invalid token")
	}
	p, ok := e.proxy.profiles.Get(who.ID)
	if !ok {
		t.Fatalf("no profile for %s", who.ID)
	}
	return p.Snapshot()
}

// TestCartAndPurchase: add-to-cart POSTs (form and JSON) and the
// order-confirmation page reach the profile.
func TestCartAndPurchase(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	var stock []*shop.Product
	for _, p := range e.shop.Catalog.Products {
		if p.InStock && len(stock) < 2 {
			stock = append(stock, p)
		}
	}
	v.get(e.url + stock[0].URL()) // learn the product
	if pg := v.post(e.url+"/cart/add", "application/x-www-form-urlencoded", url.Values{"sku": {stock[0].SKU}, "qty": {"2"}}.Encode()); pg.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form add: %d", pg.resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", e.url+"/cart/add", strings.NewReader(fmt.Sprintf(`{"sku":%q,"qty":1}`, stock[1].SKU)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if pg := v.do(req); pg.resp.StatusCode != 200 || !strings.Contains(pg.body, `"ok":true`) {
		t.Fatalf("JSON add: %d %s", pg.resp.StatusCode, pg.body)
	}
	if cart := v.get(e.url + "/cart"); !strings.Contains(cart.body, stock[1].Name) {
		t.Fatalf("the shop's cart lacks the JSON-added product: shop cookies were lost")
	}
	d := e.visitorProfile(t, v)
	want := []profile.CartLine{{Product: catalog.KeyOf(stock[0].SKU), Qty: 2}, {Product: catalog.KeyOf(stock[1].SKU), Qty: 1}}
	if got := d.Cart(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("profile cart = %v, want %v", got, want)
	}
	pg := v.post(e.url+"/checkout/place", "application/x-www-form-urlencoded", "first=A")
	if loc := pg.resp.Header.Get("Location"); !strings.HasPrefix(loc, "/checkout/thank-you") {
		t.Fatalf("checkout redirect to %q", loc)
	}
	v.get(e.url + pg.resp.Header.Get("Location"))
	d = e.visitorProfile(t, v)
	if len(d.Cart()) != 0 || !d.Customer || d.Orders != 1 || len(d.Purchased()) != 2 {
		t.Errorf("after purchase: cart %v, customer %v, orders %d, purchased %v", d.Cart(), d.Customer, d.Orders, d.Purchased())
	}
}

// TestCatalogLearned: a product page passing through teaches the catalog.
func TestCatalogLearned(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	p := e.shop.Catalog.Categories["shoes/boots"].Products[0]
	// A visitor sending another Host: the shop echoes it into its markup,
	// and it must not end up in the catalog's links.
	req, _ := http.NewRequest("GET", e.url+p.URL(), nil)
	req.Host = "evil.example"
	e.visitor().do(req)
	got, ok := e.proxy.catalog.Get(catalog.KeyOf(p.SKU))
	if !ok {
		t.Fatalf("product %s not learned", p.SKU)
	}
	if got.Name != p.Name || got.Price != p.Price || got.Currency != "EUR" || got.Brand != p.Brand ||
		got.URL != p.URL() || got.Image != p.Image() {
		t.Errorf("learned %+v", got)
	}
	if len(got.Categories) != 2 || got.Categories[0].Path != "/c/shoes" || got.Categories[1].Path != "/c/shoes/boots" {
		t.Errorf("categories = %+v", got.Categories)
	}
	if want := catalog.InStock; p.InStock && got.Availability != want {
		t.Errorf("availability = %q", got.Availability)
	}
}

// TestLargeDownloadStreams: a 20 MB binary passes through intact, and the
// proxy does not hold it in memory.
func TestLargeDownloadStreams(t *testing.T) {
	e := newShopEnv(t, nil)
	const size = 20 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("GET", e.url+"/download/catalog.bin", nil)
	req.Header.Set("User-Agent", browserUA)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, resp.Body, make([]byte, 32<<10))
	resp.Body.Close()
	if err != nil || n != size {
		t.Fatalf("read %d bytes, err %v; want %d", n, err, size)
	}
	runtime.ReadMemStats(&after)
	want := sha256.New()
	_, _ = io.Copy(want, &shop.Pattern{Size: size})
	if string(h.Sum(nil)) != string(want.Sum(nil)) {
		t.Errorf("downloaded bytes differ from the shop's")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6<<20 {
		t.Errorf("%d MB allocated while streaming %d MB: the body was buffered", alloc>>20, size>>20)
	}
	if resp.Header.Get("Content-Length") != strconv.Itoa(size) {
		t.Errorf("Content-Length = %q", resp.Header.Get("Content-Length"))
	}
}

// TestPassThroughUntouched: redirects, errors, HEAD, 304 and 206 reach the
// visitor as the shop sent them.
func TestPassThroughUntouched(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	shopGet := func(method, path string, h http.Header) *http.Response {
		req, _ := http.NewRequest(method, e.upstream+path, nil)
		req.Header = h.Clone()
		req.Host = host(e.url)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	etag := shopGet("GET", "/static/app.js", http.Header{}).Header.Get("Etag")
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		same               []string // headers that must equal the shop's
	}{
		{"redirect", "GET", "/sale", nil, 301, []string{"Location"}},
		{"not found", "GET", "/no/such/page", nil, 404, []string{"Content-Type", "Cache-Control"}},
		{"server error", "GET", "/boom", nil, 500, []string{"Content-Type"}},
		{"head", "HEAD", "/c/men", nil, 200, []string{"Content-Length", "Content-Type", "Etag", "Cache-Control"}},
		{"not modified", "GET", "/static/app.js", http.Header{"If-None-Match": {etag}}, 304, []string{"Etag", "Cache-Control"}},
		{"range", "GET", "/download/catalog.bin", http.Header{"Range": {"bytes=100-199"}}, 206, []string{"Content-Range", "Content-Length", "Accept-Ranges"}},
		{"asset", "GET", "/static/app.js", nil, 200, []string{"Content-Length", "Etag", "Cache-Control", "Last-Modified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("User-Agent", browserUA)
			want := shopGet(tt.method, tt.path, h)
			wantBody, _ := io.ReadAll(want.Body)
			want.Body.Close()
			req, _ := http.NewRequest(tt.method, e.url+tt.path, nil)
			req.Header = h
			got, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			gotBody, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if got.StatusCode != tt.status || want.StatusCode != tt.status {
				t.Fatalf("status %d (shop %d), want %d", got.StatusCode, want.StatusCode, tt.status)
			}
			if string(gotBody) != string(wantBody) {
				t.Errorf("body differs from the shop's (%d vs %d bytes)", len(gotBody), len(wantBody))
			}
			for _, k := range tt.same {
				if got.Header.Get(k) != want.Header.Get(k) {
					t.Errorf("%s = %q, shop sent %q", k, got.Header.Get(k), want.Header.Get(k))
				}
			}
			if len(got.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("Set-Cookie on a response the proxy did not make private")
			}
		})
	}
}

// TestLargePages: a 400 KB page is rewritten; a page over the configured
// limit passes through untouched.
func TestLargePages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		limit     rules.ByteSize
		rewritten bool
	}{{"under the limit", 4 << 20, true}, {"over the limit", 100 << 10, false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newShopEnv(t, func(c *rules.Config) { c.Limits.MaxRewriteBody = tt.limit })
			v := e.visitor()
			v.get(e.url + "/")
			for _, p := range e.productsIn("kids", 3) {
				v.get(e.url + p)
			}
			p := e.shop.Catalog.Categories["kids"].Products[5]
			for _, enc := range []string{"", "gzip"} {
				req, _ := http.NewRequest("GET", e.url+p.URL()+"?reviews=all", nil)
				if enc != "" {
					req.Header.Set("Accept-Encoding", enc)
				}
				pg := v.do(req)
				if len(pg.body) < 380000 {
					t.Fatalf("page is %d bytes", len(pg.body))
				}
				if got := navOrder(pg.body)[0] == "/c/kids"; got != tt.rewritten {
					t.Errorf("encoding %q: rewritten = %v, want %v", enc, got, tt.rewritten)
				}
			}
		})
	}
}

// TestProfileMemoryBound: the profile store never goes over its budget.
func TestProfileMemoryBound(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) { c.Profiles.MaxMemory = 1 << 20 })
	for i := range 1000 {
		v := e.visitor()
		v.get(e.url + e.productsIn("kids", 1)[0] + "?v=" + strconv.Itoa(i))
	}
	e.proxy.profiles.Wait()
	if st := e.proxy.profiles.Stats(); st.CostUsed > 1<<20 || st.Created < 1000 {
		t.Errorf("stats %+v: cost over the 1 MiB budget, or visitors not profiled", st)
	}
}

// TestMostInterestingFirst: entries of several interesting categories lead
// the menu, most interesting first.
func TestMostInterestingFirst(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/")
	for _, p := range e.productsIn("beauty", 2) {
		v.get(e.url + p)
	}
	for _, p := range e.productsIn("kids", 3) {
		v.get(e.url + p)
	}
	nav := navOrder(v.get(e.url + "/").body)
	want := []string{"/c/kids", "/c/beauty"}
	for _, u := range e.shopNav() {
		if u != "/c/kids" && u != "/c/beauty" {
			want = append(want, u)
		}
	}
	if !equalStrings(nav, want) {
		t.Errorf("menu = %v\nwant %v", nav, want)
	}
}

// TestSourceAndDevice: a visit's traffic source and device reach the
// profile.
func TestSourceAndDevice(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	req, _ := http.NewRequest("GET", e.url+"/c/men?utm_source=newsletter&utm_medium=email&utm_campaign=winter", nil)
	req.Header.Set("Referer", "https://www.google.com/search?q=shirts")
	v.do(req)
	v.get(e.url + "/search?q=linen+shirt")
	d := e.visitorProfile(t, v)
	want := profile.Source{UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "winter", Referrer: "www.google.com", Class: traffic.Email}
	if d.Source() != want {
		t.Errorf("source = %+v, want %+v", d.Source(), want)
	}
	if d.Device.Class.String() != "mobile" || d.Device.OS.String() != "ios" || d.Device.Browser.String() != "safari" {
		t.Errorf("device = %+v", d.Device)
	}
	if s := d.Searches(); len(s) != 1 || s[0] != "linen shirt" {
		t.Errorf("searches = %q", s)
	}
	if d.Visits != 1 || d.PageViews != 2 {
		t.Errorf("visits %d, page views %d", d.Visits, d.PageViews)
	}
}
