package proxy

import (
	"fmt"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/render"
	"shopedge/rules"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Metrics are the proxy's counters. They live in a metrics.Set of their
// own (github.com/VictoriaMetrics/metrics), never in the library's
// process-wide default set, so that every Proxy (and every test's) counts
// apart; metrics_write.go writes them on the admin listener's /metrics in
// the Prometheus text format, with the Go runtime's and the process's
// figures. The fields keep sync/atomic's method names (Add, Load), so
// the request path reads as it did before the library.
type Metrics struct {
	set *metrics.Set

	// writeMu lets one scrape at a time mirror the figures held elsewhere
	// into the set and write it; it guards help past newMetrics.
	writeMu sync.Mutex
	// help is each family's # HELP text, by family name: the library
	// writes a family's name and type, never a description.
	help map[string]string

	requests     counter
	clientErrors counter
	badTokens    counter
	newVisitors  counter
	events       counter
	rewrites     counter
	pageHits     counter
	pageMisses   counter
	// What pages served could not get, each page view counted.
	blockUnplaced  counter
	bannerUnplaced counter
	swapUnplaced   counter
	listsSkipped   [2][2]counter // by list (menu, results) and reason (listUnsafe, listBreadcrumb)

	blocksMu sync.RWMutex
	blocks   map[string]*blockCounters // by block id: only ids from configurations

	swapsMu sync.RWMutex
	swaps   map[string]counter // content swaps applied, by swap id: only ids from configurations

	overlaysMu sync.RWMutex
	overlays   map[string]*overlayCounters // by overlay or banner id: only ids from configurations
	cspSkipped counter
	rejected   map[string]counter // beacons refused, by reason

	passReasons map[string]counter
	upstream    map[string]counter
	// resent counts the requests sent to the shop again, by attemptKind;
	// the upstream client adds to it (upstream.go), and a scrape copies it
	// into resentSeries.
	resent       [attemptKinds]atomic.Int64
	resentSeries [attemptKinds]*metrics.Counter
	latency      histogram // request to rewritten page, shop included
	added        histogram // every request, time waiting for the shop excluded

	// reloads are the configuration reloads, by outcome (reload.go); a
	// scrape copies the counts into reloadSeries, by result.
	reloads      reloads
	reloadSeries map[string]*metrics.Counter

	snapshots struct{ saved, failed counter } // snapshot writes (snapshot.go)

	// The shared store (shared.go): profiles read through, by outcome,
	// and the longest a request waited on one (nanoseconds).
	storeReads   struct{ found, missing, failed, refused counter }
	storeLongest atomic.Int64
}

// passReasonNames are why a response was not rewritten, the values of
// the reason label of shopedge_passthrough_total.
var passReasonNames = []string{
	"not_candidate", "status", "not_html", "encoding", "no_transform", "range", "too_large",
	"decode_error", "charset", "no_change", "encode_error", "global_control",
}

// listNames and listReasons label shopedge_lists_skipped_total, in the
// order of Metrics.listsSkipped.
var (
	listNames   = [2]string{"menu", "results"}
	listReasons = [2]string{"unsafe", "breadcrumb"}
)

var upstreamKinds = []string{"unreachable", "timeout", "pool_exhausted", "body_cut"}

// beaconReasons are why a beacon was refused.
var beaconReasons = []string{"method", "too_large", "origin", "malformed", "unknown_id", "visitor"}

// The per-id families' names and HELP texts: their series are made when
// an id is first configured (or, for swaps, first applied).
const (
	blockShownName        = "shopedge_block_shown_total"
	blockClicksName       = "shopedge_block_clicks_total"
	blockConversionsName  = "shopedge_block_conversions_total"
	blockRevenueName      = "shopedge_block_revenue_total"
	swapAppliedName       = "shopedge_swap_applied_total"
	overlayInjectedName   = "shopedge_overlay_injected_total"
	overlayEventsName     = "shopedge_overlay_events_total"
	overlayConversionName = "shopedge_overlay_conversions_total"
	overlayRevenueName    = "shopedge_overlay_revenue_total"
)

var perIDHelp = map[string]string{
	blockShownName:        "Recommendation blocks put on pages, by block.",
	blockClicksName:       "Clicks on recommended products, by block.",
	blockConversionsName:  "Orders of visitors whose last click on a block or overlay before ordering was on a product of this block, by block.",
	blockRevenueName:      "Revenue of those orders, in the shop's currency, by block.",
	swapAppliedName:       "Content swaps put on pages, by swap.",
	overlayInjectedName:   "Overlays and banners put on pages, by id.",
	overlayEventsName:     "What the overlay script reported, by id and event.",
	overlayConversionName: "Orders of visitors whose last click on a block or overlay before ordering was on this overlay or banner, by id.",
	overlayRevenueName:    "Revenue of those orders, in the shop's currency, by id.",
}

// The histograms' upper bounds, in seconds.
var (
	rewriteBounds = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1}
	addedBounds   = []float64{5e-6, 10e-6, 20e-6, 35e-6, 50e-6, 75e-6, 100e-6, 150e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3}
)

