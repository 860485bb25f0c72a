// Package live keeps real-time counts per product over sliding windows:
// how many people viewed a product in the last hour and the last day, how
// many put it in their cart. These are the numbers social proof banners
// show, so they are counted, never estimated upwards: a window's count is
// the sum of the buckets it covers, and a product the counter had to forget
// starts again from zero.
//
// It knows nothing of HTTP or profiles: callers decide what one person's
// event is (see Counter.Add). Safe for concurrent use.
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
	max    int // products per shard
}

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
	c := &Counter{max: max(maxProducts/shards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[catalog.ID]*window)
	}
	return c
}

func (c *Counter) shard(id catalog.ID) *shard { return &c.shards[uint64(id)%shards] }

// Add counts an event for a product at now: in the hour window when hour
// is true, in the day window when day is true. To count people, not
// events, a caller passes hour only for a person's first event on the
// product in the last hour, and day likewise.
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
	if hour {
		w.hour[(t/hourBucket)%hourN]++
	}
	if day {
		w.day[(t/dayBucket)%dayN]++
	}
}

// evict forgets the product whose latest event is oldest, among a few.
func (s *shard) evict() {
	var victim catalog.ID
	oldest := int64(-1)
	n := 0
	for id, w := range s.m { // map order is random: a sample
		if oldest < 0 || w.dayAt < oldest {
			victim, oldest = id, w.dayAt
		}
		if n++; n == 8 {
			break
		}
	}
	delete(s.m, victim)
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
