package plan

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// at is a time relative to now, as profiles keep it.
func at(d time.Duration) uint32 { return uint32(now.Add(d).Unix()) }

// withCart is d with one product 42 put in the cart at now+when.
func withCart(d profile.Data, when time.Duration) profile.Data {
	d.AddToCart(prodBoots, 1, now.Add(when))
	return d
}

// hesitant is a visitor who left a cart (product 42) at the end of a visit
// three hours ago, back for a minute.
func hesitant() profile.Data {
	var d profile.Data
	d.Touch(now.Add(-3*time.Hour), 30*time.Minute)
	d.AddToCart(prodBoots, 1, now.Add(-3*time.Hour))
	d.Touch(now.Add(-time.Minute), 30*time.Minute) // carts_left 1
	return d
}

// newVisitor is a visitor on their first page.
func newVisitor() profile.Data {
	var d profile.Data
	d.Touch(now, 30*time.Minute)
	return d
}

// upsells is what the engine has for the demo's upsell (also_bought, then
// popular): a bag, and a product the catalog cannot show.
var upsells = map[string][]catalog.ID{"also_bought,popular": {prodBag, prodNoName}}

// overlayCase is a page view and the overlay it should get. The demo's
// overlay rules, tried in this order: upsell (cart, 30), still-thinking
// (hesitant, cart, 25), cart-reminder (abandoned cart; home, category,
// product; 20), exit-offer (product, category, prospects, 10; caps 1 a
// visit, 1 a day), new-arrivals (category, new visitors, 0).
type overlayCase struct {
	name      string
	cfg       func(tb testing.TB, c *rules.Config) // changes the demo's configuration; nil: none
	page      rules.PageType
	profile   func() profile.Data
	dismissed dismissals
	recs      map[string][]catalog.ID // what the engine has; nil: upsells
	want      string                  // the overlay chosen; "": none
	items     []Item                  // the products it lists
	// why are reasons Plan.Passed gives for rules passed over ("" for
	// the whole page view); rules not named are not checked.
	why map[string]string
}

func TestChooseOverlay(t *testing.T) {
	t.Parallel()
	runOverlayCases(t, []overlayCase{
		// Ported from the proxy's socket-based TestChooseOverlay.
		{name: "exit offer on a product page", page: rules.PageProduct, profile: returningProspect, want: "exit-offer",
			why: map[string]string{"upsell": WhyPage, "still-thinking": WhyPage, "cart-reminder": WhyCondition, "new-arrivals": WhyPage}},
		{name: "no overlay on the home page of a prospect", page: rules.PageHome, profile: returningProspect,
			why: map[string]string{"cart-reminder": WhyCondition, "exit-offer": WhyPage, "new-arrivals": WhyPage}},
		{name: "dismissed by cookie", page: rules.PageProduct, profile: returningProspect, dismissed: dismissals{"exit-offer": true},
			why: map[string]string{"exit-offer": WhyDismissed}},
		{name: "customers get no welcome offer", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.Customer = true
			return d
		}, why: map[string]string{"exit-offer": WhySegment}},
		{name: "just bought", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.BoughtAt = at(-time.Minute)
			return d
		}, why: map[string]string{"exit-offer": WhyJustBought}},
		{name: "bought in an earlier visit: a customer", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.Orders = 1
			d.BoughtAt = at(-time.Hour)
			return d
		}, why: map[string]string{"exit-offer": WhySegment}},
		{name: "cart from an earlier visit beats the exit offer", page: rules.PageProduct, profile: func() profile.Data {
			return withCart(returningProspect(), -90*time.Minute)
		}, want: "cart-reminder", items: []Item{{ID: prodBoots, Qty: 1}},
			why: map[string]string{"exit-offer": WhyLowerFirst, "new-arrivals": WhyPage}},
		{name: "cart from this visit: no reminder", page: rules.PageProduct, profile: func() profile.Data {
			return withCart(returningProspect(), -time.Minute)
		}, want: "exit-offer", why: map[string]string{"cart-reminder": WhyCondition}},
		{name: "upsell right after an add", page: rules.PageCart, profile: func() profile.Data {
			return withCart(returningProspect(), -time.Minute)
		}, want: "upsell", items: []Item{{ID: prodBag}}},
		{name: "no upsell long after the add", page: rules.PageCart, profile: func() profile.Data {
			return withCart(returningProspect(), -3*time.Minute)
		}, why: map[string]string{"upsell": WhyCondition, "still-thinking": WhyCondition, "cart-reminder": WhyPage}},
		{name: "hesitant: left a cart before", page: rules.PageCart, profile: hesitant, want: "still-thinking",
			why: map[string]string{"upsell": WhyCondition, "cart-reminder": WhyPage}},
		{name: "within min_gap of the last overlay", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.OverlayAt = at(-5 * time.Minute)
			return d
		}, why: map[string]string{"": WhyMinGap}},
		{name: "after min_gap", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.OverlayAt = at(-11 * time.Minute)
			return d
		}, want: "exit-offer"},
		{name: "new visitors on a category page: the exit offer first", page: rules.PageCategory, profile: newVisitor, want: "exit-offer",
			why: map[string]string{"new-arrivals": WhyLowerFirst}},
		{name: "new visitors on a category page, exit offer dismissed", page: rules.PageCategory, profile: newVisitor,
			dismissed: dismissals{"exit-offer": true}, want: "new-arrivals", why: map[string]string{"exit-offer": WhyDismissed}},
		// The old test's "capped this visit": shown in the visit before,
		// earlier today, it is capped by its per-day cap.
		{name: "shown in an earlier visit today: capped per day", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.OverlayShown(profile.OverlayKey("exit-offer"), now.Add(-20*time.Minute))
			d.OverlayAt = 0
			return d
		}, why: map[string]string{"exit-offer": WhyCap}},
	})
}

