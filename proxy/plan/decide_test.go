package plan

import (
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// now is when the tests' page views happen.
var now = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

// The demo's blocks and banners, by their index in the configuration.
const (
	blockRecentlyViewed  = 0
	blockAlsoViewed      = 2 // also_viewed, then session, then popular
	blockCategoryPopular = 4 // popular, personal
	bannerFreeShipping   = 0 // 60 EUR
	bannerViewers        = 1 // viewers_day, min 3
)

// Categories of the test catalog.
const (
	catShoes catalog.ID = 100 + iota
	catBoots
	catBags
	catHats
	catCaps
)

// Products of the test catalog. 44 (no name), 47 (no URL) and 99 (unknown)
// cannot be shown; 48 has no price, 49 is priced in dollars, 50 names no
// currency.
const (
	prodBoots   catalog.ID = 42 // 20 EUR, shoes > boots
	prodBag     catalog.ID = 43 // 35 EUR, bags
	prodNoName  catalog.ID = 44
	prodCap     catalog.ID = 45 // 15 EUR, hats > caps
	prodHat     catalog.ID = 46 // 25 EUR, hats
	prodNoURL   catalog.ID = 47
	prodNoPrice catalog.ID = 48
	prodDollars catalog.ID = 49 // 30 USD
	prodNoCurr  catalog.ID = 50 // 25, no currency
	prodUnknown catalog.ID = 99
)

// demo is the configuration these tests decide on (testdata/rules.yaml,
// the demo shop's before it used segments), compiled.
func demo(tb testing.TB) *rules.Compiled {
	tb.Helper()
	data, err := os.ReadFile("testdata/rules.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := rules.Parse("testdata/rules.yaml", data)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// demoWith is the demo's configuration changed by change, compiled again.
func demoWith(tb testing.TB, change func(c *rules.Config)) *rules.Compiled {
	tb.Helper()
	settings := *demo(tb).Config
	settings.Recommendations.Blocks = slices.Clone(settings.Recommendations.Blocks)
	settings.Overlays.Rules = slices.Clone(settings.Overlays.Rules)
	settings.Overlays.Banners = slices.Clone(settings.Overlays.Banners)
	change(&settings)
	c, err := rules.Compile(&settings)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rule is the overlay rule of the id in c.
func rule(tb testing.TB, c *rules.Config, id string) *rules.Overlay {
	tb.Helper()
	for i := range c.Overlays.Rules {
		if c.Overlays.Rules[i].ID == id {
			return &c.Overlays.Rules[i]
		}
	}
	tb.Fatalf("no overlay rule %q", id)
	return nil
}

// fakeCatalog is a Catalog of a few products; aliases map other keys (a
// product's URL path) to products; listed are the category paths
// listings showed products under, by path key.
type fakeCatalog struct {
	products map[catalog.ID]catalog.Product
	aliases  map[catalog.ID]catalog.ID
	listed   map[catalog.ID][]catalog.ID
}

func (c *fakeCatalog) Card(id catalog.ID) (catalog.Card, bool) {
	p, ok := c.products[id]
	return catalog.CardOf(&p), ok
}

func (c *fakeCatalog) CardPath(id catalog.ID, cats []catalog.ID) (_ []catalog.ID, _ catalog.Card, ok bool) {
	p, ok := c.products[id]
	if !ok {
		return cats, catalog.Card{}, false
	}
	for _, cat := range p.Categories {
		cats = append(cats, cat.ID)
	}
	return cats, catalog.CardOf(&p), true
}

func (c *fakeCatalog) ResolveKey(key catalog.ID) (catalog.ID, bool) {
	if _, ok := c.products[key]; ok {
		return key, true
	}
	id, ok := c.aliases[key]
	return id, ok
}

func (c *fakeCatalog) PathOf(key catalog.ID, cats []catalog.ID) (id catalog.ID, ok bool, _ []catalog.ID) {
	start := len(cats)
	if id, ok = c.ResolveKey(key); ok {
		cats, _, _ = c.CardPath(id, cats)
	}
	if len(cats) == start {
		cats = append(cats, c.listed[key]...)
	}
	return id, ok, cats
}

// product is a catalog product in the categories (outermost first).
func product(id catalog.ID, name, url string, price float64, currency string, cats ...catalog.ID) catalog.Product {
	p := catalog.Product{ID: id, Name: name, URL: url, Price: price, Currency: currency}
	for _, c := range cats {
		p.Categories = append(p.Categories, catalog.Category{ID: c})
	}
	return p
}

// testCatalog is the catalog every test reads (none changes it). Search
// results link products by key: key(id) resolves to id.
var testCatalog = &fakeCatalog{
	products: map[catalog.ID]catalog.Product{
		prodBoots:   product(prodBoots, "Boots", "/p/boots", 20, "EUR", catShoes, catBoots),
		prodBag:     product(prodBag, "Bag", "/p/bag", 35, "EUR", catBags),
		prodNoName:  product(prodNoName, "", "/p/no-name", 10, "EUR", catBags),
		prodCap:     product(prodCap, "Cap", "/p/cap", 15, "EUR", catHats, catCaps),
		prodHat:     product(prodHat, "Hat", "/p/hat", 25, "EUR", catHats),
		prodNoURL:   product(prodNoURL, "No URL", "", 10, "EUR", catBags),
		prodNoPrice: product(prodNoPrice, "No price", "/p/no-price", 0, "EUR", catBags),
		prodDollars: product(prodDollars, "Dollars", "/p/dollars", 30, "USD", catBags),
		prodNoCurr:  product(prodNoCurr, "No currency", "/p/no-currency", 25, "", catBags),
	},
	aliases: map[catalog.ID]catalog.ID{
		key(prodBoots): prodBoots, key(prodBag): prodBag, key(prodCap): prodCap, key(prodHat): prodHat,
	},
}

// key is the path key a search result links a product by.
func key(id catalog.ID) catalog.ID { return 1000 + id }

// call is one request the fake engine got.
type call struct {
	ctx recommend.Context
	req recommend.Request
}

// fakeEngine recommends what by says for each strategy chain (its
// strategies joined by ","), up to the request's N, and records what it
// was asked when record is set.
type fakeEngine struct {
	by     map[string][]catalog.ID
	record bool
	calls  []call
}

func (e *fakeEngine) Append(dst []recommend.ID, ctx *recommend.Context, req recommend.Request, _ recommend.Catalog) []recommend.ID {
	if e.record {
		e.calls = append(e.calls, call{*ctx, req})
	}
	var buf [128]byte
	ids := e.by[string(chainKey(buf[:0], req.Strategies))] // no allocation: a benchmark counts them
	return append(dst, ids[:min(len(ids), req.N)]...)
}

// chainKey appends to dst the name of a strategy chain: its strategies
// joined by ",".
func chainKey(dst []byte, chain []recommend.Strategy) []byte {
	for i, c := range chain {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c...)
	}
	return dst
}

// fakeCounts are the live counts of a few products.
type fakeCounts struct {
	views, carts map[catalog.ID]live.Counts
}

func (c fakeCounts) Views(id catalog.ID, _ time.Time) live.Counts { return c.views[id] }
func (c fakeCounts) Carts(id catalog.ID, _ time.Time) live.Counts { return c.carts[id] }

// dismissals is a set of overlays dismissed in the browser.
type dismissals map[string]bool

func (s dismissals) Dismissed(id string) bool { return s[id] }

// returningProspect is a visitor on their second visit, 5 minutes in, who
// never bought.
func returningProspect() profile.Data {
	var d profile.Data
	d.Touch(now.Add(-2*time.Hour), 30*time.Minute)
	d.Touch(now.Add(-5*time.Minute), 30*time.Minute)
	return d
}

// input is a Decide input on the demo configuration for a returning
// prospect on a product page with no policy: the tests change what they
// test.
func input(cfg *rules.Compiled, a *page.Analysis, d *profile.Data) *Input {
	return &Input{
		Config:  cfg,
		Page:    a,
		Profile: d,
		Request: Request{Type: rules.PageProduct, VisitorID: "v1", Returning: true, Host: []byte("shop.example"), HTTPS: true},
		CSP:     csp.AllowAll,
		Now:     now,
		Engine:  &fakeEngine{record: true},
		Catalog: testCatalog,
		Counts:  fakeCounts{},
	}
}

// regions is an analysis of the regions.
func regions(rs ...page.Region) *page.Analysis {
	return &page.Analysis{Regions: rs, Injects: true}
}

func TestMenuOrder(t *testing.T) {
	t.Parallel()
	cfg := demo(t) // min_interest 1
	noNav := demoWith(t, func(c *rules.Config) { c.Navigation = nil })
	onProducts := demoWith(t, func(c *rules.Config) {
		nav := *c.Navigation
		nav.Pages = []rules.PageType{rules.PageProduct, rules.PageCategory}
		c.Navigation = &nav
	})
	week := 7 * 24 * time.Hour // the interest half-life
	// The menu: shoes (with boots in its submenu), bags, hats (with caps).
	menu := page.Region{Kind: page.Menu, Cats: [][]catalog.ID{{catShoes, catBoots}, {catBags}, {catHats, catCaps}}}
	for _, c := range []struct {
		name      string
		cfg       *rules.Compiled
		returning bool
		views     func(d *profile.Data)
		want      Region
	}{
		{"new visitor keeps the shop's order", cfg, false, func(d *profile.Data) {
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-time.Minute), week)
		}, Region{Why: WhyNewVisitor}},
		{"returning visitor with interest reorders", cfg, true, func(d *profile.Data) {
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now, week)
		}, Region{Action: Reorder, Order: []int{1, 0, 2}}},
		{"interest in a submenu's category moves its entry", cfg, true, func(d *profile.Data) {
			d.ViewProduct(prodCap, []catalog.ID{catHats, catCaps}, now, week)
		}, Region{Action: Reorder, Order: []int{2, 0, 1}}},
		{"strongest interest first", cfg, true, func(d *profile.Data) {
			d.ViewProduct(prodCap, []catalog.ID{catHats, catCaps}, now, week)
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-2*time.Minute), week)
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{1, 2, 0}}},
		{"interest in the first entry keeps the order", cfg, true, func(d *profile.Data) {
			d.ViewProduct(prodBoots, []catalog.ID{catShoes, catBoots}, now, week)
		}, Region{Why: WhyNoInterest}},
		{"no interest keeps the order", cfg, true, func(*profile.Data) {}, Region{Why: WhyNoInterest}},
		{"interest from long ago has faded under min_interest", cfg, true, func(d *profile.Data) {
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-30*24*time.Hour), week)
		}, Region{Why: WhyNoInterest}},
		{"one category view is under min_interest", cfg, true, func(d *profile.Data) {
			d.ViewCategory([]catalog.ID{catBags}, now, week)
		}, Region{Why: WhyNoInterest}},
		{"two category views reach min_interest", cfg, true, func(d *profile.Data) {
			d.ViewCategory([]catalog.ID{catBags}, now, week)
			d.ViewCategory([]catalog.ID{catBags}, now, week)
		}, Region{Action: Reorder, Order: []int{1, 0, 2}}},
		{"no navigation configured keeps the order", noNav, true, func(d *profile.Data) {
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-time.Minute), week)
		}, Region{}},
		{"navigation for other pages keeps the home page's order", onProducts, true, func(d *profile.Data) {
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now, week)
		}, Region{Why: WhyPage}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			c.views(&d)
			in := input(c.cfg, regions(menu), &d)
			in.Request.Type = rules.PageHome
			in.Request.Returning = c.returning
			pl := Decide(in)
			if got := pl.Regions[0]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if pl.Stylesheet != -1 {
				t.Errorf("stylesheet at %d for a menu, want none (-1)", pl.Stylesheet)
			}
		})
	}
}

