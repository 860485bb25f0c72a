package browsertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shopedge/bench/shop"
	"shopedge/proxy"
	"shopedge/proxy/proxytest"
	"shopedge/rules"
)

// env is the demo shop behind shopedge with the demo configuration, both
// on loopback (proxytest), the exit offer's dwell time shortened.
type env struct {
	url  string // shopedge
	shop *shop.Shop
	// clock is the proxy's time, which a test moves forward to start a
	// new visit without waiting half an hour.
	clock *proxytest.Clock
}

// The exit offer's dwell time in these tests (3s in the demo): long enough
// for a test that leaves before it is over (TestExitIntentDesktop) to do
// so; short for the others, which wait for the page to pass it
// (waitDwell).
const (
	dwellShort = 200 * time.Millisecond
	dwellLong  = 1500 * time.Millisecond
)

func newEnv(t *testing.T, csp bool) *env { return newEnvWith(t, csp, nil) }

// newEnvWith is newEnv with the demo configuration changed by mutate
// (after the dwell is shortened, so mutate may set its own).
func newEnvWith(t *testing.T, csp bool, mutate func(*rules.Config)) *env {
	t.Helper()
	c := &proxytest.Clock{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := proxytest.Start(t, proxytest.Options{
		Shop: proxytest.ShopOptions{CSP: csp},
		Mutate: func(cfg *rules.Config) {
			setDwell(cfg, dwellShort)
			if mutate != nil {
				mutate(cfg)
			}
		},
	}, func(cfg *proxytest.Config) (*proxy.Proxy, error) {
		compiled, err := rules.Compile(cfg)
		if err != nil {
			return nil, err
		}
		return proxy.New(compiled, proxy.Options{Keys: proxytest.Keys(), Now: c.Now, Logger: log})
	})
	return &env{url: h.URL, shop: h.Shop.Shop, clock: c}
}

// setDwell sets the dwell time of every exit intent overlay.
func setDwell(cfg *rules.Config, d time.Duration) {
	for i := range cfg.Overlays.Rules {
		if r := &cfg.Overlays.Rules[i]; r.Kind == rules.OverlayExitIntent {
			r.Dwell = rules.Duration(d)
		}
	}
}

// profileDir makes the browser's profile directory, removed after the
// test (the browser may still be writing to it when t.TempDir cleans up).
func profileDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shopedge-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return dir
}

// chromium finds the browser, or skips the test (fails it under CI).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SHOPEDGE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: .ci/run installs Debian's chromium")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium)")
	return ""
}

// browser starts a fresh headless browser (its own profile: no cookies),
// and returns its context. mobile emulates a phone with touch.
func browser(t *testing.T, mobile bool) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profileDir(t)),
	)
	if mobile {
		opts = append(opts, chromedp.UserAgent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36"))
	} else {
		opts = append(opts, chromedp.UserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {})) // the browser's newer events chromedp does not know
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Collect CSP violations, and anything else the page reports, from the
	// first script on.
	watch := `window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});`
	actions := []chromedp.Action{chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(watch).Do(ctx)
		return err
	})}
	if mobile {
		actions = append(actions,
			emulation.SetDeviceMetricsOverride(412, 915, 2.625, true),
			emulation.SetTouchEmulationEnabled(true).WithMaxTouchPoints(5),
		)
	}
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	var v T
	run(t, ctx, chromedp.Evaluate(expr, &v))
	return v
}

// screenshot saves the viewport under artifacts/.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if !waitFor(t, ctx, `document.getAnimations().every(function(a){return a.animationName!=="se-ov-in"||a.playState==="finished"})`, 2*time.Second) {
		t.Logf("screenshot %s: the dialog's fade-in still runs", name)
	}
	run(t, ctx, chromedp.CaptureScreenshot(&png))
	dir := "artifacts"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dialogOpen reports whether the overlay with id is showing.
func dialogOpen(t *testing.T, ctx context.Context, id string) bool {
	return eval[bool](t, ctx, fmt.Sprintf(`(function(){var d=document.querySelector('dialog[data-se-overlay=%q]');return !!(d&&d.open)})()`, id))
}