func TestOverlayCaps(t *testing.T) {
	t.Parallel()
	shown := func(ago time.Duration) func() profile.Data {
		return func() profile.Data {
			d := returningProspect()
			d.OverlayShown(profile.OverlayKey("exit-offer"), now.Add(-ago))
			d.OverlayAt = 0 // min_gap apart
			return d
		}
	}
	perDay2 := func(tb testing.TB, c *rules.Config) { rule(tb, c, "exit-offer").Cap.PerDay = 2 }
	runOverlayCases(t, []overlayCase{
		{name: "shown this visit: capped per visit", page: rules.PageProduct, profile: shown(2 * time.Minute),
			why: map[string]string{"exit-offer": WhyCap}},
		{name: "shown this visit, two a day: still capped per visit", cfg: perDay2, page: rules.PageProduct, profile: shown(2 * time.Minute),
			why: map[string]string{"exit-offer": WhyCap}},
		{name: "shown in an earlier visit today, two a day: shows again", cfg: perDay2, page: rules.PageProduct, profile: shown(time.Hour),
			want: "exit-offer"},
		{name: "shown yesterday in an earlier visit: shows again", page: rules.PageProduct, profile: shown(20 * time.Hour),
			want: "exit-offer"},
		{name: "another overlay's cap does not count", page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.OverlayShown(profile.OverlayKey("cart-reminder"), now.Add(-2*time.Minute))
			d.OverlayAt = 0
			return d
		}, want: "exit-offer"},
	})
}

func TestOverlayDismissal(t *testing.T) {
	t.Parallel()
	dismissed := func(until time.Duration) func() profile.Data {
		return func() profile.Data {
			d := returningProspect()
			d.OverlayDismissed(profile.OverlayKey("exit-offer"), now.Add(until))
			return d
		}
	}
	runOverlayCases(t, []overlayCase{
		{name: "dismissed by cookie", page: rules.PageProduct, profile: returningProspect, dismissed: dismissals{"exit-offer": true},
			why: map[string]string{"exit-offer": WhyDismissed}},
		{name: "another overlay dismissed by cookie", page: rules.PageProduct, profile: returningProspect, dismissed: dismissals{"cart-reminder": true},
			want: "exit-offer"},
		{name: "dismissed by profile", page: rules.PageProduct, profile: dismissed(23 * time.Hour),
			why: map[string]string{"exit-offer": WhyDismissedFor}},
		{name: "a dismissal by profile that ended", page: rules.PageProduct, profile: dismissed(-time.Minute), want: "exit-offer"},
		{name: "dismissed by cookie, the next rule", page: rules.PageProduct, profile: func() profile.Data {
			return withCart(returningProspect(), -90*time.Minute)
		}, dismissed: dismissals{"cart-reminder": true}, want: "exit-offer",
			why: map[string]string{"cart-reminder": WhyDismissed}},
	})
}

