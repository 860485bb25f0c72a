package proxy

import (
	"fmt"
	"io"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/render"
	"shopedge/rules"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are the proxy's counters, exposed in the Prometheus text format
// on the admin listener.
type Metrics struct {
	requests     atomic.Int64
	clientErrors atomic.Int64
	badTokens    atomic.Int64
	newVisitors  atomic.Int64
	events       atomic.Int64
	rewrites     atomic.Int64
	pageHits     atomic.Int64
	pageMisses   atomic.Int64
	// What pages served could not get, each page view counted.
	blockUnplaced  atomic.Int64
	bannerUnplaced atomic.Int64
	swapUnplaced   atomic.Int64
	listsSkipped   [2][2]atomic.Int64 // by list (menu, results) and reason (listUnsafe, listBreadcrumb)

	blocksMu sync.RWMutex
	blocks   map[string]*blockCounters // by block id: only ids from configurations

	swapsMu sync.RWMutex
	swaps   map[string]*atomic.Int64 // content swaps applied, by swap id: only ids from configurations

	overlaysMu sync.RWMutex
	overlays   map[string]*overlayCounters // by overlay or banner id: only ids from configurations
	cspSkipped atomic.Int64
	rejected   map[string]*atomic.Int64 // beacons refused, by reason

	passReasons map[string]*atomic.Int64
	upstream    map[string]*atomic.Int64
	resent      [attemptKinds]atomic.Int64 // requests sent to the shop again, by attemptKind
	latency     histogram                  // request to rewritten page, shop included
	added       histogram                  // every request, time waiting for the shop excluded

	reloads reloads // configuration reloads, by outcome (reload.go)

	snapshots struct{ saved, failed atomic.Int64 } // snapshot writes (snapshot.go)

	// The shared store (shared.go): profiles read through, by outcome,
	// and the longest a request waited on one (nanoseconds).
	storeReads   struct{ found, missing, failed, refused atomic.Int64 }
	storeLongest atomic.Int64
}

// passReasons are why a response was not rewritten.
var passReasonNames = []string{
	"not_candidate", "status", "not_html", "encoding", "no_transform", "range", "too_large",
	"decode_error", "charset", "no_change", "encode_error",
}

// listNames and listReasons label shopedge_lists_skipped_total, in the
// order of Metrics.listsSkipped.
var (
	listNames   = [2]string{"menu", "results"}
	listReasons = [2]string{"unsafe", "breadcrumb"}
)

var upstreamKinds = []string{"unreachable", "timeout", "pool_exhausted"}

// beaconReasons are why a beacon was refused.
var beaconReasons = []string{"method", "too_large", "origin", "malformed", "unknown_id", "visitor"}

func newMetrics() *Metrics {
	m := &Metrics{passReasons: map[string]*atomic.Int64{}, upstream: map[string]*atomic.Int64{}, rejected: map[string]*atomic.Int64{}}
	for _, r := range beaconReasons {
		m.rejected[r] = new(atomic.Int64)
	}
	for _, r := range passReasonNames {
		m.passReasons[r] = new(atomic.Int64)
	}
	for _, k := range upstreamKinds {
		m.upstream[k] = new(atomic.Int64)
	}
	m.latency.bounds = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1}
	m.latency.counts = make([]atomic.Int64, len(m.latency.bounds)+1)
	m.added.bounds = []float64{5e-6, 10e-6, 20e-6, 35e-6, 50e-6, 75e-6, 100e-6, 150e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3}
	m.added.counts = make([]atomic.Int64, len(m.added.bounds)+1)
	return m
}

func (m *Metrics) passThrough(reason string) {
	if c, ok := m.passReasons[reason]; ok {
		c.Add(1)
	}
}

// rendered counts what a page served got: the blocks shown, the banners,
// the content swaps and the overlay put on it.
func (m *Metrics) rendered(cfg *rules.Compiled, pl *plan.Plan, a *page.Analysis, out *render.Rendered) {
	for i := range a.Regions {
		if !out.Done(i) {
			continue
		}
		switch r := &pl.Regions[i]; r.Action {
		case plan.Block:
			m.block(cfg.Recommendations.Blocks[r.Index].ID).shown.Add(1)
		case plan.Banner:
			m.overlay(cfg.Overlays.Banners[r.Index].ID).injected.Add(1)
		case plan.Swap:
			m.swap(cfg.Swaps[r.Index].ID).Add(1)
		}
	}
	if out.Overlay {
		m.overlay(pl.Overlay.ID).injected.Add(1)
	}
}

