package plan_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/learn"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rewrite/golden"
	"shopedge/rules"
)

// The load harness's mix (bench/load/workload.go) without HTTP: visits of
// the demo shop (home, a top category by Zipf popularity, two to four of
// its products by Zipf popularity, sometimes a search, sometimes a cart
// add and the cart, sometimes home again), one in three by a visitor who
// came before, 64 visits under way at once and their requests
// interleaved. The state is the proxy's on the demo plan: the catalog
// learned from the shop's pages, the engine and the profiles from the
// visits before (each decided, and the arms of the experiments it exposed
// the visitor to kept in their profile, as the proxy keeps them). The view
// and the decision of a request are measured apart: BenchmarkViewMix
// records (learn.Recorder.Page, View, CartAdd), BenchmarkDecideMix decides
// the pages of requests recorded before. Both are here, not one in learn,
// because the decisions read what the views recorded.

// mixStep is one request of a visit: a page (a, of type typ) at path,
// with a search's query, or a cart add of sku (a nil).
type mixStep struct {
	path, query string
	pathBytes   []byte // path, as a request's
	typ         rules.PageType
	a           *page.Analysis
	sku         string
}

// mixVisitor is a browser's visitor id.
type mixVisitor struct{ id string }

// mixRequest is one request of the mix: who, what, and whether the
// visitor's cookie came back with it (every request after their first).
type mixRequest struct {
	who       *mixVisitor
	step      *mixStep
	returning bool
}

// mix is the shop, its pages analysed, the proxy's state and the requests
// to come.
type mix struct {
	cfg   *rules.Compiled
	rec   *learn.Recorder
	steps map[string]*mixStep
	now   time.Time
	reqs  []mixRequest
	next  int
}

func newMix(b testing.TB) *mix {
	b.Helper()
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		b.Fatal(err)
	}
	profiles, err := profile.NewStore(int64(cfg.Profiles.MaxMemory), cfg.Profiles.TTL.D())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(profiles.Close)
	r := cfg.Recommendations
	m := &mix{
		cfg: cfg,
		rec: &learn.Recorder{
			Profiles: profiles,
			Catalog:  catalog.New(cfg.Catalog.MaxProducts),
			Engine: recommend.New(recommend.Config{
				MaxItems: r.MaxProducts, Neighbours: r.Neighbours, MaxSessions: r.MaxSessions,
				SessionsPerItem: r.SessionsPerProduct, HalfLife: r.HalfLife.D(), TrendHalfLife: r.TrendingHalfLife.D(),
			}),
			Views: live.New(cfg.Catalog.MaxProducts),
			Carts: live.New(cfg.Catalog.MaxProducts),
		},
		steps: map[string]*mixStep{},
		now:   time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
	}
	m.rec.Now = func() time.Time { return m.now }
	s := shop.New(1)
	var tops []*shop.Category
	for _, c := range s.Catalog.Top {
		if len(c.Products) > 0 {
			tops = append(tops, c)
		}
	}
	// Every page the visits ask for, analysed; the catalog learns each
	// product page and each category listing, as the first sight of
	// each page teaches it.
	get := func(path string) *mixStep {
		if st := m.steps[path]; st != nil {
			return st
		}
		st := &mixStep{path: path}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			q, _ := url.ParseQuery(path[i+1:])
			st.path, st.query = path[:i], q.Get("q")
		}
		st.pathBytes = []byte(st.path)
		st.typ, _ = cfg.Classify(st.pathBytes)
		resp := httptest.NewRecorder()
		s.ServeHTTP(resp, httptest.NewRequest("GET", path, nil))
		a, err := page.Analyze(page.Input{Config: cfg, Type: st.typ, Raw: resp.Body.Bytes(),
			ContentType: []byte("text/html; charset=utf-8"), URL: "http://shop.example" + path})
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		st.a = a
		m.rec.Page(&learn.Facts{Page: st.typ, Path: []byte(st.path)}, a, true, m.now)
		m.steps[path] = st
		return st
	}
	get("/")
	get("/cart")
	for _, c := range tops {
		get(c.URL())
		for _, p := range c.Products {
			get(p.URL())
			get(searchPath(p))
		}
	}
	// The requests: visits as bench/load's workload scripts them, 64
	// under way at once, a request of one at random each time.
	rnd := rand.New(rand.NewPCG(1, 1^0x5bd1e995))
	topZipf := rand.NewZipf(rnd, 1.2, 1, uint64(len(tops)-1))
	prodZipf := map[*shop.Category]*rand.Zipf{}
	for _, c := range tops {
		prodZipf[c] = rand.NewZipf(rnd, 1.1, 1, uint64(len(c.Products)-1))
	}
	script := func() []*mixStep {
		top := tops[topZipf.Uint64()]
		steps := []*mixStep{get("/"), get(top.URL())}
		var last *shop.Product
		for range 2 + rnd.IntN(3) {
			last = top.Products[prodZipf[top].Uint64()]
			steps = append(steps, get(last.URL()))
		}
		if rnd.IntN(10) < 4 {
			steps = append(steps, get(searchPath(last)))
		}
		if last.InStock && rnd.IntN(4) == 0 {
			steps = append(steps, &mixStep{path: "/cart/add", pathBytes: []byte("/cart/add"), typ: rules.PageOther, sku: last.SKU}, get("/cart"))
		}
		if rnd.IntN(10) < 3 {
			steps = append(steps, get("/"))
		}
		return steps
	}
	var active [64]struct {
		who   *mixVisitor
		steps []*mixStep
	}
	var returning []*mixVisitor
	seen := map[*mixVisitor]bool{}
	for len(m.reqs) < 1<<17 {
		v := &active[rnd.IntN(len(active))]
		if len(v.steps) == 0 {
			if len(returning) > 100 && rnd.IntN(3) == 0 {
				v.who = returning[rnd.IntN(len(returning))]
			} else {
				v.who = &mixVisitor{id: visitorID(len(seen) + 1)}
				returning = append(returning, v.who)
			}
			v.steps = script()
		}
		m.reqs = append(m.reqs, mixRequest{who: v.who, step: v.steps[0], returning: seen[v.who]})
		seen[v.who] = true
		v.steps = v.steps[1:]
	}
	// The visits before: the engine learns what visitors did, the store
	// holds their profiles (with the arms of their experiments).
	for range 40000 {
		m.record(m.decide)
	}
	return m
}