// waitFor polls a JavaScript condition until it holds or time runs out.
func waitFor(t *testing.T, ctx context.Context, expr string, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if eval[bool](t, ctx, expr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// waitDwell waits until the page has been open longer than the exit
// offer's dwell time: the page's script starts counting no later than
// DOMContentLoaded, and the dialog carries the dwell (data-se-ms).
func waitDwell(t *testing.T, ctx context.Context, overlay string) {
	t.Helper()
	over := `(function(){var d=document.querySelector('dialog[data-se-overlay="` + overlay + `"]'),n=performance.getEntriesByType("navigation")[0];` +
		`return !!d&&!!n&&n.domContentLoadedEventStart>0&&performance.now()-n.domContentLoadedEventStart>parseInt(d.getAttribute("data-se-ms"),10)+50})()`
	if !waitFor(t, ctx, over, 10*time.Second) {
		t.Fatal("the exit offer's dwell time did not pass")
	}
}

// watchScroll records, in window.__scrollY, where the last scroll event
// the page handled left it: the listener comes after the page's own, so
// when it has seen a scroll, so have they.
func watchScroll(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate(`window.__scrollY=-1;window.addEventListener("scroll",function(){window.__scrollY=window.scrollY},{passive:true})`, nil))
}

// scrollTo scrolls the page to y (an expression) and waits until the
// page's scroll listeners have handled it.
func scrollTo(t *testing.T, ctx context.Context, y string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate(`window.__scrollY=-1;window.scrollTo(0,`+y+`)`, nil))
	if !waitFor(t, ctx, `window.__scrollY>=0`, 2*time.Second) {
		t.Fatalf("no scroll event after scrolling to %s", y)
	}
}

// leaveThroughTop moves the pointer into the page, then up and out of
// the window, as a visitor heading for the tab bar does.
func leaveThroughTop(ctx context.Context) error {
	for _, y := range []float64{400, 200, 60, 10, 0, -5} {
		if err := input.DispatchMouseEvent(input.MouseMoved, 640, y).Do(ctx); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// cheapProduct returns an in-stock product of the demo shop that costs
// less than free shipping needs.
func cheapProduct(t *testing.T, s *shop.Shop, below float64) *shop.Product {
	t.Helper()
	for _, p := range s.Catalog.Products {
		if p.InStock && p.Price < below-5 && p.Price > 5 {
			return p
		}
	}
	t.Fatal("no cheap product in the demo catalog")
	return nil
}

func TestExitIntentDesktop(t *testing.T) {
	e := newEnvWith(t, false, func(c *rules.Config) { setDwell(c, dwellLong) })
	ctx := browser(t, false)
	product := e.shop.Catalog.Products[3].URL()
	run(t, ctx, chromedp.Navigate(e.url+product), chromedp.WaitReady("body"))
	if dialogOpen(t, ctx, "exit-offer") {
		t.Fatal("the exit offer shows before any exit")
	}
	if eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="exit-offer-mobile"]')`) {
		t.Error("the computer got the phone's exit offer")
	}
	// Before the dwell time (dwellLong here, 3 s in the demo), leaving
	// does nothing.
	run(t, ctx, chromedp.ActionFunc(leaveThroughTop))
	if dialogOpen(t, ctx, "exit-offer") {
		t.Fatal("the exit offer showed before the dwell time")
	}
	waitDwell(t, ctx, "exit-offer")
	run(t, ctx, chromedp.ActionFunc(leaveThroughTop))
	if !waitFor(t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer"]').open`, 2*time.Second) {
		t.Fatal("the exit offer did not show when the pointer left through the top")
	}
	if got := eval[string](t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer"] .se-ov-code').textContent`); got != "WELCOME10" {
		t.Errorf("offer code %q", got)
	}
	if !eval[bool](t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer"]').contains(document.activeElement)`) {
		t.Error("focus did not move into the dialog")
	}
	screenshot(t, ctx, "exit-intent-desktop")

	// Esc closes it, focus leaves the dialog, and the dismissal sticks.
	run(t, ctx, chromedp.KeyEvent("\u001b"))
	if !waitFor(t, ctx, `!document.querySelector('dialog[data-se-overlay="exit-offer"]').open`, 2*time.Second) {
		t.Fatal("Esc did not close the exit offer")
	}
	// The dialog's close event, which the script handles, comes in a task
	// of its own after the dialog closed: wait for what it does.
	if !waitFor(t, ctx, `!document.querySelector('dialog[data-se-overlay="exit-offer"]').contains(document.activeElement)`, 2*time.Second) {
		t.Error("focus stayed in the closed dialog")
	}
	if !waitFor(t, ctx, `document.cookie.indexOf("se_dis_exit-offer=1") >= 0`, 2*time.Second) {
		t.Error("the dismissal was not remembered")
	}
	// Within the cap it does not come back: not on this page, not on the next.
	run(t, ctx, chromedp.ActionFunc(leaveThroughTop))
	if dialogOpen(t, ctx, "exit-offer") {
		t.Fatal("the exit offer came back on the same page")
	}
	run(t, ctx, chromedp.Navigate(e.url+e.shop.Catalog.Products[4].URL()), chromedp.WaitReady("body"))
	if eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="exit-offer"]')`) {
		t.Error("the next page carries the dismissed exit offer")
	}
	if v := eval[[]string](t, ctx, `window.__violations`); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

