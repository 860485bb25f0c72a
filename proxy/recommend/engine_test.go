package recommend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fakeCatalog knows products 1..99, all in stock, in category 100+id%3,
// priced 10·id, but for what the test overrides.
type fakeCatalog map[ID]Product

func (c fakeCatalog) Product(id ID) (Product, bool) {
	if p, ok := c[id]; ok {
		return p, true
	}
	if id >= 1 && id < 100 {
		return Product{Categories: []ID{100 + id%3}, Price: float64(10 * id), InStock: true}, true
	}
	return Product{}, false
}

// views records a visit viewing items in order, a minute apart.
func views(e *Engine, session uint64, at time.Time, items ...ID) {
	for i, id := range items {
		e.Record(Event{Session: session, Item: id, Kind: View, Time: at.Add(time.Duration(i) * time.Minute)})
	}
}

func ids(s []Scored) []ID {
	out := make([]ID, len(s))
	for i, x := range s {
		out[i] = x.ID
	}
	return out
}

func scoreOf(s []Scored, id ID) float64 {
	for _, x := range s {
		if x.ID == id {
			return x.Score
		}
	}
	return 0
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-3 }

func TestAlsoViewed(t *testing.T) {
	t.Parallel()
	e := New(Config{HalfLife: time.Hour})
	views(e, 1, t0, 1, 2, 3) // 1–2: 1, 2–3: 1, 1–3: ½ (one product between)
	views(e, 2, t0, 1, 3)    // 1–3: +1
	got := e.Candidates(AlsoViewed, Context{Now: t0, Item: 1}, fakeCatalog{})
	if !slices.Equal(ids(got), []ID{3, 2}) || !near(scoreOf(got, 3), 1.5) || !near(scoreOf(got, 2), 1) {
		t.Errorf("also viewed 1 = %v, want 3 (1.5), 2 (1)", got)
	}
	// An hour after each was last strengthened, every weight has halved:
	// 1–3 at t0+2m (1.5), 1–2 at t0+1m (1).
	got = e.Candidates(AlsoViewed, Context{Now: t0.Add(time.Hour + 2*time.Minute), Item: 1}, fakeCatalog{})
	if !near(scoreOf(got, 3), 0.75) || !near(scoreOf(got, 2), math.Exp2(-61.0/60)) {
		t.Errorf("an hour later = %v, want 3 (0.75), 2 (0.494)", got)
	}
	// Without an item on the page, the visit's latest product seeds it.
	got = e.Candidates(AlsoViewed, Context{Now: t0, Views: []ID{7, 2}}, fakeCatalog{})
	if !slices.Equal(ids(got), []ID{1, 3}) {
		t.Errorf("seeded by the visit = %v, want 1, 3", ids(got))
	}
}

func TestAlsoBought(t *testing.T) {
	t.Parallel()
	e := New(Config{HalfLife: time.Hour})
	e.Record(Event{Session: 1, Item: 5, Kind: Cart, Time: t0})
	e.Record(Event{Session: 1, Item: 6, Kind: Purchase, Time: t0}) // 5–6: 1
	views(e, 2, t0, 7)
	e.Record(Event{Session: 2, Item: 5, Kind: Cart, Time: t0}) // viewed 7, bought 5: ½
	views(e, 3, t0, 8, 9)
	e.Record(Event{Session: 3, Item: 5, Kind: Cart, Time: t0}) // viewed 9 just before: ½, 8 before that: ¼
	got := e.Candidates(AlsoBought, Context{Now: t0, Cart: []ID{5}}, fakeCatalog{})
	if !slices.Equal(ids(got), []ID{6, 7, 9, 8}) || !near(scoreOf(got, 6), 1) || !near(scoreOf(got, 7), 0.5) ||
		!near(scoreOf(got, 9), 0.5) || !near(scoreOf(got, 8), 0.25) {
		t.Errorf("also bought with the cart = %v, want 6 (1), 7 (0.5), 9 (0.5), 8 (0.25)", got)
	}
}

// plain is session kNN with none of its weightings but V-SKNN's linear
// recency: each test turns on what it tests.
var plain = Config{RecencyDecay: -1, TimeDecay: -1, PositionDecay: -1, InsertDecay: -1, IDF: -1, Blend: -1, Remind: -1, RemindRepeat: -1}

