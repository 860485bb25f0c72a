package proxy

import (
	"encoding/json"
	"html"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/profile"
	"shopedge/rules"
)

var (
	// recentLinkRe is a product link of the recently viewed block: a
	// click on it is a click on the block.
	recentLinkRe = regexp.MustCompile(`href="(/p/[^"]*se_rec=recently-viewed)"`)
	// orderTotalRe is the order's total in the demo shop's confirmation
	// page (its Order JSON-LD).
	orderTotalRe = regexp.MustCompile(`"totalPaymentDue":\s*\{[^}]*"price":\s*"?([0-9.]+)`)
)

// conversionEnv is the demo shop behind a proxy whose clock the test
// moves, with its admin listener.
type conversionEnv struct {
	*env
	clock *movable
	admin string
}

func newConversionEnv(t *testing.T, mutate func(*rules.Config)) *conversionEnv {
	t.Helper()
	clock := newMovable()
	e := newShopEnvAt(t, mutate, clock.Now)
	return &conversionEnv{env: e, clock: clock, admin: startAdmin(t, e, "t0ken")}
}

// clickRecommended views two products (so that the home page's recently
// viewed block has them) and follows a link of that block from the home
// page; it returns the product clicked.
func (e *conversionEnv) clickRecommended(t *testing.T, v *visitor) string {
	t.Helper()
	for _, p := range e.productsIn("women", 2) {
		v.get(e.url + p)
	}
	home := v.get(e.url + "/")
	m := recentLinkRe.FindStringSubmatch(home.body)
	if m == nil {
		t.Fatalf("no link of the recently viewed block on the home page:\n%s", home.body)
	}
	link := html.UnescapeString(m[1])
	if pg := v.get(e.url + link); pg.resp.StatusCode != 200 {
		t.Fatalf("%s: %d", link, pg.resp.StatusCode)
	}
	return link
}

// inStock is a SKU the demo shop sells.
func (e *conversionEnv) inStock(t *testing.T, i int) string {
	t.Helper()
	for _, p := range e.shop.Catalog.Products {
		if p.InStock {
			if i == 0 {
				return p.SKU
			}
			i--
		}
	}
	t.Fatal("not enough products in stock")
	return ""
}

// checkout buys sku through the shop's checkout and returns the
// confirmation page's path and the order's total as the page shows it.
func (e *conversionEnv) checkout(t *testing.T, v *visitor, sku string, qty int) (string, float64) {
	t.Helper()
	v.addToCart(e.url, sku, qty)
	placed := v.post(e.url+"/checkout/place", "application/x-www-form-urlencoded", "first=A")
	loc := placed.resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/checkout/thank-you") {
		t.Fatalf("checkout redirects to %q", loc)
	}
	thanks := v.get(e.url + loc)
	m := orderTotalRe.FindStringSubmatch(thanks.body)
	if m == nil {
		t.Fatalf("no order total on the confirmation page:\n%s", thanks.body)
	}
	total, err := strconv.ParseFloat(m[1], 64)
	if err != nil || total <= 0 {
		t.Fatalf("order total %q", m[1])
	}
	return loc, total
}

// scrape returns the value of a sample on the admin's /metrics, and
// whether it is there.
func (e *conversionEnv) scrape(t *testing.T, sample string) (float64, bool) {
	t.Helper()
	resp, body := adminCall(t, "GET", e.admin+"/metrics", "t0ken")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %q is no number", sample, rest)
			}
			return v, true
		}
	}
	return 0, false
}

