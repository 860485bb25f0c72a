package proxy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/pprofhandler"

	"shopedge/proxy/catalog"
	"shopedge/proxy/console"
	"shopedge/proxy/identity"
	"shopedge/proxy/profile"
)

// Admin returns the handler of the operations listener:
//
//	GET    /healthz          liveness, no token needed
//	GET    /metrics          Prometheus metrics
//	GET    /profiles/{id}    a visitor's profile, as JSON
//	DELETE /profiles/{id}    forget a visitor (erasure)
//	GET    /catalog          the products learned (?limit, offset, q), JSON
//	GET    /catalog/{id}     one product, by id or SKU (admin_catalog.go)
//	POST   /reload           read the configuration again and put it in force,
//	                         or keep the old one; JSON says which (reload.go)
//	GET    /explain          ?visitor=ID&path=/page: what the visitor gets
//	                         on the page and why, JSON (admin_explain.go)
//	POST   /preview          segment=NAME and/or experiment=NAME&arm=ARM
//	                         [ttl=1h] [base=URL]: a signed preview link, JSON
//	                         (preview.go)
//	GET    /experiments      every experiment's arms, uplift, intervals, the
//	                         sample-ratio check and verdict, JSON (experiments.go)
//	GET    /debug/memory     heap and profile figures, after collecting garbage
//	                         (?clear=pages empties the page cache first)
//	GET    /debug/pprof/...  Go's profiles (CPU, heap, goroutines)
//
// and the console, pages for people (proxy/console, admin_console.go):
//
//	GET    /                 overview
//	GET    /console/...      blocks and overlays, visitors, catalog,
//	                         experiments; the stylesheet
//	GET    /login            sign-in form (?once=CODE: a one-time link)
//	POST   /login            token=...: a session cookie
//	POST   /logout           end the session
//
// Every path but /healthz, the sign-in form and the console's stylesheet
// needs "Authorization: Bearer <token>" (the console's pages also take its
// session cookie); with an empty token they are all refused. Errors are
// plain text and keep Cache-Control: no-store (adminError).
func (p *Proxy) Admin(token string) fasthttp.RequestHandler {
	h, _ := p.AdminConsole(token)
	return h
}