func with(c Config, f func(*Config)) Config { f(&c); return c }

func TestSessionKNN(t *testing.T) {
	t.Parallel()
	e := New(plain) // V-SKNN alone
	views(e, 1, t0, 1, 2, 3)
	views(e, 2, t0, 1, 4)
	views(e, 3, t0, 5, 6)
	// Current visit [1]: S1 sim 1/√3, S2 sim 1/√2; S3 shares nothing.
	got := e.Candidates(Session, Context{Now: t0, Views: []ID{1}}, fakeCatalog{})
	want := map[ID]float64{1: 1/math.Sqrt(3) + 1/math.Sqrt(2), 4: 1 / math.Sqrt(2), 2: 1 / math.Sqrt(3), 3: 1 / math.Sqrt(3)}
	if len(got) != len(want) {
		t.Fatalf("session [1] = %v", got)
	}
	for id, s := range want {
		if !near(scoreOf(got, id), s) {
			t.Errorf("score of %d = %v, want %v", id, scoreOf(got, id), s)
		}
	}
	// Current visit [2, 1]: weights ½ and 1 (1 is latest), weighted
	// cosine: norm √1.25. S1 {1,2,3}: 1.5/(√1.25·√3); S2 {1,4}: 1/(√1.25·√2).
	got = e.Candidates(Session, Context{Now: t0, Views: []ID{2, 1}}, fakeCatalog{})
	if s3, s4 := scoreOf(got, 3), scoreOf(got, 4); !near(s3, 1.5/(math.Sqrt(1.25)*math.Sqrt(3))) || !near(s4, 1/(math.Sqrt(1.25)*math.Sqrt(2))) {
		t.Errorf("recency-weighted: 3 = %v, 4 = %v", s3, s4)
	}
	// The visitor's own visit is not its neighbour.
	got = e.Candidates(Session, Context{Now: t0, Session: 3, Views: []ID{5, 6}}, fakeCatalog{})
	if len(got) != 0 {
		t.Errorf("own visit used as a neighbour: %v", got)
	}
}

// TestSessionKNNPositionDecay: in a neighbour visit, products farther from
// where it meets the current visit (its latest product shared with it)
// count less: e^(-distance/decay).
func TestSessionKNNPositionDecay(t *testing.T) {
	t.Parallel()
	e := New(with(plain, func(c *Config) { c.PositionDecay = 4 }))
	views(e, 1, t0, 1, 2, 3, 4, 5)
	got := e.Candidates(Session, Context{Now: t0, Views: []ID{3}}, fakeCatalog{})
	sim := 1 / math.Sqrt(5)
	for id, d := range map[ID]float64{3: 0, 2: 1, 4: 1, 1: 2, 5: 2} {
		if want := sim * math.Exp(-d/4); !near(scoreOf(got, id), want) {
			t.Errorf("score of %d = %v, want %v", id, scoreOf(got, id), want)
		}
	}
	// Visit [4, 2]: the pivot is 4, the shared product latest in the
	// neighbour, though 2 is the visit's latest (STAN's choice).
	got = e.Candidates(Session, Context{Now: t0, Views: []ID{4, 2}}, fakeCatalog{})
	sim = 1.5 / (math.Sqrt(1.25) * math.Sqrt(5))
	for id, d := range map[ID]float64{4: 0, 3: 1, 5: 1, 2: 2, 1: 3} {
		if want := sim * math.Exp(-d/4); !near(scoreOf(got, id), want) {
			t.Errorf("visit [4 2]: score of %d = %v, want %v", id, scoreOf(got, id), want)
		}
	}
}