func TestAbandonedCartAndFreeShipping(t *testing.T) {
	e := newEnv(t, false)
	ctx := browser(t, false)
	prod := cheapProduct(t, e.shop, 60)
	run(t, ctx, chromedp.Navigate(e.url+prod.URL()), chromedp.WaitReady("body"))
	// The demo's add-to-cart posts with fetch and shows a toast.
	run(t, ctx, chromedp.Click(`form[data-add-to-cart] button`, chromedp.ByQuery))
	if !waitFor(t, ctx, `document.getElementById("toast").className.indexOf("show") >= 0`, 5*time.Second) {
		t.Fatal("the product was not added to the cart")
	}
	run(t, ctx, chromedp.Reload(), chromedp.WaitReady("body"))
	want := fmt.Sprintf("Add €%.2f more for free shipping", 60-prod.Price)
	if got := eval[string](t, ctx, `(document.querySelector('[data-se-banner="free-shipping"]')||{}).textContent||""`); got != want {
		t.Errorf("free shipping banner %q, want %q", got, want)
	}
	screenshot(t, ctx, "free-shipping-banner")

	// A later visit: the reminder lists what is in the cart.
	e.clock.Advance(2 * time.Hour)
	run(t, ctx, chromedp.Navigate(e.url+"/"), chromedp.WaitReady("body"))
	if !waitFor(t, ctx, `(function(){var d=document.querySelector('dialog[data-se-overlay="cart-reminder"]');return !!(d&&d.open)})()`, 3*time.Second) {
		t.Fatal("no cart reminder on the returning visitor's home page")
	}
	if got := eval[string](t, ctx, `document.querySelector('dialog[data-se-overlay="cart-reminder"] .se-ov-item').textContent`); !strings.Contains(got, prod.Name) || !strings.Contains(got, fmt.Sprintf("€%.2f", prod.Price)) {
		t.Errorf("reminder lists %q, want %s at €%.2f", got, prod.Name, prod.Price)
	}
	if got := eval[string](t, ctx, `document.querySelector('dialog[data-se-overlay="cart-reminder"] .se-ov-cta').getAttribute("href")`); got != "/cart" {
		t.Errorf("reminder links to %q", got)
	}
	screenshot(t, ctx, "abandoned-cart")
	// A click on the dialog's padding is not a click on the backdrop.
	pad := eval[[]float64](t, ctx, `(function(){var r=document.querySelector('dialog[data-se-overlay="cart-reminder"]').getBoundingClientRect();return [r.left+6,r.bottom-6]})()`)
	// The test's listener on the document hears the click after the
	// dialog's own.
	run(t, ctx, chromedp.Evaluate(`window.__clicks=0;document.addEventListener("click",function(){window.__clicks++})`, nil))
	run(t, ctx, chromedp.MouseClickXY(pad[0], pad[1]))
	if !waitFor(t, ctx, `window.__clicks>0`, 2*time.Second) {
		t.Fatal("the click on the dialog's padding did not arrive")
	}
	if !dialogOpen(t, ctx, "cart-reminder") {
		t.Fatal("a click inside the dialog closed it")
	}
	// The close button dismisses it.
	run(t, ctx, chromedp.Click(`dialog[data-se-overlay="cart-reminder"] .se-ov-close`, chromedp.ByQuery))
	if !waitFor(t, ctx, `!document.querySelector('dialog[data-se-overlay="cart-reminder"]').open`, 2*time.Second) {
		t.Error("the close button did not close the reminder")
	}
}