func searchPath(p *shop.Product) string {
	words := strings.Fields(p.Name)
	return "/search?q=" + url.QueryEscape(strings.ToLower(words[len(words)-1]))
}

// record records the next request of the mix, and, when decide is not
// nil, hands it the decision's input for a page with regions and the
// visitor's profile.
func (m *mix) record(decide func(in *plan.Input, prof *profile.Profile)) {
	m.now = m.now.Add(time.Millisecond) // a thousand requests a second
	req := &m.reqs[m.next%len(m.reqs)]
	m.next++
	st := req.step
	facts := learn.Facts{
		VisitorID: req.who.id, Returning: req.returning, Page: st.typ, Path: st.pathBytes, Query: st.query,
		Device: agent.Parse([]byte(benchUA)), VisitGap: m.cfg.Profiles.VisitGap.D(), HalfLife: m.cfg.Profiles.InterestHalfLife.D(),
	}
	if st.a == nil {
		m.rec.CartAdd(&facts, st.sku, 1, m.now)
		return
	}
	ev := m.rec.Page(&facts, st.a, false, m.now)
	prof := m.rec.View(&facts, ev, m.now)
	if decide == nil || len(st.a.Regions) == 0 {
		return
	}
	d := prof.Snapshot()
	decide(&plan.Input{
		Config:  m.cfg,
		Page:    st.a,
		Profile: &d,
		Request: plan.Request{
			Type: st.typ, VisitorID: req.who.id, Returning: req.returning, Host: []byte("shop.example"),
			Product: ev.Product, Categories: ev.Categories,
		},
		CSP:     csp.AllowAll,
		Now:     m.now,
		Engine:  m.rec.Engine,
		Catalog: m.rec.Catalog,
		Counts:  liveCounts{m.rec.Views, m.rec.Carts},
	}, prof)
}

// decide decides the page, and keeps in the profile the arm of each
// experiment the visitor was exposed to, as the proxy does: later
// decisions read it from there.
func (m *mix) decide(in *plan.Input, prof *profile.Profile) {
	pl := plan.Decide(in)
	prof.Update(func(d *profile.Data) {
		for _, x := range pl.Exposures {
			d.Expose(m.cfg.Experiments[x.Experiment].Key, x.Arm)
		}
	})
	pl.Release()
}

var benchUA = []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")

// visitorID is the n-th visitor's id, 22 characters as identity's are.
func visitorID(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("v", 22-len(s)) + s
}

type liveCounts struct{ views, carts *live.Counter }

func (c liveCounts) Views(id catalog.ID, now time.Time) live.Counts { return c.views.Get(id, now) }
func (c liveCounts) Carts(id catalog.ID, now time.Time) live.Counts { return c.carts.Get(id, now) }