// TestSessionWeightings: each of STAN's and V-STAN's weightings, and the
// remind term, decides which of two products the session strategy ranks
// higher on a clickstream built for it: on, one; off, the other.
func TestSessionWeightings(t *testing.T) {
	t.Parallel()
	const a, b, x, y = 1, 2, 10, 11
	tests := []struct {
		name    string
		base    func(*Config) // both on and off, when set
		on      func(*Config)
		learn   func(e *Engine)
		views   []ID
		now     time.Time
		on1st   ID // ranked above off1st with the weighting
		off1st  ID // ranked above on1st without
		explain string
	}{
		{
			name: "recency decay (STAN λ1)",
			on:   func(c *Config) { c.RecencyDecay = 0.5 },
			learn: func(e *Engine) {
				for s := range uint64(3) {
					views(e, 1+s, t0, a, x) // three visits from a to x
				}
				views(e, 4, t0, b, y) // one from b to y
			},
			views: []ID{a, b}, on1st: y, off1st: x,
			explain: "a, one step back, weighs ½ linearly (x: 3·½ > y: 1) but e^-2 with λ1 ½ (x: 3·0.14 < y)",
		},
		{
			name: "time decay (STAN λ2)",
			on:   func(c *Config) { c.TimeDecay = 24 * time.Hour },
			learn: func(e *Engine) {
				views(e, 1, t0, a, x)
				views(e, 2, t0, a, x)
				views(e, 3, t0.Add(30*24*time.Hour), a, y)
			},
			views: []ID{a}, now: t0.Add(30 * 24 * time.Hour), on1st: y, off1st: x,
			explain: "two visits to x a month ago, one to y today",
		},
		{
			name: "position decay (STAN λ3)",
			on:   func(c *Config) { c.PositionDecay = 1 },
			learn: func(e *Engine) {
				views(e, 1, t0, a, 30, 20) // 30 next to a, 20 one further
			},
			views: []ID{a}, on1st: 30, off1st: 20,
			explain: "without decay 20 and 30 tie (lower ID first)",
		},
		{
			name: "insertion decay (V-STAN λipw)",
			on:   func(c *Config) { c.InsertDecay = 0.5 },
			learn: func(e *Engine) {
				for s := range uint64(3) {
					views(e, 1+s, t0, a, x) // meet the visit at a, one step back
				}
				views(e, 4, t0, b, y) // meets it at b, its latest
			},
			views: []ID{a, b}, on1st: y, off1st: x,
			explain: "neighbours meeting the visit only at a vote e^-2 as much",
		},
		{
			name: "IDF (V-STAN λidf)",
			on:   func(c *Config) { c.IDF = 2 },
			learn: func(e *Engine) {
				views(e, 1, t0, a, 40) // rare
				views(e, 2, t0, a, 30) // 30 is everywhere
				for s := range uint64(6) {
					views(e, 3+s, t0, 30, 50+ID(s))
				}
			},
			views: []ID{a}, on1st: 40, off1st: 30,
			explain: "40 and 30 tie on votes; 40 is rarer",
		},
		{
			name: "remind",
			on:   func(c *Config) { c.Remind = 3 },
			learn: func(e *Engine) {
				views(e, 1, t0, b, x)
			},
			views: []ID{a, b}, on1st: a, off1st: x,
			explain: "a, the visit's own, has no votes but comes back with 3·top·½",
		},
		{
			name: "remind repeat",
			base: func(c *Config) { c.Remind = 1 },
			on:   func(c *Config) { c.RemindRepeat = 8 },
			learn: func(e *Engine) {
				views(e, 1, t0, b, x)
				views(e, 2, t0, b, x)
			},
			views: []ID{a, b, a, b}, on1st: a, off1st: x,
			explain: "half the views were repeats: remind counts 1 + 8·½ = 5 times (a: 5·top·¾), not once (a: top·¾ < x: top)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0.Add(time.Hour)
			}
			for _, on := range []bool{true, false} {
				base := plain
				if tt.base != nil {
					base = with(plain, tt.base)
				}
				cfg, above, below := base, tt.off1st, tt.on1st
				if on {
					cfg, above, below = with(base, tt.on), tt.on1st, tt.off1st
				}
				e := New(cfg)
				tt.learn(e)
				got := ids(e.Candidates(Session, Context{Now: now, Views: tt.views}, fakeCatalog{}))
				ra, rb := slices.Index(got, above), slices.Index(got, below)
				if ra < 0 || rb >= 0 && rb < ra {
					t.Errorf("on %v: %v, want %d above %d (%s)", on, got, above, below, tt.explain)
				}
			}
		})
	}
}