func TestStrictCSPWithNonce(t *testing.T) {
	e := newEnv(t, true)
	ctx := browser(t, false)
	run(t, ctx, chromedp.Navigate(e.url+e.shop.Catalog.Products[5].URL()), chromedp.WaitReady("body"))
	if !eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="exit-offer"]')`) {
		t.Fatal("no exit offer on the page with a CSP nonce")
	}
	nonces := eval[[]string](t, ctx, `[document.querySelector('script[src^="/_shopedge/"]').nonce, document.querySelector('link[href^="/_shopedge/"]').nonce, document.querySelector('style').nonce]`)
	if nonces[0] == "" || nonces[0] != nonces[2] || nonces[1] != nonces[2] {
		t.Errorf("nonces script %q, stylesheet %q, the shop's style %q", nonces[0], nonces[1], nonces[2])
	}
	waitDwell(t, ctx, "exit-offer")
	run(t, ctx, chromedp.ActionFunc(leaveThroughTop))
	if !waitFor(t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer"]').open`, 2*time.Second) {
		t.Fatal("the exit offer did not show under the shop's CSP")
	}
	// The stylesheet applied: the dialog has the theme's radius.
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('dialog.se-ov')).borderTopLeftRadius`); got != "14px" {
		t.Errorf("the stylesheet did not apply: radius %q", got)
	}
	screenshot(t, ctx, "exit-intent-csp")
	// A click on the backdrop closes it.
	run(t, ctx, chromedp.MouseClickXY(8, 400))
	if !waitFor(t, ctx, `!document.querySelector('dialog[data-se-overlay="exit-offer"]').open`, 2*time.Second) {
		t.Error("a click on the backdrop did not close the dialog")
	}
	if v := eval[[]string](t, ctx, `window.__violations`); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

func TestExitIntentMobile(t *testing.T) {
	e := newEnv(t, false)
	ctx := browser(t, true)
	run(t, ctx, chromedp.Navigate(e.url+e.shop.Catalog.Products[6].URL()), chromedp.WaitReady("body"))
	if !eval[bool](t, ctx, `matchMedia("(pointer: coarse)").matches`) {
		t.Fatal("the phone emulation has no coarse pointer")
	}
	waitDwell(t, ctx, "exit-offer-mobile")
	// The phone gets the demo's mobile offer (segment mobile-prospects),
	// not the computer's (desktop-prospects).
	if eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="exit-offer"]')`) {
		t.Error("the phone got the desktop exit offer")
	}
	// Read down the page, then flick back up fast.
	watchScroll(t, ctx)
	scrollTo(t, ctx, "1600")
	run(t, ctx, chromedp.Evaluate(`window.scrollTo(0, 0)`, nil))
	if !waitFor(t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer-mobile"]').open`, 2*time.Second) {
		t.Fatal("a fast scroll up did not show the exit offer on the phone")
	}
	if got := eval[string](t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer-mobile"]').getAttribute("data-se-shown-by")`); got != "exit-scroll" {
		t.Errorf("shown by %q, want exit-scroll", got)
	}
	screenshot(t, ctx, "exit-intent-mobile")
}

