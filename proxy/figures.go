package proxy

import (
	"bytes"
	"slices"
	"strconv"
	"time"
)

// Figures is one reading of the proxy's counters, for the console: the
// same numbers /metrics exposes, as values. Every count is since the
// process started.
type Figures struct {
	At time.Time

	Requests, ClientErrors, BadTokens, NewVisitors, Events int64
	Rewrites                                               int64 // pages personalized
	PageHits, PageMisses                                   int64

	Passed   map[string]int64 // responses sent untouched, by reason (passReasonNames)
	Upstream map[string]int64 // failed exchanges with the shop, by kind (upstreamKinds)

	Added   Histogram // the time shopedge adds to every request
	Rewrite Histogram // request to rewritten page, the shop included

	Blocks   []ActionFigures // by block id, sorted
	Overlays []ActionFigures // overlays and banners, by id, sorted

	Reloads      []ReloadRecord   // the latest, newest first
	ReloadCounts map[string]int64 // by result
	LastGood     time.Time        // when the configuration in force was loaded
}

// ActionFigures are what a block, an overlay or a banner did: put on
// pages, seen (overlays: the script's word), clicked, dismissed, and the
// orders placed by visitors whose last click was on it, with their revenue.
type ActionFigures struct {
	ID                             string
	Shown, Seen, Clicks, Dismissed int64
	Conversions                    int64
	Revenue                        float64
}

// CTR is clicks per showing; 0 when it was never shown. A block's showing
// is its being put on a page (Shown). An overlay is put on a page (Shown)
// and then shown or not by its script, which says so (Seen): its CTR is
// clicks per Seen, per Shown only while no script has said anything.
func (a ActionFigures) CTR() float64 {
	n := a.Shown
	if a.Seen > 0 {
		n = a.Seen
	}
	if n == 0 {
		return 0
	}
	return float64(a.Clicks) / float64(n)
}

// Histogram is a reading of a fixed-bucket histogram: Counts[i] counts the
// observations at most Bounds[i] (and above Bounds[i-1]); the last counts
// those above every bound.
type Histogram struct {
	Bounds []float64 // seconds
	Counts []int64   // len(Bounds)+1, not cumulative
	Sum    float64   // seconds
	Count  int64
}

// Quantile estimates the q-quantile (0 < q < 1) in seconds, interpolating
// linearly within the bucket it falls in, as Prometheus's
// histogram_quantile does; 0 with no observations. Above the last bound it
// answers the last bound.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Bounds) == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	var cum int64
	for i, c := range h.Counts {
		if float64(cum+c) < rank || c == 0 {
			cum += c
			continue
		}
		if i == len(h.Bounds) {
			return h.Bounds[len(h.Bounds)-1]
		}
		lo := 0.0
		if i > 0 {
			lo = h.Bounds[i-1]
		}
		return lo + (h.Bounds[i]-lo)*(rank-float64(cum))/float64(c)
	}
	return h.Bounds[len(h.Bounds)-1]
}

// read reads the histogram back from text, the set's exposition: the
// library keeps a histogram's buckets to itself and only writes them, as
// cumulative _bucket{le="..."} series, _sum and _count.
func (h *histogram) read(text []byte) Histogram {
	r := Histogram{Bounds: slices.Clone(h.bounds), Counts: make([]int64, len(h.bounds)+1)}
	bucket := []byte(h.name + `_bucket{le="`)
	sum, count := []byte(h.name+"_sum "), []byte(h.name+"_count ")
	var cum []int64 // cumulative, by bound, in the order written
	for len(text) > 0 {
		var line []byte
		line, text, _ = bytes.Cut(text, []byte{'\n'})
		switch {
		case bytes.HasPrefix(line, bucket):
			if le, v, ok := bytes.Cut(line[len(bucket):], []byte(`"} `)); ok && string(le) != "+Inf" {
				n, _ := strconv.ParseInt(string(v), 10, 64)
				cum = append(cum, n)
			}
		case bytes.HasPrefix(line, sum):
			r.Sum, _ = strconv.ParseFloat(string(line[len(sum):]), 64)
		case bytes.HasPrefix(line, count):
			r.Count, _ = strconv.ParseInt(string(line[len(count):]), 10, 64)
		}
	}
	if len(cum) != len(h.bounds) {
		return Histogram{Bounds: r.Bounds, Counts: make([]int64, len(h.bounds)+1)} // not this histogram's text: nothing read
	}
	var prev int64
	for i, c := range cum {
		r.Counts[i] = c - prev
		prev = c
	}
	r.Counts[len(h.bounds)] = r.Count - prev
	return r
}

// Figures reads the counters now.
func (m *Metrics) Figures(now time.Time) Figures {
	f := Figures{
		At: now, Requests: m.requests.Load(), ClientErrors: m.clientErrors.Load(), BadTokens: m.badTokens.Load(),
		NewVisitors: m.newVisitors.Load(), Events: m.events.Load(), Rewrites: m.rewrites.Load(),
		PageHits: m.pageHits.Load(), PageMisses: m.pageMisses.Load(),
		Passed: map[string]int64{}, Upstream: map[string]int64{},
	}
	var text bytes.Buffer
	m.set.WritePrometheus(&text)
	f.Added, f.Rewrite = m.added.read(text.Bytes()), m.latency.read(text.Bytes())
	for r, c := range m.passReasons {
		f.Passed[r] = c.Load()
	}
	for k, c := range m.upstream {
		f.Upstream[k] = c.Load()
	}
	m.blocksMu.RLock()
	for id, c := range m.blocks {
		f.Blocks = append(f.Blocks, ActionFigures{ID: id, Shown: c.shown.Load(), Clicks: c.clicks.Load(),
			Conversions: c.conversions.Load(), Revenue: c.revenue.Load()})
	}
	m.blocksMu.RUnlock()
	m.overlaysMu.RLock()
	for id, c := range m.overlays {
		f.Overlays = append(f.Overlays, ActionFigures{ID: id, Shown: c.injected.Load(), Seen: c.shown.Load() + c.bannerShown.Load(),
			Clicks: c.clicked.Load(), Dismissed: c.dismissed.Load(), Conversions: c.conversions.Load(), Revenue: c.revenue.Load()})
	}
	m.overlaysMu.RUnlock()
	byID := func(a, b ActionFigures) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	}
	slices.SortFunc(f.Blocks, byID)
	slices.SortFunc(f.Overlays, byID)
	r := &m.reloads
	r.mu.Lock()
	f.ReloadCounts = map[string]int64{}
	for k, v := range r.counts {
		f.ReloadCounts[k] = v
	}
	for i := len(r.last) - 1; i >= 0; i-- {
		f.Reloads = append(f.Reloads, r.last[i])
	}
	f.LastGood = r.lastGood
	r.mu.Unlock()
	return f
}

// blockConverted counts an order of amount for the block the visitor last
// clicked.
func (m *Metrics) blockConverted(id string, amount float64) {
	c := m.block(id)
	c.conversions.Add(1)
	c.revenue.Add(amount)
}

// overlayConverted counts an order of amount for the overlay or banner
// the visitor last clicked.
func (m *Metrics) overlayConverted(id string, amount float64) {
	c := m.overlay(id)
	c.conversions.Add(1)
	c.revenue.Add(amount)
}