// action returns the figures of a block or an overlay (overlay true).
func (e *conversionEnv) action(t *testing.T, id string, overlay bool) ActionFigures {
	t.Helper()
	f := e.proxy.metrics.Figures(time.Now())
	list := f.Blocks
	if overlay {
		list = f.Overlays
	}
	for _, a := range list {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no figures for %q", id)
	return ActionFigures{}
}

// wantConversions checks a block's (or an overlay's) conversions and
// revenue, as /metrics shows them and as Figures reads them; and that
// every other block and overlay has none.
func (e *conversionEnv) wantConversions(t *testing.T, kind, id string, n int, revenue float64) {
	t.Helper()
	label := `{block="` + id + `"}`
	if kind == "overlay" {
		label = `{id="` + id + `"}`
	}
	for _, s := range []struct {
		name string
		want float64
	}{{"shopedge_" + kind + "_conversions_total" + label, float64(n)}, {"shopedge_" + kind + "_revenue_total" + label, revenue}} {
		got, ok := e.scrape(t, s.name)
		if !ok {
			t.Errorf("/metrics has no %s", s.name)
		} else if math.Abs(got-s.want) > 0.005 {
			t.Errorf("/metrics: %s %v, want %v", s.name, got, s.want)
		}
	}
	a := e.action(t, id, kind == "overlay")
	if a.Conversions != int64(n) || math.Abs(a.Revenue-revenue) > 0.005 {
		t.Errorf("Figures: %s %s: %d conversions, revenue %.2f; want %d, %.2f", kind, id, a.Conversions, a.Revenue, n, revenue)
	}
	f := e.proxy.metrics.Figures(time.Now())
	for _, o := range append(f.Blocks, f.Overlays...) {
		if o.ID != id && (o.Conversions != 0 || o.Revenue != 0) {
			t.Errorf("Figures: %s has %d conversions, revenue %.2f; want none", o.ID, o.Conversions, o.Revenue)
		}
	}
}

// TestBlockConversionEndToEnd: a visitor follows a link of the recently
// viewed block (se_rec), puts a product in the cart and checks out; the
// confirmation page's order is the block's conversion, its total the
// block's revenue, on /metrics and in Figures. Reloading the confirmation
// page counts nothing more; a second order within the window counts too
// (every order after the click, as GA4's last click).
func TestBlockConversionEndToEnd(t *testing.T) {
	t.Parallel()
	e := newConversionEnv(t, nil)
	e.wantConversions(t, "block", "recently-viewed", 0, 0) // registered at zero
	v := e.visitor()
	e.clickRecommended(t, v)
	if a := e.action(t, "recently-viewed", false); a.Clicks != 1 {
		t.Fatalf("recently-viewed counts %d clicks, want 1", a.Clicks)
	}
	e.clock.advance(10 * time.Minute)
	thanks, total := e.checkout(t, v, e.inStock(t, 0), 2)
	e.wantConversions(t, "block", "recently-viewed", 1, total)

	v.get(e.url + thanks) // a reload
	v.get(e.url + thanks)
	e.wantConversions(t, "block", "recently-viewed", 1, total)

	e.clock.advance(20 * time.Hour) // a second order the next day, within 24h of the click
	_, second := e.checkout(t, v, e.inStock(t, 1), 1)
	e.wantConversions(t, "block", "recently-viewed", 2, total+second)
}

// TestConversionWindow: an order placed longer than attribution.window
// after the click counts for no block; one placed within a window set
// shorter than the default counts.
func TestConversionWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		window time.Duration // 0: the default, 24h
		after  time.Duration
		counts bool
	}{
		{name: "default window, within", after: 23 * time.Hour, counts: true},
		{name: "default window, past", after: 25 * time.Hour},
		{name: "an hour's window, past", window: time.Hour, after: 2 * time.Hour},
		{name: "an hour's window, within", window: time.Hour, after: 50 * time.Minute, counts: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newConversionEnv(t, func(c *rules.Config) { c.Attribution.Window = rules.Duration(tt.window) })
			v := e.visitor()
			e.clickRecommended(t, v)
			e.clock.advance(tt.after)
			_, total := e.checkout(t, v, e.inStock(t, 0), 1)
			if tt.counts {
				e.wantConversions(t, "block", "recently-viewed", 1, total)
			} else {
				e.wantConversions(t, "block", "recently-viewed", 0, 0)
			}
		})
	}
}

