package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"shopedge/bench/shop"
	"shopedge/proxy/browsertest/headless"
	"shopedge/proxy/proxytest"
)

// The walk-through's screenshots (tryit-*.png) go beside the other
// browser tests' (git ignores the folder).
const artifacts = "../../proxy/browsertest/artifacts"

// tryDemo is `shopedge demo` run in the test's process: the same flags,
// configuration, warm start and printed lines as the command's, on
// loopback ports the system chooses, with a clock the test moves forward
// instead of waiting for a new visit.
type tryDemo struct {
	shop, url, admin string // the addresses the demo printed
	token, once      string // the admin token and the console's one-time link it printed
	clock            *proxytest.Clock
	out, log         *lines
}

// lines is what the demo writes, kept for the test to read as it comes.
type lines struct {
	mu   sync.Mutex
	buf  strings.Builder
	more chan struct{} // signalled on every write
}

func newLines() *lines { return &lines{more: make(chan struct{}, 1)} }

func (l *lines) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(b)
	l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return len(b), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startDemo runs the demo with args after the loopback addresses, and
// waits until it prints that it is ready (after its warm start). It stops
// when the test ends, as on SIGTERM, and must stop cleanly.
func startDemo(t *testing.T, args ...string) *tryDemo {
	t.Helper()
	d := &tryDemo{clock: &proxytest.Clock{}, out: newLines(), log: newLines()}
	stop, done := make(chan struct{}), make(chan error, 1)
	// The proxy's port is chosen here, not by the system: the admin
	// listener's preview links point at server.listen, which with port 0
	// would name port 0 (the default base, proxy.DefaultPreviewBase).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	args = append([]string{"-listen", listen, "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0"}, args...)
	// The demo sets the process's soft memory limit, as the command does;
	// the tests after it get the one before back.
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(limit) })
	t0 := time.Now()
	go func() { done <- runDemo(args, d.out, d.log, demoHooks{now: d.clock.Now, stop: stop}) }()
	t.Cleanup(func() {
		close(stop)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the demo did not stop cleanly: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the demo did not stop within 20s")
		}
	})
	deadline := time.After(60 * time.Second)
	for !strings.Contains(d.out.String(), "Stop with Ctrl-C.") {
		select {
		case <-d.out.more:
		case err := <-done:
			t.Fatalf("the demo ended before it was ready: %v\n%s%s", err, d.out, d.log)
		case <-deadline:
			t.Fatalf("the demo was not ready within 60s:\n%s%s", d.out, d.log)
		}
	}
	printed := d.out.String()
	find := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(printed)
		if m == nil {
			t.Fatalf("the demo did not print %s:\n%s", re, printed)
		}
		return m[1]
	}
	d.shop = find(`demo shop:\s+(http://\S+)/\n`)
	d.url = find(`shopedge \(open me\):\s+(http://\S+)/\n`)
	d.admin = find(`admin:\s+(http://\S+)/metrics`)
	d.token = find(`\(Authorization: Bearer (\S+)\)`)
	d.once = find(`console:\s+(http://\S+/login\?once=\S+)\s`)
	warmed := regexp.MustCompile(`msg="demo warmed.*(products=\d+ events=\d+ took=\S+)`).FindStringSubmatch(d.log.String())
	if warmed == nil {
		t.Fatalf("the demo did not warm:\n%s", d.log)
	}
	t.Logf("demo ready in %s (warmed: %s; %s):\n%s", time.Since(t0).Round(time.Millisecond), warmed[1],
		regexp.MustCompile(`msg="memory limit"[^\n]*`).FindString(d.log.String()), printed)
	return d
}

// adminDo asks the admin listener, with the token, as curl does.
func (d *tryDemo) adminDo(t *testing.T, method, path string, form url.Values) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, d.admin+path, strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+d.token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s %v", method, path, resp.StatusCode, b, err)
	}
	return b
}

// Short names for the browser helpers.
var (
	act     = headless.Run
	waitFor = headless.WaitFor
)

func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return headless.Eval[T](t, ctx, expr)
}

// screenshot saves the viewport as tryit-NAME.png, scrolled first to
// what the step is about (the first element at the selector, below the
// shop's sticky header; "": the page as it is).
func screenshot(t *testing.T, ctx context.Context, name, selector string) {
	t.Helper()
	if selector != "" {
		act(t, ctx, chromedp.Evaluate(fmt.Sprintf(`(function(){var e=document.querySelector(%q);if(e)window.scrollTo(0,e.getBoundingClientRect().top+scrollY-150)})()`, selector), nil))
	}
	headless.Screenshot(t, ctx, artifacts, "tryit-"+name)
}