func TestOverlayTargeting(t *testing.T) {
	t.Parallel()
	segments := func(segs ...string) func(testing.TB, *rules.Config) {
		return func(tb testing.TB, c *rules.Config) { rule(tb, c, "exit-offer").Segments = segs }
	}
	devices := func(devs ...string) func(testing.TB, *rules.Config) {
		return func(tb testing.TB, c *rules.Config) { rule(tb, c, "exit-offer").Devices = devs }
	}
	customer := func() profile.Data { // bought two days ago
		var d profile.Data
		d.Touch(now.Add(-48*time.Hour), 30*time.Minute)
		d.AddToCart(prodBag, 1, now.Add(-48*time.Hour))
		d.Purchase(now.Add(-48 * time.Hour))
		d.Touch(now.Add(-5*time.Minute), 30*time.Minute)
		return d
	}
	mobile := func() profile.Data {
		d := returningProspect()
		d.Device = agent.Device{Class: agent.Mobile}
		return d
	}
	runOverlayCases(t, []overlayCase{
		{name: "segment new: a new visitor", cfg: segments("new"), page: rules.PageProduct, profile: newVisitor, want: "exit-offer"},
		{name: "segment new: a returning visitor", cfg: segments("new"), page: rules.PageProduct, profile: returningProspect,
			why: map[string]string{"exit-offer": WhySegment}},
		{name: "segment returning: a returning visitor", cfg: segments("returning"), page: rules.PageProduct, profile: returningProspect, want: "exit-offer"},
		{name: "segment returning: a new visitor", cfg: segments("returning"), page: rules.PageProduct, profile: newVisitor,
			why: map[string]string{"exit-offer": WhySegment}},
		{name: "segment customer: a customer", cfg: segments("customer"), page: rules.PageProduct, profile: customer, want: "exit-offer"},
		{name: "segment customer: by orders alone", cfg: segments("customer"), page: rules.PageProduct, profile: func() profile.Data {
			d := returningProspect()
			d.Orders = 1
			return d
		}, want: "exit-offer"},
		{name: "segment customer: a prospect", cfg: segments("customer"), page: rules.PageProduct, profile: returningProspect,
			why: map[string]string{"exit-offer": WhySegment}},
		{name: "segment prospect: a customer", page: rules.PageProduct, profile: customer,
			why: map[string]string{"exit-offer": WhySegment}},
		{name: "segments new or customer: a customer", cfg: segments("new", "customer"), page: rules.PageProduct, profile: customer, want: "exit-offer"},
		{name: "no segments: anyone", cfg: segments(), page: rules.PageProduct, profile: customer, want: "exit-offer"},
		{name: "device: desktop only, on a desktop", cfg: devices("desktop"),
			page: rules.PageProduct, profile: returningProspect, want: "exit-offer"},
		{name: "device: mobile only, on a desktop", cfg: devices("mobile"),
			page: rules.PageProduct, profile: returningProspect, why: map[string]string{"exit-offer": WhyDevice}},
		{name: "device: mobile only, on a mobile", cfg: devices("mobile"),
			page: rules.PageProduct, profile: mobile, want: "exit-offer"},
		{name: "device: tablet or desktop, on a mobile", cfg: devices("tablet", "desktop"),
			page: rules.PageProduct, profile: mobile, why: map[string]string{"exit-offer": WhyDevice}},
		{name: "schedule ended", cfg: func(tb testing.TB, c *rules.Config) { rule(tb, c, "exit-offer").Ends = "2026-11-23T14:00:00Z" },
			page: rules.PageProduct, profile: returningProspect, why: map[string]string{"exit-offer": WhySchedule}},
		{name: "schedule not started", cfg: func(tb testing.TB, c *rules.Config) { rule(tb, c, "exit-offer").Starts = "2026-11-23T16:00:00Z" },
			page: rules.PageProduct, profile: returningProspect, why: map[string]string{"exit-offer": WhySchedule}},
		{name: "within its schedule", cfg: func(tb testing.TB, c *rules.Config) {
			r := rule(tb, c, "exit-offer")
			r.Starts, r.Ends = "2026-11-23T14:00:00Z", "2026-11-23T16:00:00Z"
		}, page: rules.PageProduct, profile: returningProspect, want: "exit-offer"},
		{name: "priority decides, not the file's order", cfg: func(tb testing.TB, c *rules.Config) { rule(tb, c, "exit-offer").Priority = 50 },
			page: rules.PageProduct, profile: func() profile.Data { return withCart(returningProspect(), -90*time.Minute) },
			want: "exit-offer", why: map[string]string{"cart-reminder": WhyLowerFirst}},
		{name: "equal priorities: the file's order", cfg: func(tb testing.TB, c *rules.Config) { rule(tb, c, "new-arrivals").Priority = 10 },
			page: rules.PageCategory, profile: newVisitor, want: "exit-offer", why: map[string]string{"new-arrivals": WhyLowerFirst}},
	})
}

