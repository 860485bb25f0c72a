package live

import (
	"sync"
	"time"

	"shopedge/proxy/catalog"
)

// Windows a counter keeps: the last hour in 5-minute buckets, and the last
// day in 1-hour buckets.
const (
	hourBucket = 5 * 60
	hourN      = 12
	dayBucket  = 60 * 60
	dayN       = 24
	shards     = 16
)

// Counter counts events per product over the last hour and the last day.
type Counter struct {
	shards [shards]shard
	max    int      // products per shard
	held   *pending // events of visitors not yet identified
}

// maxHeld bounds the visitors whose first event a counter holds: about
// 1.5 MB. A visitor's cookie comes back with their next request, seconds
// later; under a flood of cookieless requests the oldest go first.
const maxHeld = 1 << 15

type shard struct {
	mu sync.Mutex
	m  map[catalog.ID]*window
}

// window is one product's counts.
type window struct {
	hour   [hourN]uint32
	hourAt int64 // index (unix/hourBucket) of the latest hour bucket
	day    [dayN]uint32
	dayAt  int64 // index (unix/dayBucket) of the latest day bucket
}

// New returns a counter for at most maxProducts products; past that, the
// product seen longest ago makes room.
func New(maxProducts int) *Counter {
	c := &Counter{max: max(maxProducts/shards, 1), held: newPending(maxHeld)}
	for i := range c.shards {
		c.shards[i].m = make(map[catalog.ID]*window)
	}
	return c
}

func (c *Counter) shard(id catalog.ID) *shard { return &c.shards[uint64(id)%shards] }

// Add counts an event for a product at now: in the hour window when hour
// is true, in the day window when day is true. To count people, not
// events, a caller passes hour only for a person's first event on the
// product in the last hour, and day likewise. now may be in the past (an
// event counted late, see Hold): a window it has slid out of does not
// count it.
func (c *Counter) Add(id catalog.ID, now time.Time, hour, day bool) {
	if !hour && !day {
		return
	}
	s := c.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.m[id]
	if w == nil {
		if len(s.m) >= c.max {
			s.evict()
		}
		w = &window{}
		s.m[id] = w
	}
	t := now.Unix()
	w.roll(t)
	if hour && t/hourBucket > w.hourAt-hourN {
		w.hour[(t/hourBucket)%hourN]++
	}
	if day && t/dayBucket > w.dayAt-dayN {
		w.day[(t/dayBucket)%dayN]++
	}
}

// Hold keeps an event of a visitor who is not yet known to be a person
// (their request came without the cookie: a new visitor id) until the
// visitor comes back: then Identified counts it, at the time it happened.
// A visitor who never comes back (curl, most tools, crawlers that slip
// through) is never counted.
func (c *Counter) Hold(visitor string, id catalog.ID, now time.Time) {
	c.held.hold(visitor, id, now)
}

// Identified says that a visitor's cookie came back: the event held for
// them, if any, is counted now, in the windows it still falls in. It is
// the visitor's first event on that product, so it counts in both. It
// returns what it counted: the product and when the event happened (as
// Add took it, to the second); ok is false when nothing was held.
func (c *Counter) Identified(visitor string) (id catalog.ID, at time.Time, ok bool) {
	ev, ok := c.held.take(visitor)
	if !ok {
		return 0, time.Time{}, false
	}
	at = time.Unix(ev.at, 0)
	c.Add(ev.product, at, true, true)
	return ev.product, at, true
}

// Held returns how many visitors have an event held.
func (c *Counter) Held() int { return c.held.len() }

// evict forgets the product whose latest event is oldest, among a few.
func (s *shard) evict() { evictOldest(s.m, func(w *window) int64 { return w.dayAt }) }

// evictOldest deletes from m the entry whose at is smallest among a
// sample of 8 (map order is random).
func evictOldest[K comparable, V any](m map[K]V, at func(V) int64) {
	var victim K
	oldest := int64(-1)
	n := 0
	for k, v := range m {
		if t := at(v); oldest < 0 || t < oldest {
			victim, oldest = k, t
		}
		if n++; n == 8 {
			break
		}
	}
	delete(m, victim)
}

// roll moves the windows to t, zeroing the buckets that slid out.
func (w *window) roll(t int64) {
	w.hourAt = slide(w.hour[:], w.hourAt, t/hourBucket)
	w.dayAt = slide(w.day[:], w.dayAt, t/dayBucket)
}

func slide(b []uint32, at, now int64) int64 {
	if now <= at {
		return at
	}
	n := int64(len(b))
	if now-at >= n {
		clear(b)
		return now
	}
	for i := at + 1; i <= now; i++ {
		b[i%n] = 0
	}
	return now
}

// Counts are a product's counts as of a time.
type Counts struct {
	Hour int // in the last hour
	Day  int // in the last 24 hours
}

// Get returns a product's counts as of now.
func (c *Counter) Get(id catalog.ID, now time.Time) Counts {
	s := c.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.m[id]
	if w == nil {
		return Counts{}
	}
	w.roll(now.Unix())
	var out Counts
	for _, v := range w.hour {
		out.Hour += int(v)
	}
	for _, v := range w.day {
		out.Day += int(v)
	}
	return out
}

// Len returns how many products the counter holds.
func (c *Counter) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