// TestSessionBlend: the session strategy adds the latest product's
// co-views, scaled to a share of its best kNN score.
func TestSessionBlend(t *testing.T) {
	t.Parallel()
	e := New(with(plain, func(c *Config) { c.Blend = 0.5 }))
	views(e, 1, t0, 1, 2) // 1–2 co-viewed; S1 = {1,2}
	views(e, 2, t0, 3, 1) // 3–1 co-viewed; S2 = {3,1}
	got := e.Candidates(Session, Context{Now: t0, Views: []ID{1}}, fakeCatalog{})
	// kNN for [1]: S1 and S2 both sim 1/√2: 1 → √2, 2 → 1/√2, 3 → 1/√2.
	// Co-views of 1: 2 (1) and 3 (1), both at the top: + 0.5·√2 each.
	knn := 1 / math.Sqrt(2)
	if s2, s3 := scoreOf(got, 2), scoreOf(got, 3); !near(s2, knn+0.5*math.Sqrt(2)) || !near(s3, s2) {
		t.Errorf("blended scores: 2 = %v, 3 = %v, want %v", s2, s3, knn+0.5*math.Sqrt(2))
	}
}

func TestTopK(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 60 {
		s := make([]scoredSession, n)
		for i := range s {
			s[i] = scoredSession{idx: int32(i), sim: float64(r.IntN(10))}
		}
		want := slices.Clone(s)
		slices.SortFunc(want, func(a, b scoredSession) int {
			if a.sim != b.sim {
				if a.sim > b.sim {
					return -1
				}
				return 1
			}
			return int(b.idx - a.idx)
		})
		for _, k := range []int{1, 5, 17, 100} {
			got := topK(slices.Clone(s), k)
			w := want[:min(k, n)]
			slices.SortFunc(got, func(a, b scoredSession) int { return int(a.idx - b.idx) })
			w = slices.Clone(w)
			slices.SortFunc(w, func(a, b scoredSession) int { return int(a.idx - b.idx) })
			if !slices.Equal(got, w) {
				t.Fatalf("n=%d k=%d: topK = %v, want %v", n, k, got, w)
			}
		}
	}
}

func TestPopularTrendingUpsell(t *testing.T) {
	t.Parallel()
	e := New(Config{HalfLife: 24 * time.Hour, TrendHalfLife: time.Hour})
	cats := func(id ID) []ID { return []ID{100, 200 + id%2} }
	rec := func(id ID, k Kind, at time.Time) {
		e.Record(Event{Session: uint64(id), Item: id, Categories: cats(id), Kind: k, Time: at})
	}
	old := t0.Add(-48 * time.Hour)
	for range 20 {
		rec(2, View, old) // long ago: 20 views, decayed to 5
	}
	rec(3, Purchase, t0) // 5, now
	rec(4, Cart, t0)     // 3
	rec(5, View, t0)     // 1
	rec(5, View, t0)     // 2
	ctx := Context{Now: t0}
	if got := ids(e.Candidates(Popular, ctx, fakeCatalog{})); !slices.Equal(got, []ID{2, 3, 4, 5}) {
		t.Errorf("popular = %v, want 2 3 4 5 (2 and 3 tie at 5; lower id first)", got)
	}
	if got := ids(e.Candidates(Trending, ctx, fakeCatalog{})); got[0] == 2 {
		t.Errorf("trending = %v: an old bestseller trends", got)
	}
	ctx.Category = 201 // odd ids
	if got := ids(e.Candidates(Popular, ctx, fakeCatalog{})); !slices.Equal(got, []ID{3, 5}) {
		t.Errorf("popular in category 201 = %v, want 3 5", got)
	}
	cat := fakeCatalog{
		2: {Categories: cats(2), Price: 100, InStock: true},
		3: {Categories: cats(3), Price: 100, InStock: true},
		5: {Categories: cats(5), Price: 150, InStock: true},
		4: {Categories: cats(4), Price: 300, InStock: true},
	}
	if got := ids(e.Candidates(Upsell, Context{Now: t0, Item: 3}, cat)); !slices.Equal(got, []ID{5}) {
		t.Errorf("upsell for 3 (100) = %v, want 5 (150, same category)", got)
	}
}