func TestBackButtonTrap(t *testing.T) {
	e := newEnv(t, false)
	ctx := browser(t, true)
	first := e.url + e.shop.Catalog.Products[7].URL()
	second := e.url + e.shop.Catalog.Products[8].URL()
	run(t, ctx, chromedp.Navigate(first), chromedp.WaitReady("body"), chromedp.Navigate(second), chromedp.WaitReady("body"))
	waitDwell(t, ctx, "exit-offer-mobile")
	entries := eval[int](t, ctx, `history.length`)
	// A tap (on the product's title: no link there) arms the trap
	// (browsers ignore history entries added without a gesture); the first
	// back shows the offer, the second leaves.
	xy := eval[[]float64](t, ctx, `(function(){document.querySelector(".product h1").scrollIntoView({block:"center"});var r=document.querySelector(".product h1").getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()`)
	run(t, ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		pts := []*input.TouchPoint{{X: xy[0], Y: xy[1]}}
		if err := input.DispatchTouchEvent(input.TouchStart, pts).Do(ctx); err != nil {
			return err
		}
		return input.DispatchTouchEvent(input.TouchEnd, nil).Do(ctx)
	}))
	if !waitFor(t, ctx, fmt.Sprintf(`history.length>%d`, entries), 2*time.Second) {
		t.Fatal("the tap did not arm the trap: no history entry added")
	}
	run(t, ctx, chromedp.Evaluate(`history.back()`, nil))
	if !waitFor(t, ctx, `(function(){var d=document.querySelector('dialog[data-se-overlay="exit-offer-mobile"]');return !!(d&&d.open)})()`, 2*time.Second) {
		t.Fatal("back did not show the exit offer")
	}
	if got := eval[string](t, ctx, `document.querySelector('dialog[data-se-overlay="exit-offer-mobile"]').getAttribute("data-se-shown-by")`); got != "exit-back" {
		t.Errorf("shown by %q, want exit-back", got)
	}
	var url string
	run(t, ctx, chromedp.Location(&url))
	if url != second {
		t.Fatalf("the first back left the page: at %s", url)
	}
	run(t, ctx, chromedp.KeyEvent("\u001b"), chromedp.Evaluate(`history.back()`, nil))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		run(t, ctx, chromedp.Location(&url))
		if url == first {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("the second back did not leave: at %s, want %s", url, first)
}

func TestScrollDepth(t *testing.T) {
	e := newEnv(t, false)
	ctx := browser(t, false)
	category := e.url + "/c/shoes"
	// A new visitor's category page has the newsletter invitation (before
	// the exit offer there: the demo's priority 15 over 10), shown when
	// reading far enough down.
	run(t, ctx, chromedp.Navigate(category), chromedp.WaitReady("body"))
	if !eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="new-arrivals"]')`) {
		t.Fatal("no newsletter invitation on a new visitor's category page")
	}
	watchScroll(t, ctx)
	scrollTo(t, ctx, "(document.documentElement.scrollHeight - innerHeight) * 0.3")
	if dialogOpen(t, ctx, "new-arrivals") {
		t.Fatal("shown at 30% of the page; the demo asks for 70%")
	}
	run(t, ctx, chromedp.Evaluate(`window.scrollTo(0, (document.documentElement.scrollHeight - innerHeight) * 0.8)`, nil))
	if !waitFor(t, ctx, `document.querySelector('dialog[data-se-overlay="new-arrivals"]').open`, 2*time.Second) {
		t.Fatal("not shown at 80% of the page")
	}
	screenshot(t, ctx, "scroll-depth")
	// The link is the way on: a click counts, and the dialog stays away.
	run(t, ctx, chromedp.Click(`dialog[data-se-overlay="new-arrivals"] .se-ov-cta`, chromedp.ByQuery), chromedp.WaitReady("body"))
	var url string
	run(t, ctx, chromedp.Location(&url))
	if !strings.Contains(url, "/account") {
		t.Errorf("the button led to %s", url)
	}
	run(t, ctx, chromedp.Navigate(category), chromedp.WaitReady("body"))
	if eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="new-arrivals"]')`) {
		t.Error("the invitation came back after it was used")
	}
}

func TestTimedDeal(t *testing.T) {
	e := newEnvWith(t, false, func(c *rules.Config) {
		c.Overlays.Rules = append(c.Overlays.Rules, rules.Overlay{
			ID: "deal", Kind: rules.OverlayTimed, Pages: []rules.PageType{rules.PageHome},
			Title: "Today only", Text: "15% off all rain gear.", Code: "RAIN15",
			Delay: rules.Duration(time.Second),
			Cap:   rules.Cap{PerVisit: 1, PerDay: 2, DismissFor: rules.Duration(time.Hour)},
		})
	})
	ctx := browser(t, false)
	run(t, ctx, chromedp.Navigate(e.url+"/"), chromedp.WaitReady("body"))
	if dialogOpen(t, ctx, "deal") {
		t.Fatal("the timed deal showed at once")
	}
	if !waitFor(t, ctx, `(function(){var d=document.querySelector('dialog[data-se-overlay="deal"]');return !!(d&&d.open)})()`, 3*time.Second) {
		t.Fatal("the timed deal did not show after its delay")
	}
	screenshot(t, ctx, "timed-deal")
}

