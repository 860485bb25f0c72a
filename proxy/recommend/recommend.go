package recommend

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Strategy names a way of choosing products.
type Strategy string

// The strategies.
const (
	// RecentlyViewed: this visitor's viewed products, latest first.
	RecentlyViewed Strategy = "recently_viewed"
	// AlsoViewed: products viewed in the same visits as this one.
	AlsoViewed Strategy = "also_viewed"
	// AlsoBought: products carted or bought with (or after viewing) this
	// one, or the cart's.
	AlsoBought Strategy = "also_bought"
	// Session: session kNN over the whole current visit, recent products
	// weighing more: the next product this visitor is likely to want.
	Session Strategy = "session"
	// Popular: most popular, in the current category if there is one.
	Popular Strategy = "popular"
	// Trending: most popular lately, relative to the long term.
	Trending Strategy = "trending"
	// Upsell: same category, somewhat pricier (5% to 100% more), in stock.
	Upsell Strategy = "upsell"
)

// Strategies lists every strategy.
var Strategies = []Strategy{RecentlyViewed, AlsoViewed, AlsoBought, Session, Popular, Trending, Upsell}

// Valid reports whether s names a strategy.
func (s Strategy) Valid() bool { return slices.Contains(Strategies, s) }

// Product is what recommendations need to know of a product.
type Product struct {
	Categories []ID // outermost first
	Price      float64
	InStock    bool
}

// Catalog tells which products exist, and their categories, prices and
// stock. Products it does not know are never recommended. The engine reads
// a returned Product's Categories before its next call to Product, so an
// implementation may reuse that slice.
type Catalog interface {
	Product(id ID) (Product, bool)
}

// Context is who is asking, and where.
type Context struct {
	Now time.Time
	// Session is the visitor's current visit, kept out of its own
	// neighbours.
	Session uint64
	// Item is the product on the page, or 0; never recommended.
	Item ID
	// Category is the category on the page, or 0.
	Category ID
	// Views are the current visit's products, oldest first.
	Views []ID
	// Recent are the visitor's viewed products, latest first.
	Recent []ID
	// Cart are the products in the cart; never recommended.
	Cart []ID
	// Exclude are other products never to recommend (just bought).
	Exclude []ID
	// Interest tells the visitor's interest in a category, for the
	// personal re-ranking; nil means none.
	Interest Interests
}

// Interests tells a visitor's interest in categories. An interface rather
// than a func, so that a caller can hand the engine a value it keeps in
// its own allocation (a func closing over a visitor would allocate per
// request).
type Interests interface {
	Interest(category ID) float64
}

// InterestFunc is a func used as Interests.
type InterestFunc func(ID) float64

// Interest calls f.
func (f InterestFunc) Interest(c ID) float64 { return f(c) }

// Request says what to recommend.
type Request struct {
	// Strategies are tried in order until N products are found: the
	// strategy, then its fallbacks.
	Strategies []Strategy
	// N is how many products.
	N int
	// Personal re-ranks each strategy's products by the visitor's interest
	// in their categories.
	Personal bool
}

// Recommend returns up to N products for the request. Products in the cart,
// excluded, on the page, unknown to the catalog or out of stock are left
// out, and none repeats.
func (e *Engine) Recommend(ctx Context, req Request, cat Catalog) []ID {
	return e.Append(make([]ID, 0, req.N), &ctx, req, cat)
}

