package recommend

import (
	"math"
	"slices"
)

// maxSessionItems is how many distinct products a kept visit remembers
// (its latest ones).
const maxSessionItems = 20

// session is one visit, as session kNN sees it: the distinct products
// viewed, in order of their latest view, and those carted or bought.
type session struct {
	key    uint64
	items  [maxSessionItems]ID
	n      uint8
	bought [8]ID
	nb     uint8
	last   int64
}

// recentViews returns up to coWindow of the visit's products, latest
// first, in buf: a copy, so that the visit may change while they are read.
func (s *session) recentViews(buf *[coWindow]ID) []ID {
	out := buf[:0]
	for i := int(s.n) - 1; i >= 0 && len(out) < len(buf); i-- {
		out = append(out, s.items[i])
	}
	return out
}

func (s *session) boughtItems() []ID { return s.bought[:s.nb] }

func (s *session) addBought(id ID) {
	for _, b := range s.bought[:s.nb] {
		if b == id {
			return
		}
	}
	if int(s.nb) == len(s.bought) {
		copy(s.bought[:], s.bought[1:])
		s.nb--
	}
	s.bought[s.nb] = id
	s.nb++
}

// sessionStore keeps the latest visits in a ring that grows up to max:
// when full, the oldest visit makes room. Memory follows the visits seen,
// not the bound.
type sessionStore struct {
	ring  []session
	max   int
	next  int // when full, the slot to reuse
	byKey map[uint64]int32
	// started counts the visits ever started (for IDF).
	started uint64
}

func (st *sessionStore) init(n int) {
	st.max = n
	st.ring = make([]session, 0, min(n, 1024))
	st.byKey = make(map[uint64]int32, min(n, 1024))
}

// get returns the visit with key, starting it if needed, and its index in
// the ring. The pointer is good until the next get.
func (st *sessionStore) get(key uint64, now int64) (*session, int32) {
	if i, ok := st.byKey[key]; ok {
		s := &st.ring[i]
		s.last = now
		return s, i
	}
	st.started++
	if len(st.ring) < st.max {
		st.ring = append(st.ring, session{key: key, last: now})
		i := int32(len(st.ring) - 1)
		st.byKey[key] = i
		return &st.ring[i], i
	}
	i := st.next
	st.next = (st.next + 1) % len(st.ring)
	if old := &st.ring[i]; old.key != 0 {
		delete(st.byKey, old.key)
	}
	st.ring[i] = session{key: key, last: now}
	st.byKey[key] = int32(i)
	return &st.ring[i], int32(i)
}

// addView appends id to the visit (moving it last if seen before), and
// reports whether the product is new to the visit.
func (s *session) addView(id ID) bool {
	for i, x := range s.items[:s.n] {
		if x == id {
			copy(s.items[i:s.n], s.items[i+1:s.n])
			s.items[s.n-1] = id
			return false
		}
	}
	if int(s.n) == maxSessionItems {
		copy(s.items[:], s.items[1:])
		s.n--
	}
	s.items[s.n] = id
	s.n++
	return true
}

// Weighting is how session kNN weighs the current visit's products.
type Weighting uint8

const (
	// Recency is STAN and V-STAN's weighting, tuned by the engine's
	// Config: the visit's later products weigh more, neighbours seen long
	// ago less, a neighbour's products near where it meets the visit
	// more, neighbours meeting the visit only at old products less, and
	// rare products more.
	Recency Weighting = iota
	// Uniform weighs every product and neighbour alike (plain session kNN).
	Uniform
)

type scoredSession struct {
	idx   int32
	sim   float64
	vote  float64 // sim times the insertion weight of where it meets the visit
	pivot int     // the latest position in the neighbour of a product it shares with the visit
}

// curItem is a distinct product of the current visit: its weight, and the
// insertion weight of a neighbour whose latest shared product it is.
type curItem struct {
	id   ID
	w    float64
	ipw  float64
	rank int // position in the visit, 1 for the first (its latest view)
}

// scratch is what one scoring call works in; Engine pools them, so that
// the hot path allocates little.
type scratch struct {
	scores map[ID]float64
	cur    []curItem
	cands  []int32
	scored []scoredSession
	out    []Scored
	lazy   []decayed // the weights of the last of out, not scored yet (scoreLazy)
}