// TestBaseElsewhere: on a shop page whose <base href> points at another
// host (a CDN that has none of shopedge's files), the stylesheet and the
// script still load, from the proxy, and the stylesheet applies; the
// recommendation block's links and images and the overlay's button lead
// to the shop through the proxy, not to the CDN (issue 9).
func TestBaseElsewhere(t *testing.T) {
	var cdnHits sync.Map // paths asked of the CDN
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnHits.Store(r.URL.Path, true)
		http.NotFound(w, r)
	}))
	t.Cleanup(cdn.Close)
	base := cdn.URL + "/static/"
	shopSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/p/")
		if strings.HasPrefix(r.URL.Path, "/img/") {
			w.Header().Set("Content-Type", "image/svg+xml")
			fmt.Fprint(w, `<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>`)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><base href="%s"><title>%s</title>`+
			`<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":%q,"image":"/img/%s.svg","offers":{"@type":"Offer","price":"50","priceCurrency":"EUR","availability":"https://schema.org/InStock"}}</script>`+
			`</head><body><main id="main"><div class="product"><h1>%s</h1><div class="price">€50</div></div></main></body></html>`, base, name, name, name, name)
	}))
	t.Cleanup(shopSrv.Close)
	e := newEnvWith(t, false, func(c *rules.Config) {
		c.Upstream.URL = shopSrv.URL
		for i := range c.Overlays.Rules {
			if r := &c.Overlays.Rules[i]; r.ID == "exit-offer" {
				r.Button, r.Link = "See the sale", "/c/sale"
			}
		}
	})

	ctx := browser(t, false)
	// Socks first: viewed in this visit, they are what the boots' block
	// shows.
	run(t, ctx, chromedp.Navigate(e.url+"/p/socks"), chromedp.WaitReady("body"))
	run(t, ctx, chromedp.Navigate(e.url+"/p/boots"), chromedp.WaitReady("body"))
	if got := eval[string](t, ctx, `document.baseURI`); got != base {
		t.Fatalf("document.baseURI %q, want %q", got, base)
	}
	if !eval[bool](t, ctx, `!!document.querySelector('dialog[data-se-overlay="exit-offer"]')`) {
		t.Fatal("no exit offer on the page")
	}
	// The stylesheet applied: the dialog has the theme's radius.
	if !waitFor(t, ctx, `getComputedStyle(document.querySelector('dialog.se-ov')).borderTopLeftRadius === "14px"`, 3*time.Second) {
		t.Errorf("the stylesheet did not apply: radius %q", eval[string](t, ctx, `getComputedStyle(document.querySelector('dialog.se-ov')).borderTopLeftRadius`))
	}
	// Both came from the proxy, with a 200.
	for _, file := range []string{"shopedge.css", "shopedge.js"} {
		expr := fmt.Sprintf(`performance.getEntriesByType("resource").some(function(r){return r.name.indexOf(%q)===0&&r.name.indexOf(%q)>0&&r.responseStatus===200})`, e.url+"/_shopedge/", file)
		if !waitFor(t, ctx, expr, 3*time.Second) {
			t.Errorf("%s not loaded from %s: %v", file, e.url, eval[[]string](t, ctx, `performance.getEntriesByType("resource").map(function(r){return r.name+" "+r.responseStatus})`))
		}
	}
	// What the browser resolves the proxy's links and images to.
	for _, c := range []struct{ what, expr, want string }{
		{"block link", `(document.querySelector('[data-se-block="also-viewed"] a')||{}).href`, e.url + "/p/socks?se_rec=also-viewed"},
		{"block image", `(document.querySelector('[data-se-block="also-viewed"] img')||{}).src`, e.url + "/img/socks.svg"},
		{"overlay button", `(document.querySelector('dialog[data-se-overlay="exit-offer"] a.se-ov-cta')||{}).href`, e.url + "/c/sale"},
	} {
		if got := eval[string](t, ctx, c.expr); got != c.want {
			t.Errorf("%s resolves to %q, want %q", c.what, got, c.want)
		}
	}
	if !waitFor(t, ctx, `(function(){var i=document.querySelector('[data-se-block="also-viewed"] img');return !!(i&&i.complete&&i.naturalWidth>0)})()`, 3*time.Second) {
		t.Errorf("the block's image did not load")
	}
	cdnHits.Range(func(k, _ any) bool {
		if p := k.(string); strings.Contains(p, "shopedge") || strings.Contains(p, "/img/") || strings.Contains(p, "/c/") {
			t.Errorf("the browser asked the base's host for %s", p)
		}
		return true
	})
}