// Append is Recommend appending to dst, so that a caller can reuse one
// buffer for every block of a page: the products are dst[len(dst):] of
// the result. The ranked strategies (recently viewed, popular, trending)
// then allocate nothing; the others score candidates in a map of their
// own.
func (e *Engine) Append(dst []ID, ctx *Context, req Request, cat Catalog) []ID {
	start := len(dst)
	n := start + req.N
	take := func(id ID) {
		if id == ctx.Item || slices.Contains(dst[start:], id) || slices.Contains(ctx.Cart, id) || slices.Contains(ctx.Exclude, id) {
			return
		}
		if p, ok := cat.Product(id); ok && p.InStock {
			dst = append(dst, id)
		}
	}
	personal := req.Personal && ctx.Interest != nil
	for _, s := range req.Strategies {
		if len(dst) >= n {
			break
		}
		ids, isRanked := e.ranked(s, ctx)
		if isRanked && !personal {
			// A ranked list needs no scores: take from the top.
			for _, id := range ids {
				if len(dst) >= n {
					break
				}
				take(id)
			}
			continue
		}
		if isRanked {
			// Personal: only the head is re-ranked (see below), so only
			// the head is scored; the rest keeps its rank.
			head := min(len(ids), max(4*req.N, 32))
			sc := e.getScratch()
			for i, id := range ids[:head] {
				sc.out = append(sc.out, Scored{id, 1 / float64(i+1)})
			}
			e.personalize(sc.out, ctx.Interest, cat)
			for _, c := range sc.out {
				if len(dst) >= n {
					break
				}
				take(c.ID)
			}
			e.putScratch(sc)
			for _, id := range ids[head:] {
				if len(dst) >= n {
					break
				}
				take(id)
			}
			continue
		}
		if s == Upsell {
			cands := e.Candidates(s, *ctx, cat)
			if personal {
				e.personalize(cands[:min(len(cands), max(4*req.N, 32))], ctx.Interest, cat)
			}
			for _, c := range cands {
				if len(dst) >= n {
					break
				}
				take(c.ID)
			}
			continue
		}
		// A scored strategy: rank only the head (enough for the filters
		// to leave N most of the time), the rest only when it runs out.
		head := req.N + len(ctx.Cart) + len(ctx.Exclude) + 8
		if personal {
			// Only the head is re-ranked: a boost of at most half
			// rarely lifts a product from far down, and scoring every
			// candidate costs a catalog lookup each.
			head = max(4*req.N, 32)
		}
		sc := e.getScratch()
		e.score(sc, s, ctx, head)
		// The candidates scored later (sc.lazy) are none of the head's.
		best(sc.out[:len(sc.out)-len(sc.lazy)], head)
		cands := sc.out
		if personal {
			e.personalize(cands[:min(len(cands), head)], ctx.Interest, cat)
		}
		for i := 0; i < len(cands) && len(dst) < n; i++ {
			if i == head {
				sc.scoreLazy(ctx.Now.Unix(), e.cfg.HalfLife.Seconds())
				sortScored(cands[head:])
			}
			take(cands[i].ID)
		}
		e.putScratch(sc)
	}
	return dst
}

// ranked returns the list of a strategy that ranks by position (recently
// viewed, popular, trending), or false for the others.
func (e *Engine) ranked(s Strategy, ctx *Context) ([]ID, bool) {
	switch s {
	case RecentlyViewed:
		return ctx.Recent, true
	case Popular, Trending:
		popular, trending, byCat := e.topLists(ctx.Now)
		if s == Trending {
			return trending, true
		}
		if ctx.Category != 0 {
			if l := byCat[ctx.Category]; len(l) > 0 {
				return l, true
			}
		}
		return popular, true
	}
	return nil, false
}

// Scored is a candidate product and its score.
type Scored struct {
	ID    ID
	Score float64
}

// Candidates returns a strategy's products, best first, before any
// filtering.
func (e *Engine) Candidates(s Strategy, ctx Context, cat Catalog) []Scored {
	if ids, ok := e.ranked(s, &ctx); ok {
		return byRank(ids)
	}
	if s == Upsell {
		_, _, byCat := e.topLists(ctx.Now)
		return upsell(ctx.Item, byCat, cat)
	}
	sc := e.getScratch()
	e.score(sc, s, &ctx, 0)
	sortScored(sc.out)
	out := slices.Clone(sc.out)
	e.putScratch(sc)
	return out
}

// getScratch returns a cleared scratch from the pool.
func (e *Engine) getScratch() *scratch {
	if sc, ok := e.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{scores: make(map[ID]float64, 256)}
}

// putScratch clears sc and returns it to the pool; one grown by an
// unusually large request is dropped rather than kept.
func (e *Engine) putScratch(sc *scratch) {
	if len(sc.scores) > 8192 || cap(sc.out) > 8192 {
		return
	}
	clear(sc.scores)
	sc.out, sc.lazy = sc.out[:0], sc.lazy[:0]
	e.scratch.Put(sc)
}