// TestOverlayConversionEndToEnd: an overlay's "clicked" beacon, then an
// order: the overlay's conversion, with the order's total; a click on a
// block after it takes over for the next order (the last click).
func TestOverlayConversionEndToEnd(t *testing.T) {
	t.Parallel()
	e := newConversionEnv(t, nil)
	v := e.visitor()
	v.get(e.url + e.productsIn("women", 1)[0]) // a visitor cookie, a profile
	if code := v.beacon(e.url, `{"e":"clicked","id":"exit-offer"}`, nil); code != 204 {
		t.Fatalf("beacon: %d", code)
	}
	_, total := e.checkout(t, v, e.inStock(t, 0), 1)
	e.wantConversions(t, "overlay", "exit-offer", 1, total)
	if a := e.action(t, "recently-viewed", false); a.Conversions != 0 {
		t.Errorf("recently-viewed: %d conversions, want none", a.Conversions)
	}

	e.clickRecommended(t, v)
	_, second := e.checkout(t, v, e.inStock(t, 1), 1)
	if a := e.action(t, "exit-offer", true); a.Conversions != 1 || math.Abs(a.Revenue-total) > 0.005 {
		t.Errorf("exit-offer after a later click on a block: %d conversions, %.2f; want 1, %.2f", a.Conversions, a.Revenue, total)
	}
	if a := e.action(t, "recently-viewed", false); a.Conversions != 1 || math.Abs(a.Revenue-second) > 0.005 {
		t.Errorf("recently-viewed, clicked last: %d conversions, %.2f; want 1, %.2f", a.Conversions, a.Revenue, second)
	}
}