func open(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	act(t, ctx, chromedp.Navigate(u), chromedp.WaitReady("body"))
}

// block is what a recommendation block shows: its title and the paths of
// the products it links to (nil: no such block on the page).
type block struct {
	Title    string   `json:"title"`
	Products []string `json:"products"`
	Images   int      `json:"images"` // the images it shows, with an address
}

func blockOn(t *testing.T, ctx context.Context, id string) *block {
	t.Helper()
	var b *block
	act(t, ctx, chromedp.Evaluate(fmt.Sprintf(`(function(){var s=document.querySelector('[data-se-block=%q]');if(!s)return null;
var h=s.querySelector("h2"),seen={},ps=[];
s.querySelectorAll("a[href]").forEach(function(a){var p=new URL(a.href).pathname;if(!seen[p]){seen[p]=1;ps.push(p)}});
return {title:h?h.textContent.trim():"",products:ps,images:s.querySelectorAll("img[src]").length}})()`, id), &b))
	return b
}

// paths are the product paths of the cards under a selector, in order.
func paths(t *testing.T, ctx context.Context, cards string) []string {
	t.Helper()
	return js[[]string](t, ctx, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(function(c){return new URL(c.querySelector("a[href]").href).pathname})`, cards))
}

// menu is the main menu's top-level entries, as their link texts.
func menu(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return js[[]string](t, ctx, `Array.from(document.querySelectorAll("nav.site-nav ul.nav-menu > li.nav-item > a")).map(function(a){return a.textContent.trim()})`)
}

func dialogOpen(t *testing.T, ctx context.Context, id string) bool {
	t.Helper()
	return js[bool](t, ctx, fmt.Sprintf(`(function(){var d=document.querySelector('dialog[data-se-overlay=%q]');return !!(d&&d.open)})()`, id))
}

func waitDialog(t *testing.T, ctx context.Context, id string) bool {
	t.Helper()
	return waitFor(t, ctx, fmt.Sprintf(`(function(){var d=document.querySelector('dialog[data-se-overlay=%q]');return !!(d&&d.open)})()`, id), 3*time.Second)
}

func dialogTitle(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return js[string](t, ctx, fmt.Sprintf(`(function(){var d=document.querySelector('dialog[data-se-overlay=%q]');var h=d&&d.querySelector("h2");return h?h.textContent.trim():""})()`, id))
}

// waitDwell waits until the page has been open longer than the overlay's
// dwell time (the dialog carries it, data-se-ms), counted from
// DOMContentLoaded as the page's script counts it: the one wait in the
// walk-through that is the product's own.
func waitDwell(t *testing.T, ctx context.Context, overlay string) {
	t.Helper()
	over := `(function(){var d=document.querySelector('dialog[data-se-overlay="` + overlay + `"]'),n=performance.getEntriesByType("navigation")[0];` +
		`return !!d&&!!n&&n.domContentLoadedEventStart>0&&performance.now()-n.domContentLoadedEventStart>parseInt(d.getAttribute("data-se-ms"),10)+50})()`
	if !waitFor(t, ctx, over, 10*time.Second) {
		t.Fatalf("the dwell time of %s did not pass", overlay)
	}
}

// leaveThroughTop moves the pointer into the page, then up and out of the
// window, as a visitor heading for the tab bar does.
func leaveThroughTop(ctx context.Context) error {
	for _, y := range []float64{400, 200, 60, 10, 0, -5} {
		if err := input.DispatchMouseEvent(input.MouseMoved, 640, y).Do(ctx); err != nil {
			return err
		}
	}
	return nil
}

// swipe drags a finger from y0 to y1 (CSS pixels, in the middle of the
// screen's width) in steps moves: few steps make a fast swipe.
func swipe(y0, y1 float64, steps int) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		at := func(y float64) []*input.TouchPoint { return []*input.TouchPoint{{X: 200, Y: y}} }
		if err := input.DispatchTouchEvent(input.TouchStart, at(y0)).Do(ctx); err != nil {
			return err
		}
		for i := 1; i <= steps; i++ {
			if err := input.DispatchTouchEvent(input.TouchMove, at(y0+(y1-y0)*float64(i)/float64(steps))).Do(ctx); err != nil {
				return err
			}
		}
		return input.DispatchTouchEvent(input.TouchEnd, nil).Do(ctx)
	}
}

// scrollTo scrolls to y (an expression) and waits until the page's
// scroll listeners have run: the test's own listener, added after the
// page's, has seen the scroll.
func scrollTo(t *testing.T, ctx context.Context, y string) {
	t.Helper()
	act(t, ctx, chromedp.Evaluate(`window.__scrollY=-1;if(!window.__watch){window.__watch=1;window.addEventListener("scroll",function(){window.__scrollY=window.scrollY},{passive:true})};window.scrollTo(0,`+y+`)`, nil))
	if !waitFor(t, ctx, `window.__scrollY>=0`, 2*time.Second) {
		t.Fatalf("no scroll event after scrolling to %s", y)
	}
}

// visitorID is the visitor id the tab's se_vid cookie carries (the
// subject of the signed token), as the README says to find it.
func visitorID(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	var cookies []*network.Cookie
	act(t, ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().WithURLs([]string{base}).Do(ctx)
		return err
	}))
	for _, c := range cookies {
		if c.Name != "se_vid" {
			continue
		}
		parts := strings.Split(c.Value, ".")
		if len(parts) == 3 {
			raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var claims struct {
				Sub string `json:"sub"`
			}
			if json.Unmarshal(raw, &claims) == nil && claims.Sub != "" {
				return claims.Sub
			}
		}
	}
	t.Fatalf("no se_vid cookie with a subject among %d cookies", len(cookies))
	return ""
}

// heldOut reports whether /explain says the visitor is held out of the
// overlay on path (the control arm of its experiment).
func (d *tryDemo) heldOut(t *testing.T, visitor, path, overlay string) bool {
	t.Helper()
	var ex struct {
		Passed []struct{ ID, Why string } `json:"overlays_passed"`
	}
	body := d.adminDo(t, http.MethodGet, "/explain?"+url.Values{"visitor": {visitor}, "path": {path}}.Encode(), nil)
	if err := json.Unmarshal(body, &ex); err != nil {
		t.Fatalf("/explain: %v: %s", err, body)
	}
	for _, p := range ex.Passed {
		if p.ID == overlay && strings.HasPrefix(p.Why, "held out") {
			return true
		}
	}
	return false
}

// exitOffer follows the README's exit-intent step on a product page: wait
// the dwell time, leave through the top, "Before you go" opens, Esc
// closes it. One visitor in ten is held out of the offer (the demo's
// exit-offer-holdout experiment) and gets no offer, as /explain says; the
// README sends them to a private window, and so does the test. It
// returns the tab that saw the offer.
//
// A private window opened for another visitor lives as long as owner (the
// test the returned tab goes on in), not as long as t: a subtest's window
// is closed when the subtest ends, and the walk-through's next steps would
// find their tab gone ("context canceled").
func (d *tryDemo) exitOffer(t *testing.T, owner testing.TB, ctx context.Context, product, shot string) context.Context {
	t.Helper()
	for try := 0; ; try++ {
		open(t, ctx, d.url+product)
		if js[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="exit-offer"]')`) {
			break
		}
		id := visitorID(t, ctx, d.url)
		if !d.heldOut(t, id, product, "exit-offer") {
			t.Fatalf("no exit offer on %s for visitor %s, who is not held out", product, id)
		}
		if try == 4 {
			t.Fatal("five visitors in a row held out of the exit offer")
		}
		t.Logf("visitor %s is in the exit offer's control arm (held out, no offer, as /explain says): a private window", id)
		ctx = headless.Private(owner, ctx)
	}
	if dialogOpen(t, ctx, "exit-offer") {
		t.Fatal("the exit offer shows before any exit")
	}
	waitDwell(t, ctx, "exit-offer")
	act(t, ctx, chromedp.ActionFunc(leaveThroughTop))
	if !waitDialog(t, ctx, "exit-offer") {
		t.Fatal("the exit offer did not open when the pointer left through the top")
	}
	if got := dialogTitle(t, ctx, "exit-offer"); got != "Before you go" {
		t.Errorf("exit offer titled %q, want Before you go", got)
	}
	if got := js[string](t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer"] .se-ov-code').textContent`); got != "WELCOME10" {
		t.Errorf("the exit offer's code is %q, want WELCOME10", got)
	}
	screenshot(t, ctx, shot, "")
	act(t, ctx, chromedp.KeyEvent("\u001b"))
	if !waitFor(t, ctx, `!document.querySelector('dialog[data-se-overlay="exit-offer"]').open`, 2*time.Second) {
		t.Fatal("Esc did not close the exit offer")
	}
	return ctx
}

