package profile

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/dgraph-io/ristretto/v2"
)

// Cost is what one profile is charged against the memory bound: the struct,
// the most its strings can hold, and the cache's own bookkeeping per entry.
const Cost = int64(unsafe.Sizeof(Profile{})) + (MaxSearches+4)*MaxText + 128

// maxPending bounds the profiles kept aside while the cache's write buffer
// is full.
const maxPending = 4096

// Store holds visitor profiles in memory, bounded by a byte budget. It is a
// ristretto cache of *Profile, so a profile is updated in place; only its
// first insertion goes through the cache's asynchronous, lossy Set. A Set
// dropped because the write buffer was full is retried on the visitor's
// next request (the profile waits in a small side table meanwhile); a
// profile the cache refuses or evicts to stay within budget is counted, never
// lost silently. It is safe for concurrent use.
type Store struct {
	cache *ristretto.Cache[string, *Profile]
	ttl   time.Duration

	mu      sync.Mutex
	pending map[string]*Profile

	created, dropped, rejected, evicted atomic.Int64
}

// NewStore returns a store using at most maxMemory bytes for profiles, each
// forgotten ttl after its visitor's last new visit.
func NewStore(maxMemory int64, ttl time.Duration) (*Store, error) {
	items := max(maxMemory/Cost, 1)
	s := &Store{ttl: ttl, pending: make(map[string]*Profile)}
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
	return s, nil
}

// Get returns the profile of a visitor, if one is held.
func (s *Store) Get(visitorID string) (*Profile, bool) {
	if p, ok := s.cache.Get(visitorID); ok {
		return p, true
	}
	s.mu.Lock()
	p, ok := s.pending[visitorID]
	if ok && s.cache.SetWithTTL(visitorID, p, Cost, s.ttl) {
		delete(s.pending, visitorID)
	}
	s.mu.Unlock()
	return p, ok
}

// Load returns the profile of a visitor, creating an empty one if none is
// held; created tells which.
func (s *Store) Load(visitorID string) (p *Profile, created bool) {
	if p, ok := s.Get(visitorID); ok {
		return p, false
	}
	p = new(Profile)
	s.created.Add(1)
	if !s.cache.SetWithTTL(visitorID, p, Cost, s.ttl) {
		s.dropped.Add(1)
		s.mu.Lock()
		if len(s.pending) < maxPending {
			s.pending[visitorID] = p
		}
		s.mu.Unlock()
	}
	return p, true
}

// Renew extends a profile's life by the TTL from now; call it when a visit
// starts.
func (s *Store) Renew(visitorID string, p *Profile) {
	s.cache.SetWithTTL(visitorID, p, Cost, s.ttl)
}

// Delete forgets a visitor.
func (s *Store) Delete(visitorID string) {
	s.cache.Del(visitorID)
	s.mu.Lock()
	delete(s.pending, visitorID)
	s.mu.Unlock()
}

// Wait blocks until pending writes are applied; for tests.
func (s *Store) Wait() { s.cache.Wait() }

// Close stops the cache's goroutines.
func (s *Store) Close() { s.cache.Close() }

// Stats are counters of a Store.
type Stats struct {
	Created  int64   // profiles created
	Dropped  int64   // first insertions dropped by a full write buffer (retried)
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