// TestConversionsNotRecorded: visitors with Sec-GPC or without consent
// (under a consent gate) have no profile, and an unknown block named in
// se_rec is no click: their orders count for nothing. A click then an
// order in a preview session records nothing either, not even in the
// previewing visitor's own profile.
func TestConversionsNotRecorded(t *testing.T) {
	t.Parallel()
	t.Run("gpc", func(t *testing.T) {
		t.Parallel()
		e := newConversionEnv(t, nil)
		v := e.visitor()
		v.header.Set("Sec-GPC", "1")
		for _, p := range e.productsIn("women", 2) {
			v.get(e.url + p + "?se_rec=recently-viewed") // as if from a block
		}
		e.checkout(t, v, e.inStock(t, 0), 1)
		e.wantConversions(t, "block", "recently-viewed", 0, 0)
	})
	t.Run("no consent", func(t *testing.T) {
		t.Parallel()
		e := newConversionEnv(t, func(c *rules.Config) { c.Identity.Consent = &rules.Consent{Cookie: "cookie_ok"} })
		v := e.visitor()
		v.get(e.url + e.productsIn("women", 1)[0] + "?se_rec=recently-viewed")
		if code := v.beacon(e.url, `{"e":"clicked","id":"exit-offer"}`, nil); code != 403 {
			t.Errorf("beacon without a visitor cookie: %d, want 403", code)
		}
		e.checkout(t, v, e.inStock(t, 0), 1)
		e.wantConversions(t, "block", "recently-viewed", 0, 0)
		e.wantConversions(t, "overlay", "exit-offer", 0, 0)
	})
	t.Run("unknown block", func(t *testing.T) {
		t.Parallel()
		e := newConversionEnv(t, nil)
		v := e.visitor()
		v.get(e.url + e.productsIn("women", 1)[0])
		v.get(e.url + e.productsIn("women", 2)[1] + "?se_rec=no-such-block")
		e.checkout(t, v, e.inStock(t, 0), 1)
		e.wantConversions(t, "block", "recently-viewed", 0, 0)
		if _, ok := e.scrape(t, `shopedge_block_conversions_total{block="no-such-block"}`); ok {
			t.Error("/metrics counts a block no configuration has")
		}
	})
	t.Run("preview", func(t *testing.T) {
		t.Parallel()
		e := newConversionEnv(t, nil)
		v := e.visitor()
		v.get(e.url + e.productsIn("women", 1)[0]) // a profile of their own
		req, _ := http.NewRequest("POST", e.admin+"/preview", strings.NewReader(url.Values{"segment": {"prospect"}, "base": {e.url}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var link PreviewLink
		if err := json.Unmarshal(body, &link); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST /preview: %d %v %s", resp.StatusCode, err, body)
		}
		openPreview(t, v, link.Link)
		e.clickRecommended(t, v)
		if code := v.beacon(e.url, `{"e":"clicked","id":"exit-offer"}`, nil); code != 204 {
			t.Errorf("beacon under preview: %d", code)
		}
		e.checkout(t, v, e.inStock(t, 0), 1)
		e.wantConversions(t, "block", "recently-viewed", 0, 0)
		e.wantConversions(t, "overlay", "exit-offer", 0, 0)
		if d := e.visitorProfile(t, v); d.PageViews != 1 {
			t.Errorf("the visitor's profile changed under preview: %d page views, want 1", d.PageViews)
		} else if c, ok := d.LastClick(); ok {
			t.Errorf("a click in a preview is the visitor's last click: %+v", c)
		}
	})
}

// TestAttributeConfiguredOnly: an order is credited only to a block or
// overlay the configuration in force has: one removed since the click
// (a reload) counts nothing, and no counter is made for it.
func TestAttributeConfiguredOnly(t *testing.T) {
	t.Parallel()
	e := newConversionEnv(t, nil)
	cfg := e.proxy.conf.Load().cfg
	now := e.clock.Now()
	tests := []struct {
		name  string
		kind  profile.ClickKind
		id    string
		wantN int64
	}{
		{"configured block", profile.ClickBlock, "popular", 1},
		{"an overlay of a block's id", profile.ClickOverlay, "popular", 0},
		{"configured overlay", profile.ClickOverlay, "cart-reminder", 1},
		{"a block of an overlay's id", profile.ClickBlock, "cart-reminder", 0},
		{"removed block", profile.ClickBlock, "gone", 0},
		{"removed overlay", profile.ClickOverlay, "gone-too", 0},
	}
	for i, tt := range tests {
		prof := new(profile.Profile)
		prof.Update(func(d *profile.Data) { d.Clicked(profile.ClickKey(tt.kind, tt.id), now) })
		e.proxy.attribute(cfg, prof, "order-"+strconv.Itoa(i), 10, now.Add(time.Minute))
	}
	f := e.proxy.metrics.Figures(now)
	got := map[string]int64{}
	for _, a := range f.Blocks {
		got["block:"+a.ID] = a.Conversions
	}
	for _, a := range f.Overlays {
		got["overlay:"+a.ID] = a.Conversions
	}
	want := map[string]int64{"block:popular": 1, "overlay:cart-reminder": 1}
	for k, n := range got {
		if n != want[k] {
			t.Errorf("%s: %d conversions, want %d", k, n, want[k])
		}
	}
	for _, k := range []string{"block:gone", "overlay:gone-too", "block:cart-reminder"} {
		if _, ok := got[k]; ok {
			t.Errorf("figures for %s, which no configuration has", k)
		}
	}
}

// TestAttributeAllocatesNothing: crediting an order (on the purchase
// page's path) and recording a click allocate nothing.
func TestAttributeAllocatesNothing(t *testing.T) {
	e := newConversionEnv(t, nil)
	cfg := e.proxy.conf.Load().cfg
	now := e.clock.Now()
	prof := new(profile.Profile)
	key := profile.ClickKey(profile.ClickBlock, "category-popular") // the last block of the demo's
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		prof.Update(func(d *profile.Data) { d.Clicked(key, now) })
		e.proxy.attribute(cfg, prof, "", 10, now)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per click and order, want none", allocs)
	}
	if a := e.action(t, "category-popular", false); a.Conversions != int64(i) {
		t.Errorf("%d conversions, want %d", a.Conversions, i)
	}
}