// addToCart opens a product page and presses its add-to-cart button (the
// demo shop posts it with fetch and shows a toast).
func addToCart(t *testing.T, ctx context.Context, base string, p *shop.Product) {
	t.Helper()
	open(t, ctx, base+p.URL())
	act(t, ctx, chromedp.Click(`form[data-add-to-cart] button`, chromedp.ByQuery))
	if !waitFor(t, ctx, `document.getElementById("toast").className.indexOf("show")>=0`, 5*time.Second) {
		t.Fatalf("%s was not added to the cart", p.Name)
	}
}

// cartReminder checks the home page's reminder of the cart holding p.
func cartReminder(t *testing.T, ctx context.Context, p *shop.Product) {
	t.Helper()
	if !waitDialog(t, ctx, "cart-reminder") {
		t.Fatal("no cart reminder on the home page of a new visit")
	}
	if got := dialogTitle(t, ctx, "cart-reminder"); got != "You left something in your cart" {
		t.Errorf("cart reminder titled %q", got)
	}
	if got := js[string](t, ctx, `document.querySelector('dialog[data-se-overlay="cart-reminder"]').textContent`); !strings.Contains(got, p.Name) {
		t.Errorf("the reminder does not name %s: %q", p.Name, got)
	}
}

// inCategory reports whether the product at path is in the top-level
// category slug of the demo catalog.
func inCategory(cat *shop.Catalog, path, slug string) bool {
	for _, p := range cat.Products {
		if p.URL() == path {
			return p.Category.Path()[0].Slug == slug
		}
	}
	return false
}