// score scores the candidates of a co-occurrence or session strategy into
// sc.scores and lists them, unordered, in sc.out. With head > 0, the
// candidates of one product's list that cannot be among the head best
// may be left to scoreLazy: the last len(sc.lazy) of sc.out.
func (e *Engine) score(sc *scratch, s Strategy, ctx *Context, head int) {
	now := ctx.Now.Unix()
	half := e.cfg.HalfLife.Seconds()
	scores := sc.scores
	e.mu.RLock()
	if s == AlsoViewed || s == AlsoBought {
		if sd := seeds(ctx, s == AlsoBought); len(sd) == 1 {
			// One product's list names each neighbour once: its scores
			// are the list's, with no map to add them up in.
			out := sc.out[:0]
			if it := e.items[sd[0]]; it != nil {
				l := it.viewed
				if s == AlsoBought {
					l = it.bought
				}
				out = scoreList(sc, out, l, head, now, half)
			}
			e.mu.RUnlock()
			sc.out = out
			return
		}
	}
	switch s {
	case AlsoViewed:
		for _, seed := range seeds(ctx, false) {
			if it := e.items[seed]; it != nil {
				for _, n := range it.viewed {
					scores[n.id] += n.w.value(now, half)
				}
			}
		}
	case AlsoBought:
		for _, seed := range seeds(ctx, true) {
			if it := e.items[seed]; it != nil {
				for _, n := range it.bought {
					scores[n.id] += n.w.value(now, half)
				}
			}
		}
	case Session:
		e.sessionKNN(sc, ctx.Views, ctx.Session, Recency, e.cfg.K, e.cfg.Sample, now)
		if l := e.cfg.IDF; l > 0 && e.sessions.started > 0 {
			// Rare products weigh more (a factor per product, so applied
			// once to its summed votes).
			logVisits := lnCount(uint64(e.sessions.started))
			for id, v := range scores {
				if it := e.items[id]; it != nil && it.events > 0 {
					if idf := logVisits - lnCount(uint64(it.events)); idf > 0 {
						scores[id] = v * (1 + l*idf)
					}
				}
			}
		}
		b, rm := max(e.cfg.Blend, 0), max(e.cfg.Remind, 0)
		if b+rm > 0 && len(ctx.Views) > 0 && len(scores) > 0 {
			// Blend in the visit's own products (visitors often go back
			// to one) and what was viewed with its latest product: kNN
			// knows the visit, co-occurrence the very last step.
			top := 0.0
			for _, v := range scores {
				top = max(top, v)
			}
			if rm > 0 {
				if g := e.cfg.RemindRepeat; g > 0 {
					// A visitor who went back already goes back again.
					repeats := float64(len(ctx.Views) - len(sc.cur))
					rm *= 1 + g*repeats/float64(len(ctx.Views))
				}
				for _, c := range sc.cur {
					scores[c.id] += rm * top * c.w
				}
			}
			if it := e.items[ctx.Views[len(ctx.Views)-1]]; b > 0 && it != nil {
				coTop := 0.0
				for _, n := range it.viewed {
					coTop = max(coTop, n.w.value(now, half))
				}
				for _, n := range it.viewed {
					if coTop > 0 {
						scores[n.id] += b * top * n.w.value(now, half) / coTop
					}
				}
			}
		}
	}
	e.mu.RUnlock()
	out := sc.out[:0]
	for id, v := range scores {
		out = append(out, Scored{id, v})
	}
	sc.out = out
}

// scoreList appends the scores of one product's neighbours to out. When
// head > 0, a neighbour that cannot be among the head best is not
// decayed (an exp each) but listed, last, with its weight in sc.lazy, for
// scoreLazy: a weight decays to no more than itself, and no less than
// itself times the decay of the list's oldest, so one under t, the
// head-th best weight times that decay, has head better than it (t and
// the cut below it each with a margin no rounding of value's eats).
func scoreList(sc *scratch, out []Scored, l []neighbour, head int, now int64, half float64) []Scored {
	var m decayMemo
	var top [64]float64 // the head best weights, best first
	k := 0
	if head > 0 && head < len(l) && head <= len(top) {
		var oldest int64
		for _, n := range l {
			oldest = max(oldest, now-n.w.at)
			v := float64(n.w.v)
			if v != v {
				k = -1 // NaN: no bound
				break
			}
			if k == head && v <= top[head-1] {
				continue
			}
			j := min(k, head-1)
			for ; j > 0 && v > top[j-1]; j-- {
				top[j] = top[j-1]
			}
			top[j] = v
			k = min(k+1, head)
		}
		if k == head {
			keep := 1.0
			if oldest > 0 {
				keep = math.Exp2(-float64(oldest) / half)
			}
			if t := top[head-1] * keep * (1 - 0x1p-40); t > 0 {
				for _, n := range l {
					if float64(n.w.v) >= t {
						out = append(out, Scored{n.id, m.value(n.w, now, half)})
					}
				}
				for _, n := range l {
					if float64(n.w.v) < t {
						out = append(out, Scored{ID: n.id})
						sc.lazy = append(sc.lazy, n.w)
					}
				}
				return out
			}
		}
	}
	for _, n := range l {
		out = append(out, Scored{n.id, m.value(n.w, now, half)})
	}
	return out
}