func newMetrics() *Metrics {
	// The library's switch for # HELP and # TYPE lines is process-wide,
	// as its Go runtime and process writers are package functions; every
	// Metrics wants those lines, so each turns it on (an atomic store of
	// the same value).
	metrics.ExposeMetadata(true)
	m := &Metrics{
		set: metrics.NewSet(), help: map[string]string{},
		passReasons: map[string]counter{}, upstream: map[string]counter{}, rejected: map[string]counter{},
		reloadSeries: map[string]*metrics.Counter{},
	}
	for name, help := range perIDHelp {
		m.help[name] = help
	}
	m.requests = m.counter("shopedge_requests_total", "Requests received.")
	m.clientErrors = m.counter("shopedge_client_errors_total", "Requests refused as malformed, misdirected or too large.")
	m.badTokens = m.counter("shopedge_bad_tokens_total", "Visitor cookies that did not verify (tampered, expired, foreign).")
	m.newVisitors = m.counter("shopedge_new_visitors_total", "Visitor ids issued.")
	m.events = m.counter("shopedge_events_total", "Behaviour events recorded in profiles.")
	m.rewrites = m.counter("shopedge_rewrites_total", "Pages personalized.")
	m.pageHits = m.counter("shopedge_page_cache_hits_total", "Pages whose analysis, or refusal (another charset, too large, not decodable), was reused.")
	m.pageMisses = m.counter("shopedge_page_cache_misses_total", "Pages decoded and analysed.")

	m.describe("shopedge_passthrough_total", "Responses sent untouched, by reason.")
	for _, r := range passReasonNames {
		m.passReasons[r] = m.labelled("shopedge_passthrough_total", "reason", r)
	}
	m.describe("shopedge_upstream_errors_total", "Failed exchanges with the shop, by kind: unreachable, timeout, pool_exhausted (each answered 502, 504 or 503), body_cut (the body failed after the headers went out: the visitor's connection was closed).")
	for _, k := range upstreamKinds {
		m.upstream[k] = m.labelled("shopedge_upstream_errors_total", "kind", k)
	}
	m.describe("shopedge_upstream_resent_total", "Requests sent to the shop again on a fresh connection, by reason: not_sent (the shop had closed the pooled connection; nothing was written), unanswered (a GET or HEAD on a reused connection the shop closed without a byte of an answer).")
	m.resentSeries[attemptNotSent] = m.set.NewCounter(`shopedge_upstream_resent_total{reason="not_sent"}`)
	m.resentSeries[attemptUnanswered] = m.set.NewCounter(`shopedge_upstream_resent_total{reason="unanswered"}`)

	m.describe("shopedge_snapshots_total", "Snapshots of the state written to store.snapshot, by result.")
	m.snapshots.saved = m.labelled("shopedge_snapshots_total", "result", "saved")
	m.snapshots.failed = m.labelled("shopedge_snapshots_total", "result", "failed")

	m.describe("shopedge_store_profile_reads_total", "Returning visitors' profiles read through from the shared store, by result: found, missing (none stored), failed (the store down or slower than store.budget: the request went on with what this instance holds), refused (bytes another build wrote).")
	m.storeReads.found = m.labelled("shopedge_store_profile_reads_total", "result", "found")
	m.storeReads.missing = m.labelled("shopedge_store_profile_reads_total", "result", "missing")
	m.storeReads.failed = m.labelled("shopedge_store_profile_reads_total", "result", "failed")
	m.storeReads.refused = m.labelled("shopedge_store_profile_reads_total", "result", "refused")
	m.gauge("shopedge_store_profile_read_longest_seconds", "The longest a request waited to read a profile through from the shared store (store.budget bounds it).",
		func() float64 { return time.Duration(m.storeLongest.Load()).Seconds() })

	m.blockUnplaced = m.counter("shopedge_block_unplaced_total", "Recommendation blocks left off pages served, each page view counted, because the element their selector found cannot safely hold them.")
	m.bannerUnplaced = m.counter("shopedge_banner_unplaced_total", "Banners left off pages served, each page view counted, because the element their selector found cannot safely hold them.")
	m.swapUnplaced = m.counter("shopedge_swap_unplaced_total", "Content swaps left off pages served, each page view counted, because the element their selector found cannot safely change (raw text, foreign or doubtful markup, or elements where only text may go).")
	m.describe("shopedge_lists_skipped_total", "Menus and search-result lists left in the shop's order on pages served, each page view counted, by list and reason: unsafe (markup a browser may not build as written), breadcrumb (a breadcrumb trail the selector also matched).")
	for i, list := range listNames {
		for j, reason := range listReasons {
			m.listsSkipped[i][j] = counter{m.set.NewCounter(fmt.Sprintf("shopedge_lists_skipped_total{list=%q,reason=%q}", list, reason))}
		}
	}

	m.cspSkipped = m.counter("shopedge_overlay_csp_skipped_total", "Pages left without overlays and banners because their Content-Security-Policy would block the script or stylesheet.")
	m.describe("shopedge_beacons_rejected_total", "Beacons refused, by reason.")
	for _, r := range beaconReasons {
		m.rejected[r] = m.labelled("shopedge_beacons_rejected_total", "reason", r)
	}

	m.latency = m.histogram("shopedge_rewrite_seconds", "Time from request to rewritten page, upstream included.", rewriteBounds)
	m.added = m.histogram("shopedge_added_seconds", "Time the proxy adds to a request: its handling, the time waiting for the shop excluded.", addedBounds)

	m.describe("shopedge_config_reloads_total", "Configuration reloads, by result: success (applied whole), partial (applied; restart-only settings it changes kept their running value), failure (not applied: the file has problems).")
	for _, res := range reloadResults {
		m.reloadSeries[res] = m.set.NewCounter(fmt.Sprintf("shopedge_config_reloads_total{result=%q}", res))
	}
	m.gauge("shopedge_config_last_reload_successful", "Whether the last reload attempt applied the file (1) or failed (0); 1 before any reload.",
		func() float64 {
			m.reloads.mu.Lock()
			defer m.reloads.mu.Unlock()
			if m.reloads.lastFailed {
				return 0
			}
			return 1
		})
	m.gauge("shopedge_config_last_reload_success_timestamp_seconds", "When the configuration in force was loaded: the start, or the last successful or partial reload.",
		func() float64 {
			m.reloads.mu.Lock()
			defer m.reloads.mu.Unlock()
			if m.reloads.lastGood.IsZero() {
				return 0
			}
			return float64(m.reloads.lastGood.UnixNano()) / 1e9
		})
	return m
}

