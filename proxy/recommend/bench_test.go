package recommend

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"shopedge/bench/shop"
)

// visitsWorkload is the load harness's traffic (bench/load) as the engine
// sees it: visits of the demo shop (home, a category, two to four of its
// products by Zipf popularity, a cart add one time in four, home again
// sometimes), a third of them by returning visitors, and for each page the
// recommendations configs/demo.yaml asks for: recently viewed and popular
// or trending (half the visitors each) on the home page, the category's
// popular products re-ranked for the visitor on a category page, also
// viewed on a product page, also bought and the upsell overlay's
// suggestions on the cart page.
type visitsWorkload struct {
	r        *rand.Rand
	e        *Engine
	cat      staticCatalog
	tops     []*shop.Category
	topZipf  *rand.Zipf
	prodZipf map[*shop.Category]*rand.Zipf
	ids      map[*shop.Product]ID
	paths    map[*shop.Product][]ID

	visitors []*benchVisitor
	cur      *benchVisitor
	steps    []benchStep
	next     int
	now      time.Time
	buf      []ID
}

type benchStep struct {
	kind rune // h home, c category, p product, a cart add, k cart page
	prod *shop.Product
	top  *shop.Category
}

// benchVisitor is what the proxy's profile keeps of a visitor that the
// engine reads.
type benchVisitor struct {
	id       uint64
	visit    uint64 // session key of the current visit
	views    []ID   // the visit's distinct products, oldest first
	recent   []ID   // latest first, at most 10
	cart     []ID
	trending bool // the popular-vs-trending arm
	interest benchInterest
}

// benchInterest is a visitor's interest by category, as a short list (the
// profile's is a scan too).
type benchInterest struct {
	cats []ID
	vals []float64
}

func (b *benchInterest) Interest(c ID) float64 {
	for i, x := range b.cats {
		if x == c {
			return b.vals[i]
		}
	}
	return 0
}

func (b *benchInterest) add(path []ID, w float64) {
	for _, c := range path {
		if i := slices.Index(b.cats, c); i >= 0 {
			b.vals[i] += w
			continue
		}
		if len(b.cats) < 12 {
			b.cats, b.vals = append(b.cats, c), append(b.vals, w)
		}
	}
}

func newVisitsWorkload(seed uint64) *visitsWorkload {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	c := shop.NewCatalog(1)
	w := &visitsWorkload{r: r, e: New(Config{}), cat: staticCatalog{}, prodZipf: map[*shop.Category]*rand.Zipf{},
		ids: map[*shop.Product]ID{}, paths: map[*shop.Product][]ID{}, now: t0, buf: make([]ID, 0, 64)}
	for _, p := range c.Products {
		id := ID(xxhash.Sum64String(p.SKU))
		var path []ID
		for _, pc := range p.Category.Path() {
			path = append(path, ID(xxhash.Sum64String(pc.Slug)))
		}
		w.ids[p], w.paths[p] = id, path
		w.cat[id] = Product{Categories: path, Price: p.Price, InStock: p.InStock}
	}
	for _, t := range c.Top {
		if len(t.Products) > 0 {
			w.tops = append(w.tops, t)
		}
	}
	w.topZipf = rand.NewZipf(r, 1.2, 1, uint64(len(w.tops)-1))
	for _, t := range w.tops {
		w.prodZipf[t] = rand.NewZipf(r, 1.1, 1, uint64(len(t.Products)-1))
	}
	return w
}

