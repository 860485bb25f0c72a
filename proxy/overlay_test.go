package proxy

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy/catalog"
	"shopedge/rules"
)

// movable is a clock a test moves forward.
type movable struct {
	mu  sync.Mutex
	now time.Time
}

// newMovable starts at a fixed morning, so that hours added stay in one
// day until a test moves past it.
func newMovable() *movable { return &movable{now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)} }

func (m *movable) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(time.Millisecond) // never the same instant twice
	return m.now
}

func (m *movable) advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

var dialogRe = regexp.MustCompile(`<dialog class="se-ov[^"]*"[^>]*data-se-overlay="([^"]+)"`)

// overlays returns the ids of the overlays a page carries.
func overlays(body string) []string {
	var ids []string
	for _, m := range dialogRe.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func bannerText(body, id string) string {
	m := regexp.MustCompile(`<p class="se-banner[^"]*" data-se-banner="` + id + `">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// addToCart posts the demo shop's add-to-cart form.
func (v *visitor) addToCart(base, sku string, qty int) {
	v.t.Helper()
	req, _ := http.NewRequest("POST", base+"/cart/add", strings.NewReader(url.Values{"sku": {sku}, "qty": {fmt.Sprint(qty)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if pg := v.do(req); pg.resp.StatusCode >= 400 {
		v.t.Fatalf("add to cart: %d", pg.resp.StatusCode)
	}
}

// beacon sends what the overlay script sends.
func (v *visitor) beacon(base, body string, header map[string]string) int {
	v.t.Helper()
	req, _ := http.NewRequest("POST", base+"/_shopedge/beacon", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, val := range header {
		if val == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, val)
		}
	}
	return v.do(req).resp.StatusCode
}

func TestOwnAssetsNeverForwarded(t *testing.T) {
	t.Parallel()
	var seen atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_shopedge/") {
			seen.Add(1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><html><head><title>x</title></head><body><p>shop</p></body></html>")
	}))
	t.Cleanup(up.Close)
	e := startProxy(t, demoConfig(t, up.URL, nil))
	st := &e.proxy.Config().Assets
	v := e.visitor()
	for _, c := range []struct {
		method, path string
		status       int
		ctype        string
		cache        string
		contains     string
	}{
		{"GET", st.CSSURL, 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "--se-accent:#0b6e4f"},
		{"GET", st.JSURL, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "sendBeacon"},
		{"GET", "/_shopedge/shopedge.js?v=old", 200, "text/javascript; charset=utf-8", "public, max-age=300", "sendBeacon"},
		{"HEAD", st.CSSURL, 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", ""},
		{"POST", st.CSSURL, 405, "", "", ""},
		{"GET", "/_shopedge/admin", 404, "", "", ""},
		{"GET", "/_shopedge/../etc/passwd", 404, "", "", ""},
		{"GET", "/_shopedge/beacon", 405, "", "", ""},
	} {
		req, _ := http.NewRequest(c.method, e.url+c.path, nil)
		pg := v.do(req)
		if pg.resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, pg.resp.StatusCode, c.status)
			continue
		}
		if c.ctype != "" && pg.resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, pg.resp.Header.Get("Content-Type"))
		}
		if c.cache != "" && pg.resp.Header.Get("Cache-Control") != c.cache {
			t.Errorf("%s %s: Cache-Control %q", c.method, c.path, pg.resp.Header.Get("Cache-Control"))
		}
		if !strings.Contains(pg.body, c.contains) {
			t.Errorf("%s %s: body lacks %q", c.method, c.path, c.contains)
		}
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("%d requests under the reserved prefix reached the shop", n)
	}
}

func TestBeaconValidation(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/") // a visitor cookie
	stranger := e.visitor()
	for _, c := range []struct {
		name   string
		v      *visitor
		body   string
		header map[string]string
		want   int
	}{
		{"shown", v, `{"e":"shown","id":"exit-offer"}`, nil, 204},
		{"banner", v, `{"e":"banner","id":"free-shipping"}`, nil, 204},
		{"foreign origin", v, `{"e":"shown","id":"exit-offer"}`, map[string]string{"Origin": "https://evil.example"}, 403},
		{"no origin", v, `{"e":"shown","id":"exit-offer"}`, map[string]string{"Origin": ""}, 403},
		{"cross-site fetch", v, `{"e":"shown","id":"exit-offer"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"no visitor", stranger, `{"e":"shown","id":"exit-offer"}`, nil, 403},
		{"too large", v, `{"e":"shown","id":"exit-offer","x":"` + strings.Repeat("a", 600) + `"}`, nil, 413},
		{"not json", v, `e=shown&id=exit-offer`, nil, 400},
		{"unknown field", v, `{"e":"shown","id":"exit-offer","n":1}`, nil, 400},
		{"two objects", v, `{"e":"shown","id":"exit-offer"}{"e":"shown","id":"exit-offer"}`, nil, 400},
		{"missing id", v, `{"e":"shown"}`, nil, 400},
		{"unknown event", v, `{"e":"bought","id":"exit-offer"}`, nil, 400},
		{"unknown overlay", v, `{"e":"shown","id":"no-such"}`, nil, 400},
		{"banner as overlay", v, `{"e":"shown","id":"free-shipping"}`, nil, 400},
		{"bad id", v, `{"e":"shown","id":"<script>"}`, nil, 400},
		{"wrong type", v, `{"e":1,"id":"exit-offer"}`, nil, 400},
	} {
		if got := c.v.beacon(e.url, c.body, c.header); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	var sb strings.Builder
	e.proxy.metrics.WriteTo(&sb, nil)
	for _, want := range []string{
		`shopedge_overlay_events_total{id="exit-offer",event="shown"} 1`,
		`shopedge_overlay_events_total{id="free-shipping",event="banner_shown"} 1`,
		`shopedge_beacons_rejected_total{reason="origin"} 3`,
		`shopedge_beacons_rejected_total{reason="visitor"} 1`,
		`shopedge_beacons_rejected_total{reason="malformed"} 7`,
		`shopedge_beacons_rejected_total{reason="unknown_id"} 2`,
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(sb.String(), "no-such") {
		t.Error("an unknown id reached the metrics")
	}
	// The shown beacon counted against the cap: one per visit.
	pg := v.get(e.url + e.shop.Catalog.Products[2].URL())
	if ids := overlays(pg.body); len(ids) != 0 {
		t.Errorf("after the exit offer was shown, the page carries %v", ids)
	}
}

func TestExitOfferCapsAndDismissal(t *testing.T) {
	t.Parallel()
	clock := newMovable()
	e := newShopEnvAt(t, func(c *rules.Config) { c.Overlays.MinGap = 0 }, clock.Now)
	v := e.visitor()
	product := e.url + e.shop.Catalog.Products[2].URL()
	pg := v.get(product)
	if got := overlays(pg.body); len(got) != 1 || got[0] != "exit-offer" {
		t.Fatalf("a new prospect's product page carries %v, want the exit offer", got)
	}
	for _, attr := range []string{`data-se-trigger="exit"`, `data-se-ms="3000"`, `data-se-dismiss="86400"`, `role="dialog"`, `aria-labelledby="se-ov-exit-offer-title"`} {
		if !strings.Contains(pg.body, attr) {
			t.Errorf("dialog lacks %s", attr)
		}
	}
	// Not shown yet (no beacon): it stays on the next page.
	if got := overlays(v.get(product).body); len(got) != 1 {
		t.Errorf("before it was shown: %v", got)
	}
	// Dismissed: gone for a day, back after.
	if code := v.beacon(e.url, `{"e":"dismissed","id":"exit-offer"}`, nil); code != 204 {
		t.Fatalf("beacon %d", code)
	}
	if got := overlays(v.get(product).body); len(got) != 0 {
		t.Errorf("after a dismissal: %v", got)
	}
	clock.advance(25 * time.Hour)
	if got := overlays(v.get(product).body); len(got) != 1 {
		t.Errorf("a day after the dismissal: %v", got)
	}
	// The dismissal cookie the script sets is honoured too.
	w := e.visitor()
	w.header.Set("Cookie", "se_dis_exit-offer=1")
	if got := overlays(w.get(product).body); len(got) != 0 {
		t.Errorf("with the dismissal cookie: %v", got)
	}
	// Shown once this visit: the cap is one per visit, one per day.
	x := e.visitor()
	x.get(product)
	x.beacon(e.url, `{"e":"shown","id":"exit-offer"}`, nil)
	if got := overlays(x.get(product).body); len(got) != 0 {
		t.Errorf("shown this visit already: %v", got)
	}
	clock.advance(2 * time.Hour) // a new visit, the same day
	if got := overlays(x.get(product).body); len(got) != 0 {
		t.Errorf("shown today already: %v", got)
	}
	clock.advance(24 * time.Hour)
	if got := overlays(x.get(product).body); len(got) != 1 {
		t.Errorf("the next day: %v", got)
	}
	// A customer who just bought gets no offer.
	y := e.visitor()
	y.get(product)
	y.addToCart(e.url, e.shop.Catalog.Products[2].SKU, 1)
	y.get(e.url + "/checkout/thank-you")
	if got := overlays(y.get(product).body); len(got) != 0 {
		t.Errorf("just bought: %v", got)
	}
}

func TestCartOverlaysAndBanners(t *testing.T) {
	t.Parallel()
	clock := newMovable()
	e := newShopEnvAt(t, nil, clock.Now)
	var cheap *shop.Product
	for _, p := range e.shop.Catalog.Products {
		if p.InStock && p.Price > 5 && p.Price < 40 {
			cheap = p
			break
		}
	}
	if cheap == nil {
		t.Fatal("no cheap product")
	}
	// Others have browsed: what is popular overall is another category's,
	// and the cheap product's category has its own popular products.
	var elsewhere []*shop.Product
	for _, p := range e.shop.Catalog.Products {
		if p.InStock && p.Category != cheap.Category && len(elsewhere) < 6 {
			elsewhere = append(elsewhere, p)
		}
	}
	for range 3 {
		for _, p := range elsewhere {
			e.visitor().get(e.url + p.URL())
		}
	}
	var siblings []string // the category's products
	for _, p := range cheap.Category.Products {
		siblings = append(siblings, p.Name)
		if p != cheap && p.InStock && len(siblings) < 5 {
			e.visitor().get(e.url + p.URL())
		}
	}
	v := e.visitor()
	pg := v.get(e.url + cheap.URL())
	if strings.Contains(pg.body, `data-se-banner="free-shipping"`) {
		t.Errorf("empty cart: banner %q, want none", bannerText(pg.body, "free-shipping"))
	}
	v.addToCart(e.url, cheap.SKU, 1)
	pg = v.get(e.url + cheap.URL())
	if got, want := bannerText(pg.body, "free-shipping"), fmt.Sprintf("Add €%.2f more for free shipping", 60-cheap.Price); got != want {
		t.Errorf("banner %q, want %q", got, want)
	}
	// Right after the add, the cart page offers what goes with it (two
	// seconds on: the engine's popular lists are rebuilt each second).
	clock.advance(2 * time.Second)
	pg = v.get(e.url + "/cart")
	if got := overlays(pg.body); len(got) != 1 || got[0] != "upsell" {
		t.Fatalf("cart page after an add: overlays %v, want upsell", got)
	}
	if !strings.Contains(pg.body, `data-se-trigger="load"`) || strings.Count(pg.body, `<li class="se-ov-item">`) == 0 {
		t.Errorf("upsell dialog without products or trigger:\n%s", dialogOf(pg.body, "upsell"))
	}
	if strings.Contains(dialogOf(pg.body, "upsell"), cheap.Name) {
		t.Error("the upsell offers what is already in the cart")
	}
	// Nothing was bought with it yet: the fallback is what is popular in
	// its category.
	for _, m := range regexp.MustCompile(`<li class="se-ov-item"><a href="[^"]*">(?:<img[^>]*>)?<span><span>([^<]*)</span>`).FindAllStringSubmatch(dialogOf(pg.body, "upsell"), -1) {
		if !slices.Contains(siblings, html.UnescapeString(m[1])) {
			t.Errorf("upsell offers %q, not of %s's category (%v)", m[1], cheap.Name, siblings)
		}
	}
	if got := bannerText(pg.body, "free-shipping"); !strings.HasPrefix(got, "Add €") {
		t.Errorf("cart page banner %q", got)
	}
	v.addToCart(e.url, cheap.SKU, 2)
	if got := bannerText(v.get(e.url+cheap.URL()).body, "free-shipping"); cheap.Price*3 >= 60 && got != "Your order ships free" {
		t.Errorf("cart over the threshold: banner %q", got)
	}

	// A later visit: the reminder on the home page, with the cart's lines.
	clock.advance(3 * time.Hour)
	pg = v.get(e.url + "/")
	if got := overlays(pg.body); len(got) != 1 || got[0] != "cart-reminder" {
		t.Fatalf("returning with a cart: overlays %v", got)
	}
	d := dialogOf(pg.body, "cart-reminder")
	for _, want := range []string{cheap.Name, fmt.Sprintf("€%.2f", cheap.Price), "&times; 3", `href="/cart"`, "View cart", `data-se-trigger="load"`} {
		if !strings.Contains(d, want) {
			t.Errorf("reminder lacks %q:\n%s", want, d)
		}
	}
	v.beacon(e.url, `{"e":"shown","id":"cart-reminder"}`, nil)
	// Within min_gap no other overlay, though the hesitant one would fit.
	if got := overlays(v.get(e.url + "/cart").body); len(got) != 0 {
		t.Errorf("within the gap: %v", got)
	}
	clock.advance(11 * time.Minute)
	if got := overlays(v.get(e.url + "/cart").body); len(got) != 1 || got[0] != "still-thinking" {
		t.Errorf("a hesitant visitor's cart page: %v, want still-thinking", got)
	}
}

// dialogOf returns an overlay's markup in a page.
func dialogOf(body, id string) string {
	i := strings.Index(body, `data-se-overlay="`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</dialog>")
	return body[i : i+j]
}

// TestSocialProofCountsPeople: social proof counts people, once each, not
// requests. A request without the cookie (what curl sends, every time) is
// not yet a person: its view counts once the visitor's cookie comes back,
// whatever page that is on; crawlers and Sec-GPC never count (issue 9).
func TestSocialProofCountsPeople(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) {
		for i := range c.Overlays.Banners {
			if b := &c.Overlays.Banners[i]; b.ID == "viewers" {
				b.Min = 1
			}
		}
		sel, err := rules.CompileSelector(".product h1")
		if err != nil {
			t.Fatal(err)
		}
		c.Overlays.Banners = append(c.Overlays.Banners, rules.Banner{
			ID: "carts", Kind: rules.BannerSocialProof, Pages: []rules.PageType{rules.PageProduct},
			Selector: sel, Position: "before", Count: "carts_day", Min: 1, Text: "{count} carted",
		})
	})
	x, y := e.shop.Catalog.Products[9], e.shop.Catalog.Products[10]
	curl := e.visitor()
	curl.client.Jar = nil // never sends a cookie back
	counts := func(p *shop.Product) (viewers, carts string) {
		t.Helper()
		body := curl.get(e.url + p.URL()).body
		return bannerText(body, "viewers"), bannerText(body, "carts")
	}
	for range 5 {
		curl.get(e.url + x.URL())
		curl.addToCart(e.url, x.SKU, 1)
	}
	if v, c := counts(x); v != "" || c != "" {
		t.Errorf("after cookieless requests only: viewers %q, carts %q; want none", v, c)
	}

	a := e.visitor()
	if got := bannerText(a.get(e.url+x.URL()).body, "viewers"); got != "" {
		t.Errorf("a person's first view, before the cookie came back: %q, want none", got)
	}
	if got := bannerText(a.get(e.url+x.URL()).body, "viewers"); got != "1 people viewed this today" {
		t.Errorf("the cookie came back: %q, want 1", got)
	}
	if got := bannerText(a.get(e.url+x.URL()).body, "viewers"); got != "1 people viewed this today" {
		t.Errorf("the same person again: %q, want 1", got)
	}

	// Someone lands on y, then goes to x: both views count.
	b := e.visitor()
	b.get(e.url + y.URL())
	if got := bannerText(b.get(e.url+x.URL()).body, "viewers"); got != "2 people viewed this today" {
		t.Errorf("a second person: %q, want 2", got)
	}
	if v, _ := counts(y); v != "1 people viewed this today" {
		t.Errorf("the landing page of the second person: %q, want 1", v)
	}

	// Crawlers and visitors who ask not to be tracked are not counted,
	// whether or not they keep the cookie.
	bot := e.visitor()
	bot.ua = "Googlebot/2.1 (+http://www.google.com/bot.html)"
	gpc := e.visitor()
	gpc.header.Set("Sec-GPC", "1")
	for range 3 {
		bot.get(e.url + x.URL())
		gpc.get(e.url + x.URL())
		gpc.addToCart(e.url, x.SKU, 1)
	}
	if v, c := counts(x); v != "2 people viewed this today" || c != "" {
		t.Errorf("after a crawler and a GPC visitor: viewers %q, carts %q; want 2 and none", v, c)
	}

	// An add to cart is a person's once the cookie comes back.
	c := e.visitor()
	c.addToCart(e.url, x.SKU, 1)
	if _, got := counts(x); got != "" {
		t.Errorf("a cookieless add to cart: %q, want none", got)
	}
	if got := bannerText(c.get(e.url+x.URL()).body, "carts"); got != "1 carted" {
		t.Errorf("the cookie came back after an add: %q, want 1", got)
	}
	c.addToCart(e.url, x.SKU, 1)
	if _, got := counts(x); got != "1 carted" {
		t.Errorf("the same person adds again: %q, want 1", got)
	}
}

// TestSocialProofLooksOnce: only the request that brings a visitor's
// cookie back looks for an event held for them; their later page views and
// cart adds look up nothing (no hash, no lock). An event held under their
// id afterwards (which the proxy never does: only a cookieless request
// holds) stays where it is, which shows no lookup was made (issue 9).
func TestSocialProofLooksOnce(t *testing.T) {
	t.Parallel()
	e := newShopEnvAt(t, nil, ticking())
	x := e.shop.Catalog.Products[9]
	a := e.visitor()
	a.get(e.url + x.URL())
	if got := e.proxy.views.Held(); got != 1 {
		t.Fatalf("after a cookieless view: %d held, want 1", got)
	}
	a.get(e.url + x.URL())
	if got := e.proxy.views.Held(); got != 0 {
		t.Fatalf("the cookie came back: %d held, want 0", got)
	}
	u, _ := url.Parse(e.url)
	var id string
	for _, c := range a.client.Jar.Cookies(u) {
		if c.Name == e.proxy.Config().CookieName {
			who, ok := e.proxy.ids.Verify(c.Value)
			if !ok {
				t.Fatalf("cookie %q does not verify", c.Value)
			}
			id = who.ID
		}
	}
	if id == "" {
		t.Fatal("no visitor cookie")
	}
	sentinel := catalog.KeyOf("/p/sentinel")
	e.proxy.views.Hold(id, sentinel, e.proxy.now())
	e.proxy.carts.Hold(id, sentinel, e.proxy.now())
	a.get(e.url + x.URL())
	a.addToCart(e.url, x.SKU, 1)
	if v, c := e.proxy.views.Held(), e.proxy.carts.Held(); v != 1 || c != 1 {
		t.Errorf("a returning visitor's view and add: views %d held, carts %d; want 1 and 1 (not looked up)", v, c)
	}
}

// cspShop serves one product-like page with the given policy.
func cspShop(t *testing.T, policy, meta string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if policy != "" {
			w.Header().Set("Content-Security-Policy", policy)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head>%s<title>Boots</title></head><body><main id="main"><div class="product"><h1>Boots</h1><div class="price">€50</div></div></main></body></html>`, meta)
	}))
	t.Cleanup(up.Close)
	return up.URL
}

func TestCSP(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, policy, meta string
		overlay            bool
		nonce              string
	}{
		{"no policy", "", "", true, ""},
		{"self", "default-src 'self'", "", true, ""},
		{"nonce and strict-dynamic", "script-src 'nonce-abc123' 'strict-dynamic'; style-src 'self' 'nonce-abc123'", "", true, "abc123"},
		{"hashes only", "script-src 'sha256-AAAA'; style-src 'self'", "", false, ""},
		{"strict-dynamic without nonce", "script-src 'self' 'strict-dynamic'", "", false, ""},
		{"no connect", "default-src 'self'; connect-src 'none'", "", false, ""},
		{"meta policy", "", `<meta http-equiv="Content-Security-Policy" content="script-src https://cdn.example">`, false, ""},
		{"report only is not enforced", "", `<meta http-equiv="Content-Security-Policy-Report-Only" content="script-src 'none'">`, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := startProxy(t, demoConfig(t, cspShop(t, c.policy, c.meta), nil))
			pg := e.visitor().get(e.url + "/p/boots")
			got := len(overlays(pg.body)) == 1
			if got != c.overlay {
				t.Fatalf("overlay injected: %v, want %v", got, c.overlay)
			}
			var sb strings.Builder
			e.proxy.metrics.WriteTo(&sb, nil)
			skipped := strings.Contains(sb.String(), "shopedge_overlay_csp_skipped_total 1")
			if skipped == c.overlay {
				t.Errorf("csp skipped counter: %v", skipped)
			}
			if !c.overlay && strings.Contains(pg.body, "/_shopedge/shopedge.js") {
				t.Errorf("a blocked page got the script")
			}
			if c.nonce != "" {
				for _, tag := range []string{`<script src="/_shopedge/shopedge.js`, `<link rel="stylesheet" href="/_shopedge/shopedge.css`} {
					i := strings.Index(pg.body, tag)
					if i < 0 || !strings.Contains(pg.body[i:min(len(pg.body), i+200)], `nonce="`+c.nonce+`"`) {
						t.Errorf("%s without the page's nonce", tag)
					}
				}
			}
		})
	}
}

func TestOverlaySchedule(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ends := now.Add(3*time.Hour + 10*time.Minute).UTC().Format(time.RFC3339)
	e := newShopEnv(t, func(c *rules.Config) {
		c.Overlays.Rules = nil
	})
	// The schedule comes from the YAML: load a configuration with it.
	yaml := strings.Replace(string(demoYAMLWithDeal(t)), "ENDS", ends, 1)
	cfg, err := rules.Parse("deal.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream.URL = e.proxy.Config().Upstream.URL
	cfg.Server.Listen, cfg.Admin.Listen = "127.0.0.1:0", ""
	if kept := e.proxy.Reload(compile(t, cfg.Config)); len(kept) > 0 {
		t.Fatalf("settings kept at their running value: %v", kept)
	}
	pg := e.visitor().get(e.url + "/")
	d := dialogOf(pg.body, "deal")
	for _, want := range []string{`data-se-trigger="timer"`, `data-se-ms="20000"`, "Ends in 3 hours", "RAIN15"} {
		if !strings.Contains(d, want) {
			t.Errorf("deal lacks %q:\n%s", want, d)
		}
	}
}

// demoYAMLWithDeal is the demo configuration with only a timed deal that
// ends at ENDS.
func demoYAMLWithDeal(t *testing.T) []byte {
	t.Helper()
	s := string(configs.Demo)
	i := strings.Index(s, "\noverlays:")
	j := strings.Index(s[i+1:], "\nlog:")
	deal := `
overlays:
  rules:
    - id: deal
      kind: timed
      pages: [home]
      title: Today only
      text: 15% off all rain gear.
      code: RAIN15
      delay: 20s
      ends: ENDS
`
	return []byte(s[:i] + deal + s[i+1+j:])
}

// TestOverlaysOnOddPages: a page without a written-out head or body gets
// no overlay (there is no safe place for it) and no script, and is
// otherwise the shop's page, with what else fits.
func TestOverlaysOnOddPages(t *testing.T) {
	t.Parallel()
	const page = `<!DOCTYPE html><title>Boots</title><div class="product"><h1>Boots</h1><div class="price">€50</div></div>`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(up.Close)
	e := startProxy(t, demoConfig(t, up.URL, nil))
	pg := e.visitor().get(e.url + "/p/boots")
	if pg.resp.StatusCode != 200 {
		t.Fatalf("status %d", pg.resp.StatusCode)
	}
	if len(overlays(pg.body)) != 0 || strings.Contains(pg.body, "shopedge.js") {
		t.Errorf("an overlay or the script on a page with no </body>:\n%s", pg.body)
	}
	if withoutBlocks(pg.body) != page {
		t.Errorf("the page changed beyond what shopedge adds:\n%s", pg.body)
	}
}

// TestFreeShippingEmptyCart: with an empty cart the free-shipping banner
// says nothing, unless it has an empty text; once something is in the
// cart it says what is missing, and after the purchase (an empty cart
// again) nothing or its empty text (issue 9).
func TestFreeShippingEmptyCart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, empty string
		want        string // the banner with an empty cart; "" for none
	}{
		{name: "default", empty: "", want: ""},
		{name: "empty text", empty: "Free shipping on orders over {amount}", want: "Free shipping on orders over €60.00"},
		{name: "empty text without amount", empty: "Free shipping, always", want: "Free shipping, always"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newShopEnv(t, func(c *rules.Config) {
				for i := range c.Overlays.Banners {
					if b := &c.Overlays.Banners[i]; b.ID == "free-shipping" {
						b.Empty = tt.empty
					}
				}
			})
			var cheap *shop.Product
			for _, p := range e.shop.Catalog.Products {
				if p.InStock && p.Price > 5 && p.Price < 40 {
					cheap = p
					break
				}
			}
			emptyCart := func(when string, pg reply) {
				t.Helper()
				has := strings.Contains(pg.body, `data-se-banner="free-shipping"`)
				if got := bannerText(pg.body, "free-shipping"); got != tt.want || has != (tt.want != "") {
					t.Errorf("%s: banner %q (on the page: %v), want %q", when, got, has, tt.want)
				}
			}
			v := e.visitor()
			emptyCart("first view", v.get(e.url+cheap.URL()))
			emptyCart("second view", v.get(e.url+cheap.URL())) // the visitor's cookie came back
			v.addToCart(e.url, cheap.SKU, 1)
			if got, want := bannerText(v.get(e.url+cheap.URL()).body, "free-shipping"), fmt.Sprintf("Add €%.2f more for free shipping", 60-cheap.Price); got != want {
				t.Errorf("after an add: banner %q, want %q", got, want)
			}
			v.get(e.url + "/checkout/thank-you")
			emptyCart("after the purchase", v.get(e.url+cheap.URL()))
		})
	}
}