// describe records a family's HELP text.
func (m *Metrics) describe(family, help string) { m.help[family] = help }

// counter makes an unlabelled counter of the set.
func (m *Metrics) counter(name, help string) counter {
	m.describe(name, help)
	return counter{m.set.NewCounter(name)}
}

// labelled makes the series of a described family with one label.
func (m *Metrics) labelled(family, label, value string) counter {
	return counter{m.set.NewCounter(series(family, label, value))}
}

// gauge makes a gauge of the set whose value f reads when it is written.
func (m *Metrics) gauge(name, help string, f func() float64) {
	m.describe(name, help)
	m.set.NewGauge(name, f)
}

// histogram makes a Prometheus histogram (cumulative _bucket{le=...}
// series, _sum and _count) of the set with the given upper bounds.
func (m *Metrics) histogram(name, help string, bounds []float64) histogram {
	m.describe(name, help)
	return histogram{name: name, bounds: bounds, h: m.set.NewPrometheusHistogramExt(name, bounds)}
}

// series is a series' name: a family with one label. Values are quoted
// as Go quotes them, which the exposition format reads the same for the
// ids configurations allow.
func series(family, label, value string) string {
	return fmt.Sprintf("%s{%s=%q}", family, label, value)
}

// counter is a counter of the set, added to and read with sync/atomic's
// names.
type counter struct{ c *metrics.Counter }