func TestSearchOrder(t *testing.T) {
	t.Parallel()
	cfg := demo(t)
	week := 7 * 24 * time.Hour
	// The results: boots (shoes > boots), bag (bags), cap (hats > caps),
	// hat (hats), by their path keys.
	results := page.Region{Kind: page.Results, Prods: []catalog.ID{key(prodBoots), key(prodBag), key(prodCap), key(prodHat)}}
	for _, c := range []struct {
		name    string
		results page.Region
		views   func(d *profile.Data)
		want    Region
	}{
		{"viewed first, latest first", results, func(d *profile.Data) {
			d.ViewPage() // no interest
			d.ViewProduct(prodCap, nil, now.Add(-2*time.Hour), week)
			d.ViewProduct(prodBag, nil, now.Add(-time.Hour), week)
		}, Region{Action: Reorder, Order: []int{1, 2, 0, 3}}},
		{"then interest, strongest first, a parent's at ParentShare", results, func(d *profile.Data) {
			// Hats 1, bags 0.5: the hat (hats) first, then the bag
			// (bags, 0.5) and the cap (hats › caps: half of hats', 0.5)
			// in the shop's order.
			d.ViewCategory([]catalog.ID{catBags}, now.Add(-time.Hour), week)
			d.ViewCategory([]catalog.ID{catHats}, now.Add(-time.Hour), week)
			d.ViewCategory([]catalog.ID{catHats}, now.Add(-time.Hour), week)
		}, Region{Action: Reorder, Order: []int{3, 1, 2, 0}}},
		{"viewed, then interest, then the shop's order", results, func(d *profile.Data) {
			d.ViewProduct(prodHat, []catalog.ID{catHats}, now.Add(-time.Hour), week)
			d.ViewCategory([]catalog.ID{catBags}, now.Add(-time.Minute), week)
			d.ViewCategory([]catalog.ID{catBags}, now.Add(-time.Minute), week)
			d.ViewCategory([]catalog.ID{catBags}, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{3, 1, 2, 0}}},
		{"entries linking nothing known keep their place after the others", page.Region{
			Kind: page.Results, Prods: []catalog.ID{0, key(prodUnknown), key(prodHat), key(prodBoots)},
		}, func(d *profile.Data) {
			d.ViewCategory([]catalog.ID{catHats}, now, week)
		}, Region{Action: Reorder, Order: []int{2, 0, 1, 3}}},
		{"a product linked by its own ID", page.Region{
			Kind: page.Results, Prods: []catalog.ID{key(prodBoots), prodBag},
		}, func(d *profile.Data) {
			d.ViewProduct(prodBag, nil, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{1, 0}}},
		{"nothing moves: keep", results, func(d *profile.Data) {
			d.ViewProduct(prodBoots, []catalog.ID{catShoes, catBoots}, now.Add(-time.Minute), week)
		}, Region{Why: WhyNoInterest}},
		{"no views: keep", results, func(*profile.Data) {}, Region{Why: WhyNoInterest}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			c.views(&d)
			in := input(cfg, regions(c.results), &d)
			in.Request.Type = rules.PageSearch
			if got := Decide(in).Regions[0]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	cfg := demo(t)
	// The demo's also-viewed block, asking for 6 products, at least 3.
	fewer := demoWith(t, func(c *rules.Config) {
		c.Recommendations.Blocks[blockAlsoViewed].Count = 6
		c.Recommendations.Blocks[blockAlsoViewed].Min = 3
	})
	alsoViewed := []recommend.Strategy{recommend.AlsoViewed, recommend.Session, recommend.Popular}
	for _, c := range []struct {
		name     string
		cfg      *rules.Compiled
		block    int
		by       map[string][]catalog.ID
		wantReq  recommend.Request
		want     Region
		wantHead bool // the stylesheet goes in the head
	}{
		{"the block's strategy, then its fallbacks", cfg, blockAlsoViewed,
			map[string][]catalog.ID{"also_viewed,session,popular": {prodBag, prodCap}},
			recommend.Request{Strategies: alsoViewed, N: 4},
			Region{Action: Block, Products: []catalog.ID{prodBag, prodCap}}, true},
		{"a single strategy", cfg, blockRecentlyViewed,
			map[string][]catalog.ID{"recently_viewed": {prodHat}},
			recommend.Request{Strategies: []recommend.Strategy{recommend.RecentlyViewed}, N: 4},
			Region{Action: Block, Products: []catalog.ID{prodHat}}, true},
		{"personal passed through", cfg, blockCategoryPopular,
			map[string][]catalog.ID{"popular": {prodHat, prodCap}},
			recommend.Request{Strategies: []recommend.Strategy{recommend.Popular}, N: 4, Personal: true},
			Region{Action: Block, Products: []catalog.ID{prodHat, prodCap}}, true},
		{"count passed through", fewer, blockAlsoViewed,
			map[string][]catalog.ID{"also_viewed,session,popular": {prodBag, prodCap, prodHat, prodBoots}},
			recommend.Request{Strategies: alsoViewed, N: 6},
			Region{Action: Block, Products: []catalog.ID{prodBag, prodCap, prodHat, prodBoots}}, true},
		{"products the catalog cannot show are dropped", cfg, blockAlsoViewed,
			map[string][]catalog.ID{"also_viewed,session,popular": {prodNoName, prodBag, prodNoURL, prodUnknown}},
			recommend.Request{Strategies: alsoViewed, N: 4},
			Region{Action: Block, Products: []catalog.ID{prodBag}}, true},
		{"fewer than min once the unshowable are dropped: keep", fewer, blockAlsoViewed,
			map[string][]catalog.ID{"also_viewed,session,popular": {prodBag, prodNoName, prodCap, prodUnknown}},
			recommend.Request{Strategies: alsoViewed, N: 6},
			Region{Why: WhyTooFew}, false},
		{"nothing recommended: keep", cfg, blockAlsoViewed, nil,
			recommend.Request{Strategies: alsoViewed, N: 4},
			Region{Why: WhyTooFew}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			d.ViewProduct(prodHat, []catalog.ID{catHats}, now.Add(-time.Minute), 7*24*time.Hour)
			d.ViewProduct(prodBoots, []catalog.ID{catShoes, catBoots}, now, 7*24*time.Hour)
			d.AddToCart(prodCap, 1, now.Add(-2*time.Minute))
			eng := &fakeEngine{by: c.by, record: true}
			in := input(c.cfg, regions(page.Region{Kind: page.Head}, page.Region{Kind: page.Block, Index: c.block}), &d)
			in.Engine = eng
			in.Request.Product = prodBoots
			in.Request.Categories = []catalog.ID{catShoes, catBoots}
			pl := Decide(in)
			c.want.Index = c.block // the block that takes the place
			if got := pl.Regions[1]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if len(eng.calls) != 1 {
				t.Fatalf("the engine was asked %d times, want once", len(eng.calls))
			}
			got := eng.calls[0]
			if !reflect.DeepEqual(got.req, c.wantReq) {
				t.Errorf("the engine got %+v, want %+v", got.req, c.wantReq)
			}
			ctx := got.ctx
			if ctx.Item != prodBoots || ctx.Category != catBoots || !ctx.Now.Equal(now) {
				t.Errorf("the engine got item %d, category %d at %v, want %d, %d (the deepest) at %v", ctx.Item, ctx.Category, ctx.Now, prodBoots, catBoots, now)
			}
			if want := recommend.SessionKey("v1", d.VisitStart); ctx.Session != want {
				t.Errorf("the engine got session %x, want %x", ctx.Session, want)
			}
			if want := []catalog.ID{prodBoots, prodHat}; !slices.Equal(ctx.Recent, want) {
				t.Errorf("the engine got recent %v, want %v", ctx.Recent, want)
			}
			if want := []catalog.ID{prodCap}; !slices.Equal(ctx.Cart, want) {
				t.Errorf("the engine got cart %v, want %v", ctx.Cart, want)
			}
			if ctx.Interest == nil || ctx.Interest.Interest(catBoots) <= ctx.Interest.Interest(catHats) {
				t.Errorf("the engine's interest does not rank boots, viewed last, over hats")
			}
			wantSheet := -1
			if c.wantHead {
				wantSheet = 0
			}
			if pl.Stylesheet != wantSheet {
				t.Errorf("stylesheet at %d, want %d", pl.Stylesheet, wantSheet)
			}
		})
	}
}

func TestBanners(t *testing.T) {
	t.Parallel()
	cfg := demo(t) // free shipping from 60 EUR; viewers today, from 3
	// Text "" gets the default text of the count when compiled.
	hour := demoWith(t, func(c *rules.Config) {
		c.Overlays.Banners[bannerViewers].Count, c.Overlays.Banners[bannerViewers].Text = "viewers_hour", ""
	})
	carts := demoWith(t, func(c *rules.Config) {
		c.Overlays.Banners[bannerViewers].Count, c.Overlays.Banners[bannerViewers].Text = "carts_day", ""
		c.Overlays.Banners[bannerViewers].Min = 2
	})
	empty := demoWith(t, func(c *rules.Config) { c.Overlays.Banners[bannerFreeShipping].Empty = "Free shipping from {amount}" })
	counts := fakeCounts{
		views: map[catalog.ID]live.Counts{prodBoots: {Hour: 4, Day: 3}, prodBag: {Hour: 1, Day: 2}},
		carts: map[catalog.ID]live.Counts{prodBoots: {Hour: 1, Day: 5}, prodBag: {Day: 1}},
	}
	type line struct {
		id  catalog.ID
		qty int
	}
	noStyle := csp.Verdict{Script: true, Connect: true}
	for _, c := range []struct {
		name     string
		cfg      *rules.Compiled
		banner   int
		product  catalog.ID
		cart     []line
		verdict  csp.Verdict
		want     Region
		wantSkip bool
	}{
		{"social proof at its minimum", cfg, bannerViewers, prodBoots, nil, csp.AllowAll,
			Region{Action: Banner, Text: "3 people viewed this today"}, false},
		{"social proof under its minimum", cfg, bannerViewers, prodBag, nil, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"social proof of a product never viewed", cfg, bannerViewers, prodHat, nil, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"social proof with no product on the page", cfg, bannerViewers, 0, nil, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"social proof by the hour", hour, bannerViewers, prodBoots, nil, csp.AllowAll,
			Region{Action: Banner, Text: "4 people viewed this in the last hour"}, false},
		{"social proof by carts", carts, bannerViewers, prodBoots, nil, csp.AllowAll,
			Region{Action: Banner, Text: "5 people added this to their cart today"}, false},
		{"social proof by carts under its minimum", carts, bannerViewers, prodBag, nil, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"free shipping: the amount missing", cfg, bannerFreeShipping, prodBoots, []line{{prodBoots, 2}}, csp.AllowAll,
			Region{Action: Banner, Text: "Add €20.00 more for free shipping"}, false},
		{"free shipping: the amount missing over several lines", cfg, bannerFreeShipping, prodBoots, []line{{prodBoots, 1}, {prodCap, 1}}, csp.AllowAll,
			Region{Action: Banner, Text: "Add €25.00 more for free shipping"}, false},
		{"free shipping reached", cfg, bannerFreeShipping, prodBoots, []line{{prodBoots, 3}}, csp.AllowAll,
			Region{Action: Banner, Text: "Your order ships free", Reached: true}, false},
		{"free shipping passed", cfg, bannerFreeShipping, prodBoots, []line{{prodBag, 2}}, csp.AllowAll,
			Region{Action: Banner, Text: "Your order ships free", Reached: true}, false},
		{"free shipping, empty cart, no empty text", cfg, bannerFreeShipping, prodBoots, nil, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"free shipping, empty cart, the empty text", empty, bannerFreeShipping, prodBoots, nil, csp.AllowAll,
			Region{Action: Banner, Text: "Free shipping from €60.00"}, false},
		{"free shipping, a price unknown", cfg, bannerFreeShipping, prodBoots, []line{{prodBoots, 1}, {prodNoPrice, 1}}, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"free shipping, a product unknown", cfg, bannerFreeShipping, prodBoots, []line{{prodUnknown, 1}}, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"free shipping, mixed currencies", cfg, bannerFreeShipping, prodBoots, []line{{prodBoots, 1}, {prodDollars, 1}}, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"free shipping, a cart in another currency than the banner's", cfg, bannerFreeShipping, prodBoots, []line{{prodDollars, 1}}, csp.AllowAll,
			Region{Why: WhyNothingTrue}, false},
		{"free shipping, prices without a currency are the banner's", cfg, bannerFreeShipping, prodBoots, []line{{prodNoCurr, 2}}, csp.AllowAll,
			Region{Action: Banner, Text: "Add €10.00 more for free shipping"}, false},
		{"CSP without style: social proof kept off", cfg, bannerViewers, prodBoots, nil, noStyle,
			Region{Why: WhyCSP}, true},
		{"CSP without style: free shipping kept off", cfg, bannerFreeShipping, prodBoots, []line{{prodBoots, 2}}, noStyle,
			Region{Why: WhyCSP}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			for _, l := range c.cart {
				d.AddToCart(l.id, l.qty, now.Add(-time.Hour))
			}
			in := input(c.cfg, regions(page.Region{Kind: page.Banner, Index: c.banner}), &d)
			in.Request.Product = c.product
			in.Counts = counts
			in.CSP = c.verdict
			pl := Decide(in)
			c.want.Index = c.banner // the banner that takes the place
			if got := pl.Regions[0]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if pl.CSPSkipped != c.wantSkip {
				t.Errorf("CSPSkipped %v, want %v", pl.CSPSkipped, c.wantSkip)
			}
		})
	}
}

func TestStylesheet(t *testing.T) {
	t.Parallel()
	cfg := demo(t)
	head := page.Region{Kind: page.Head}
	block := page.Region{Kind: page.Block, Index: blockAlsoViewed}
	menu := page.Region{Kind: page.Menu, Cats: [][]catalog.ID{{catShoes}, {catBags}}}
	banner := page.Region{Kind: page.Banner, Index: bannerViewers} // nothing true: no views
	noStyle := csp.Verdict{Script: true, Connect: true}
	for _, c := range []struct {
		name    string
		a       *page.Analysis
		host    string
		https   bool
		verdict csp.Verdict
		want    int
		origin  string
	}{
		{"at the head when something injects", regions(head, menu, banner, block), "shop.example", true, csp.AllowAll, 0, ""},
		{"at the head, wherever it is", regions(menu, head, block), "shop.example", true, csp.AllowAll, 1, ""},
		{"without a head, in front of the first injecting region", regions(menu, banner, block, page.Region{Kind: page.Body}), "shop.example", true, csp.AllowAll, 2, ""},
		{"none when only a menu moves", regions(head, menu, banner), "shop.example", true, csp.AllowAll, -1, ""},
		{"none when the CSP forbids style", regions(head, menu, block), "shop.example", true, noStyle, -1, ""},
		{"origin when the base names another host", &page.Analysis{
			Regions: []page.Region{head, block}, Injects: true, Base: page.Base{Host: "cdn.example"},
		}, "shop.example", true, csp.AllowAll, 0, "https://shop.example"},
		{"origin over http", &page.Analysis{
			Regions: []page.Region{head, block}, Injects: true, Base: page.Base{Host: "cdn.example"},
		}, "shop.example", false, csp.AllowAll, 0, "http://shop.example"},
		{"origin when the base is http on an https page", &page.Analysis{
			Regions: []page.Region{head, block}, Injects: true, Base: page.Base{Scheme: "http", Host: "shop.example"},
		}, "shop.example", true, csp.AllowAll, 0, "https://shop.example"},
		{"no origin when the base is the page's own host", &page.Analysis{
			Regions: []page.Region{head, block}, Injects: true, Base: page.Base{Scheme: "https", Host: "Shop.Example"},
		}, "shop.example", true, csp.AllowAll, 0, ""},
		{"no origin without a host", &page.Analysis{
			Regions: []page.Region{head, block}, Injects: true, Base: page.Base{Host: "cdn.example"},
		}, "", true, csp.AllowAll, 0, ""},
		{"no origin on a page that injects nothing", &page.Analysis{
			Regions: []page.Region{menu}, Base: page.Base{Host: "cdn.example"},
		}, "shop.example", true, csp.AllowAll, -1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			d.ViewProduct(prodBag, []catalog.ID{catBags}, now, 7*24*time.Hour)
			in := input(cfg, c.a, &d)
			in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat}}}
			in.Request.Host, in.Request.HTTPS = []byte(c.host), c.https
			in.Request.Product = prodBoots
			in.CSP = c.verdict
			pl := Decide(in)
			if pl.Stylesheet != c.want {
				t.Errorf("stylesheet at %d, want %d", pl.Stylesheet, c.want)
			}
			for i, s := range c.a.Regions {
				isHead := pl.Regions[i].Action == Head
				if want := s.Kind == page.Head && c.want == i; isHead != want {
					t.Errorf("region %d (%s): action %s, want the stylesheet there %v", i, s.Kind, pl.Regions[i].Action, want)
				}
			}
			if pl.Origin != c.origin {
				t.Errorf("origin %q, want %q", pl.Origin, c.origin)
			}
		})
	}
}

