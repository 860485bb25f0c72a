package recommend

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// topCache holds the most popular and trending products, overall and per
// category, recomputed at most once per refresh interval: ranking every
// product for every call would cost too much. Readers load the lists
// without a lock (every page with a popular block reads them, on every
// core); a rebuild is made under mu and published whole.
type topCache struct {
	mu   sync.Mutex // held while rebuilding
	tops atomic.Pointer[tops]
}

// tops are the lists of one build.
type tops struct {
	built    int64 // unix seconds of the build
	popular  []ID
	trending []ID
	byCat    map[ID][]ID // popular, per category (every level)
}

const (
	topRefresh = 1 // seconds
	topLen     = 200
	catTopLen  = 100
)

// stale reports whether lists built at built are out of date at t: a
// refresh interval old, or built over topSlack later than t (a clock gone
// back), or empty (the first product viewed is popular at once, not a
// refresh interval later).
func (l *tops) stale(t int64) bool {
	return l == nil || len(l.popular) == 0 || t-l.built >= topRefresh || t < l.built-topSlack
}

// topSlack is how far before the lists a request's time may be and still
// take them: a request takes its time when it arrives, and reaches the
// lists after those that came after it, near a second's end; with no
// slack each such request rebuilt them (a walk over every product), and
// the next one again.
const topSlack = 60 // seconds

// topLists returns the current lists, rebuilding them when stale. Callers
// must not hold e.mu.
func (e *Engine) topLists(now time.Time) (popular, trending []ID, byCat map[ID][]ID) {
	t := now.Unix()
	tc := &e.top
	l := tc.tops.Load()
	if l.stale(t) {
		tc.mu.Lock()
		if l = tc.tops.Load(); l.stale(t) { // unless another caller just rebuilt them
			l = &tops{built: t}
			l.popular, l.trending, l.byCat = e.buildTops(t)
			tc.tops.Store(l)
		}
		tc.mu.Unlock()
	}
	return l.popular, l.trending, l.byCat
}

// reset drops the lists, for an engine whose state was replaced.
func (tc *topCache) reset() {
	tc.mu.Lock()
	tc.tops.Store(nil)
	tc.mu.Unlock()
}

type ranked struct {
	id ID
	s  float64
}

func (e *Engine) buildTops(now int64) (popular, trending []ID, byCat map[ID][]ID) {
	half, trendHalf := e.cfg.HalfLife.Seconds(), e.cfg.TrendHalfLife.Seconds()
	e.mu.RLock()
	pop := make([]ranked, 0, len(e.items))
	trend := make([]ranked, 0, len(e.items))
	cats := map[ID][]ranked{}
	for id, it := range e.items {
		p := it.pop.value(now, half)
		pop = append(pop, ranked{id, p})
		// Trending: recent popularity, relative to the long term, so that
		// a steady bestseller does not trend forever.
		trend = append(trend, ranked{id, it.trend.value(now, trendHalf) / (1 + p*0.1)})
		for _, c := range it.cats[:it.nCats] {
			cats[c] = append(cats[c], ranked{id, p})
		}
	}
	e.mu.RUnlock()
	byCat = make(map[ID][]ID, len(cats))
	for c, r := range cats {
		byCat[c] = topIDs(r, catTopLen)
	}
	return topIDs(pop, topLen), topIDs(trend, topLen), byCat
}

// topIDs returns the IDs of the n best of r (higher score first, then
// lower ID: a strict order, IDs being unique in a list), reordering r: a
// top-n selection, then a sort of those n, and not a sort of every
// product the engine tracks.
func topIDs(r []ranked, n int) []ID {
	if len(r) > n {
		selectBest(r, n, rankedBetter)
		r = r[:n]
	}
	slices.SortFunc(r, func(a, b ranked) int {
		switch {
		case rankedBetter(a, b):
			return -1
		case rankedBetter(b, a):
			return 1
		}
		return 0
	})
	out := make([]ID, len(r))
	for i, x := range r {
		out[i] = x.id
	}
	return out
}

func rankedBetter(a, b ranked) bool { return a.s > b.s || a.s == b.s && a.id < b.id }
