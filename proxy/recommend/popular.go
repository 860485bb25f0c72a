package recommend

import (
	"slices"
	"sync"
	"time"
)

// topCache holds the most popular and trending products, overall and per
// category, recomputed at most once per refresh interval: ranking every
// product for every call would cost too much.
type topCache struct {
	mu       sync.Mutex
	built    int64 // unix seconds of the last build
	popular  []ID
	trending []ID
	byCat    map[ID][]ID // popular, per category (every level)
}

const (
	topRefresh = 1 // seconds
	topLen     = 200
	catTopLen  = 100
)

// topLists returns the current lists, rebuilding them when stale, or
// while they are empty: the first product viewed is popular at once, not
// a refresh interval later. Callers must not hold e.mu.
func (e *Engine) topLists(now time.Time) (popular, trending []ID, byCat map[ID][]ID) {
	t := now.Unix()
	tc := &e.top
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.popular) == 0 || t-tc.built >= topRefresh || t < tc.built {
		tc.popular, tc.trending, tc.byCat = e.buildTops(t)
		tc.built = t
	}
	return tc.popular, tc.trending, tc.byCat
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