// richInput is a product page with a bit of everything, for a returning
// prospect with a cart from an earlier visit.
func richInput(tb testing.TB) *Input {
	tb.Helper()
	week := 7 * 24 * time.Hour
	var d profile.Data
	d.Touch(now.Add(-3*time.Hour), 30*time.Minute)
	d.ViewProduct(prodCap, []catalog.ID{catHats, catCaps}, now.Add(-3*time.Hour), week)
	d.AddToCart(prodCap, 2, now.Add(-3*time.Hour))
	d.Touch(now.Add(-5*time.Minute), 30*time.Minute)
	d.ViewProduct(prodBoots, []catalog.ID{catShoes, catBoots}, now.Add(-2*time.Minute), week)
	d.ViewProduct(prodBag, []catalog.ID{catBags}, now, week)
	in := input(demo(tb), productPage(), &d)
	in.Request.Product = prodBag
	in.Request.Categories = []catalog.ID{catBags}
	in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat, prodBoots, prodNoName}}}
	in.Counts = fakeCounts{views: map[catalog.ID]live.Counts{prodBag: {Hour: 2, Day: 7}}}
	in.Explain = true
	return in
}

// productPage is the analysis of a demo product page: the head, the main
// menu, the also-viewed block, the free-shipping and viewers banners, and
// the end of the body.
func productPage() *page.Analysis {
	return regions(
		page.Region{Kind: page.Head},
		page.Region{Kind: page.Menu, Cats: [][]catalog.ID{{catShoes, catBoots}, {catBags}, {catHats, catCaps}}},
		page.Region{Kind: page.Banner, Index: bannerViewers},
		page.Region{Kind: page.Banner, Index: bannerFreeShipping},
		page.Region{Kind: page.Block, Index: blockAlsoViewed},
		page.Region{Kind: page.Body},
	)
}