// pageSkips counts, for a page served, what its analysis left alone.
func (m *Metrics) pageSkips(s *page.Skips) {
	if s.Blocks > 0 {
		m.blockUnplaced.Add(int64(s.Blocks))
	}
	if s.Banners > 0 {
		m.bannerUnplaced.Add(int64(s.Banners))
	}
	if s.Swaps > 0 {
		m.swapUnplaced.Add(int64(s.Swaps))
	}
	for i := range s.Lists {
		for j, n := range s.Lists[i] {
			if n > 0 {
				m.listsSkipped[i][j].Add(int64(n))
			}
		}
	}
}

// blockCounters count a recommendation block's showings and clicks, and
// the orders of visitors after a click on it (conversions.go).
type blockCounters struct {
	shown, clicks atomic.Int64
	conversions   atomic.Int64
	revenue       atomicFloat
}

// block returns the counters of a block, by its configured id.
func (m *Metrics) block(id string) *blockCounters {
	m.blocksMu.RLock()
	c := m.blocks[id]
	m.blocksMu.RUnlock()
	if c != nil {
		return c
	}
	m.blocksMu.Lock()
	defer m.blocksMu.Unlock()
	if c = m.blocks[id]; c == nil {
		if m.blocks == nil {
			m.blocks = map[string]*blockCounters{}
		}
		c = new(blockCounters)
		m.blocks[id] = c
	}
	return c
}

// swap returns the counter of a content swap's applications, by its
// configured id.
func (m *Metrics) swap(id string) *atomic.Int64 {
	m.swapsMu.RLock()
	c := m.swaps[id]
	m.swapsMu.RUnlock()
	if c != nil {
		return c
	}
	m.swapsMu.Lock()
	defer m.swapsMu.Unlock()
	if c = m.swaps[id]; c == nil {
		if m.swaps == nil {
			m.swaps = map[string]*atomic.Int64{}
		}
		c = new(atomic.Int64)
		m.swaps[id] = c
	}
	return c
}

// overlayCounters count an overlay's or banner's life: put on pages, and
// what its beacons said.
type overlayCounters struct {
	injected                               atomic.Int64
	shown, dismissed, clicked, bannerShown atomic.Int64
	conversions                            atomic.Int64
	revenue                                atomicFloat
}

// overlay returns the counters of an overlay or banner, by configured id.
func (m *Metrics) overlay(id string) *overlayCounters {
	m.overlaysMu.RLock()
	c := m.overlays[id]
	m.overlaysMu.RUnlock()
	if c != nil {
		return c
	}
	m.overlaysMu.Lock()
	defer m.overlaysMu.Unlock()
	if c = m.overlays[id]; c == nil {
		if m.overlays == nil {
			m.overlays = map[string]*overlayCounters{}
		}
		c = new(overlayCounters)
		m.overlays[id] = c
	}
	return c
}

// overlayEvent counts what a beacon said of a configured overlay or banner.
func (m *Metrics) overlayEvent(id, event string) {
	c := m.overlay(id)
	switch event {
	case "shown":
		c.shown.Add(1)
	case "dismissed":
		c.dismissed.Add(1)
	case "clicked":
		c.clicked.Add(1)
	case "banner":
		c.bannerShown.Add(1)
	}
}

func (m *Metrics) beaconRejected(reason string) {
	if c, ok := m.rejected[reason]; ok {
		c.Add(1)
	}
}

func (m *Metrics) upstreamError(kind string) {
	if c, ok := m.upstream[kind]; ok {
		c.Add(1)
	}
}

func (m *Metrics) rewrote(d time.Duration) {
	m.rewrites.Add(1)
	m.latency.observe(d.Seconds())
}

// histogram is a fixed-bucket histogram.
type histogram struct {
	bounds []float64
	counts []atomic.Int64 // per bucket, the last for +Inf
	sumNs  atomic.Int64
}

func (h *histogram) observe(s float64) {
	i := sort.SearchFloat64s(h.bounds, s)
	h.counts[i].Add(1)
	h.sumNs.Add(int64(s * 1e9))
}

func (h *histogram) write(w io.Writer, name, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum int64
	for i, b := range h.bounds {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b, cum)
	}
	cum += h.counts[len(h.bounds)].Load()
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, cum, name, float64(h.sumNs.Load())/1e9, name, cum)
}

// Gauge is a named value sampled when metrics are written.
type Gauge struct {
	Name, Help string
	Value      float64
	Counter    bool // typed a counter: it only grows
}

