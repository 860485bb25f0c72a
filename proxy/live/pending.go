package live

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"shopedge/proxy/catalog"
)

// pending holds the product events of visitors not yet known to be people:
// a request without the visitor cookie (the first one, or every one from
// curl and most tools) gets a new visitor id, and only when that id comes
// back, in the cookie, is there a person to count. A new id makes at most
// one event of a kind (its request viewed a product, or added one to the
// cart), kept here until the visitor comes back (take) or makes room for
// newer ones. It is bounded: past max visitors, the oldest of a few is
// forgotten, and that person's first event is never counted (counts are
// never estimated upwards).
type pending struct {
	shards [shards]pendingShard
	max    int // visitors per shard
	n      atomic.Int64
	seed   maphash.Seed
}

type pendingShard struct {
	mu sync.Mutex
	m  map[uint64]heldEvent // by hash of the visitor id
}

// heldEvent is an event waiting for its visitor to come back.
type heldEvent struct {
	product catalog.ID
	at      int64 // unix seconds
}

// newPending returns a pending for at most maxVisitors visitors.
func newPending(maxVisitors int) *pending {
	p := &pending{max: max(maxVisitors/shards, 1), seed: maphash.MakeSeed()}
	for i := range p.shards {
		p.shards[i].m = make(map[uint64]heldEvent)
	}
	return p
}

// hold keeps the event of a visitor not yet identified, replacing any
// earlier one of the same id.
func (p *pending) hold(visitor string, id catalog.ID, now time.Time) {
	if id == 0 || visitor == "" {
		return
	}
	k := maphash.String(p.seed, visitor)
	s := &p.shards[k%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok {
		if len(s.m) >= p.max {
			s.evict()
			p.n.Add(-1)
		}
		p.n.Add(1)
	}
	s.m[k] = heldEvent{product: id, at: now.Unix()}
}

// take returns and forgets the event held for a visitor, if any: the
// visitor came back, so it was a person's.
func (p *pending) take(visitor string) (heldEvent, bool) {
	if p.n.Load() == 0 || visitor == "" {
		return heldEvent{}, false
	}
	k := maphash.String(p.seed, visitor)
	s := &p.shards[k%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	ev, ok := s.m[k]
	if ok {
		delete(s.m, k)
		p.n.Add(-1)
	}
	return ev, ok
}

// len returns how many visitors have an event held.
func (p *pending) len() int { return int(p.n.Load()) }

// evict forgets the oldest event among a few.
func (s *pendingShard) evict() { evictOldest(s.m, func(ev heldEvent) int64 { return ev.at }) }
