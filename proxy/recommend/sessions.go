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

// recentViews returns up to n of the visit's products, latest first.
func (s *session) recentViews(n int) []ID {
	out := make([]ID, 0, min(n, int(s.n)))
	for i := int(s.n) - 1; i >= 0 && len(out) < n; i-- {
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
}

func (st *sessionStore) init(n int) {
	st.max = n
	st.ring = make([]session, 0, min(n, 1024))
	st.byKey = make(map[uint64]int32, min(n, 1024))
}

// get returns the visit with key, starting it if needed. The pointer is
// good until the next get.
func (st *sessionStore) get(key uint64, now int64) *session {
	if i, ok := st.byKey[key]; ok {
		s := &st.ring[i]
		s.last = now
		return s
	}
	if len(st.ring) < st.max {
		st.ring = append(st.ring, session{key: key, last: now})
		i := len(st.ring) - 1
		st.byKey[key] = int32(i)
		return &st.ring[i]
	}
	i := st.next
	st.next = (st.next + 1) % len(st.ring)
	if old := &st.ring[i]; old.key != 0 {
		delete(st.byKey, old.key)
	}
	st.ring[i] = session{key: key, last: now}
	st.byKey[key] = int32(i)
	return &st.ring[i]
}

// addView appends id to the visit (moving it last if seen before). It
// returns the visit's index and whether the product is new to the visit.
func (st *sessionStore) addView(s *session, id ID) (int32, bool) {
	idx := st.byKey[s.key]
	for i, x := range s.items[:s.n] {
		if x == id {
			copy(s.items[i:s.n], s.items[i+1:s.n])
			s.items[s.n-1] = id
			return idx, false
		}
	}
	if int(s.n) == maxSessionItems {
		copy(s.items[:], s.items[1:])
		s.n--
	}
	s.items[s.n] = id
	s.n++
	return idx, true
}

// Weighting is how session kNN weighs the current visit's products.
type Weighting uint8

const (
	// Recency gives the visit's latest product weight 1 and each earlier
	// one less, linearly (as V-SKNN does).
	Recency Weighting = iota
	// Uniform weighs every product alike (plain session kNN).
	Uniform
)

type scoredSession struct {
	idx   int32
	sim   float64
	pivot int // position in the neighbour of the current visit's latest shared product
}

// sessionKNN scores products by the visits most similar to the current
// one: candidates are the most recent visits (at most sample) sharing a
// product with it, but the visit self itself; the k most similar vote for
// their products with their similarity. With Recency, the current visit's
// later products weigh more (as in V-SKNN) and, in a neighbour, products
// near where it meets the current visit weigh more (as in STAN): a visit
// that went from the shared product to another tells the most about what
// comes next.
func (e *Engine) sessionKNN(current []ID, self uint64, w Weighting, sample int, add func(ID, float64)) {
	n := len(current)
	if n == 0 {
		return
	}
	st := &e.sessions
	// The current visit as distinct products with weights; when a product
	// repeats, its latest position counts. mask is a quick membership test.
	type weighted struct {
		id ID
		w  float64
	}
	cur := make([]weighted, 0, min(n, maxSessionItems))
	var mask uint64
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
		wt := 1.0
		if w == Recency {
			wt = float64(pos+1) / float64(n)
		}
		cur = append(cur, weighted{id, wt})
		mask |= 1 << (uint64(id) & 63)
	}
	// Candidate visits: the most recent ones indexed under the current
	// products, latest products first.
	cands := make([]int32, 0, sample)
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
	norm := math.Sqrt(float64(len(cur)))
	scored := make([]scoredSession, 0, len(cands))
	for _, idx := range cands {
		s := &st.ring[idx]
		if s.n == 0 || self != 0 && s.key == self {
			continue
		}
		var dot, best float64
		pivot := -1
		for p, id := range s.items[:s.n] {
			if mask&(1<<(uint64(id)&63)) == 0 {
				continue
			}
			for _, c := range cur {
				if c.id == id {
					dot += c.w
					if c.w > best {
						best, pivot = c.w, p
					}
					break
				}
			}
		}
		if dot == 0 {
			continue // the visit was replaced in the ring since it was indexed
		}
		scored = append(scored, scoredSession{idx, dot / (norm * math.Sqrt(float64(s.n))), pivot})
	}
	scored = topK(scored, e.cfg.K)
	// How much a product counts by its distance from the pivot.
	var near [maxSessionItems]float64
	for d := range near {
		near[d] = 1
		if decay := e.cfg.PositionDecay; w == Recency && decay > 0 {
			near[d] = math.Exp(-float64(d) / decay)
		}
	}
	for _, c := range scored {
		s := &st.ring[c.idx]
		for p, id := range s.items[:s.n] {
			d := p - c.pivot
			if d < 0 {
				d = -d
			}
			add(id, c.sim*near[min(d, maxSessionItems-1)])
		}
	}
}

// topK moves the k most similar visits (ties: the later one) to the front
// and returns them, in no particular order.
func topK(s []scoredSession, k int) []scoredSession {
	if len(s) <= k {
		return s
	}
	better := func(a, b scoredSession) bool { return a.sim > b.sim || a.sim == b.sim && a.idx > b.idx }
	lo, hi := 0, len(s)-1
	for lo < hi {
		// Partition around the middle element (quickselect).
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
			return s[:k]
		}
	}
	return s[:k]
}