func TestOverlayConditions(t *testing.T) {
	t.Parallel()
	runOverlayCases(t, []overlayCase{
		{name: "just bought: no offers", page: rules.PageCart, profile: func() profile.Data {
			var d profile.Data
			d.Touch(now.Add(-3*time.Hour), 30*time.Minute)
			d.AddToCart(prodBoots, 1, now.Add(-3*time.Hour))
			d.Touch(now.Add(-10*time.Minute), 30*time.Minute) // carts_left 1
			d.Purchase(now.Add(-5 * time.Minute))
			return d
		}, why: map[string]string{"upsell": WhyCondition, "still-thinking": WhyJustBought}},
		{name: "just bought: the upsell still shows", page: rules.PageCart, profile: func() profile.Data {
			d := withCart(returningProspect(), -90*time.Second)
			d.Purchase(now.Add(-time.Minute))
			return d
		}, want: "upsell", items: []Item{{ID: prodBag}}},
		{name: "upsell beats the hesitant offer", page: rules.PageCart, profile: func() profile.Data {
			d := hesitant()
			d.AddToCart(prodCap, 1, now.Add(-30*time.Second))
			return d
		}, want: "upsell", items: []Item{{ID: prodBag}}, why: map[string]string{"still-thinking": WhyLowerFirst}},
		{name: "upsell at the end of within", page: rules.PageCart, profile: func() profile.Data {
			return withCart(returningProspect(), -2*time.Minute)
		}, want: "upsell", items: []Item{{ID: prodBag}}},
		{name: "hesitant: fewer carts left than min_carts_left", cfg: func(tb testing.TB, c *rules.Config) { rule(tb, c, "still-thinking").MinCartsLeft = 2 },
			page: rules.PageCart, profile: hesitant, why: map[string]string{"still-thinking": WhyCondition}},
		{name: "abandoned cart: up to its count", page: rules.PageHome, profile: func() profile.Data {
			d := returningProspect()
			for _, id := range []catalog.ID{prodBoots, prodNoName, prodBag, prodCap, prodHat} {
				d.AddToCart(id, 2, now.Add(-90*time.Minute))
			}
			return d
		}, want: "cart-reminder", items: []Item{{ID: prodBoots, Qty: 2}, {ID: prodBag, Qty: 2}, {ID: prodCap, Qty: 2}}},
		{name: "not tracked: no overlay", page: rules.PageProduct, profile: returningProspect, why: map[string]string{"": WhyNotTracked}},
	})
}

func TestOverlayNothingToShow(t *testing.T) {
	t.Parallel()
	abandoned := func(ids ...catalog.ID) func() profile.Data {
		return func() profile.Data {
			d := returningProspect()
			for _, id := range ids {
				d.AddToCart(id, 1, now.Add(-90*time.Minute))
			}
			return d
		}
	}
	upsell := func() profile.Data {
		d := hesitant()
		d.AddToCart(prodCap, 1, now.Add(-30*time.Second))
		return d
	}
	runOverlayCases(t, []overlayCase{
		{name: "an abandoned cart the catalog cannot show gives way", page: rules.PageProduct, profile: abandoned(prodNoName, prodNoURL, prodUnknown),
			want: "exit-offer", why: map[string]string{"cart-reminder": WhyNothingShow}},
		{name: "an abandoned cart lists what the catalog can show", page: rules.PageProduct, profile: abandoned(prodNoName, prodCap),
			want: "cart-reminder", items: []Item{{ID: prodCap, Qty: 1}}},
		{name: "an upsell the engine has nothing for gives way", page: rules.PageCart, profile: upsell, recs: map[string][]catalog.ID{},
			want: "still-thinking", why: map[string]string{"upsell": WhyNothingShow}},
		{name: "an upsell of products the catalog cannot show gives way", page: rules.PageCart, profile: upsell,
			recs: map[string][]catalog.ID{"also_bought,popular": {prodNoName, prodUnknown}},
			want: "still-thinking", why: map[string]string{"upsell": WhyNothingShow}},
		{name: "nothing to show, and nothing after", page: rules.PageCart, profile: func() profile.Data {
			return withCart(returningProspect(), -time.Minute)
		}, recs: map[string][]catalog.ID{}, why: map[string]string{"upsell": WhyNothingShow, "still-thinking": WhyCondition}},
	})
}