// cheap is an in-stock product of the demo shop below the free shipping
// threshold, so that its page says how much more ships free.
func cheap(t *testing.T, cat *shop.Catalog, threshold float64, not string) *shop.Product {
	t.Helper()
	for _, p := range cat.Products {
		if p.InStock && p.Price > 5 && p.Price < threshold-5 && p.URL() != not {
			return p
		}
	}
	t.Fatal("no cheap product in the demo catalog")
	return nil
}

// TestTryIt follows the README's "Try it" in a real browser, step by
// step, against what `shopedge demo` starts (issue 14: the walk-through
// works, and cannot drift). Each step asserts what the page shows.
func TestTryIt(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser walk-through of the demo")
	}
	headless.Find(t)
	d := startDemo(t)
	cat := shop.New(1).Catalog // the demo's own shop: the same generated catalog
	// A bound, not a measure: the walk-through takes ~30 s alone, and a
	// loaded machine (CI runs packages side by side) can take several times that.
	browser := headless.Start(t, 300*time.Second)
	// The first tab is the shop owner's own window; the newcomer browses
	// in a private one, so that nothing stays from a test before.
	me := headless.Private(t, browser)
	top := t // the walk-through's tabs live as long as the whole test

	// The shop as it is, for the new visitor's comparison.
	open(t, me, d.shop+"/")
	shopMenu := menu(t, me)
	shopHero := js[string](t, me, `document.querySelector(".hero h1").textContent`)
	open(t, me, d.shop+"/search?q=grey")
	shopGrey := paths(t, me, ".search-results > .grid article.product-card")
	if len(shopMenu) < 5 || shopMenu[0] == "Shoes" || len(shopGrey) < 10 {
		t.Fatalf("the demo shop's own menu %v, its results for grey %d", shopMenu, len(shopGrey))
	}

	// The console's one-time link, as the demo printed it: it signs in
	// and shows the Overview (within the hour the link lasts: before the
	// clock moves on below).
	ops := headless.Private(t, browser)
	t.Run("the console's one-time link", func(t *testing.T) {
		open(t, ops, d.once)
		if got := js[string](t, ops, `document.querySelector("main h1").textContent`); got != "Overview" {
			t.Fatalf("the one-time link led to %q at %s", got, js[string](t, ops, `location.href`))
		}
	})

	t.Run("products of Shoes, then the home page", func(t *testing.T) {
		open(t, me, d.url+"/")
		if got := menu(t, me); !slices.Equal(got, shopMenu) {
			t.Errorf("a first visit's menu %v, want the shop's %v", got, shopMenu)
		}
		act(t, me, chromedp.Click(`nav.site-nav a[href="/c/shoes"]`, chromedp.ByQuery), chromedp.WaitReady(".listing-head"))
		cards := paths(t, me, "main article.product-card")
		// A few products of Shoes, one of them grey (for the search below).
		var viewed []string
		for _, p := range cards {
			if strings.Contains(p, "grey") {
				viewed = append(viewed, p)
				break
			}
		}
		for _, p := range cards {
			if len(viewed) < 3 && !slices.Contains(viewed, p) {
				viewed = append(viewed, p)
			}
		}
		if len(viewed) < 3 || !strings.Contains(viewed[0], "grey") {
			t.Fatalf("the Shoes page lists %v: no three products with a grey one", cards)
		}
		var also [][]string
		for _, p := range viewed {
			open(t, me, d.url+p)
			b := blockOn(t, me, "also-viewed")
			if b == nil || b.Title != "Customers also viewed" || len(b.Products) < 2 {
				t.Fatalf("%s shows also viewed %+v", p, b)
			}
			// Product cards, with their pictures: the warm start learned
			// them, as pages that pass through teach them.
			if b.Images != len(b.Products) {
				t.Errorf("%s: also viewed shows %d pictures for %d products", p, b.Images, len(b.Products))
			}
			also = append(also, b.Products)
		}
		// The warm start: other products on other pages.
		if slices.Equal(also[0], also[1]) {
			t.Errorf("the same Customers also viewed on two product pages: %v", also[0])
		}
		screenshot(t, me, "product", `[data-se-block="also-viewed"]`)

		open(t, me, d.url+"/")
		if got := menu(t, me); len(got) == 0 || got[0] != "Shoes" {
			t.Errorf("after Shoes the menu is %v, want Shoes first", got)
		}
		if !js[bool](t, me, `!!document.querySelector("nav.site-nav ul.nav-menu > li.nav-item:first-child ul.nav-sub a[href^='/c/shoes/']")`) {
			t.Error("Shoes leads the menu without its submenu")
		}
		rv := blockOn(t, me, "recently-viewed")
		if rv == nil || rv.Title != "Recently viewed" {
			t.Fatalf("home page: recently viewed %+v", rv)
		}
		for _, p := range viewed {
			if !slices.Contains(rv.Products, p) {
				t.Errorf("Recently viewed %v lacks %s", rv.Products, p)
			}
		}
		if !js[bool](t, me, `document.querySelector('[data-se-block="recently-viewed"]').nextElementSibling.id==="bestsellers"`) {
			t.Error("Recently viewed is not above the bestsellers")
		}
		// Popular right now, or Trending now for the half of visitors in
		// the other arm of the demo's popular-vs-trending experiment.
		pop := blockOn(t, me, "popular")
		if pop == nil || (pop.Title != "Popular right now" && pop.Title != "Trending now") || len(pop.Products) < 3 {
			t.Fatalf("home page: popular %+v", pop)
		}
		if !js[bool](t, me, `document.querySelector('[data-se-block="popular"]').previousElementSibling.id==="new-in"`) {
			t.Error("the popular block is not at the end, after New in")
		}
		t.Logf("home page: %q, %q; the menu %v", rv.Title, pop.Title, menu(t, me))
		screenshot(t, me, "home", `[data-se-block="recently-viewed"]`)

		// Search for grey: the grey product viewed first, then Shoes.
		act(t, me, chromedp.SetValue("#q", "grey", chromedp.ByQuery), chromedp.Submit("#q", chromedp.ByQuery), chromedp.WaitReady(".search-results"))
		got := paths(t, me, ".search-results > .grid article.product-card")
		if len(got) != len(shopGrey) || len(got) < 2 || got[0] != viewed[0] {
			t.Fatalf("search grey: %v, want %s first (of the shop's %d)", got, viewed[0], len(shopGrey))
		}
		if !inCategory(cat, got[1], "shoes") {
			t.Errorf("search grey: second %s is not a shoe", got[1])
		}
		if slices.Equal(got, shopGrey) {
			t.Error("search grey: the shop's own order")
		}
		screenshot(t, me, "search", ".search-results")
	})

	t.Run("a new visitor", func(t *testing.T) {
		other := headless.Private(t, browser)
		open(t, other, d.url+"/")
		if got := menu(t, other); !slices.Equal(got, shopMenu) {
			t.Errorf("a new visitor's menu %v, want the shop's %v", got, shopMenu)
		}
		if b := blockOn(t, other, "recently-viewed"); b != nil {
			t.Errorf("a new visitor sees %+v", b)
		}
		open(t, other, d.url+"/search?q=grey")
		if got := paths(t, other, ".search-results > .grid article.product-card"); !slices.Equal(got, shopGrey) {
			t.Errorf("a new visitor's results for grey %v, want the shop's %v", got, shopGrey)
		}
	})

	var item *shop.Product
	t.Run("exit intent, free shipping, the cart", func(t *testing.T) {
		me = d.exitOffer(t, top, me, "/p/classic-grey-sport-sandals-se-10201", "exit-offer")
		item = cheap(t, cat, 60, "")
		addToCart(t, me, d.url, item)
		act(t, me, chromedp.Reload(), chromedp.WaitReady("body"))
		want := fmt.Sprintf("Add €%.2f more for free shipping", 60-item.Price)
		if got := js[string](t, me, `(document.querySelector('[data-se-banner="free-shipping"]')||{}).textContent||""`); got != want {
			t.Errorf("free shipping banner %q, want %q", got, want)
		}
		screenshot(t, me, "free-shipping", "")
		act(t, me, chromedp.Click(`a.cart-link`, chromedp.ByQuery), chromedp.WaitReady(".listing-head"))
		if !js[bool](t, me, fmt.Sprintf(`!!document.querySelector('tr.cart-line[data-sku=%q]')`, item.SKU)) {
			t.Fatalf("the cart does not hold %s", item.Name)
		}
		b := blockOn(t, me, "also-bought")
		if b == nil || b.Title != "Often bought together" || len(b.Products) == 0 || slices.Contains(b.Products, item.URL()) {
			t.Errorf("the cart page offers %+v", b)
		}
		screenshot(t, me, "cart", `[data-se-block="also-bought"]`)
		// Within the same visit, the home page does not remind of the cart.
		open(t, me, d.url+"/")
		if js[bool](t, me, `!!document.querySelector('dialog[data-se-overlay="cart-reminder"]')`) {
			t.Error("the cart reminder came within the visit")
		}
	})

	t.Run("the cart reminder, more than half an hour later", func(t *testing.T) {
		d.clock.Advance(31 * time.Minute)
		open(t, me, d.url+"/")
		cartReminder(t, me, item)
		act(t, me, chromedp.KeyEvent("\u001b"))
	})

	t.Run("a returning customer", func(t *testing.T) {
		open(t, me, d.url+"/cart")
		act(t, me, chromedp.Click(`.cart-summary a.btn`, chromedp.ByQuery), chromedp.WaitReady(".checkout-form"))
		for field, v := range map[string]string{"first": "Ada", "last": "Lovelace", "email": "ada@example.com", "address": "1 Loop Road", "postcode": "12345", "city": "Leeds"} {
			act(t, me, chromedp.SetValue(`.checkout-form [name="`+field+`"]`, v, chromedp.ByQuery))
		}
		act(t, me, chromedp.Click(`.checkout-form button[type=submit]`, chromedp.ByQuery))
		if !waitFor(t, me, `location.pathname==="/checkout/thank-you"&&document.readyState!=="loading"`, 5*time.Second) {
			t.Fatalf("Place order did not lead to the thank-you page: %s", js[string](t, me, `location.href`))
		}
		d.clock.Advance(31 * time.Minute) // a new visit
		open(t, me, d.url+"/")
		if b := blockOn(t, me, "picked-for-you"); b == nil || b.Title != "Picked for you" || len(b.Products) == 0 {
			t.Fatalf("the returning customer's home page: picked for you %+v", b)
		}
		if b := blockOn(t, me, "recently-viewed"); b != nil {
			t.Errorf("the returning customer still gets %+v", b)
		}
		if !js[bool](t, me, `document.querySelector('[data-se-block="picked-for-you"]').nextElementSibling.id==="bestsellers"`) {
			t.Error("Picked for you is not where Recently viewed was")
		}
		screenshot(t, me, "picked-for-you", `[data-se-block="picked-for-you"]`)
	})

	t.Run("a campaign", func(t *testing.T) {
		reader := headless.Private(t, browser)
		open(t, reader, d.url+"/?utm_source=newsletter")
		const hello = "Hello, newsletter reader: new arrivals are in this week."
		if got := js[string](t, reader, `document.querySelector(".hero h1").textContent`); got != hello {
			t.Errorf("the newsletter's headline %q, want %q", got, hello)
		}
		if got := js[string](t, reader, `document.querySelector(".hero a.btn").getAttribute("href")`); !strings.Contains(got, "utm_source=newsletter") {
			t.Errorf("the hero's first button leads to %q, without the campaign", got)
		}
		screenshot(t, reader, "campaign", "")
		open(t, reader, d.url+"/") // the rest of the visit
		if got := js[string](t, reader, `document.querySelector(".hero h1").textContent`); got != hello {
			t.Errorf("later in the visit, the headline %q", got)
		}
		plain := headless.Private(t, browser)
		open(t, plain, d.url+"/")
		if got := js[string](t, plain, `document.querySelector(".hero h1").textContent`); got != shopHero {
			t.Errorf("without the parameter the headline %q, want the shop's %q", got, shopHero)
		}
	})

	t.Run("the phone's offer", func(t *testing.T) {
		phone := headless.Private(t, browser)
		headless.Phone(t, phone)
		open(t, phone, d.url+"/p/everyday-grey-ankle-boots-se-10187")
		if !js[bool](t, phone, `matchMedia("(pointer: coarse)").matches`) {
			t.Fatal("the phone has no coarse pointer")
		}
		if js[bool](t, phone, `!!document.querySelector('dialog[data-se-overlay="exit-offer"]')`) {
			t.Error("the phone got the computer's exit offer")
		}
		// Scroll down, wait the three seconds, flick back up fast: touch
		// gestures, as a finger makes them.
		act(t, phone, chromedp.Evaluate(`window.__scrolls=[];addEventListener("scroll",function(){__scrolls.push([Math.round(scrollY),Math.round(performance.now())])},{passive:true})`, nil))
		act(t, phone, swipe(700, 100, 12), swipe(700, 100, 12), swipe(700, 100, 12))
		waitDwell(t, phone, "exit-offer-mobile")
		if dialogOpen(t, phone, "exit-offer-mobile") {
			t.Fatal("the phone's offer opened before the flick up")
		}
		act(t, phone, swipe(100, 800, 3))
		if !waitDialog(t, phone, "exit-offer-mobile") {
			t.Fatalf("a fast scroll back up did not open the phone's offer; scroll events (y, ms): %v", js[[][]float64](t, phone, `window.__scrolls`))
		}
		if got := dialogTitle(t, phone, "exit-offer-mobile"); got != "Leaving already?" {
			t.Errorf("the phone's offer titled %q", got)
		}
		screenshot(t, phone, "phone-offer", "")

		// A first visit to a category page: the invitation at 70% read.
		first := headless.Private(t, browser)
		headless.Phone(t, first)
		open(t, first, d.url+"/c/shoes")
		scrollTo(t, first, "(document.documentElement.scrollHeight-innerHeight)*0.3")
		if dialogOpen(t, first, "new-arrivals") {
			t.Fatal("the sign-up invitation opened at 30% of the page")
		}
		scrollTo(t, first, "(document.documentElement.scrollHeight-innerHeight)*0.8")
		if !waitDialog(t, first, "new-arrivals") {
			t.Fatal("no sign-up invitation at 80% of a first visit's category page")
		}
		if got := dialogTitle(t, first, "new-arrivals"); got != "New arrivals first" {
			t.Errorf("the invitation titled %q", got)
		}
	})

	t.Run("a preview link from the admin listener", func(t *testing.T) {
		var link struct{ Link string }
		body := d.adminDo(t, http.MethodPost, "/preview", url.Values{"segment": {"returning-customers"}})
		if err := json.Unmarshal(body, &link); err != nil || !strings.HasPrefix(link.Link, d.url+"/") {
			t.Fatalf("POST /preview answered %s (%v), want a link to %s", body, err, d.url)
		}
		pv := headless.Private(t, browser)
		open(t, pv, link.Link)
		if !waitFor(t, pv, `!!document.querySelector(".se-preview")`, 3*time.Second) {
			t.Fatalf("no preview badge at %s", js[string](t, pv, `location.href`))
		}
		if got := js[string](t, pv, `document.querySelector(".se-preview").textContent`); !strings.Contains(got, "preview: returning-customers") {
			t.Errorf("the badge says %q", got)
		}
		if b := blockOn(t, pv, "picked-for-you"); b == nil || b.Title != "Picked for you" {
			t.Errorf("previewed as a returning customer, the home page has %+v", b)
		}
		screenshot(t, pv, "preview", `[data-se-block="picked-for-you"]`)
	})

	t.Run("the console after the walk-through", func(t *testing.T) {
		// The session the link started is still on (12 hours), and the
		// Overview counts the walk-through's requests.
		open(t, ops, d.admin+"/")
		if got := js[string](t, ops, `document.querySelector("main h1").textContent`); got != "Overview" {
			t.Fatalf("the console shows %q at %s", got, js[string](t, ops, `location.href`))
		}
		if n := js[string](t, ops, `document.getElementById("requests").textContent`); n == "" || n == "0" {
			t.Errorf("the Overview counts %q requests after the walk-through", n)
		}
		screenshot(t, ops, "console", "")
		// Once: the same link in another window signs nobody in; the
		// token does, through the form.
		again := headless.Private(t, browser)
		open(t, again, d.once)
		if got := js[string](t, again, `document.querySelector("main h1").textContent`); got == "Overview" {
			t.Fatal("the one-time link signed in twice")
		}
		act(t, again, chromedp.SetValue(`form input[name="token"]`, d.token, chromedp.ByQuery), chromedp.Submit(`form input[name="token"]`, chromedp.ByQuery))
		if !waitFor(t, again, `location.pathname==="/"&&!!document.querySelector("main h1")&&document.querySelector("main h1").textContent==="Overview"`, 5*time.Second) {
			t.Errorf("signing in with the admin token led to %s", js[string](t, again, `location.href`))
		}
	})
}