// TestRecommendationCards: the built-in block's cards read as product
// cards. A card whose product the shop rates shows its stars with the
// rating in words ("Rated 4.2 out of 5, 17 reviews", the shop's figures)
// and one the shop does not rate shows none; and the block's cards fit a
// phone's 360px and a laptop's 1280px without scrolling sideways, images
// square before they load, names legible. Screenshots cards-360.png and
// cards-1280.png.
func TestRecommendationCards(t *testing.T) {
	e := newEnv(t, false)
	// Five products in stock, the second without reviews, viewed in this
	// visit: what the last one's "Customers also viewed" shows.
	var rated, unrated []*shop.Product
	for _, p := range e.shop.Catalog.Products {
		switch {
		case !p.InStock:
		case p.Reviews > 0 && len(rated) < 4:
			rated = append(rated, p)
		case p.Reviews == 0 && len(unrated) < 1:
			unrated = append(unrated, p)
		}
	}
	if len(rated) < 4 || len(unrated) < 1 {
		t.Fatalf("the demo shop has %d rated and %d unrated products in stock, want 4 and 1", len(rated), len(unrated))
	}
	viewed := []*shop.Product{rated[0], unrated[0], rated[1], rated[2], rated[3]}
	last := e.shop.Catalog.Products[len(e.shop.Catalog.Products)-1]

	for _, tc := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"cards-360", 360, 780, true},
		{"cards-1280", 1280, 900, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := browser(t, tc.mobile)
			run(t, ctx, emulation.SetDeviceMetricsOverride(tc.width, tc.height, 1, tc.mobile))
			for _, p := range viewed {
				run(t, ctx, chromedp.Navigate(e.url+p.URL()), chromedp.WaitReady("body"))
			}
			run(t, ctx, chromedp.Navigate(e.url+last.URL()), chromedp.WaitReady("body"))
			const block = `document.querySelector('[data-se-block="also-viewed"]')`
			if !eval[bool](t, ctx, `!!`+block) {
				t.Fatal("no also-viewed block on the page")
			}
			// The stylesheet applied: the cards are laid out by its grid.
			if !waitFor(t, ctx, `getComputedStyle(`+block+`.querySelector('.se-rec-grid')).display === "grid"`, 3*time.Second) {
				t.Fatal("the block's stylesheet did not apply")
			}

			// Each card says what the shop says of its product.
			type card struct {
				Href, Name, Label, Score string
				Stars                    bool
			}
			cards := eval[[]card](t, ctx, `Array.from(`+block+`.querySelectorAll('.se-rec-item')).map(function(li){
				var r = li.querySelector('.se-rec-rating');
				return {Href: li.querySelector('a').getAttribute('href'), Name: li.querySelector('.se-rec-name').textContent,
					Label: r ? r.getAttribute('aria-label') : "", Score: r ? r.querySelector('.se-rec-score').textContent : "",
					Stars: !!(r && r.querySelector('svg.se-rec-stars'))};
			})`)
			shownRated, shownUnrated := 0, 0
			for _, c := range cards {
				p := e.shop.Catalog.BySlug[strings.TrimPrefix(strings.SplitN(c.Href, "?", 2)[0], "/p/")]
				if p == nil {
					t.Errorf("card %q links to %q, no product of the shop", c.Name, c.Href)
					continue
				}
				if p.Reviews == 0 {
					shownUnrated++
					if c.Label != "" || c.Stars {
						t.Errorf("card of %s, which has no reviews, shows a rating %q", p.SKU, c.Label)
					}
					continue
				}
				shownRated++
				want := fmt.Sprintf("Rated %s out of 5, %d review", strconv.FormatFloat(p.Rating, 'f', -1, 64), p.Reviews)
				if p.Reviews != 1 {
					want += "s"
				}
				if c.Label != want || !c.Stars || c.Score != strconv.FormatFloat(p.Rating, 'f', -1, 64) {
					t.Errorf("card of %s: rating %q, score %q, stars %v; want %q, its stars and score", p.SKU, c.Label, c.Score, c.Stars, want)
				}
			}
			if shownRated == 0 || shownUnrated == 0 {
				t.Errorf("the block shows %d rated and %d unrated cards, want some of each: %+v", shownRated, shownUnrated, cards)
			}
			// What a screen reader reads of a rated card's link.
			if name := eval[string](t, ctx, block+`.querySelector('.se-rec-rating').getAttribute('role')`); name != "img" {
				t.Errorf("the rating's role %q, want img (its aria-label read as one)", name)
			}

			run(t, ctx, chromedp.Evaluate(block+`.scrollIntoView({block: "start"})`, nil))
			// Nothing sideways: neither the page nor the block is wider
			// than the viewport, and every card is inside the block.
			type box struct{ Left, Right, Width, ImgW, ImgH, Font float64 }
			geo := eval[struct {
				View, Scroll, BlockLeft, BlockRight, BlockScroll, BlockClient float64
				Cards                                                         []box
				Columns                                                       int
			}](t, ctx, `(function(){
				var b = `+block+`, r = b.getBoundingClientRect(), tops = {};
				var cards = Array.from(b.querySelectorAll('.se-rec-item')).map(function(li){
					var c = li.getBoundingClientRect(), img = li.querySelector('img'), i = img ? img.getBoundingClientRect() : {width: 0, height: 0};
					tops[Math.round(c.top)] = (tops[Math.round(c.top)] || 0) + 1;
					return {Left: c.left, Right: c.right, Width: c.width, ImgW: i.width, ImgH: i.height,
						Font: parseFloat(getComputedStyle(li.querySelector('.se-rec-name')).fontSize)};
				});
				return {View: document.documentElement.clientWidth, Scroll: document.documentElement.scrollWidth,
					BlockLeft: r.left, BlockRight: r.right, BlockScroll: b.scrollWidth, BlockClient: b.clientWidth,
					Cards: cards, Columns: Math.max.apply(null, Object.values(tops))};
			})()`)
			if geo.Scroll > geo.View {
				t.Errorf("the page scrolls sideways at %dpx: %v wide in a %v viewport", tc.width, geo.Scroll, geo.View)
			}
			if geo.BlockRight > geo.View+0.5 || geo.BlockLeft < -0.5 || geo.BlockScroll > geo.BlockClient {
				t.Errorf("the block overflows at %dpx: %v to %v (scroll %v of %v) in %v", tc.width, geo.BlockLeft, geo.BlockRight, geo.BlockScroll, geo.BlockClient, geo.View)
			}
			for i, c := range geo.Cards {
				if c.Left < geo.BlockLeft-0.5 || c.Right > geo.BlockRight+0.5 {
					t.Errorf("card %d (%v to %v) outside the block (%v to %v)", i, c.Left, c.Right, geo.BlockLeft, geo.BlockRight)
				}
				if c.ImgW > 0 && (c.ImgH < c.ImgW-1 || c.ImgH > c.ImgW+1) {
					t.Errorf("card %d's image %vx%v, want square", i, c.ImgW, c.ImgH)
				}
				if c.Width < 130 || c.Font < 12 {
					t.Errorf("card %d %vpx wide, name in %vpx type: too small to read", i, c.Width, c.Font)
				}
			}
			wantCols := 2
			if tc.width >= 1280 {
				wantCols = 4
			}
			wantCols = min(wantCols, len(geo.Cards))
			if geo.Columns < wantCols {
				t.Errorf("%d cards to a row at %dpx, want at least %d", geo.Columns, tc.width, wantCols)
			}
			t.Logf("%dpx: %d cards, %d to a row, %.0fpx wide", tc.width, len(geo.Cards), geo.Columns, geo.Cards[0].Width)
			// The block's top just below the shop's sticky header, its
			// images loaded, for the screenshot.
			run(t, ctx, chromedp.Evaluate(`window.scrollBy(0, -document.querySelector('.site-header').getBoundingClientRect().height - 8)`, nil))
			if !waitFor(t, ctx, `Array.from(`+block+`.querySelectorAll('img')).every(function(i){return i.complete&&i.naturalWidth>0})`, 3*time.Second) {
				t.Errorf("the block's images did not load")
			}
			screenshot(t, ctx, tc.name)
		})
	}
}