func TestRecommendFiltersAndFallsBack(t *testing.T) {
	t.Parallel()
	e := New(Config{})
	views(e, 1, t0, 1, 2, 3, 4, 5)
	for id := ID(10); id < 20; id++ {
		e.Record(Event{Session: 9, Item: id, Kind: View, Time: t0})
	}
	cat := fakeCatalog{4: {InStock: false}}
	ctx := Context{Now: t0, Item: 1, Cart: []ID{2}, Exclude: []ID{3}}
	got := e.Recommend(ctx, Request{Strategies: []Strategy{AlsoViewed, Popular}, N: 4}, cat)
	// Also viewed of 1: 2 (cart), 3 (excluded), 4 (out of stock), 5; then
	// popular fills, without 1 (on the page) or what is already there.
	if len(got) != 4 || got[0] != 5 || slices.Contains(got, 1) || slices.Contains(got, 2) || slices.Contains(got, 3) || slices.Contains(got, 4) {
		t.Errorf("Recommend = %v", got)
	}
	if got := e.Recommend(Context{Now: t0, Recent: []ID{42, 1, 500}}, Request{Strategies: []Strategy{RecentlyViewed}, N: 5}, cat); !slices.Equal(got, []ID{42, 1}) {
		t.Errorf("recently viewed = %v, want 42 1 (500 is unknown)", got)
	}
}

func TestPersonalReranking(t *testing.T) {
	t.Parallel()
	e := New(Config{})
	for id := ID(1); id <= 6; id++ {
		for range 7 - int(id) { // 1 most popular
			e.Record(Event{Session: uint64(id), Item: id, Kind: View, Time: t0})
		}
	}
	interest := InterestFunc(func(c ID) float64 { return map[ID]float64{102: 3}[c] }) // category of 2 and 5
	got := e.Recommend(Context{Now: t0, Interest: interest}, Request{Strategies: []Strategy{Popular}, N: 3, Personal: true}, fakeCatalog{})
	// Scores 1, ½, ⅓…: 2 becomes ½·1.5 = 0.75, 5 becomes ⅕·1.5 = 0.3.
	if !slices.Equal(got, []ID{1, 2, 3}) {
		t.Errorf("personal popular = %v, want 1 2 3", got)
	}
	interest = InterestFunc(func(c ID) float64 { return map[ID]float64{102: 3, 101: 0.1}[c] })
	got = e.Recommend(Context{Now: t0, Interest: interest}, Request{Strategies: []Strategy{Popular}, N: 2, Personal: true}, fakeCatalog{})
	if got[0] != 1 {
		t.Errorf("a small interest must not beat popularity: %v", got)
	}

	// The categories a product's events carried are the engine's own: the
	// re-ranking reads them, and asks the catalog only of products whose
	// events carried none. 4's events say category 900 (the catalog says
	// 101), and the visitor likes 900: ¼·1.5 passes 3's ⅓.
	e = New(Config{})
	for id := ID(1); id <= 4; id++ {
		var cats []ID
		if id == 4 {
			cats = []ID{900}
		}
		for range 10 - 2*int(id) {
			e.Record(Event{Session: uint64(id), Item: id, Categories: cats, Kind: View, Time: t0})
		}
	}
	interest = InterestFunc(func(c ID) float64 { return map[ID]float64{900: 5}[c] })
	got = e.Recommend(Context{Now: t0, Interest: interest}, Request{Strategies: []Strategy{Popular}, N: 4, Personal: true}, fakeCatalog{})
	if !slices.Equal(got, []ID{1, 2, 4, 3}) {
		t.Errorf("personal popular with 4 in the favourite category by its events = %v, want 1 2 4 3", got)
	}
}