func (p *Proxy) admin(token string, con *console.Console) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		ctx.Response.Header.Set("Cache-Control", "no-store")
		if path == "/healthz" {
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString("ok\n")
			return
		}
		if console.Handles(path) {
			con.Serve(ctx)
			return
		}
		if !authorized(ctx, token) {
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="shopedge admin"`)
			adminError(ctx, "unauthorized: send Authorization: Bearer <admin token>\n", fasthttp.StatusUnauthorized)
			return
		}
		switch {
		case path == "/metrics" && ctx.IsGet():
			ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
			p.metrics.WriteTo(ctx, append(p.gauges(), p.storeGauges()...))
		case strings.HasPrefix(path, "/profiles/"):
			p.adminProfile(ctx, strings.TrimPrefix(path, "/profiles/"))
		case path == "/catalog" || strings.HasPrefix(path, "/catalog/"):
			p.adminCatalog(ctx, strings.TrimPrefix(path, "/catalog"))
		case path == "/reload":
			p.adminReload(ctx)
		case path == "/explain" && ctx.IsGet():
			p.adminExplain(ctx)
		case path == "/preview":
			p.adminPreview(ctx)
		case path == "/experiments" && ctx.IsGet():
			p.adminExperiments(ctx)
		case path == "/debug/memory" && ctx.IsGet():
			p.adminMemory(ctx)
		case strings.HasPrefix(path, "/debug/pprof/"):
			pprofhandler.PprofHandler(ctx)
		default:
			adminError(ctx, "not found\n", fasthttp.StatusNotFound)
		}
	}
}

// authorized reports whether the request carries the admin token as
// "Authorization: Bearer <token>", read as the console reads it
// (console.BearerOK: any case of the scheme, SHA-256 digests compared in
// constant time).
func authorized(ctx *fasthttp.RequestCtx, token string) bool {
	_, ok := console.BearerOK(ctx.Request.Header.Peek("Authorization"), token)
	return ok
}

// adminError answers status with msg as plain text. Unlike ctx.Error, it
// keeps the headers already set (Cache-Control, WWW-Authenticate, Allow).
func adminError(ctx *fasthttp.RequestCtx, msg string, status int) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg)
}

func (p *Proxy) gauges() []Gauge {
	s := p.profiles.Stats()
	e := p.rec.Stats()
	return []Gauge{
		{Name: "shopedge_profiles_held", Help: "Visitor profiles in memory (approximate).", Value: float64(s.Held)},
		{Name: "shopedge_profiles_bytes", Help: "Bytes charged against profiles.max_memory.", Value: float64(s.CostUsed)},
		{Name: "shopedge_profiles_created_total", Help: "Profiles created.", Value: float64(s.Created), Counter: true},
		{Name: "shopedge_profiles_evicted_total", Help: "Profiles of the visitors seen least recently, evicted to make room for new visitors.", Value: float64(s.Evicted), Counter: true},
		{Name: "shopedge_profiles_expired_total", Help: "Profiles forgotten because their visitor was not seen for profiles.ttl.", Value: float64(s.Expired), Counter: true},
		{Name: "shopedge_profiles_capacity", Help: "Profiles profiles.max_memory holds.", Value: float64(s.Capacity)},
		{Name: "shopedge_profile_cache_hit_ratio", Help: "Share of profile loads that found the visitor's profile held.", Value: s.HitRatio},
		{Name: "shopedge_memory_limit_bytes", Help: "The Go runtime's soft memory limit (server.memory_limit).", Value: float64(debug.SetMemoryLimit(-1))},
		{Name: "shopedge_memory_resident_bytes", Help: "Resident memory of the process (RSS).", Value: float64(rssBytes())},
		{Name: "shopedge_catalog_products", Help: "Products in the learned catalog.", Value: float64(p.catalog.Len())},
		{Name: "shopedge_recommend_products", Help: "Products the recommendation engine tracks.", Value: float64(e.Items)},
		{Name: "shopedge_recommend_visits", Help: "Past visits the recommendation engine keeps for session kNN.", Value: float64(e.Sessions)},
		{Name: "shopedge_recommend_bytes", Help: "Heap the recommendation engine holds (its own estimate).", Value: float64(e.Bytes)},
	}
}

// profileView is the JSON form of a profile.
type profileView struct {
	ID        string            `json:"id"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	Visits    uint32            `json:"visits"`
	PageViews uint32            `json:"page_views"`
	Customer  bool              `json:"customer"`
	Orders    uint32            `json:"orders"`
	Device    map[string]string `json:"device"`
	Source    map[string]string `json:"source,omitempty"`
	Recent    []itemView        `json:"recent_products"`
	Interests []interestView    `json:"interests"`
	Cart      []cartView        `json:"cart"`
	Purchased []itemView        `json:"purchased"`
	Searches  []string          `json:"searches"`
	CartsLeft uint16            `json:"carts_left"`
	Overlays  []overlayView     `json:"overlays,omitempty"`
	// Explain is where to ask what this visitor gets on the home page and
	// why (change path for another page).
	Explain string `json:"explain"`
}

// overlayView is what a visitor has seen of a configured overlay.
type overlayView struct {
	ID             string     `json:"id"`
	ShownThisVisit int        `json:"shown_this_visit"`
	ShownToday     int        `json:"shown_today"`
	LastShown      *time.Time `json:"last_shown,omitempty"`
	DismissedUntil *time.Time `json:"dismissed_until,omitempty"`
}

type itemView struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

type interestView struct {
	Category string  `json:"category"`
	Score    float64 `json:"score"`
}

type cartView struct {
	itemView
	Qty uint16 `json:"qty"`
}

func (p *Proxy) item(id catalog.ID) itemView {
	v := itemView{ID: fmt.Sprintf("%016x", uint64(id))}
	if prod, ok := p.catalog.Get(id); ok {
		v.ID, v.Name, v.URL = prod.Key, prod.Name, prod.URL
	}
	return v
}