// TestTryItCartReminderRecipe follows the README's recipe for seeing the
// cart reminder without waiting half an hour: my-demo.yaml, made from
// configs/demo.yaml as the README says (the test reads the recipe from
// the README), and the demo started with -config. After the exit offer
// and an item in the cart, a visit gap later (the demo's clock moved on
// by it), the home page reminds of the cart.
func TestTryItCartReminderRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser walk-through of the demo")
	}
	headless.Find(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	demoYAML, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	recipe := regexp.MustCompile("To wait a minute instead, copy\\s+`configs/demo.yaml` to `my-demo.yaml`, add a section\\s+```yaml\n((?s:.*?))```\\s+and change `([^`]+)` under `overlays:` to `([^`]+)`").FindSubmatch(readme)
	if recipe == nil {
		t.Fatal("README.md: no my-demo.yaml recipe in Try it")
	}
	section, from, to := string(recipe[1]), string(recipe[2]), string(recipe[3])
	gap := regexp.MustCompile(`visit_gap: (\S+)`).FindStringSubmatch(section)
	if gap == nil || strings.Count(string(demoYAML), "\n  "+from+"\n") != 1 {
		t.Fatalf("the recipe (%q, %q → %q) does not fit configs/demo.yaml", section, from, to)
	}
	visitGap, err := time.ParseDuration(gap[1])
	if err != nil {
		t.Fatal(err)
	}
	mine := strings.Replace(string(demoYAML), "\n  "+from+"\n", "\n  "+to+"\n", 1) + "\n" + section
	file := filepath.Join(t.TempDir(), "my-demo.yaml")
	if err := os.WriteFile(file, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}

	d := startDemo(t, "-config", file)
	cat := shop.New(1).Catalog
	me := headless.Private(t, headless.Start(t, 60*time.Second))
	me = d.exitOffer(t, t, me, "/p/everyday-grey-slide-sandals-se-10198", "recipe-exit-offer")
	item := cheap(t, cat, 60, "")
	addToCart(t, me, d.url, item)
	open(t, me, d.url+"/")
	if js[bool](t, me, `!!document.querySelector('dialog[data-se-overlay="cart-reminder"]')`) {
		t.Error("the cart reminder came within the visit")
	}
	d.clock.Advance(visitGap + time.Second)
	open(t, me, d.url+"/")
	cartReminder(t, me, item)
	screenshot(t, me, "cart-reminder", "")
}

// TestServePrintsNoSignInLink: serve, whose output ends up in a service's
// log, says where the console is and prints neither a one-time sign-in
// link nor the token; the demo prints both (TestTryIt reads them).
func TestServePrintsNoSignInLink(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const token = "serve-console-token-0123456789"
	cfg := filepath.Join(t.TempDir(), "shop.yaml")
	if err := os.WriteFile(cfg, []byte("upstream:\n  url: http://127.0.0.1:1\nserver:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, []string{"SHOPEDGE_SECRET=0123456789abcdef0123456789abcdef0123", "SHOPEDGE_ADMIN_TOKEN=" + token}, "serve", "-config", cfg, "-watch=false")
	p.waitFor(t, `^console: http://127\.0\.0\.1:\d+/  \(sign in with the admin token\)$`)
	p.waitFor(t, `msg=started`)
	p.mu.Lock()
	out := p.log.String()
	p.mu.Unlock()
	if strings.Contains(out, "once=") || strings.Contains(out, token) {
		t.Errorf("serve printed a sign-in secret:\n%s", out)
	}
}