// scoreLazy scores the candidates score left for later, as it would have.
func (sc *scratch) scoreLazy(now int64, half float64) {
	if len(sc.lazy) == 0 {
		return
	}
	var m decayMemo
	tail := sc.out[len(sc.out)-len(sc.lazy):]
	for i, w := range sc.lazy {
		tail[i].Score = m.value(w, now, half)
	}
	sc.lazy = sc.lazy[:0]
}

// lnTable holds ln(n) for the small counts, most products' events.
var lnTable = func() (t [4096]float64) {
	for n := 1; n < len(t); n++ {
		t[n] = math.Log(float64(n))
	}
	return t
}()

// lnCount is ln(n), n ≥ 1, from the table when it can.
func lnCount(n uint64) float64 {
	if n < uint64(len(lnTable)) {
		return lnTable[n]
	}
	return math.Log(float64(n))
}

// seeds are the products a co-occurrence strategy starts from: the cart's
// (for also_bought), else the page's product, else the visit's latest.
func seeds(ctx *Context, cart bool) []ID {
	switch {
	case cart && len(ctx.Cart) > 0:
		return ctx.Cart
	case ctx.Item != 0:
		return []ID{ctx.Item}
	case len(ctx.Views) > 0:
		return ctx.Views[len(ctx.Views)-1:]
	}
	return nil
}

func byRank(ids []ID) []Scored {
	out := make([]Scored, len(ids))
	for i, id := range ids {
		out[i] = Scored{id, 1 / float64(i+1)}
	}
	return out
}

// better orders candidates: higher score first, then lower ID.
func better(a, b Scored) bool { return a.Score > b.Score || a.Score == b.Score && a.ID < b.ID }

func sortScored(s []Scored) {
	slices.SortFunc(s, func(a, b Scored) int {
		switch {
		case better(a, b):
			return -1
		case better(b, a):
			return 1
		}
		return 0
	})
}

// best moves the m best candidates to the front of s, in order, and
// returns s: a top-m selection, cheaper than sorting all. The rest are
// in no particular order.
func best(s []Scored, m int) []Scored {
	switch {
	case len(s) <= m && len(s) <= 64: // an insertion sort, inlined
		insertBest(s, len(s))
	case len(s) <= m:
		sortScored(s)
	case len(s) <= insertTop:
		insertBest(s, m)
	default:
		selectBest(s, m, better)
		sortScored(s[:m])
	}
	return s
}

// insertTop is the most candidates best ranks by insertion: one pass, the
// head kept in order, a candidate only compared with the head's last
// unless it beats it. Beyond it, quickselect bounds the work whatever the
// order the candidates come in.
const insertTop = 1024

// insertBest puts the m best of s first, in order, by insertion.
func insertBest(s []Scored, m int) {
	if m <= 0 {
		return
	}
	for i := 1; i < m; i++ {
		x, j := s[i], i
		for ; j > 0 && better(x, s[j-1]); j-- {
			s[j] = s[j-1]
		}
		s[j] = x
	}
	for i := m; i < len(s); i++ {
		x := s[i]
		if !better(x, s[m-1]) {
			continue
		}
		s[i] = s[m-1]
		j := m - 1
		for ; j > 0 && better(x, s[j-1]); j-- {
			s[j] = s[j-1]
		}
		s[j] = x
	}
}