// runOverlayCases decides each case's page view (a page with a head and a
// body, no policy, Explain on) and checks the overlay chosen, its items,
// the body region and the reasons asked for.
func runOverlayCases(t *testing.T, cases []overlayCase) {
	t.Helper()
	base := demo(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			if c.cfg != nil {
				cfg = demoWith(t, func(s *rules.Config) { c.cfg(t, s) })
			}
			d := c.profile()
			in := input(cfg, regions(page.Region{Kind: page.Head}, page.Region{Kind: page.Body}), &d)
			in.Request.Type = c.page
			if c.dismissed != nil {
				in.Request.Dismissed = c.dismissed
			}
			if c.why[""] == WhyNotTracked {
				in.Request.VisitorID = ""
			}
			recs := c.recs
			if recs == nil {
				recs = upsells
			}
			in.Engine = &fakeEngine{by: recs}
			in.Explain = true
			pl := Decide(in)
			got := ""
			var items []Item
			if pl.Overlay != nil {
				got, items = pl.Overlay.ID, pl.Overlay.Items
			}
			if got != c.want {
				t.Errorf("chose %q, want %q (passed over: %v)", got, c.want, pl.Passed)
			}
			if !reflect.DeepEqual(items, c.items) {
				t.Errorf("items %v, want %v", items, c.items)
			}
			body := pl.Regions[1]
			switch {
			case c.want != "" && body.Action != Body:
				t.Errorf("body region %+v, want the overlay", body)
			case c.want == "" && (body.Action != Keep || body.Why != WhyNoOverlay):
				t.Errorf("body region %+v, want kept: %q", body, WhyNoOverlay)
			}
			for id, want := range c.why {
				i := slices.IndexFunc(pl.Passed, func(p Passed) bool { return p.ID == id })
				if i < 0 {
					t.Errorf("%q not passed over, want %q (passed over: %v)", id, want, pl.Passed)
					continue
				}
				if got := pl.Passed[i].Why; got != want {
					t.Errorf("%q passed over: got %q, want %q", id, got, want)
				}
			}
			if slices.ContainsFunc(pl.Passed, func(p Passed) bool { return c.want != "" && p.ID == c.want }) {
				t.Errorf("the chosen %q is among those passed over: %v", c.want, pl.Passed)
			}
		})
	}
}

func TestOverlayExplain(t *testing.T) {
	t.Parallel()
	cfg := demo(t)
	for _, c := range []struct {
		name    string
		explain bool
		page    rules.PageType
		want    []Passed
	}{
		{"without Explain, no reasons", false, rules.PageProduct, nil},
		{"a reason for every rule passed over, in the order tried", true, rules.PageProduct, []Passed{
			{ID: "upsell", Why: WhyPage}, {ID: "still-thinking", Why: WhyPage}, {ID: "cart-reminder", Why: WhyCondition}, {ID: "new-arrivals", Why: WhyPage},
		}},
		{"none chosen: every rule has its reason", true, rules.PageCheckout, []Passed{
			{ID: "upsell", Why: WhyPage}, {ID: "still-thinking", Why: WhyPage}, {ID: "cart-reminder", Why: WhyPage}, {ID: "exit-offer", Why: WhyPage}, {ID: "new-arrivals", Why: WhyPage},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			in := input(cfg, regions(page.Region{Kind: page.Body}), &d)
			in.Request.Type = c.page
			in.Explain = c.explain
			pl := Decide(in)
			if !reflect.DeepEqual(pl.Passed, c.want) {
				t.Errorf("passed %v, want %v", pl.Passed, c.want)
			}
			// Explain only explains: the same page view, without it,
			// gets the same overlay.
			in.Explain = !c.explain
			if a, b := pl.Overlay, Decide(in).Overlay; !reflect.DeepEqual(a, b) {
				t.Errorf("overlay %v with Explain %v, %v without", a, c.explain, b)
			}
		})
	}
}

