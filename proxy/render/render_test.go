package render

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"shopedge/configs"
	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/rewrite"
	"shopedge/rewrite/markup"
	"shopedge/rules"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWithParam(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, want string }{
		{"/p/a", "/p/a?se_rec=b"},
		{"/p/a?x=1", "/p/a?x=1&se_rec=b"},
		{"/p/a?", "/p/a?se_rec=b"},
		{"/p/a#reviews", "/p/a?se_rec=b#reviews"},
		{"/p/a?x=1#r?s", "/p/a?x=1&se_rec=b#r?s"},
	} {
		if got := withParam(c.url, "se_rec", "b"); got != c.want {
			t.Errorf("withParam(%q) = %q, want %q", c.url, got, c.want)
		}
	}
}

// TestOnOrigin: which URLs shopedge puts on a page get the request's
// origin in front when the page's <base href> points elsewhere: its own
// root-relative paths, nothing else.
func TestOnOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, origin, u, want string
	}{
		{name: "path", origin: "https://shop.example", u: "/p/x?se_rec=b", want: "https://shop.example/p/x?se_rec=b"},
		{name: "no origin", u: "/p/x", want: "/p/x"},
		{name: "absolute on a CDN", origin: "https://shop.example", u: "https://cdn.example/x.jpg", want: "https://cdn.example/x.jpg"},
		{name: "scheme-relative", origin: "https://shop.example", u: "//cdn.example/x.jpg", want: "//cdn.example/x.jpg"},
		{name: "empty", origin: "https://shop.example", u: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := onOrigin(tt.origin, tt.u); got != tt.want {
				t.Errorf("onOrigin(%q, %q) = %q, want %q", tt.origin, tt.u, got, tt.want)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{50 * time.Hour, "2 days"}, {47 * time.Hour, "47 hours"}, {61 * time.Minute, "1 hour"}, {2 * time.Minute, "2 minutes"}, {30 * time.Second, "less than a minute"}} {
		if got := humanDuration(c.d); got != c.want {
			t.Errorf("humanDuration(%s) = %q, want %q", c.d, got, c.want)
		}
	}
}

// fakeCatalog is a map of products.
type fakeCatalog map[catalog.ID]catalog.Product

func (c fakeCatalog) Get(id catalog.ID) (catalog.Product, bool) {
	p, ok := c[id]
	return p, ok
}

func demoRenderer(t *testing.T, cat Catalog) *Renderer {
	t.Helper()
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, cat, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestRender: what each region gets, the stylesheet in front of the head
// (or else of the first region rendered) and the script at the end of the
// body, only when something rendered needs them; the page's nonces on the
// tags; the request's origin on a page whose base points elsewhere.
func TestRender(t *testing.T) {
	t.Parallel()
	boots := catalog.Product{ID: 1, Name: "Boots", URL: "/p/boots", Price: 80, Currency: "EUR"}
	// The demo's first block (index 0) and first banner, at a head, a
	// block place, a banner place and the end of the body.
	regions := []page.Region{{Kind: page.Head}, {Kind: page.Block, Index: 0}, {Kind: page.Banner, Index: 0}, {Kind: page.Body}}
	a := &page.Analysis{Regions: regions, Injects: true}
	planned := func(products []catalog.ID, stylesheet int) *plan.Plan {
		return &plan.Plan{Stylesheet: stylesheet, Regions: []plan.Region{
			{Action: plan.Head}, {Action: plan.Block, Products: products},
			{Action: plan.Banner, Text: "Add €10 more for free shipping"}, {Action: plan.Body},
		}}
	}
	tests := []struct {
		name     string
		cat      fakeCatalog
		plan     *plan.Plan
		verdict  csp.Verdict
		origin   string
		want     [4][]string // per region, what its bytes hold; nil: the shop's
		wantDone [4]bool
	}{
		{
			name: "all rendered", cat: fakeCatalog{1: boots}, plan: planned([]catalog.ID{1}, 0), verdict: csp.AllowAll,
			want: [4][]string{
				{`<link rel="stylesheet" href="/_shopedge/shopedge.css?v=`},
				{"Boots", `href="/p/boots?se_rec=`},
				{"Add €10 more for free shipping"},
				{`<script src="/_shopedge/shopedge.js?v=`, `" defer data-se-beacon="/_shopedge/beacon">`},
			},
			wantDone: [4]bool{false, true, true, true},
		},
		{
			name: "nonces", cat: fakeCatalog{1: boots}, plan: planned([]catalog.ID{1}, 0),
			verdict: csp.Verdict{Style: true, Script: true, Connect: true, StyleNonce: "s1", ScriptNonce: "j1"},
			want: [4][]string{
				{`nonce="s1"`}, {"Boots"}, {"free shipping"}, {`nonce="j1"`},
			},
			wantDone: [4]bool{false, true, true, true},
		},
		{
			name: "on the request's origin", cat: fakeCatalog{1: boots}, plan: planned([]catalog.ID{1}, 0), verdict: csp.AllowAll,
			origin: "https://shop.example",
			want: [4][]string{
				{`href="https://shop.example/_shopedge/shopedge.css?v=`}, {`href="https://shop.example/p/boots?se_rec=`}, {"free shipping"},
				{`src="https://shop.example/_shopedge/shopedge.js?v=`, `data-se-beacon="https://shop.example/_shopedge/beacon"`},
			},
			wantDone: [4]bool{false, true, true, true},
		},
		{
			// The block's product left the catalog since the plan: no
			// block; the banner still brings the stylesheet and script.
			name: "block not rendered", cat: fakeCatalog{}, plan: planned([]catalog.ID{1}, 0), verdict: csp.AllowAll,
			want:     [4][]string{{`<link rel="stylesheet"`}, nil, {"free shipping"}, {`<script`}},
			wantDone: [4]bool{false, false, true, true},
		},
		{
			name: "no stylesheet allowed", cat: fakeCatalog{1: boots}, plan: planned([]catalog.ID{1}, -1), verdict: csp.AllowAll,
			want:     [4][]string{nil, {"Boots"}, {"free shipping"}, {`<script`}},
			wantDone: [4]bool{false, true, true, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := demoRenderer(t, tt.cat)
			tt.plan.Origin = tt.origin
			var buf []byte
			out := r.Render(&buf, tt.plan, a, tt.verdict, time.Now())
			for i, want := range tt.want {
				got := out.Contents[i]
				if (want == nil) != (got == nil) {
					t.Errorf("region %d (%s): got %q, want the shop's bytes: %v", i, regions[i].Kind, got, want == nil)
					continue
				}
				for _, w := range want {
					if !strings.Contains(string(got), w) {
						t.Errorf("region %d (%s) lacks %q:\n%s", i, regions[i].Kind, w, got)
					}
				}
				if out.Done(i) != tt.wantDone[i] {
					t.Errorf("region %d: Done = %v, want %v", i, out.Done(i), tt.wantDone[i])
				}
			}
		})
	}
	// Nothing rendered: no stylesheet, no script, the page unchanged.
	r := demoRenderer(t, fakeCatalog{})
	pl := &plan.Plan{Stylesheet: 0, Regions: []plan.Region{{Action: plan.Head}, {Action: plan.Block, Products: []catalog.ID{1}}, {}, {Action: plan.Body}}}
	var buf []byte
	if out := r.Render(&buf, pl, a, csp.AllowAll, time.Now()); out.Changed() {
		t.Errorf("a page whose only block failed changed: %q", out.Contents)
	}
}

// TestRenderedDoneMany: what was rendered is known for pages of more than
// 64 regions too.
func TestRenderedDoneMany(t *testing.T) {
	t.Parallel()
	const n = 70
	a := &page.Analysis{}
	pl := &plan.Plan{Stylesheet: -1}
	for i := range n {
		a.Regions = append(a.Regions, page.Region{Kind: page.Banner, Index: 0})
		d := plan.Region{}
		if i%3 == 0 {
			d = plan.Region{Action: plan.Banner, Text: "banner " + strconv.Itoa(i)}
		}
		pl.Regions = append(pl.Regions, d)
	}
	var buf []byte
	out := demoRenderer(t, fakeCatalog{}).Render(&buf, pl, a, csp.AllowAll, time.Now())
	for i := range n {
		if got, want := out.Done(i), i%3 == 0; got != want {
			t.Errorf("region %d: Done = %v, want %v", i, got, want)
		}
	}
}

// TestRenderVariants: a block in its experiment's variant has the
// variant's title (the block cache keeps the arms apart), an overlay the
// variant's copy.
func TestRenderVariants(t *testing.T) {
	t.Parallel()
	boots := catalog.Product{ID: 1, Name: "Boots", URL: "/p/boots", Price: 80, Currency: "EUR"}
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo) // popular: an A/B of its title and strategy
	if err != nil {
		t.Fatal(err)
	}
	popular, exit := -1, -1
	for i := range cfg.Blocks {
		if cfg.Blocks[i].ID == "popular" {
			popular = i
		}
	}
	for i := range cfg.OverlayRules {
		if cfg.OverlayRules[i].ID == "exit-offer" {
			exit = i
		}
	}
	exitRule := &cfg.OverlayRules[exit]
	exitRule.Variants = []rules.CompiledVariant{{Variant: &rules.Variant{Name: "fifteen", Title: "Wait!", Code: "WELCOME15"}}}
	r := New(cfg, fakeCatalog{1: boots}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a := &page.Analysis{Regions: []page.Region{{Kind: page.Block, Index: popular}, {Kind: page.Body}}, Injects: true}
	for _, tt := range []struct {
		variant     int
		title, code string
	}{{0, "Popular right now", "WELCOME10"}, {1, "Trending now", "WELCOME15"}, {0, "Popular right now", "WELCOME10"}} {
		pl := &plan.Plan{Stylesheet: -1, Regions: []plan.Region{{Action: plan.Block, Index: popular, Products: []catalog.ID{1}, Variant: tt.variant}, {Action: plan.Body}},
			Overlay: &plan.Chosen{CompiledOverlay: exitRule, Variant: tt.variant}}
		var buf []byte
		out := r.Render(&buf, pl, a, csp.AllowAll, time.Now())
		block, body := string(out.Contents[0]), string(out.Contents[1])
		if !strings.Contains(block, tt.title) || (tt.variant == 0) == strings.Contains(block, "Trending now") {
			t.Errorf("variant %d: block %s, want the title %q", tt.variant, block, tt.title)
		}
		if !strings.Contains(body, tt.code) {
			t.Errorf("variant %d: overlay lacks %q:\n%s", tt.variant, tt.code, body)
		}
	}
}

// TestBlockFromParts: a built-in block is its head, its products' cards in
// the order asked and its foot, the same bytes whether its parts were kept
// from other visitors' blocks or rendered now; a block of products already
// shown in other orders costs no allocation (no template runs, nothing
// kept per visitor); a block under its minimum leaves dst as it was.
func TestBlockFromParts(t *testing.T) {
	cat := fakeCatalog{}
	for i := catalog.ID(1); i <= 6; i++ {
		cat[i] = catalog.Product{ID: i, Name: fmt.Sprintf("Lamp %d", i), URL: fmt.Sprintf("/p/lamp-%d", i), Price: float64(10 * i), Currency: "EUR"}
	}
	warm := demoRenderer(t, cat)
	const now = 1_800_000_000
	sets := [][]catalog.ID{{1, 2, 3, 4}, {5, 6, 1, 2}, {4, 3, 2, 1}, {6, 5}, {2, 4, 6, 1, 3, 5}}
	for _, ids := range sets {
		got, ok := warm.block([]byte("before:"), 0, 0, ids, now, "", nil)
		fresh, ok2 := demoRenderer(t, cat).block([]byte("before:"), 0, 0, ids, now, "", nil)
		if !ok || !ok2 || !bytes.Equal(got, fresh) {
			t.Fatalf("block %v from kept parts differs from one rendered now (%v %v):\n%s\n%s", ids, ok, ok2, got, fresh)
		}
		pos := 0
		for _, id := range ids {
			i := bytes.Index(got[pos:], []byte(fmt.Sprintf(`href="/p/lamp-%d?`, id)))
			if i < 0 {
				t.Fatalf("block %v: product %d missing or out of order:\n%s", ids, id, got)
			}
			pos += i
		}
	}
	dst := make([]byte, 0, 64<<10)
	if n := testing.AllocsPerRun(20, func() { warm.block(dst[:0], 0, 0, []catalog.ID{3, 1, 5, 2}, now, "", nil) }); n != 0 {
		t.Errorf("a block of products already carded costs %v allocations", n)
	}
	if got, ok := warm.block([]byte("before:"), 0, 0, []catalog.ID{99}, now, "", nil); ok || string(got) != "before:" {
		t.Errorf("a block with nothing to show = %q, %v; want dst as it was", got, ok)
	}
}

// TestRenderCuts: a built-in block's content is cut where its parts meet
// (the stylesheet put in front of it, its head, each card, its foot), so
// that a gzip page can be assembled from parts compressed once; regions
// of one piece have no cuts.
func TestRenderCuts(t *testing.T) {
	cat := fakeCatalog{}
	for i := catalog.ID(1); i <= 3; i++ {
		cat[i] = catalog.Product{ID: i, Name: fmt.Sprintf("Lamp %d", i), URL: fmt.Sprintf("/p/lamp-%d", i), Price: 20, Currency: "EUR"}
	}
	r := demoRenderer(t, cat)
	// No head region: the stylesheet goes in front of the block.
	a := &page.Analysis{Regions: []page.Region{{Kind: page.Block, Index: 0}, {Kind: page.Banner, Index: 0}, {Kind: page.Body}}, Injects: true}
	pl := &plan.Plan{Stylesheet: 0, Regions: []plan.Region{
		{Action: plan.Block, Products: []catalog.ID{3, 1, 2}},
		{Action: plan.Banner, Text: "Add €10 more for free shipping"},
		{Action: plan.Body},
	}}
	buf := make([]byte, 0, 64<<10)
	out := r.Render(&buf, pl, a, csp.AllowAll, time.Unix(1_800_000_000, 0))
	if len(out.Cuts) != 3 || out.Cuts[1] != nil || out.Cuts[2] != nil {
		t.Fatalf("cuts = %v, want cuts for the block only", out.Cuts)
	}
	c, cuts := out.Contents[0], out.Cuts[0]
	starts := []string{`<section class="se-rec"`, "\n" + `<li class="se-rec-item"><a href="/p/lamp-3?`, "\n" + `<li class="se-rec-item"><a href="/p/lamp-1?`, "\n" + `<li class="se-rec-item"><a href="/p/lamp-2?`, "\n</ul>"}
	if !bytes.HasPrefix(c, []byte(`<link rel="stylesheet"`)) || len(cuts) != len(starts) {
		t.Fatalf("block content with cuts %v:\n%s", cuts, c)
	}
	for k, want := range starts {
		if !bytes.HasPrefix(c[cuts[k]:], []byte(want)) {
			t.Errorf("part %d starts %q, want %q", k+1, c[cuts[k]:min(len(c), cuts[k]+40)], want)
		}
	}

	// Two blocks, a block that cannot be shown between them (none of its
	// products known), a head region taking the stylesheet: each block's
	// cuts are its own, the failed one has none.
	a = &page.Analysis{Regions: []page.Region{{Kind: page.Head}, {Kind: page.Block, Index: 0}, {Kind: page.Block, Index: 1}, {Kind: page.Block, Index: 2}, {Kind: page.Body}}, Injects: true}
	pl = &plan.Plan{Stylesheet: 0, Regions: []plan.Region{
		{Action: plan.Head},
		{Action: plan.Block, Index: 0, Products: []catalog.ID{1, 2}},
		{Action: plan.Block, Index: 1, Products: []catalog.ID{99}},
		{Action: plan.Block, Index: 2, Products: []catalog.ID{3, 2, 1}},
		{Action: plan.Body},
	}}
	buf = buf[:0]
	out = r.Render(&buf, pl, a, csp.AllowAll, time.Unix(1_800_000_000, 0))
	if out.Contents[2] != nil || out.Cuts[2] != nil || out.Cuts[0] != nil || out.Cuts[4] != nil {
		t.Fatalf("cuts %v: want cuts for the two blocks shown only", out.Cuts)
	}
	for _, c := range []struct {
		region int
		ids    []int
	}{{1, []int{1, 2}}, {3, []int{3, 2, 1}}} {
		content, cuts := out.Contents[c.region], out.Cuts[c.region]
		if len(cuts) != len(c.ids)+1 || !bytes.HasPrefix(content, []byte(`<section class="se-rec"`)) {
			t.Fatalf("region %d: cuts %v in\n%s", c.region, cuts, content)
		}
		for k, id := range c.ids {
			if want := fmt.Sprintf("\n<li class=\"se-rec-item\"><a href=\"/p/lamp-%d?", id); !bytes.HasPrefix(content[cuts[k]:], []byte(want)) {
				t.Errorf("region %d part %d starts %q, want %q", c.region, k+2, content[cuts[k]:min(len(content), cuts[k]+40)], want)
			}
		}
		if !bytes.HasPrefix(content[cuts[len(cuts)-1]:], []byte("\n</ul>")) {
			t.Errorf("region %d: the last part is not the foot", c.region)
		}
	}

	// A list reordered, beside a block, is one part: its entries share
	// their markup, and compressed apart they would be five times the
	// bytes (splice compresses a visitor's order whole).
	card := func(name string) string { // as large as a shop's card
		return `<li class="card"><a href="/p/` + name + `">` + name + strings.Repeat(" ", 600) + `</a></li>`
	}
	men, women, kids := card("men"), card("women"), card("kids")
	list := `<ul class="grid">` + men + " " + women + " " + kids + `</ul>`
	const at = 500 // the list's offset in the page
	region := page.Region{Kind: page.Results, Span: rewrite.Range{Start: at, End: at + len(list)}, Bytes: []byte(list)}
	for _, e := range []string{men, women, kids} {
		i := strings.Index(list, e)
		region.Slots = append(region.Slots, rewrite.Range{Start: at + i, End: at + i + len(e)})
	}
	a = &page.Analysis{Regions: []page.Region{region, {Kind: page.Block, Index: 0}, {Kind: page.Body}}, Injects: true}
	pl = &plan.Plan{Stylesheet: 0, Regions: []plan.Region{
		{Action: plan.Reorder, Order: []int{2, 0, 1}},
		{Action: plan.Block, Products: []catalog.ID{1}},
		{Action: plan.Body},
	}}
	buf = buf[:0]
	out = r.Render(&buf, pl, a, csp.AllowAll, time.Unix(1_800_000_000, 0))
	if want := `<ul class="grid">` + kids + " " + men + " " + women + `</ul>`; string(out.Contents[0]) != want || out.Cuts[0] != nil {
		t.Errorf("reordered list %q, cuts %v; want %q in one part", out.Contents[0], out.Cuts[0], want)
	}
	if len(out.Cuts[1]) != 3 || !bytes.HasPrefix(out.Contents[1], []byte(`<link rel="stylesheet"`)) {
		t.Errorf("the block after the list: cuts %v in\n%s", out.Cuts[1], out.Contents[1])
	}
}

// TestBanner: a banner's markup is the template's for every text, its
// numbers escaped into place: a text no visitor had before costs no
// template run and no allocation; reached, it has its class.
func TestBanner(t *testing.T) {
	r := demoRenderer(t, fakeCatalog{})
	b := &r.cfg.Overlays.Banners[0]
	for _, text := range []string{"Add €10 more for free shipping", "Add €4 more", `<b>"free" & 'fast' + more</b>`, ""} {
		for _, reached := range []bool{false, true} {
			got, ok := r.banner([]byte("before:"), 0, text, reached)
			want, err := markup.RenderBanner([]byte("before:"), markup.BannerData{ID: b.ID, Kind: b.Kind, Text: text, Reached: reached})
			if err != nil || !ok || !bytes.Equal(got, want) {
				t.Errorf("banner %q (reached %v) = %v\n%s\nwant\n%s", text, reached, ok, got, want)
			}
		}
	}
	dst := make([]byte, 0, 4<<10)
	n := 0
	if allocs := testing.AllocsPerRun(20, func() {
		n++
		r.banner(dst[:0], 0, "Add €"+strconv.Itoa(n)+" more", false)
	}); allocs > 1 { // the text's own
		t.Errorf("a banner of a new text costs %v allocations", allocs-1)
	}
	reached, _ := r.banner(nil, 0, "Free shipping", true)
	first, _ := r.banner(nil, 0, "Free shipping", false)
	if !bytes.Contains(reached, []byte("se-banner-reached")) || bytes.Contains(first, []byte("se-banner-reached")) {
		t.Errorf("reached and not reached share their markup:\n%s\n%s", reached, first)
	}
}

// TestOverlayItemsKept: an overlay of the visitor's products (the cart
// reminder) is rendered once per products, quantities and deadline, and
// kept for blockTTL, as blocks are: the next page costs no template run
// and no allocation, a product's new price shows once that time is up,
// and other quantities are rendered apart.
func TestOverlayItemsKept(t *testing.T) {
	cat := fakeCatalog{1: {ID: 1, Name: "Boots", URL: "/p/boots", Price: 80, Currency: "EUR"}}
	r := demoRenderer(t, cat)
	var reminder *rules.CompiledOverlay
	for i := range r.cfg.OverlayRules {
		if r.cfg.OverlayRules[i].ID == "cart-reminder" {
			reminder = &r.cfg.OverlayRules[i]
		}
	}
	if reminder == nil {
		t.Fatal("the demo has no cart-reminder overlay")
	}
	chosen := &plan.Chosen{CompiledOverlay: reminder, Items: []plan.Item{{ID: 1, Qty: 2}}}
	t0 := time.Unix(1_800_000_000, 0)
	first, ok := r.overlay(nil, chosen, t0, "")
	if !ok || !bytes.Contains(first, []byte("Boots")) || !bytes.Contains(first, []byte("€80.00")) {
		t.Fatalf("overlay = %v\n%s", ok, first)
	}
	dst := make([]byte, 0, 16<<10)
	if n := testing.AllocsPerRun(20, func() { r.overlay(dst[:0], chosen, t0.Add(time.Second), "") }); n != 0 {
		t.Errorf("the same cart's overlay again costs %v allocations", n)
	}
	cat[1] = catalog.Product{ID: 1, Name: "Boots", URL: "/p/boots", Price: 70, Currency: "EUR"}
	if again, _ := r.overlay(nil, chosen, t0.Add(10*time.Second), ""); !bytes.Equal(again, first) {
		t.Errorf("within blockTTL the kept overlay differs:\n%s", again)
	}
	if later, _ := r.overlay(nil, chosen, t0.Add(blockTTL*time.Second), ""); !bytes.Contains(later, []byte("€70.00")) {
		t.Errorf("after blockTTL the overlay still shows the old price:\n%s", later)
	}
	three := &plan.Chosen{CompiledOverlay: reminder, Items: []plan.Item{{ID: 1, Qty: 3}}}
	if other, _ := r.overlay(nil, three, t0.Add(blockTTL*time.Second), ""); bytes.Equal(other, first) {
		t.Error("another quantity got the kept overlay")
	}
}

// TestDialogFromParts: every demo overlay's dialog assembled from its
// parts (its head and tail per variant, the deadline escaped into place,
// each product's line kept with the cards) is byte for byte the dialog
// its template renders whole, with and without a deadline, products and
// an experiment's variant; products the catalog cannot show are left out,
// and a dialog with none of its products leaves dst as it was.
func TestDialogFromParts(t *testing.T) {
	t.Parallel()
	cat := fakeCatalog{
		1: {ID: 1, Name: "Boots", URL: "/p/boots", Image: "/img/boots.svg", Price: 80, Currency: "EUR"},
		2: {ID: 2, Name: `Socks "<3" & more`, URL: "/p/socks?a=1&b=2", Price: 9.5, Currency: "EUR"},
		3: {ID: 3, Name: "No link"},
	}
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.OverlayRules {
		if cfg.OverlayRules[i].ID == "exit-offer" {
			cfg.OverlayRules[i].Variants = []rules.CompiledVariant{{Variant: &rules.Variant{Name: "fifteen", Title: "Wait <now>!", Code: "WELCOME15"}}}
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	parts := New(cfg, cat, log)
	whole := New(cfg, cat, log)
	whole.dialogs = make([][]dialogParts, len(cfg.OverlayRules)) // none: every dialog from its template
	t0 := time.Unix(1_800_000_000, 0)
	for i := range cfg.OverlayRules {
		o := &cfg.OverlayRules[i]
		for _, items := range [][]plan.Item{nil, {{ID: 1, Qty: 2}}, {{ID: 2}, {ID: 3}, {ID: 1, Qty: 1}}, {{ID: 1, Qty: 1}, {ID: 2, Qty: 3}}} {
			for _, end := range []time.Time{{}, t0.Add(3 * time.Hour)} {
				for variant := range 1 + len(o.Variants) {
					saved := o.End
					o.End = end
					c := &plan.Chosen{CompiledOverlay: o, Items: items, Variant: variant}
					if parts.dialog(c) == nil || whole.dialog(c) != nil {
						t.Fatalf("%s: the dialog's parts are not as the test wants them", o.ID)
					}
					want, ok := whole.overlay([]byte("before:"), c, t0, "")
					// Twice: its parts rendered now, then kept.
					for range 2 {
						got, ok2 := parts.overlay([]byte("before:"), c, t0, "")
						if ok != ok2 || !bytes.Equal(got, want) {
							t.Errorf("%s, items %v, end %v, variant %d: from parts (%v)\n%s\nwhole (%v)\n%s", o.ID, items, end, variant, ok2, got, ok, want)
						}
					}
					o.End = saved
				}
			}
		}
		c := &plan.Chosen{CompiledOverlay: o, Items: []plan.Item{{ID: 3}, {ID: 99, Qty: 1}}}
		if got, ok := parts.overlay([]byte("before:"), c, t0, ""); ok || string(got) != "before:" {
			t.Errorf("%s of products none can show = %q, %v; want dst as it was", o.ID, got, ok)
		}
	}
}

// TestRenderAllocs: a returning visitor's page, its parts all kept (a
// block, both banners, the cart's reminder), costs one allocation, what
// Render returns, with or without the nonces of a page's policy on the
// tags (the same bytes as the template's).
func TestRenderAllocs(t *testing.T) {
	cat := fakeCatalog{
		1: {ID: 1, Name: "Boots", URL: "/p/boots", Price: 80, Currency: "EUR"},
		2: {ID: 2, Name: "Socks", URL: "/p/socks", Price: 9, Currency: "EUR"},
	}
	r := demoRenderer(t, cat)
	var reminder *rules.CompiledOverlay
	for i := range r.cfg.OverlayRules {
		if r.cfg.OverlayRules[i].ID == "cart-reminder" {
			reminder = &r.cfg.OverlayRules[i]
		}
	}
	a := &page.Analysis{Regions: []page.Region{{Kind: page.Head}, {Kind: page.Banner}, {Kind: page.Banner}, {Kind: page.Block}, {Kind: page.Body}}, Injects: true}
	pl := &plan.Plan{Stylesheet: 0, Regions: []plan.Region{{Action: plan.Head},
		{Action: plan.Banner, Index: 0, Text: "Add €11.00 more for free shipping"}, {Action: plan.Banner, Index: 1, Text: "12 people viewed this today"},
		{Action: plan.Block, Products: []catalog.ID{2, 1}}, {Action: plan.Body}},
		Overlay: &plan.Chosen{CompiledOverlay: reminder, Items: []plan.Item{{ID: 1, Qty: 1}}}}
	now := time.Unix(1_800_000_000, 0)
	buf := make([]byte, 0, 64<<10)
	if out := r.Render(&buf, pl, a, csp.AllowAll, now); !out.Done(1) || !out.Done(2) || !out.Done(3) || !out.Overlay {
		t.Fatalf("not all rendered: %+v", out)
	}
	if n := testing.AllocsPerRun(20, func() { buf = buf[:0]; r.Render(&buf, pl, a, csp.AllowAll, now) }); n != 1 {
		t.Errorf("a page of kept parts costs %v allocations, want 1", n)
	}
	// A policy's fresh nonces on the tags: no template run either.
	v := csp.Verdict{Style: true, Script: true, Connect: true, StyleNonce: "c3R5bGU+/w==", ScriptNonce: "c2NyaXB0+/w=="}
	if n := testing.AllocsPerRun(20, func() { buf = buf[:0]; r.Render(&buf, pl, a, v, now) }); n != 1 {
		t.Errorf("a page of kept parts with nonces costs %v allocations, want 1", n)
	}
	buf = buf[:0]
	out := r.Render(&buf, pl, a, v, now)
	css := markup.AppendStylesheet(nil, markup.Assets{CSS: r.assets.CSS, Nonce: v.StyleNonce})
	js := markup.AppendScript(nil, markup.Assets{JS: r.assets.JS, Beacon: r.assets.Beacon, Nonce: v.ScriptNonce})
	if !bytes.HasPrefix(out.Contents[0], css) || !bytes.HasSuffix(out.Contents[4], js) {
		t.Errorf("the tags with nonces differ from the template's:\n%s\n%s\nwant\n%s\n%s", out.Contents[0], out.Contents[4], css, js)
	}
}

// TestPartCache: a part is found under its own key only, until blockTTL
// is up; a pair of slots full takes a third key in place of the older
// part; and parts kept and read from many goroutines at once are always
// their own key's (go test -race).
func TestPartCache(t *testing.T) {
	t.Parallel()
	var c partCache
	const now = 1_800_000_000
	k := partKey{block: 2, variant: 1, id: 42}
	c.put(k, []byte("card 42"), now)
	if got, ok := c.get(k, now+blockTTL-1); !ok || string(got) != "card 42" {
		t.Errorf("get = %q, %v; want the part put", got, ok)
	}
	if _, ok := c.get(k, now+blockTTL); ok {
		t.Error("a part is found after blockTTL")
	}
	for _, other := range []partKey{{block: 2, variant: 0, id: 42}, {block: 3, variant: 1, id: 42}, {block: 2, variant: 1, id: 43}, {block: dialogItem, variant: 1, id: 42}} {
		if _, ok := c.get(other, now); ok {
			t.Errorf("%+v finds the part of %+v", other, k)
		}
	}
	// Three keys of one place: the third takes the older's slot.
	var same []partKey
	for id := catalog.ID(1); len(same) < 3; id++ {
		if o := (partKey{id: id}); o.place() == k.place() {
			same = append(same, o)
		}
	}
	c.put(same[0], []byte("a"), now+1)
	c.put(same[1], []byte("b"), now+2)
	if _, ok := c.get(k, now+2); ok {
		t.Error("the oldest part of a full pair stays")
	}
	for i, o := range same[:2] {
		if got, ok := c.get(o, now+2); !ok || string(got) != string(rune('a'+i)) {
			t.Errorf("%+v = %q, %v", o, got, ok)
		}
	}
	c.put(same[2], []byte("c"), now+3)
	if _, ok := c.get(same[0], now+3); ok {
		t.Error("the older of two parts stays when a third comes")
	}
	if got, ok := c.get(same[1], now+3); !ok || string(got) != "b" {
		t.Errorf("the newer part = %q, %v; want it kept", got, ok)
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20000 {
				k := partKey{block: int32(i % 3), id: catalog.ID(i % 5000)}
				if got, ok := c.get(k, now); ok && string(got) != fmt.Sprint(k) {
					t.Errorf("goroutine %d: %+v holds %q", g, k, got)
					return
				}
				c.put(k, []byte(fmt.Sprint(k)), now)
			}
		})
	}
	wg.Wait()
}