func TestDecideDeterministic(t *testing.T) {
	t.Parallel()
	in := richInput(t)
	before := *in.Profile
	first := Decide(in)
	second := Decide(in)
	if !reflect.DeepEqual(first, second) {
		t.Errorf("the same input gave two plans:\n%+v\n%+v", first, second)
	}
	if !reflect.DeepEqual(before, *in.Profile) {
		t.Error("Decide changed its input's profile")
	}
	if !reflect.DeepEqual(in.Page, productPage()) {
		t.Error("Decide changed its input's page analysis")
	}
	// The plan is the one this input asks for, so that the comparison
	// above compares something.
	want := []Action{Head, Reorder, Banner, Banner, Block, Body}
	got := make([]Action, len(first.Regions))
	for i, r := range first.Regions {
		got[i] = r.Action
	}
	if !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
	if first.Overlay == nil || first.Overlay.ID != "cart-reminder" {
		t.Errorf("overlay %v, want cart-reminder", first.Overlay)
	}
}

// BenchmarkDecide measures deciding a demo product page for a returning
// prospect: the menu, a block, two banners and the overlay (the demo's
// rules, the exit offer chosen).
func BenchmarkDecide(b *testing.B) {
	cfg := demo(b)
	week := 7 * 24 * time.Hour
	d := returningProspect()
	d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-2*time.Minute), week)
	d.ViewProduct(prodBoots, []catalog.ID{catShoes, catBoots}, now, week)
	d.AddToCart(prodBag, 1, now.Add(-time.Minute))
	in := input(cfg, productPage(), &d)
	in.Request.Product = prodBoots
	in.Request.Categories = []catalog.ID{catShoes, catBoots}
	in.Request.Dismissed = dismissals{}
	in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat, prodCap, prodNoName}}}
	in.Counts = fakeCounts{views: map[catalog.ID]live.Counts{prodBoots: {Hour: 2, Day: 7}}}
	b.ReportAllocs()
	for b.Loop() {
		pl := Decide(in)
		if pl.Overlay == nil || pl.Overlay.ID != "exit-offer" {
			b.Fatalf("overlay %v, want exit-offer", pl.Overlay)
		}
		pl.Release() // as the proxy does once the page is out
	}
}