// newVisit starts the next visit, as bench/load's workload does.
func (w *visitsWorkload) newVisit() {
	r := w.r
	var v *benchVisitor
	if len(w.visitors) > 100 && r.IntN(3) == 0 {
		v = w.visitors[r.IntN(len(w.visitors))]
	} else {
		v = &benchVisitor{id: uint64(len(w.visitors) + 1), trending: r.IntN(2) == 0}
		if len(w.visitors) < 50000 {
			w.visitors = append(w.visitors, v)
		} else {
			w.visitors[r.IntN(len(w.visitors))] = v
		}
	}
	v.visit = v.id*0x9e3779b97f4a7c15 ^ uint64(w.now.Unix())
	v.views = v.views[:0]
	w.cur = v
	top := w.tops[w.topZipf.Uint64()]
	w.steps = append(w.steps[:0], benchStep{kind: 'h'}, benchStep{kind: 'c', top: top})
	var last *shop.Product
	for range 2 + r.IntN(3) {
		last = top.Products[w.prodZipf[top].Uint64()]
		w.steps = append(w.steps, benchStep{kind: 'p', prod: last, top: top})
	}
	if last.InStock && r.IntN(4) == 0 {
		w.steps = append(w.steps, benchStep{kind: 'a', prod: last}, benchStep{kind: 'k'})
	}
	if r.IntN(10) < 3 {
		w.steps = append(w.steps, benchStep{kind: 'h'})
	}
	w.next = 0
}

// page serves the next page of the current visit (starting one when it is
// over), 100 µs after the last one, and calls got with each block's
// products.
func (w *visitsWorkload) page(got func([]ID)) {
	if w.cur == nil || w.next == len(w.steps) {
		w.newVisit()
	}
	st := w.steps[w.next]
	w.next++
	w.now = w.now.Add(100 * time.Microsecond)
	v, e := w.cur, w.e
	ctx := Context{Now: w.now, Session: v.visit, Views: v.views, Recent: v.recent, Cart: v.cart, Interest: &v.interest}
	ask := func(ctx *Context, n int, personal bool, s ...Strategy) {
		w.buf = e.Append(w.buf[:0], ctx, Request{Strategies: s, N: n, Personal: personal}, w.cat)
		if got != nil {
			got(w.buf)
		}
	}
	switch st.kind {
	case 'h':
		ask(&ctx, 4, false, RecentlyViewed)
		if v.trending {
			ask(&ctx, 4, false, Trending)
		} else {
			ask(&ctx, 4, false, Popular)
		}
	case 'c':
		ctx.Category = ID(xxhash.Sum64String(st.top.Slug))
		ask(&ctx, 4, true, Popular)
	case 'p':
		id, path := w.ids[st.prod], w.paths[st.prod]
		e.Record(Event{Session: v.visit, Item: id, Categories: path, Kind: View, Time: w.now})
		if i := slices.Index(v.views, id); i >= 0 {
			v.views = slices.Delete(v.views, i, i+1)
		}
		v.views = append(v.views, id)
		if i := slices.Index(v.recent, id); i >= 0 {
			v.recent = slices.Delete(v.recent, i, i+1)
		}
		v.recent = slices.Insert(v.recent, 0, id)
		v.recent = v.recent[:min(len(v.recent), 10)]
		v.interest.add(path, 1)
		ctx.Item, ctx.Category, ctx.Views, ctx.Recent = id, path[len(path)-1], v.views, v.recent
		ask(&ctx, 4, false, AlsoViewed, Session, Popular)
	case 'a':
		id := w.ids[st.prod]
		e.Record(Event{Session: v.visit, Item: id, Categories: w.paths[st.prod], Kind: Cart, Time: w.now})
		if !slices.Contains(v.cart, id) {
			v.cart = append(v.cart, id)
		}
	case 'k':
		ask(&ctx, 4, false, AlsoBought, Popular)
		if len(v.cart) > 0 {
			p := w.cat[v.cart[len(v.cart)-1]]
			ctx.Category = p.Categories[len(p.Categories)-1]
		}
		ask(&ctx, 3, false, AlsoBought, Popular)
	}
}

// BenchmarkVisits measures the engine's share of a page of the load
// harness's traffic (visitsWorkload): recording the view or cart add and
// every recommendation the page asks for, on an engine warmed by 200,000
// pages of the same traffic.
func BenchmarkVisits(b *testing.B) {
	w := newVisitsWorkload(1)
	for range 200000 {
		w.page(nil)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.page(nil)
	}
}