// selectBest moves the k best elements of s (by better, a strict order)
// to its front, in no particular order (quickselect).
func selectBest[T any](s []T, k int, better func(a, b T) bool) {
	if k <= 0 || len(s) <= k {
		return
	}
	lo, hi := 0, len(s)-1
	for lo < hi {
		p := s[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for better(s[i], p) {
				i++
			}
			for better(p, s[j]) {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// upsell returns the popular products of the item's deepest category that
// cost 5% to 100% more than it.
func upsell(item ID, byCat map[ID][]ID, cat Catalog) []Scored {
	p, ok := cat.Product(item)
	if !ok || len(p.Categories) == 0 || p.Price <= 0 {
		return nil
	}
	var out []ID
	for _, id := range byCat[p.Categories[len(p.Categories)-1]] {
		if q, ok := cat.Product(id); ok && q.Price > p.Price*1.05 && q.Price <= p.Price*2 {
			out = append(out, id)
		}
	}
	return byRank(out)
}

// personalize re-ranks candidates: a product's score grows by up to half
// with the visitor's interest in its categories, relative to their
// strongest interest. A product's categories are the engine's own (the
// path its events carried), else the catalog's; each category's interest
// is asked once per call.
func (e *Engine) personalize(cands []Scored, interest Interests, cat Catalog) {
	var buf [64]float64 // on the stack: the head re-ranked is usually short
	var best []float64
	if len(cands) <= len(buf) {
		best = buf[:len(cands)]
	} else {
		best = make([]float64, len(cands))
	}
	// The paths under the engine's lock, the interest after it: Interests
	// is the caller's, and may take locks of its own.
	var pathBuf [64][maxDepth]ID
	var lenBuf [64]uint8
	paths, lens := pathBuf[:0], lenBuf[:0]
	if len(cands) > len(pathBuf) {
		paths, lens = make([][maxDepth]ID, 0, len(cands)), make([]uint8, 0, len(cands))
	}
	e.mu.RLock()
	for _, c := range cands {
		var p [maxDepth]ID
		var n uint8
		if it := e.items[c.ID]; it != nil {
			p, n = it.cats, it.nCats
		}
		paths, lens = append(paths, p), append(lens, n)
	}
	e.mu.RUnlock()
	var memo interestMemo
	top := 0.0
	for i, c := range cands {
		if lens[i] > 0 {
			for _, cid := range paths[i][:lens[i]] {
				best[i] = max(best[i], memo.of(interest, cid))
			}
		} else if p, ok := cat.Product(c.ID); ok {
			// Events carried no path: the catalog's.
			for _, cid := range p.Categories {
				best[i] = max(best[i], memo.of(interest, cid))
			}
		}
		top = max(top, best[i])
	}
	if top == 0 {
		return
	}
	for i := range cands {
		cands[i].Score *= 1 + 0.5*best[i]/top
	}
	sortByScoreStable(cands)
}

// sortByScoreStable sorts candidates by score, highest first (NaN last),
// keeping the order of equal scores: slices.SortStableFunc with
// cmp.Compare(b.Score, a.Score). A stable sort's result is the order's
// alone, so for a short list, an insertion sort gives the same one; a
// re-ranked list is mostly in order already, and insertion costs a
// comparison for each candidate that stays where it is.
func sortByScoreStable(cands []Scored) {
	if len(cands) > 64 {
		slices.SortStableFunc(cands, func(a, b Scored) int { return cmp.Compare(b.Score, a.Score) })
		return
	}
	for i := 1; i < len(cands); i++ {
		x, j := cands[i], i
		for ; j > 0 && cmp.Less(cands[j-1].Score, x.Score); j-- {
			cands[j] = cands[j-1]
		}
		cands[j] = x
	}
}

// interestMemo remembers the interest of the few categories one re-ranking
// asks about (a product's path shares its outer categories with its
// neighbours'), so that each costs one lookup and decay.
type interestMemo struct {
	n    int
	cats [16]ID
	vals [16]float64
}

func (m *interestMemo) of(in Interests, c ID) float64 {
	for i := range m.n {
		if m.cats[i] == c {
			return m.vals[i]
		}
	}
	v := in.Interest(c)
	if m.n < len(m.cats) {
		m.cats[m.n], m.vals[m.n] = c, v
		m.n++
	}
	return v
}

// SessionKey names a visitor's visit for the engine (Event.Session,
// Context.Session): the visitor and the time the visit started.
func SessionKey(visitorID string, visitStart uint32) uint64 {
	return xxhash.Sum64String(visitorID) ^ uint64(visitStart)*0x9e3779b97f4a7c15
}
