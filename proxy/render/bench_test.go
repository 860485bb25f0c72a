package render

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/rewrite"
	"shopedge/rules"
)

// demoCatalog is the demo shop's products as the proxy's catalog learns
// them (its rating on the products that have reviews), and their ids.
func demoCatalog() (fakeCatalog, []catalog.ID) {
	cat := fakeCatalog{}
	var ids []catalog.ID
	for _, sp := range shop.New(1).Catalog.Products {
		id := catalog.KeyOf(sp.SKU)
		p := catalog.Product{ID: id, Name: sp.Name, URL: sp.URL(), Image: sp.Image(), Price: sp.Price, Currency: "EUR", Brand: sp.Brand}
		if sp.Reviews > 0 {
			p.Rating = catalog.Rating{Value: sp.Rating, Best: 5, Worst: 1, Count: uint32(sp.Reviews), Reviews: true}
		}
		cat[id] = p
		ids = append(ids, id)
	}
	return cat, ids
}

// benchPage is a demo page's regions and one visitor's plan for them.
type benchPage struct {
	a  *page.Analysis
	pl *plan.Plan
}

// demoPlans makes the plans of n visitors on the demo's product, home,
// category and cart pages (configs/demo.yaml): each visitor's own
// products in the blocks, their own cart in the reminder and the
// free-shipping banner, the product's own viewer count, the menu in
// their own order; as the load harness's mix of visitors gets them.
func demoPlans(b *testing.B, cfg *rules.Compiled, ids []catalog.ID, n int) []benchPage {
	b.Helper()
	block := func(id string) int {
		for i := range cfg.Recommendations.Blocks {
			if cfg.Recommendations.Blocks[i].ID == id {
				return i
			}
		}
		b.Fatalf("no block %q", id)
		return 0
	}
	overlay := func(id string) *rules.CompiledOverlay {
		for i := range cfg.OverlayRules {
			if cfg.OverlayRules[i].ID == id {
				return &cfg.OverlayRules[i]
			}
		}
		b.Fatalf("no overlay %q", id)
		return nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(k int) []catalog.ID {
		out := make([]catalog.ID, k)
		for i := range out {
			// Zipf-like: most visitors see the same popular products.
			out[i] = ids[int(float64(len(ids))*rng.Float64()*rng.Float64()*rng.Float64())]
		}
		return out
	}
	cart := func() []plan.Item {
		var items []plan.Item
		for _, id := range pick(1 + rng.IntN(3)) {
			items = append(items, plan.Item{ID: id, Qty: 1 + rng.IntN(2)})
		}
		return items
	}
	shipping := func() string {
		return fmt.Sprintf("Add €%d.%02d more for free shipping", rng.IntN(60), rng.IntN(100))
	}
	reminder, exit, upsell := overlay("cart-reminder"), overlay("exit-offer"), overlay("upsell")
	// The demo's menu: a list of ten categories, reordered by the
	// visitor's interests.
	menu := testMenu(`<ul class="nav">`, 10)
	var pages []benchPage
	for v := range n {
		var a page.Analysis
		pl := &plan.Plan{Stylesheet: 0}
		add := func(k page.Kind, r plan.Region) {
			a.Regions = append(a.Regions, page.Region{Kind: k})
			pl.Regions = append(pl.Regions, r)
		}
		add(page.Head, plan.Region{Action: plan.Head})
		a.Regions = append(a.Regions, menu)
		pl.Regions = append(pl.Regions, plan.Region{Action: plan.Reorder, Order: rng.Perm(len(menu.Slots))})
		switch v % 4 {
		case 0: // a product page
			add(page.Banner, plan.Region{Action: plan.Banner, Index: 0, Text: shipping()})
			add(page.Banner, plan.Region{Action: plan.Banner, Index: 1, Text: fmt.Sprintf("%d people viewed this today", 3+rng.IntN(40))})
			add(page.Block, plan.Region{Action: plan.Block, Index: block("also-viewed"), Products: pick(4)})
			pl.Overlay = &plan.Chosen{CompiledOverlay: reminder, Items: cart()}
		case 1: // the home page
			add(page.Block, plan.Region{Action: plan.Block, Index: block("recently-viewed"), Products: pick(4)})
			add(page.Block, plan.Region{Action: plan.Block, Index: block("popular"), Variant: rng.IntN(2), Products: pick(4)})
			pl.Overlay = &plan.Chosen{CompiledOverlay: reminder, Items: cart()}
		case 2: // a category page
			add(page.Block, plan.Region{Action: plan.Block, Index: block("category-popular"), Products: pick(4)})
			pl.Overlay = &plan.Chosen{CompiledOverlay: exit}
		case 3: // the cart
			add(page.Banner, plan.Region{Action: plan.Banner, Index: 0, Text: shipping()})
			add(page.Block, plan.Region{Action: plan.Block, Index: block("also-bought"), Products: pick(4)})
			items := cart()
			for i := range items {
				items[i].Qty = 0 // suggestions
			}
			pl.Overlay = &plan.Chosen{CompiledOverlay: upsell, Items: items}
		}
		add(page.Body, plan.Region{Action: plan.Body})
		a.Injects = true
		pages = append(pages, benchPage{a: &a, pl: pl})
	}
	return pages
}

// BenchmarkRender renders the demo's pages (configs/demo.yaml):
// "returning" is one visitor's product page again and again (everything
// kept), "returning-nonces" the same with a shop policy's nonces on the
// tags, "mixed" pages of 4096 visitors in turn, each with their own
// products, cart and banners' numbers, as the load harness mixes them,
// the clock a second further every 1024 pages (what is kept expires as
// it would).
func BenchmarkRender(b *testing.B) {
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		b.Fatal(err)
	}
	cat, ids := demoCatalog()
	nonces := csp.Verdict{Style: true, Script: true, Connect: true, StyleNonce: "c3R5bGUgbm9uY2U+/w==", ScriptNonce: "c2NyaXB0IG5vbmNl+/w=="}
	for _, bc := range []struct {
		name     string
		visitors int
		verdict  csp.Verdict
	}{{"returning", 1, csp.AllowAll}, {"returning-nonces", 1, nonces}, {"mixed", 4096, csp.AllowAll}} {
		b.Run(bc.name, func(b *testing.B) {
			r := New(cfg, cat, slog.New(slog.NewTextHandler(io.Discard, nil)))
			pages := demoPlans(b, cfg, ids, bc.visitors)
			now := time.Unix(1_800_000_000, 0)
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := pages[i%len(pages)]
				i++
				buf = buf[:0]
				out := r.Render(&buf, p.pl, p.a, bc.verdict, now.Add(time.Duration(i/1024)*time.Second))
				if !out.Changed() {
					b.Fatal("nothing rendered")
				}
			}
		})
	}
}

// testMenu is a menu region of n category entries in a list opened by
// open, one entry a slot.
func testMenu(open string, n int) page.Region {
	var menu page.Region
	var sb strings.Builder
	sb.WriteString(open)
	for k := range n {
		sb.WriteString("\n  ")
		start := sb.Len()
		fmt.Fprintf(&sb, `<li class="nav-item"><a href="/c/category-%d">Category %d</a></li>`, k, k)
		menu.Slots = append(menu.Slots, rewrite.Range{Start: start, End: sb.Len()})
	}
	sb.WriteString("\n</ul>")
	menu.Kind, menu.Bytes, menu.Span = page.Menu, []byte(sb.String()), rewrite.Range{End: sb.Len()}
	return menu
}