// WriteTo writes the metrics and the given gauges in the Prometheus text
// exposition format.
func (m *Metrics) WriteTo(w io.Writer, gauges []Gauge) {
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("shopedge_requests_total", "Requests received.", m.requests.Load())
	counter("shopedge_client_errors_total", "Requests refused as malformed, misdirected or too large.", m.clientErrors.Load())
	counter("shopedge_bad_tokens_total", "Visitor cookies that did not verify (tampered, expired, foreign).", m.badTokens.Load())
	counter("shopedge_new_visitors_total", "Visitor ids issued.", m.newVisitors.Load())
	counter("shopedge_events_total", "Behaviour events recorded in profiles.", m.events.Load())
	counter("shopedge_rewrites_total", "Pages personalized.", m.rewrites.Load())
	counter("shopedge_page_cache_hits_total", "Pages whose analysis was reused.", m.pageHits.Load())
	counter("shopedge_page_cache_misses_total", "Pages decoded and analysed.", m.pageMisses.Load())
	fmt.Fprintf(w, "# HELP shopedge_passthrough_total Responses sent untouched, by reason.\n# TYPE shopedge_passthrough_total counter\n")
	for _, r := range passReasonNames {
		fmt.Fprintf(w, "shopedge_passthrough_total{reason=%q} %d\n", r, m.passReasons[r].Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_upstream_errors_total Failed exchanges with the shop, by kind.\n# TYPE shopedge_upstream_errors_total counter\n")
	for _, k := range upstreamKinds {
		fmt.Fprintf(w, "shopedge_upstream_errors_total{kind=%q} %d\n", k, m.upstream[k].Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_upstream_resent_total Requests sent to the shop again on a fresh connection, by reason: not_sent (the shop had closed the pooled connection; nothing was written), unanswered (a GET or HEAD on a reused connection the shop closed without a byte of an answer).\n# TYPE shopedge_upstream_resent_total counter\n")
	fmt.Fprintf(w, "shopedge_upstream_resent_total{reason=\"not_sent\"} %d\n", m.resent[attemptNotSent].Load())
	fmt.Fprintf(w, "shopedge_upstream_resent_total{reason=\"unanswered\"} %d\n", m.resent[attemptUnanswered].Load())
	fmt.Fprintf(w, "# HELP shopedge_snapshots_total Snapshots of the state written to store.snapshot, by result.\n# TYPE shopedge_snapshots_total counter\n")
	fmt.Fprintf(w, "shopedge_snapshots_total{result=\"saved\"} %d\nshopedge_snapshots_total{result=\"failed\"} %d\n", m.snapshots.saved.Load(), m.snapshots.failed.Load())
	fmt.Fprintf(w, "# HELP shopedge_store_profile_reads_total Returning visitors' profiles read through from the shared store, by result: found, missing (none stored), failed (the store down or slower than store.budget: the request went on with what this instance holds), refused (bytes another build wrote).\n# TYPE shopedge_store_profile_reads_total counter\n")
	fmt.Fprintf(w, "shopedge_store_profile_reads_total{result=\"found\"} %d\nshopedge_store_profile_reads_total{result=\"missing\"} %d\nshopedge_store_profile_reads_total{result=\"failed\"} %d\nshopedge_store_profile_reads_total{result=\"refused\"} %d\n",
		m.storeReads.found.Load(), m.storeReads.missing.Load(), m.storeReads.failed.Load(), m.storeReads.refused.Load())
	fmt.Fprintf(w, "# HELP shopedge_store_profile_read_longest_seconds The longest a request waited to read a profile through from the shared store (store.budget bounds it).\n# TYPE shopedge_store_profile_read_longest_seconds gauge\nshopedge_store_profile_read_longest_seconds %g\n", time.Duration(m.storeLongest.Load()).Seconds())
	counter("shopedge_block_unplaced_total", "Recommendation blocks left off pages served, each page view counted, because the element their selector found cannot safely hold them.", m.blockUnplaced.Load())
	counter("shopedge_banner_unplaced_total", "Banners left off pages served, each page view counted, because the element their selector found cannot safely hold them.", m.bannerUnplaced.Load())
	counter("shopedge_swap_unplaced_total", "Content swaps left off pages served, each page view counted, because the element their selector found cannot safely change (raw text, foreign or doubtful markup, or elements where only text may go).", m.swapUnplaced.Load())
	fmt.Fprintf(w, "# HELP shopedge_lists_skipped_total Menus and search-result lists left in the shop's order on pages served, each page view counted, by list and reason: unsafe (markup a browser may not build as written), breadcrumb (a breadcrumb trail the selector also matched).\n# TYPE shopedge_lists_skipped_total counter\n")
	for i, list := range listNames {
		for j, reason := range listReasons {
			fmt.Fprintf(w, "shopedge_lists_skipped_total{list=%q,reason=%q} %d\n", list, reason, m.listsSkipped[i][j].Load())
		}
	}
	m.blocksMu.RLock()
	ids := make([]string, 0, len(m.blocks))
	for id := range m.blocks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fmt.Fprintf(w, "# HELP shopedge_block_shown_total Recommendation blocks put on pages, by block.\n# TYPE shopedge_block_shown_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_block_shown_total{block=%q} %d\n", id, m.blocks[id].shown.Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_block_clicks_total Clicks on recommended products, by block.\n# TYPE shopedge_block_clicks_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_block_clicks_total{block=%q} %d\n", id, m.blocks[id].clicks.Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_block_conversions_total Orders of visitors whose last click on a block or overlay before ordering was on a product of this block, by block.\n# TYPE shopedge_block_conversions_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_block_conversions_total{block=%q} %d\n", id, m.blocks[id].conversions.Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_block_revenue_total Revenue of those orders, in the shop's currency, by block.\n# TYPE shopedge_block_revenue_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_block_revenue_total{block=%q} %g\n", id, m.blocks[id].revenue.Load())
	}
	m.blocksMu.RUnlock()
	m.swapsMu.RLock()
	ids = ids[:0]
	for id := range m.swaps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fmt.Fprintf(w, "# HELP shopedge_swap_applied_total Content swaps put on pages, by swap.\n# TYPE shopedge_swap_applied_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_swap_applied_total{swap=%q} %d\n", id, m.swaps[id].Load())
	}
	m.swapsMu.RUnlock()
	m.overlaysMu.RLock()
	ids = ids[:0]
	for id := range m.overlays {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fmt.Fprintf(w, "# HELP shopedge_overlay_injected_total Overlays and banners put on pages, by id.\n# TYPE shopedge_overlay_injected_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_overlay_injected_total{id=%q} %d\n", id, m.overlays[id].injected.Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_overlay_events_total What the overlay script reported, by id and event.\n# TYPE shopedge_overlay_events_total counter\n")
	for _, id := range ids {
		c := m.overlays[id]
		for _, e := range []struct {
			name string
			v    *atomic.Int64
		}{{"shown", &c.shown}, {"dismissed", &c.dismissed}, {"clicked", &c.clicked}, {"banner_shown", &c.bannerShown}} {
			fmt.Fprintf(w, "shopedge_overlay_events_total{id=%q,event=%q} %d\n", id, e.name, e.v.Load())
		}
	}
	fmt.Fprintf(w, "# HELP shopedge_overlay_conversions_total Orders of visitors whose last click on a block or overlay before ordering was on this overlay or banner, by id.\n# TYPE shopedge_overlay_conversions_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_overlay_conversions_total{id=%q} %d\n", id, m.overlays[id].conversions.Load())
	}
	fmt.Fprintf(w, "# HELP shopedge_overlay_revenue_total Revenue of those orders, in the shop's currency, by id.\n# TYPE shopedge_overlay_revenue_total counter\n")
	for _, id := range ids {
		fmt.Fprintf(w, "shopedge_overlay_revenue_total{id=%q} %g\n", id, m.overlays[id].revenue.Load())
	}
	m.overlaysMu.RUnlock()
	counter("shopedge_overlay_csp_skipped_total", "Pages left without overlays and banners because their Content-Security-Policy would block the script or stylesheet.", m.cspSkipped.Load())
	fmt.Fprintf(w, "# HELP shopedge_beacons_rejected_total Beacons refused, by reason.\n# TYPE shopedge_beacons_rejected_total counter\n")
	for _, r := range beaconReasons {
		fmt.Fprintf(w, "shopedge_beacons_rejected_total{reason=%q} %d\n", r, m.rejected[r].Load())
	}
	m.latency.write(w, "shopedge_rewrite_seconds", "Time from request to rewritten page, upstream included.")
	m.added.write(w, "shopedge_added_seconds", "Time the proxy adds to a request: its handling, the time waiting for the shop excluded.")
	m.reloads.write(w)
	for _, g := range gauges {
		kind := "gauge"
		if g.Counter {
			kind = "counter"
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %g\n", g.Name, g.Help, g.Name, kind, g.Name, g.Value)
	}
}
