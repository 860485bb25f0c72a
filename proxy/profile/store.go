package profile

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// Cost is what one held profile is charged against the memory bound, in
// bytes of heap: the Profile (pointer-free, 768 bytes, its size class),
// its visitor id (22 bytes, in the 24-byte class), its slot in the store
// (48 bytes) and its share of the index map (measured: 48 bytes, in a full
// store under churn). BenchmarkMemoryPerProfile measures the whole, and
// TestCostMatchesHeap keeps Cost within 5% of it.
const Cost = 888

// minPerShard is the fewest profiles a shard holds: small stores have one
// shard, so that eviction follows last-seen order exactly; large ones have
// up to maxShards, so that requests of different visitors rarely wait on
// one lock.
const (
	minPerShard = 4096
	maxShards   = 64
)

// Store holds visitor profiles in memory, bounded by a byte budget. It is a
// store, not a cache: a profile is held from the Load that creates it, and
// when the budget is spent, making room for a new visitor evicts the
// visitor seen least recently (per shard), never the newcomer. Profiles are
// updated in place. A visitor not seen for the TTL is forgotten. It is safe
// for concurrent use.
type Store struct {
	shards []shard
	mask   uint64
	seed   maphash.Seed
	ttl    uint32 // seconds
	now    func() time.Time
}

// shard is a part of the store: an index from the hash of a visitor id to
// a slot, and the slots in a doubly linked list by last seen, threaded
// through int32 indexes rather than pointers. The index holds no pointer,
// so the garbage collector never scans it and has two pointers per profile
// to follow (its id and the profile); touching a profile is O(1) and
// allocates nothing. Two ids with one 64-bit hash (about one chance in
// 10^10 for a full store of 300,000) cannot both be held: the newer evicts
// the older, as if it were the least recently seen.
type shard struct {
	mu         sync.Mutex
	index      map[uint64]int32
	slots      []slot
	free       int32 // first free slot, chained through next; -1 if none
	head, tail int32 // most and least recently seen; -1 when empty
	limit      int   // profiles this shard may hold

	created, evicted, expired, hits, misses int64
	_                                       [32]byte // keep shards' locks on their own cache lines
}

// slot is one held profile.
type slot struct {
	id         string
	p          *Profile
	gen        uint64 // the shared store's generation of this copy (shared.go); 0: none
	seen       uint32 // unix seconds of the last Load
	prev, next int32
}

const none = -1

// NewStore returns a store using at most maxMemory bytes for profiles (at
// least one profile), each forgotten ttl after its visitor was last seen.
func NewStore(maxMemory int64, ttl time.Duration) (*Store, error) {
	items := max(maxMemory/Cost, 1)
	n := 1
	for n < maxShards && items/int64(n*2) >= minPerShard {
		n *= 2
	}
	s := &Store{
		shards: make([]shard, n),
		mask:   uint64(n - 1),
		seed:   maphash.MakeSeed(),
		ttl:    uint32(min(ttl/time.Second, 1<<32-1)),
		now:    time.Now,
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.limit = int(items / int64(n))
		if int64(i) < items%int64(n) {
			sh.limit++
		}
		sh.index = make(map[uint64]int32)
		sh.free, sh.head, sh.tail = none, none, none
	}
	return s, nil
}

// locate returns the hash of a visitor id and its shard.
func (s *Store) locate(id string) (uint64, *shard) {
	h := maphash.String(s.seed, id)
	return h, &s.shards[h&s.mask]
}

func (s *Store) clock() uint32 { return uint32(s.now().Unix()) }

// expired reports whether a profile last seen at seen is past the TTL at
// now.
func (s *Store) expired(seen, now uint32) bool {
	return now > seen && now-seen > s.ttl
}

// Get returns the profile of a visitor, if one is held and not expired.
// It is a look, not a visit: the visitor's place in last-seen order stays.
func (s *Store) Get(visitorID string) (*Profile, bool) {
	h, sh := s.locate(visitorID)
	now := s.clock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[h]
	if !ok || sh.slots[i].id != visitorID {
		return nil, false
	}
	if e := &sh.slots[i]; s.expired(e.seen, now) {
		sh.remove(i, h)
		sh.expired++
		return nil, false
	}
	return sh.slots[i].p, true
}

// Load returns the profile of a visitor, creating an empty one if none is
// held; created tells which. The visitor counts as seen now. A new profile
// is held at once; if the budget is spent, the shard's least recently seen
// profile makes room.
func (s *Store) Load(visitorID string) (p *Profile, created bool) {
	h, sh := s.locate(visitorID)
	now := s.clock()
	sh.mu.Lock()
	if i, ok := sh.index[h]; ok {
		e := &sh.slots[i]
		switch {
		case e.id != visitorID: // another visitor, same hash
			sh.remove(i, h)
			sh.evicted++
		case !s.expired(e.seen, now):
			e.seen = now
			sh.toFront(i)
			sh.hits++
			p = e.p
			sh.mu.Unlock()
			return p, false
		default:
			sh.remove(i, h)
			sh.expired++
		}
	}
	sh.misses++
	p = new(Profile)
	s.holdLocked(sh, h, visitorID, p, now, now)
	sh.mu.Unlock()
	return p, true
}

