package page

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/dgraph-io/ristretto/v2"

	"shopedge/proxy/codec"
	"shopedge/proxy/splice"
	"shopedge/rules"
)

// Cache holds analyses by page bytes, bounded in memory. Losing an entry
// only costs a re-analysis. It is safe for concurrent use.
type Cache struct {
	c *ristretto.Cache[uint64, *Analysis]
	// budget keeps the compressed contents gzip pages' visitors got, for
	// every page: a quarter of the cache's memory, the analyses the rest.
	budget *splice.Budget
}

// NewCache returns a cache of at most maxBytes.
func NewCache(maxBytes int64) (*Cache, error) {
	budget := splice.NewBudget(maxBytes / 4)
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *Analysis]{
		NumCounters:        max(maxBytes/(8<<10), 1000) * 10,
		MaxCost:            maxBytes - budget.Max(),
		BufferItems:        64,
		IgnoreInternalCost: true,
		Metrics:            true,
	})
	if err != nil {
		return nil, fmt.Errorf("page cache: %w", err)
	}
	return &Cache{c: c, budget: budget}, nil
}

// Budget keeps, for every gzip page analysed for this cache, what their
// visitors got, compressed.
func (pc *Cache) Budget() *splice.Budget { return pc.budget }

// seed keys the page cache. It is random for each process, so that no one
// can craft a page (say, a search page that echoes its query) whose key is
// another page's, and have that page's positions applied to it.
var seed = maphash.MakeSeed()

// Key identifies a page body as the shop sent it, under the response's
// Content-Type (whose charset says whether the page may be rewritten at
// all: the same bytes declared Latin-1 are not the page analysed as
// UTF-8), for one page type and configuration generation.
func Key(raw []byte, enc codec.Encoding, contentType []byte, t rules.PageType, gen uint64) uint64 {
	var meta [41]byte
	binary.LittleEndian.PutUint64(meta[0:], maphash.Bytes(seed, raw))
	binary.LittleEndian.PutUint64(meta[8:], uint64(len(raw)))
	binary.LittleEndian.PutUint64(meta[16:], gen)
	binary.LittleEndian.PutUint64(meta[24:], maphash.Bytes(seed, contentType))
	binary.LittleEndian.PutUint64(meta[32:], maphash.String(seed, string(t)))
	meta[40] = byte(enc)
	return maphash.Bytes(seed, meta[:])
}

// Get returns the analysis kept under key for a body of rawLen bytes.
func (pc *Cache) Get(key uint64, rawLen int) (*Analysis, bool) {
	a, ok := pc.c.Get(key)
	if !ok || a.RawLen != rawLen {
		return nil, false
	}
	return a, true
}

// Put keeps an analysis under key, if the cache admits it.
func (pc *Cache) Put(key uint64, a *Analysis) {
	pc.c.Set(key, a, a.Cost())
}

// Bytes is what the cache holds: analyses and visitors' compressed
// contents.
func (pc *Cache) Bytes() int64 {
	m := pc.c.Metrics
	return int64(m.CostAdded()-m.CostEvicted()) + pc.budget.Used()
}

// Clear empties the cache: the analyses and the compressed contents their
// visitors got.
func (pc *Cache) Clear() {
	pc.c.Clear()
	pc.budget.Clear()
}

// Wait returns once the cache's writes so far have landed (ristretto
// applies them asynchronously): for tests and tools that Put, then Get.
func (pc *Cache) Wait() { pc.c.Wait() }

// Close releases the cache's background work.
func (pc *Cache) Close() { pc.c.Close() }