func (c counter) Add(n int64) { c.c.AddInt64(n) }

func (c counter) Load() int64 { return int64(c.c.Get()) }

// floatCounter is a counter of the set that holds amounts (revenue).
type floatCounter struct{ c *metrics.FloatCounter }

func (c floatCounter) Add(v float64) { c.c.Add(v) }

func (c floatCounter) Load() float64 { return c.c.Get() }

// histogram is a Prometheus histogram of the set, with its name and
// bounds for reading it back (figures.go).
type histogram struct {
	name   string
	bounds []float64 // seconds
	h      *metrics.PrometheusHistogram
}

func (h *histogram) observe(s float64) { h.h.Update(s) }

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
	shown, clicks counter
	conversions   counter
	revenue       floatCounter
}

// block returns the counters of a block, by its configured id; the first
// call for an id makes its series, at zero.
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
		c = &blockCounters{
			shown:       m.labelled(blockShownName, "block", id),
			clicks:      m.labelled(blockClicksName, "block", id),
			conversions: m.labelled(blockConversionsName, "block", id),
			revenue:     floatCounter{m.set.NewFloatCounter(series(blockRevenueName, "block", id))},
		}
		m.blocks[id] = c
	}
	return c
}

// swap returns the counter of a content swap's applications, by its
// configured id.
func (m *Metrics) swap(id string) counter {
	m.swapsMu.RLock()
	c, ok := m.swaps[id]
	m.swapsMu.RUnlock()
	if ok {
		return c
	}
	m.swapsMu.Lock()
	defer m.swapsMu.Unlock()
	if c, ok = m.swaps[id]; !ok {
		if m.swaps == nil {
			m.swaps = map[string]counter{}
		}
		c = m.labelled(swapAppliedName, "swap", id)
		m.swaps[id] = c
	}
	return c
}

// overlayCounters count an overlay's or banner's life: put on pages, and
// what its beacons said.
type overlayCounters struct {
	injected                               counter
	shown, dismissed, clicked, bannerShown counter
	conversions                            counter
	revenue                                floatCounter
}

// overlay returns the counters of an overlay or banner, by configured id;
// the first call for an id makes its series, at zero.
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
		event := func(e string) counter {
			return counter{m.set.NewCounter(fmt.Sprintf("%s{id=%q,event=%q}", overlayEventsName, id, e))}
		}
		c = &overlayCounters{
			injected:    m.labelled(overlayInjectedName, "id", id),
			shown:       event("shown"),
			dismissed:   event("dismissed"),
			clicked:     event("clicked"),
			bannerShown: event("banner_shown"),
			conversions: m.labelled(overlayConversionName, "id", id),
			revenue:     floatCounter{m.set.NewFloatCounter(series(overlayRevenueName, "id", id))},
		}
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