// BenchmarkDecideEngine is BenchmarkDecide with the real engine and
// catalog: 300 products in 30 categories, co-viewed in 20,000 visits of
// five products each (popular ones more often, as in a shop), the
// visitor on the page of the most co-viewed. The engine's half of a
// product page's decision, and the catalog lookups that keep what it
// recommends.
func BenchmarkDecideEngine(b *testing.B) {
	cfg := demo(b)
	week := 7 * 24 * time.Hour
	cat := catalog.New(1000)
	eng := recommend.New(recommend.Config{})
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.1, 1, 299)
	const first = 1000
	for i := range 300 {
		id := catalog.ID(first + i)
		p := product(id, "Product", "/p/"+strconv.Itoa(i), float64(10+i%50), "EUR", catalog.ID(10+i%30))
		p.Availability = catalog.InStock
		cat.Put(p, now)
	}
	at := now.Add(-time.Hour)
	for v := range 20000 {
		for range 5 {
			id := catalog.ID(first + zipf.Uint64())
			eng.Record(recommend.Event{Session: uint64(v + 1), Item: id, Categories: []catalog.ID{catalog.ID(10 + int(id-first)%30)}, Kind: recommend.View, Time: at})
		}
		at = at.Add(100 * time.Millisecond)
	}
	d := returningProspect()
	d.ViewProduct(first+1, []catalog.ID{11}, now.Add(-2*time.Minute), week)
	d.ViewProduct(first, []catalog.ID{10}, now, week)
	in := input(cfg, productPage(), &d)
	in.Request.Product = first
	in.Request.Categories = []catalog.ID{10}
	in.Request.Dismissed = dismissals{}
	in.Engine, in.Catalog = eng, cat
	in.Counts = fakeCounts{views: map[catalog.ID]live.Counts{first: {Hour: 2, Day: 7}}}
	b.ReportAllocs()
	for b.Loop() {
		pl := Decide(in)
		if r := pl.Regions[4]; r.Action != Block || len(r.Products) == 0 {
			b.Fatalf("block region %+v", r)
		}
		pl.Release()
	}
}