func (p *Proxy) adminProfile(ctx *fasthttp.RequestCtx, id string) {
	if !identity.ValidVisitorID(id) {
		adminError(ctx, "not a visitor id\n", fasthttp.StatusBadRequest)
		return
	}
	if ctx.IsDelete() {
		if err := p.erase(id); err != nil {
			adminError(ctx, "erased here, not in the shared store: try again\n", fasthttp.StatusServiceUnavailable)
			return
		}
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	v, ok := p.viewProfile(id)
	if !ok {
		adminError(ctx, "no such visitor\n", fasthttp.StatusNotFound)
		return
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// erase forgets the visitor id, here and in the shared store.
func (p *Proxy) erase(id string) error {
	p.profiles.Delete(id)
	if err := p.forget(id); err != nil {
		p.log.Error("erasure not done in the shared store", "err", err)
		return fmt.Errorf("erased here, not in the shared store: %w", err)
	}
	p.profiles.Delete(id) // a request may have read it through meanwhile
	return nil
}

// viewProfile is what the proxy holds of the visitor id; false when it
// holds nothing. It is a look: nothing is begun.
func (p *Proxy) viewProfile(id string) (profileView, bool) {
	p.readProfile(id, false) // a look: nothing begun
	prof, ok := p.profiles.Get(id)
	if !ok {
		return profileView{}, false
	}
	cfg := p.Config()
	now := p.now()
	d := prof.Snapshot()
	v := profileView{
		ID: id, FirstSeen: time.Unix(int64(d.FirstSeen), 0).UTC(), LastSeen: time.Unix(int64(d.LastSeen), 0).UTC(),
		Visits: d.Visits, PageViews: d.PageViews, Customer: d.Customer, Orders: d.Orders,
		Device:   map[string]string{"class": d.Device.Class.String(), "os": d.Device.OS.String(), "browser": d.Device.Browser.String()},
		Searches: d.Searches(), CartsLeft: d.CartsLeft,
		Explain: "/explain?visitor=" + url.QueryEscape(id) + "&path=/",
	}
	for _, r := range cfg.Overlays.Rules {
		s := d.Overlay(profile.OverlayKey(r.ID), now)
		if s == (profile.OverlaySeen{}) {
			continue
		}
		ov := overlayView{ID: r.ID, ShownThisVisit: s.ShownThisVisit, ShownToday: s.ShownToday}
		if !s.LastShown.IsZero() {
			t := s.LastShown.UTC()
			ov.LastShown = &t
		}
		if !s.DismissedUntil.IsZero() {
			t := s.DismissedUntil.UTC()
			ov.DismissedUntil = &t
		}
		v.Overlays = append(v.Overlays, ov)
	}
	if s := d.Source(); s != (profile.Source{}) {
		v.Source = map[string]string{"utm_source": s.UTMSource, "utm_medium": s.UTMMedium, "utm_campaign": s.UTMCampaign, "referrer": s.Referrer}
	}
	for _, id := range d.Recent() {
		v.Recent = append(v.Recent, p.item(id))
	}
	for _, id := range d.Purchased() {
		v.Purchased = append(v.Purchased, p.item(id))
	}
	for _, l := range d.Cart() {
		v.Cart = append(v.Cart, cartView{p.item(l.Product), l.Qty})
	}
	cats := p.catalog.Categories()
	for _, in := range d.Interests(now, cfg.Profiles.InterestHalfLife.D()) {
		name := fmt.Sprintf("%08x", uint32(in.Category))
		for _, c := range cats {
			if profile.SameCategory(in.Category, c.ID) {
				name = c.Name
				if c.Path != "" {
					name += " (" + c.Path + ")"
				}
				break
			}
		}
		v.Interests = append(v.Interests, interestView{Category: name, Score: float64(in.Score)})
	}
	sort.Slice(v.Interests, func(i, j int) bool { return v.Interests[i].Score > v.Interests[j].Score })
	return v, true
}

// adminMemory explains the process's memory after a garbage collection:
// resident memory, the runtime's view of it (runtime/metrics), and the
// live heap split into what each bounded store is charged against its
// bound, what the engines estimate they hold, what the connections hold,
// and what is left unaccounted. ?clear=pages empties the page cache first.
// The flat keys are what the benchmark harness reads.
func (p *Proxy) adminMemory(ctx *fasthttp.RequestCtx) {
	if string(ctx.QueryArgs().Peek("clear")) == "pages" {
		p.pages.Clear()
	}
	// Twice: the first collection moves pooled buffers to the pools'
	// victim caches, the second frees them.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	cfg := p.conf.Load().cfg
	s := p.profiles.Stats()
	e := p.rec.Stats()
	pageBytes := p.pages.Bytes()
	rt, cpuSeconds := runtimeMemory()
	goroutines := rt["/sched/goroutines:goroutines"]
	stacks := rt["/memory/classes/heap/stacks:bytes"] + rt["/memory/classes/os-stacks:bytes"]
	live := int64(m.HeapAlloc)
	accounted := s.CostUsed + pageBytes + e.Bytes
	b, _ := json.Marshal(map[string]any{
		// Flat figures, as the benchmark harness reads them.
		"heap_alloc_bytes":      m.HeapAlloc,
		"heap_sys_bytes":        m.HeapSys,
		"profiles_held":         s.Held,
		"profiles_created":      s.Created,
		"profiles_evicted":      s.Evicted,
		"profiles_expired":      s.Expired,
		"profiles_bytes_budget": s.CostUsed,
		"catalog_products":      p.catalog.Len(),
		"engine_products":       e.Items,
		"engine_visits":         e.Sessions,
		"engine_bytes":          e.Bytes,
		"page_cache_hits":       p.metrics.pageHits.Load(),
		"page_cache_misses":     p.metrics.pageMisses.Load(),
		"rewrites":              p.metrics.rewrites.Load(),
		// Where the memory goes.
		"process": map[string]any{
			"rss_bytes":          rssBytes(),
			"memory_limit_bytes": debug.SetMemoryLimit(-1),
			"go_total_bytes":     rt["/memory/classes/total:bytes"],
			"go_released_bytes":  rt["/memory/classes/heap/released:bytes"],
			"gc_goal_bytes":      rt["/gc/heap/goal:bytes"],
			"gc_percent":         rt["/gc/gogc:percent"],
			"gc_cycles":          rt["/gc/cycles/total:gc-cycles"],
			"gc_cpu_seconds":     cpuSeconds["/cpu/classes/gc/total:cpu-seconds"],
			"cpu_seconds":        cpuSeconds["/cpu/classes/total:cpu-seconds"],
			"allocated_bytes":    rt["/gc/heap/allocs:bytes"],
		},
		"heap": map[string]any{
			"live_bytes": live,
			"profiles": map[string]any{
				"charged_bytes": s.CostUsed, "bound_bytes": int64(cfg.Profiles.MaxMemory),
				"held": s.Held, "capacity": s.Capacity, "bytes_each": profile.Cost,
			},
			"page_cache": map[string]any{
				"charged_bytes": pageBytes, "bound_bytes": int64(cfg.Limits.PageCache),
			},
			"engine": map[string]any{
				"estimated_bytes": e.Bytes, "visits": e.Sessions, "visits_bound": cfg.Recommendations.MaxSessions,
				"products": e.Items, "products_bound": cfg.Recommendations.MaxProducts,
			},
			"catalog": map[string]any{
				"products": p.catalog.Len(), "products_bound": cfg.Catalog.MaxProducts,
			},
			"live_counters": map[string]any{
				"products_viewed": p.views.Len(), "products_carted": p.carts.Len(),
			},
			// The catalog, the live counters, connections' buffers
			// (fasthttp keeps a read and a write buffer per connection, and
			// pools them), tokens and user agents memoized: what the
			// bounds above do not charge.
			"unaccounted_bytes": live - accounted,
		},
		"runtime": map[string]any{
			"goroutines":          goroutines,
			"stacks_bytes":        stacks,
			"heap_free_bytes":     rt["/memory/classes/heap/free:bytes"],
			"heap_unused_bytes":   rt["/memory/classes/heap/unused:bytes"],
			"metadata_bytes":      rt["/memory/classes/metadata/other:bytes"] + rt["/memory/classes/metadata/mspan/inuse:bytes"] + rt["/memory/classes/metadata/mspan/free:bytes"] + rt["/memory/classes/metadata/mcache/inuse:bytes"] + rt["/memory/classes/metadata/mcache/free:bytes"],
			"other_runtime_bytes": rt["/memory/classes/other:bytes"] + rt["/memory/classes/profiling/buckets:bytes"],
		},
	})
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// memoryMetrics are the runtime/metrics figures /debug/memory reports.
var memoryMetrics = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/mspan/free:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/metadata/mcache/free:bytes",
	"/memory/classes/other:bytes",
	"/memory/classes/profiling/buckets:bytes",
	"/gc/heap/goal:bytes",
	"/gc/gogc:percent",
	"/gc/cycles/total:gc-cycles",
	"/sched/goroutines:goroutines",
	"/gc/heap/allocs:bytes",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
}

// runtimeMemory reads memoryMetrics: the counts, and the CPU seconds (the
// runtime's estimate, including the time the GC took from the program).
func runtimeMemory() (map[string]int64, map[string]float64) {
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, name := range memoryMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	out, cpu := make(map[string]int64, len(samples)), map[string]float64{}
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			out[s.Name] = int64(s.Value.Uint64())
		case metrics.KindFloat64:
			cpu[s.Name] = s.Value.Float64()
		}
	}
	return out, cpu
}

// rssBytes is the process's resident memory, from /proc/self/statm (0
// where there is none).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