// BenchmarkViewMix is what recording costs per request of the mix: the
// page's event (learn.Recorder.Page, the page seen before) and the view
// (View), or the cart add (CartAdd), of many visitors.
func BenchmarkViewMix(b *testing.B) {
	m := newMix(b)
	b.ReportAllocs()
	for b.Loop() {
		m.record(nil)
	}
}

// BenchmarkDecideMix is what deciding costs per page of the mix: the
// inputs of 4096 pages with regions, each with its visitor's profile as
// the view left it, decided in turn (Decide is a function of its input;
// the engine and catalog are as the last of them left them).
func BenchmarkDecideMix(b *testing.B) {
	m := newMix(b)
	var ins []*plan.Input
	for len(ins) < 4096 {
		m.record(func(in *plan.Input, prof *profile.Profile) {
			ins = append(ins, in)
			m.decide(in, prof)
		})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pl := plan.Decide(ins[i%len(ins)])
		pl.Release()
		i++
	}
}

// TestMixGolden: 20,000 requests of the mix after its 40,000 (the visits
// decided as they come, the experiments' arms kept) decide what they
// decided before the work on their cost, and leave the engine and the
// profiles as they left them: testdata/mix.golden holds, per page type,
// how many pages were decided and a SHA-256 of every plan (each region's
// action, place, products, order, text and reason, the overlay and its
// items, the exposures, the stylesheet's place), and a SHA-256 of the
// engine's snapshot and of every visitor's profile (its Data, as
// Store.Encode gives it). It was written by the code before that work (go test -run
// TestMixGolden -update). Floating point may round differently where an
// architecture fuses operations: the file is amd64's.
func TestMixGolden(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the golden digests are amd64's")
	}
	if testing.Short() {
		t.Skip("60,000 requests")
	}
	m := newMix(t)
	byType := map[rules.PageType]hash.Hash{}
	count := map[rules.PageType]int{}
	var line bytes.Buffer
	for range 20000 {
		m.record(func(in *plan.Input, prof *profile.Profile) {
			pl := plan.Decide(in)
			line.Reset()
			writePlan(&line, pl)
			h := byType[in.Request.Type]
			if h == nil {
				h = sha256.New()
				byType[in.Request.Type] = h
			}
			h.Write(line.Bytes())
			count[in.Request.Type]++
			prof.Update(func(d *profile.Data) {
				for _, x := range pl.Exposures {
					d.Expose(m.cfg.Experiments[x.Experiment].Key, x.Arm)
				}
			})
			pl.Release()
		})
	}
	var out strings.Builder
	for _, typ := range []rules.PageType{rules.PageHome, rules.PageCategory, rules.PageProduct, rules.PageSearch, rules.PageCart} {
		fmt.Fprintf(&out, "%s: %d pages, plans %x\n", typ, count[typ], byType[typ].Sum(nil))
	}
	var snap bytes.Buffer
	if err := m.rec.Engine.WriteSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "engine: %d products, snapshot %x\n", m.rec.Engine.Len(), sha256.Sum256(snap.Bytes()))
	profiles := sha256.New()
	seen := map[string]bool{}
	n := 0
	for _, req := range m.reqs[:m.next] {
		if id := req.who.id; !seen[id] {
			seen[id] = true
			if b, _, _, ok := m.rec.Profiles.Encode(id, nil); ok {
				// Data raw, after the version, the layout and when the
				// store last saw the visitor, by the wall's clock.
				profiles.Write(b[1+8+4:])
				n++
			}
		}
	}
	fmt.Fprintf(&out, "profiles: %d, encoded %x\n", n, profiles.Sum(nil))
	fmt.Fprintf(&out, "catalog: %d products, %d listings\n", m.rec.Catalog.Len(), m.rec.Catalog.Listings())
	golden.Check(t, "testdata/mix.golden", out.String())
}

// writePlan writes what a plan decided, one line.
func writePlan(w *bytes.Buffer, pl *plan.Plan) {
	for i, r := range pl.Regions {
		fmt.Fprintf(w, "%d:%s/%d/%d %v %v %q %v %q;", i, r.Action, r.Index, r.Variant, r.Products, r.Order, r.Text, r.Reached, r.Why)
	}
	if o := pl.Overlay; o != nil {
		fmt.Fprintf(w, " overlay %s/%d %v;", o.Overlay.ID, o.Variant, o.Items)
	}
	fmt.Fprintf(w, " exposed %v; stylesheet %d %q %v; visit %+v\n", pl.Exposures, pl.Stylesheet, pl.Origin, pl.CSPSkipped, pl.Visit)
}