func TestOverlayCSP(t *testing.T) {
	t.Parallel()
	cfg := demo(t)
	for _, c := range []struct {
		name     string
		page     rules.PageType
		verdict  csp.Verdict
		banner   bool // a viewers banner on the page, with a count to show
		want     string
		wantWhy  string
		wantSkip bool
	}{
		{"all allowed", rules.PageProduct, csp.AllowAll, false, "exit-offer", "", false},
		{"no script", rules.PageProduct, csp.Verdict{Style: true, Connect: true}, false, "", WhyCSP, true},
		{"no connect", rules.PageProduct, csp.Verdict{Style: true, Script: true}, false, "", WhyCSP, true},
		{"no style", rules.PageProduct, csp.Verdict{Script: true, Connect: true}, false, "", WhyCSP, true},
		{"no script on a page no overlay targets: nothing skipped", rules.PageCheckout, csp.Verdict{Style: true, Connect: true}, false, "", WhyCSP, false},
		{"no script, a banner shown: skipped", rules.PageCheckout, csp.Verdict{Style: true, Connect: true}, true, "", WhyCSP, true},
		{"a banner and no overlay: the body for the banner's script", rules.PageCheckout, csp.AllowAll, true, "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			rs := []page.Region{{Kind: page.Head}}
			if c.banner {
				rs = append(rs, page.Region{Kind: page.Banner, Index: bannerViewers})
			}
			rs = append(rs, page.Region{Kind: page.Body})
			in := input(cfg, regions(rs...), &d)
			in.Request.Type = c.page
			in.Request.Product = prodBoots
			in.Counts = fakeCounts{views: map[catalog.ID]live.Counts{prodBoots: {Day: 9}}}
			in.CSP = c.verdict
			pl := Decide(in)
			got := ""
			if pl.Overlay != nil {
				got = pl.Overlay.ID
			}
			if got != c.want {
				t.Errorf("chose %q, want %q", got, c.want)
			}
			body := pl.Regions[len(rs)-1]
			wantAction := Body
			if c.wantWhy != "" {
				wantAction = Keep
			}
			if body.Action != wantAction || body.Why != c.wantWhy {
				t.Errorf("body region %s %q, want %s %q", body.Action, body.Why, wantAction, c.wantWhy)
			}
			if pl.CSPSkipped != c.wantSkip {
				t.Errorf("CSPSkipped %v, want %v", pl.CSPSkipped, c.wantSkip)
			}
		})
	}
}

func TestUpsellAsksEngine(t *testing.T) {
	t.Parallel()
	d := withCart(returningProspect(), -2*time.Minute)
	d.AddToCart(prodCap, 1, now.Add(-time.Minute)) // added last: hats > caps
	eng := &fakeEngine{by: upsells, record: true}
	in := input(demo(t), regions(page.Region{Kind: page.Body}), &d)
	in.Request.Type = rules.PageCart
	in.Engine = eng
	pl := Decide(in)
	if pl.Overlay == nil || pl.Overlay.ID != "upsell" {
		t.Fatalf("overlay %v, want upsell", pl.Overlay)
	}
	if len(eng.calls) != 1 {
		t.Fatalf("the engine was asked %d times, want once", len(eng.calls))
	}
	got := eng.calls[0]
	want := recommend.Request{Strategies: []recommend.Strategy{recommend.AlsoBought, recommend.Popular}, N: 3}
	if !reflect.DeepEqual(got.req, want) {
		t.Errorf("the engine got %+v, want %+v", got.req, want)
	}
	if got.ctx.Category != catCaps {
		t.Errorf("the engine got category %d, want %d (the deepest of the product added last)", got.ctx.Category, catCaps)
	}
	if want := []catalog.ID{prodBoots, prodCap}; !slices.Equal(got.ctx.Cart, want) {
		t.Errorf("the engine got cart %v, want %v", got.ctx.Cart, want)
	}
}