func TestBounds(t *testing.T) {
	t.Parallel()
	e := New(Config{MaxItems: 50, Neighbours: 5, MaxSessions: 10})
	for s := range 100 {
		views(e, uint64(s+1), t0.Add(time.Duration(s)*time.Hour), ID(s%60+1), ID((s+1)%60+1), ID((s+7)%60+1))
	}
	if n := e.Len(); n > 50 {
		t.Errorf("%d items tracked, bound 50", n)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for id, it := range e.items {
		if len(it.viewed) > 5 {
			t.Errorf("item %d keeps %d neighbours, bound 5", id, len(it.viewed))
		}
	}
	if n, r := len(e.sessions.byKey), len(e.sessions.ring); n != 10 || r != 10 {
		t.Errorf("%d sessions kept in a ring of %d, want the bound, 10", n, r)
	}
	// The latest visit is kept, and its products find it.
	if i, ok := e.sessions.byKey[100]; !ok || e.sessions.ring[i].key != 100 {
		t.Errorf("the latest visit was not kept")
	}
}

// TestConcurrentUse: writers record while readers ask every strategy. Every
// answer, while the engine changes under it, keeps Recommend's promises (at
// most N, no repeat, not the page's product, only products recorded); once
// the writers are done, the engine holds every product recorded and as many
// visits as its bound (more were recorded), and its popular list is full.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	const (
		writers  = 4
		events   = 500 // per writer
		products = 97  // recorded: 1..97
		n        = 4
	)
	e := New(Config{MaxItems: 200, MaxSessions: 100})
	check := func(where string, page ID, got []ID) {
		if len(got) > n {
			t.Errorf("%s: %d products, want at most %d: %v", where, len(got), n, got)
		}
		seen := map[ID]bool{}
		for _, id := range got {
			switch {
			case seen[id]:
				t.Errorf("%s: %d twice in %v", where, id, got)
			case id == page:
				t.Errorf("%s: the page's own product %d in %v", where, id, got)
			case id < 1 || id > products:
				t.Errorf("%s: %d was never recorded (%v)", where, id, got)
			}
			seen[id] = true
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range events {
				// Sessions from 1: 0 is no session.
				e.Record(Event{Session: uint64(w*1000 + i/5 + 1), Item: ID(i%products + 1), Categories: []ID{100 + ID(i%3)}, Kind: Kind(i % 3), Time: t0.Add(time.Duration(i) * time.Second)})
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 200 {
				for _, s := range Strategies {
					page := ID(i%50 + 1)
					got := e.Recommend(Context{Now: t0, Item: page, Views: []ID{page, 7}, Category: 101}, Request{Strategies: []Strategy{s}, N: n}, fakeCatalog{})
					check(fmt.Sprintf("reader %d, %s on %d", w, s, page), page, got)
				}
			}
		}()
	}
	wg.Wait()
	st := e.Stats()
	if st.Items != products {
		t.Errorf("%d products tracked, want the %d recorded", st.Items, products)
	}
	if st.Sessions != 100 {
		t.Errorf("%d visits kept, want the bound, 100 (of %d recorded)", st.Sessions, writers*events/5)
	}
	got := e.Recommend(Context{Now: t0.Add(events * time.Second)}, Request{Strategies: []Strategy{Popular}, N: n}, fakeCatalog{})
	check("popular after the writers", 0, got)
	if len(got) != n {
		t.Errorf("popular after the writers: %v, want %d products", got, n)
	}
}

// TestStatsBytes checks the engine's own estimate of its heap against the
// heap it really grows by. Not parallel: it reads the process's heap.
func TestStatsBytes(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	e := New(Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Unix(1_700_000_000, 0)
	cats := []ID{11, 12, 13, 14}
	for v := range 20000 {
		for range 1 + rng.IntN(8) {
			at = at.Add(time.Second)
			e.Record(Event{Session: uint64(v + 1), Item: ID(1 + rng.IntN(3000)), Categories: cats[rng.IntN(4):][:1], Kind: View, Time: at})
		}
	}
	grown := float64(heap() - before)
	st := e.Stats()
	if st.Sessions != 20000 || st.Items == 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("estimate %d bytes, heap grew by %.0f", st.Bytes, grown)
	if r := float64(st.Bytes) / grown; r < 0.75 || r > 1.25 {
		t.Errorf("estimate %d bytes, heap grew by %.0f (%.2f×)", st.Bytes, grown, r)
	}
	runtime.KeepAlive(e)
}

// TestPopularAtOnce: the lists asked for before any product was viewed do
// not hide the first products viewed for a refresh interval.
func TestPopularAtOnce(t *testing.T) {
	t.Parallel()
	e := New(Config{HalfLife: 24 * time.Hour, TrendHalfLife: time.Hour})
	ctx := Context{Now: t0}
	if got := ids(e.Candidates(Popular, ctx, fakeCatalog{})); len(got) != 0 {
		t.Fatalf("popular before any view = %v", got)
	}
	e.Record(Event{Session: 1, Item: 7, Kind: View, Time: t0})
	for _, s := range []Strategy{Popular, Trending} {
		if got := ids(e.Candidates(s, ctx, fakeCatalog{})); !slices.Equal(got, []ID{7}) {
			t.Errorf("%s in the same second as the first view = %v, want 7", s, got)
		}
	}
}

// TestBest: the top-m selection puts the m best candidates first, in
// order (score, then ID), as a full sort would: by insertion for up to
// insertTop candidates, by quickselect beyond.
func TestBest(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	sizes := []int{insertTop, insertTop + 1, 3000}
	for n := range 80 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		s := make([]Scored, n)
		for i := range s {
			s[i] = Scored{ID(1 + r.IntN(1000)), float64(r.IntN(8))}
		}
		want := slices.Clone(s)
		sortScored(want)
		for _, m := range []int{0, 1, 3, 10, 40, 100} {
			got := best(slices.Clone(s), m)
			k := min(m, n)
			if !slices.Equal(got[:k], want[:k]) {
				t.Fatalf("n %d, m %d: head %v, want %v", n, m, got[:k], want[:k])
			}
			if len(got) != n {
				t.Fatalf("n %d, m %d: %d candidates left", n, m, len(got))
			}
		}
	}
}

