package profile

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Cost is what one profile is charged against the memory bound: the
// struct (pointer-free, in the 704-byte size class) and the cache's
// bookkeeping per entry and its share of the admission sketch (about 150
// bytes, measured). BenchmarkMemoryPerProfile measures
// the whole.
const Cost = 704 + 160

// Young profiles are kept beside the cache for youngFor to youngFor×2
// after creation: ristretto applies a Set asynchronously (within
// microseconds to milliseconds), so a visitor's second request can come
// before the cache holds the profile its first one created. At most
// maxYoung profiles wait at a time.
const (
	youngFor = 500 * time.Millisecond
	maxYoung = 1 << 16
)

// Store holds visitor profiles in memory, bounded by a byte budget. It is a
// ristretto cache of *Profile, so a profile is updated in place; only its
// insertion goes through the cache's asynchronous, lossy Set. Until the
// cache surely holds a new profile, the store keeps it in a side table of
// young profiles, so that no update lands on a second, empty profile; an
// insertion the cache dropped (full write buffer) is retried from there. A
// profile the cache refuses or evicts to stay within budget is counted,
// never lost silently. It is safe for concurrent use.
type Store struct {
	cache *ristretto.Cache[string, *Profile]
	ttl   time.Duration
	now   func() time.Time

	mu         sync.Mutex
	young, old map[string]*youngProfile
	rotated    time.Time

	created, dropped, rejected, evicted atomic.Int64
}

type youngProfile struct {
	p      *Profile
	stored bool // the cache took the Set
}

// NewStore returns a store using at most maxMemory bytes for profiles, each
// forgotten ttl after its visitor was last seen. Expiry is checked on
// lookup (the cache's own TTLs would cost every profile a timer bucket); a
// profile no one asks for again is evicted when memory runs short.
func NewStore(maxMemory int64, ttl time.Duration) (*Store, error) {
	items := max(maxMemory/Cost, 1)
	s := &Store{ttl: ttl, now: time.Now, young: map[string]*youngProfile{}, old: map[string]*youngProfile{}}
	c, err := ristretto.NewCache(&ristretto.Config[string, *Profile]{
		NumCounters:        items * 10,
		MaxCost:            maxMemory,
		BufferItems:        64,
		IgnoreInternalCost: true,
		Metrics:            true,
		OnReject:           func(*ristretto.Item[*Profile]) { s.rejected.Add(1) },
		OnEvict:            func(*ristretto.Item[*Profile]) { s.evicted.Add(1) },
	})
	if err != nil {
		return nil, fmt.Errorf("profile store: %w", err)
	}
	s.cache = c
	s.rotated = s.now()
	return s, nil
}

// Get returns the profile of a visitor, if one is held and not expired.
func (s *Store) Get(visitorID string) (*Profile, bool) {
	if p, ok := s.cache.Get(visitorID); ok {
		if s.expired(p) {
			s.Delete(visitorID)
			return nil, false
		}
		return p, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	y := s.youngLocked(visitorID)
	if y == nil {
		return nil, false
	}
	if !y.stored {
		y.stored = s.cache.Set(visitorID, y.p, Cost)
	}
	return y.p, true
}

// expired reports whether a profile was last seen more than the TTL ago.
func (s *Store) expired(p *Profile) bool {
	p.mu.Lock()
	last := p.d.LastSeen
	p.mu.Unlock()
	return last != 0 && s.now().Unix()-int64(last) > int64(s.ttl/time.Second)
}

func (s *Store) youngLocked(id string) *youngProfile {
	if now := s.now(); now.Sub(s.rotated) > youngFor {
		// A fresh map, so that a burst's memory goes with the old one.
		s.old, s.young = s.young, make(map[string]*youngProfile)
		s.rotated = now
	}
	if y, ok := s.young[id]; ok {
		return y
	}
	return s.old[id]
}

// Load returns the profile of a visitor, creating an empty one if none is
// held; created tells which.
func (s *Store) Load(visitorID string) (p *Profile, created bool) {
	if p, ok := s.cache.Get(visitorID); ok {
		if !s.expired(p) {
			return p, false
		}
		s.Delete(visitorID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if y := s.youngLocked(visitorID); y != nil {
		if !y.stored {
			y.stored = s.cache.Set(visitorID, y.p, Cost)
		}
		return y.p, false
	}
	p = new(Profile)
	s.created.Add(1)
	stored := s.cache.Set(visitorID, p, Cost)
	if !stored {
		s.dropped.Add(1)
	}
	if len(s.young) < maxYoung {
		s.young[visitorID] = &youngProfile{p: p, stored: stored}
	}
	return p, true
}

// Delete forgets a visitor.
func (s *Store) Delete(visitorID string) {
	s.mu.Lock()
	delete(s.young, visitorID)
	delete(s.old, visitorID)
	s.mu.Unlock()
	s.cache.Del(visitorID)
}

// Wait blocks until pending writes are applied; for tests.
func (s *Store) Wait() { s.cache.Wait() }

// Close stops the cache's goroutines.
func (s *Store) Close() { s.cache.Close() }

// Stats are counters of a Store.
type Stats struct {
	Created  int64   // profiles created
	Dropped  int64   // insertions dropped by a full write buffer (retried)
	Rejected int64   // profiles refused by the admission policy (memory bound)
	Evicted  int64   // profiles evicted to stay within the memory bound
	Held     int64   // profiles in the cache, approximately
	CostUsed int64   // bytes charged against the bound
	HitRatio float64 // of Get
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	m := s.cache.Metrics
	return Stats{
		Created:  s.created.Load(),
		Dropped:  s.dropped.Load(),
		Rejected: s.rejected.Load(),
		Evicted:  s.evicted.Load(),
		Held:     int64(m.KeysAdded() - m.KeysEvicted()),
		CostUsed: int64(m.CostAdded() - m.CostEvicted()),
		HitRatio: m.Ratio(),
	}
}