// sessionKNN adds to scores the products of the visits most similar to
// the current one: candidates are the most recent visits (at most
// sample) sharing a product with it, but the visit self itself; the k
// most similar vote for their products.
//
// With Recency it computes V-STAN (Ludewig et al., UMUAI 2021; STAN,
// Garg et al., SIGIR 2019): the current visit's product at position p of
// L weighs w1 = exp((p-L)/RecencyDecay); a neighbour n's similarity is
// the weighted cosine Σ_{shared} w1 / (‖w1‖·√|n|) times
// w2 = exp(-(now - n's last event)/TimeDecay); the k most similar vote for
// each of their products j with sim · exp((q-L)/InsertDecay) ·
// exp(-|pos_n(j) - pos_n(i*)|/PositionDecay), q the position in the
// visit of the latest product it shares with n, i* the shared product
// latest in n. (IDF, a factor per product, is applied by the caller.)
// With Uniform: plain cosine over product sets, every vote the similarity.
func (e *Engine) sessionKNN(sc *scratch, current []ID, self uint64, w Weighting, k, sample int, now int64) {
	n := len(current)
	if n == 0 {
		return
	}
	cfg := &e.cfg
	st := &e.sessions
	// The current visit as distinct products, latest first; when a product
	// repeats, its latest position counts. mask is a quick membership test.
	cur := sc.cur[:0]
	var mask uint64
	var norm2 float64
	for pos := n - 1; pos >= 0 && len(cur) < maxSessionItems; pos-- {
		id := current[pos]
		dup := false
		for _, c := range cur {
			if c.id == id {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		c := curItem{id: id, w: 1, ipw: 1, rank: pos + 1}
		if w == Recency {
			back := float64(pos + 1 - n) // 0 for the latest, negative before
			if cfg.RecencyDecay > 0 {
				c.w = math.Exp(back / cfg.RecencyDecay)
			} else {
				c.w = float64(pos+1) / float64(n)
			}
			if cfg.InsertDecay > 0 {
				c.ipw = math.Exp(back / cfg.InsertDecay)
			}
		}
		norm2 += c.w * c.w
		cur = append(cur, c)
		mask |= 1 << (uint64(id) & 63)
	}
	sc.cur = cur
	// Candidate visits: the most recent ones indexed under the current
	// products, latest products first.
	cands := sc.cands[:0]
	for _, c := range cur {
		it := e.items[c.id]
		if it == nil {
			continue
		}
		for j := len(it.sessions) - 1; j >= 0 && len(cands) < sample; j-- {
			cands = append(cands, it.sessions[j])
		}
		if len(cands) >= sample {
			break
		}
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	sc.cands = cands
	norm := math.Sqrt(norm2)
	if w == Uniform {
		norm = math.Sqrt(float64(len(cur)))
	}
	timeDecay := -1.0
	if w == Recency && cfg.TimeDecay > 0 {
		timeDecay = cfg.TimeDecay.Seconds()
	}
	scored := sc.scored[:0]
	for _, idx := range cands {
		s := &st.ring[idx]
		if s.n == 0 || self != 0 && s.key == self {
			continue
		}
		var dot, ipw float64
		pivot, latest := -1, 0
		for p, id := range s.items[:s.n] {
			if mask&(1<<(uint64(id)&63)) == 0 {
				continue
			}
			for _, c := range cur {
				if c.id == id {
					dot += c.w
					pivot = p // ascending: the last match is the latest in s
					if c.rank > latest {
						latest, ipw = c.rank, c.ipw
					}
					break
				}
			}
		}
		if dot == 0 {
			continue // the visit was replaced in the ring since it was indexed
		}
		sim := dot / (norm * math.Sqrt(float64(s.n)))
		if timeDecay > 0 && now > s.last {
			sim *= math.Exp(-float64(now-s.last) / timeDecay)
		}
		scored = append(scored, scoredSession{idx: idx, sim: sim, vote: sim * ipw, pivot: pivot})
	}
	sc.scored = scored
	scored = topK(scored, k)
	// How much a product counts by its distance from the pivot.
	// How much a product counts by its distance from the pivot.
	var near [maxSessionItems]float64
	for d := range near {
		near[d] = 1
		if decay := cfg.PositionDecay; w == Recency && decay > 0 {
			near[d] = math.Exp(-float64(d) / decay)
		}
	}
	scores := sc.scores
	for _, c := range scored {
		s := &st.ring[c.idx]
		for p, id := range s.items[:s.n] {
			d := p - c.pivot
			if d < 0 {
				d = -d
			}
			scores[id] += c.vote * near[min(d, maxSessionItems-1)]
		}
	}
}

// topK moves the k most similar visits (ties: the later one) to the front
// and returns them, in no particular order.
func topK(s []scoredSession, k int) []scoredSession {
	if len(s) <= k {
		return s
	}
	selectBest(s, k, func(a, b scoredSession) bool { return a.sim > b.sim || a.sim == b.sim && a.idx > b.idx })
	return s[:k]
}