// TestAppendBeyondHead: when the catalog drops the whole head ranked at
// first (N + 8 here), Append goes on down the rest, in order, as a full
// sort would.
func TestAppendBeyondHead(t *testing.T) {
	t.Parallel()
	e := New(Config{Neighbours: 60})
	for i := range 50 {
		views(e, uint64(1+i), t0, 1, ID(2+i)) // 1 co-viewed with 2..51
		for range i % 5 {
			views(e, uint64(100+i), t0, 1, ID(2+i)) // some more often
		}
	}
	ctx := Context{Now: t0, Item: 1}
	all := ids(e.Candidates(AlsoViewed, ctx, fakeCatalog{}))
	cat := fakeCatalog{}
	for _, id := range all[:30] { // out of stock: far more than the head ranked at first
		cat[id] = Product{Categories: []ID{100}, InStock: false}
	}
	got := e.Recommend(ctx, Request{Strategies: []Strategy{AlsoViewed}, N: 5}, cat)
	if want := all[30:35]; !slices.Equal(got, want) {
		t.Errorf("beyond the head: %v, want %v", got, want)
	}
}

// TestAppendDecayedTail: a block of one product's also viewed is the best
// in-stock products in the order Candidates ranks them (every weight
// decayed), however many of the best are out of stock and however old
// the weights: those Append decays only when the head runs out are
// ranked as the others.
func TestAppendDecayedTail(t *testing.T) {
	t.Parallel()
	e := New(Config{Neighbours: 60})
	for i := range 50 {
		at := t0.Add(time.Duration(i*i) * 7 * time.Minute) // up to 12 days apart
		views(e, uint64(1+i), at, 1, ID(2+i))
		for range (i * 7) % 5 {
			views(e, uint64(100+i), at, 1, ID(2+i))
		}
	}
	for _, later := range []time.Duration{0, time.Hour, 3 * 24 * time.Hour, 30 * 24 * time.Hour} {
		ctx := Context{Now: t0.Add(12*24*time.Hour + later), Item: 1}
		all := ids(e.Candidates(AlsoViewed, ctx, fakeCatalog{}))
		for _, out := range []int{0, 3, 12, 13, 20, 45} {
			cat := fakeCatalog{}
			for _, id := range all[:out] {
				cat[id] = Product{Categories: []ID{100}, InStock: false}
			}
			for _, n := range []int{1, 4, 8} {
				got := e.Recommend(ctx, Request{Strategies: []Strategy{AlsoViewed}, N: n}, cat)
				want := all[out:min(out+n, len(all))]
				if !slices.Equal(got, want) {
					t.Errorf("%v later, %d out of stock, N %d: %v, want %v", later, out, n, got, want)
				}
			}
		}
	}
}

// TestTopListsOutOfOrder: requests whose times come a second out of order
// (each takes its time on arrival) share the lists built once; a clock
// gone back a long way rebuilds them.
func TestTopListsOutOfOrder(t *testing.T) {
	e := New(Config{})
	t0 := time.Unix(1_800_000_000, 0)
	e.Record(Event{Session: 1, Item: 5, Kind: View, Time: t0})
	e.topLists(t0)
	built := e.top.tops.Load()
	for i := range 10 {
		e.topLists(t0.Add(-time.Duration(i%2) * time.Second)) // s, s-1, s, s-1, ...
	}
	if e.top.tops.Load() != built {
		t.Error("a request a second behind rebuilt the lists")
	}
	e.topLists(t0.Add(-time.Hour))
	if e.top.tops.Load() == built {
		t.Error("a clock gone back an hour kept the lists")
	}
}