// holdLocked holds p as the profile of visitorID (whose hash is h, and
// which sh does not hold), last seen at seen, as the most recently seen:
// room is made first from the visitors whose TTL has passed at now (they
// are at the back), then from the least recently seen.
func (s *Store) holdLocked(sh *shard, h uint64, visitorID string, p *Profile, seen, now uint32) {
	for sh.tail != none && s.expired(sh.slots[sh.tail].seen, now) {
		sh.remove(sh.tail, s.hash(sh.slots[sh.tail].id))
		sh.expired++
	}
	if len(sh.index) >= sh.limit {
		sh.remove(sh.tail, s.hash(sh.slots[sh.tail].id))
		sh.evicted++
	}
	i := sh.alloc()
	sh.slots[i] = slot{id: strings.Clone(visitorID), p: p, seen: seen, prev: none, next: none}
	sh.index[h] = i
	sh.pushFront(i)
	sh.created++
}

// Delete forgets a visitor.
func (s *Store) Delete(visitorID string) {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	if i, ok := sh.index[h]; ok && sh.slots[i].id == visitorID {
		sh.remove(i, h)
	}
	sh.mu.Unlock()
}

// Wait returns at once: every write is applied before Load returns. It is
// kept for callers written against an asynchronous store.
func (s *Store) Wait() {}

// Close releases nothing: the store has no goroutines. It is kept for
// callers written against a store that had.
func (s *Store) Close() {}

// alloc returns a free slot, growing the slots up to the shard's limit.
func (sh *shard) alloc() int32 {
	if i := sh.free; i != none {
		sh.free = sh.slots[i].next
		return i
	}
	if len(sh.slots) == cap(sh.slots) {
		// Grow by doubling, but never past the limit: a full shard's
		// slots are exactly its profiles.
		grown := make([]slot, len(sh.slots), min(max(2*cap(sh.slots), 64), sh.limit))
		copy(grown, sh.slots)
		sh.slots = grown
	}
	sh.slots = append(sh.slots, slot{})
	return int32(len(sh.slots) - 1)
}

func (s *Store) hash(id string) uint64 { return maphash.String(s.seed, id) }

// remove unlinks slot i, whose id hashes to h, drops it from the index and
// frees it.
func (sh *shard) remove(i int32, h uint64) {
	e := &sh.slots[i]
	delete(sh.index, h)
	sh.unlink(i)
	*e = slot{next: sh.free, prev: none}
	sh.free = i
}

func (sh *shard) unlink(i int32) {
	e := &sh.slots[i]
	if e.prev != none {
		sh.slots[e.prev].next = e.next
	} else {
		sh.head = e.next
	}
	if e.next != none {
		sh.slots[e.next].prev = e.prev
	} else {
		sh.tail = e.prev
	}
	e.prev, e.next = none, none
}

func (sh *shard) pushFront(i int32) {
	e := &sh.slots[i]
	e.prev, e.next = none, sh.head
	if sh.head != none {
		sh.slots[sh.head].prev = i
	}
	sh.head = i
	if sh.tail == none {
		sh.tail = i
	}
}

func (sh *shard) toFront(i int32) {
	if sh.head == i {
		return
	}
	sh.unlink(i)
	sh.pushFront(i)
}

// Stats are counters of a Store.
type Stats struct {
	Created  int64   // profiles created
	Evicted  int64   // profiles evicted, least recently seen first, to make room for new ones
	Expired  int64   // profiles forgotten because their visitor was not seen for the TTL
	Held     int64   // profiles held
	Capacity int64   // profiles the budget holds
	CostUsed int64   // bytes charged against the bound: Held × Cost
	HitRatio float64 // of Load: the share of visitors whose profile was held
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	var st Stats
	var hits, misses int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Created += sh.created
		st.Evicted += sh.evicted
		st.Expired += sh.expired
		st.Held += int64(len(sh.index))
		st.Capacity += int64(sh.limit)
		hits += sh.hits
		misses += sh.misses
		sh.mu.Unlock()
	}
	st.CostUsed = st.Held * Cost
	if hits+misses > 0 {
		st.HitRatio = float64(hits) / float64(hits+misses)
	}
	return st
}

// Forget forgets every held profile but those keep keeps, and returns how
// many it forgot: after a shared store may have missed word of writes
// elsewhere, the profiles not changed here are read again. It holds one
// shard's lock at a time.
func (s *Store) Forget(keep func(visitorID string) bool) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for j := sh.head; j != none; {
			next := sh.slots[j].next
			if id := sh.slots[j].id; !keep(id) {
				sh.remove(j, s.hash(id))
				n++
			}
			j = next
		}
		sh.mu.Unlock()
	}
	return n
}
