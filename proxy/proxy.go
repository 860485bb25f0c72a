package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/identity"
	"shopedge/proxy/learn"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/proxy/render"
	"shopedge/proxy/store"
	"shopedge/rules"
)

// Proxy is shopedge's edge: a reverse proxy in front of one shop that
// recognises visitors, learns from their requests and the shop's pages, and
// personalizes the HTML on its way back. Create it with New; serve it with
// Server. It is safe for concurrent use.
type Proxy struct {
	conf     atomic.Pointer[config]
	up       *upstream
	ids      *identity.Issuer
	profiles *profile.Store
	catalog  *catalog.Catalog
	rec      *recommend.Engine
	views    *live.Counter   // people who viewed each product, for social proof
	carts    *live.Counter   // people who put each product in their cart
	learner  *learn.Recorder // records into profiles, catalog, rec, views and carts
	counts   liveCounts      // views and carts, as plan reads them

	experiments experiments  // every experiment's arms, counted per visitor
	shared      store.Shared // what instances share (shared.go); store.Local when alone
	sharing     bool         // shared is not store.Local
	snapshot    string       // the file the state is saved to and restored from; "": none
	pages       *page.Cache
	log         *slog.Logger
	metrics     *Metrics
	now         func() time.Time
	load        func() (*rules.Compiled, error) // Options.Load
	reloadMu    sync.Mutex                      // one reload at a time: compare, keep, swap
}

// config is a configuration in force and what the proxy builds from it
// once: a reload swaps it whole, so a request sees one configuration from
// start to end. It is read-only.
type config struct {
	cfg    *rules.Compiled
	gen    uint64 // changes with every configuration, so cached analyses do too
	bots   *agent.Classifier
	enc    *codec.Encoder
	render *render.Renderer // renders plans, keeping what visitors share
}

// Options are what New needs besides the configuration.
type Options struct {
	// Keys sign and verify visitor tokens; the first signs. Required: see
	// rules.LoadKeys.
	Keys []identity.Key
	// Logger receives the proxy's logs. Default: slog.Default().
	Logger *slog.Logger
	// Now returns the time. Default: time.Now.
	Now func() time.Time
	// Load reads the configuration again, for a reload asked for on the
	// operations listener (POST /reload). Default: nil, and the listener
	// answers that it cannot reload.
	Load func() (*rules.Compiled, error)
}

// New builds a proxy for a compiled configuration.
func New(cfg *rules.Compiled, o Options) (*Proxy, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ids, err := identity.New(identity.Options{
		Keys: o.Keys, TTL: cfg.Identity.TTL.D(), Refresh: cfg.Identity.Refresh.D(), Now: o.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	metrics := newMetrics()
	up, err := newUpstream(cfg.Upstream, &metrics.resent)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	pages, err := page.NewCache(int64(cfg.Limits.PageCache))
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{
		pages:    pages,
		up:       up,
		ids:      ids,
		log:      o.Logger,
		metrics:  metrics,
		now:      o.Now,
		load:     o.Load,
		snapshot: cfg.Store.Snapshot,
	}
	if err := p.emptyState(cfg); err != nil {
		return nil, err
	}
	if p.snapshot != "" {
		p.restore(cfg, p.snapshot) // before anything holds the state
		if cfg.Store.URL != "" {
			// Shared, profiles come from the store: a copy of the file's
			// may be one another instance changed or erased since.
			if n := p.profiles.Forget(func(string) bool { return false }); n > 0 {
				p.log.Info("snapshot: profiles left to the shared store", "profiles", n)
			}
		}
	}
	p.counts = liveCounts{views: p.views, carts: p.carts}
	p.learner = &learn.Recorder{Profiles: p.profiles, Catalog: p.catalog, Engine: p.rec, Views: p.views, Carts: p.carts, Now: p.now}
	if err := p.openShared(cfg); err != nil {
		return nil, err
	}
	p.setConfig(cfg)
	p.metrics.reloads.loaded(p.now())
	p.startShared()
	return p, nil
}

// setConfig puts a configuration in force.
func (p *Proxy) setConfig(cfg *rules.Compiled) {
	for _, b := range cfg.Recommendations.Blocks {
		p.metrics.block(b.ID) // every configured block shows in the metrics, from 0
	}
	for _, o := range cfg.Overlays.Rules {
		p.metrics.overlay(o.ID)
	}
	for _, b := range cfg.Overlays.Banners {
		p.metrics.overlay(b.ID)
	}
	p.conf.Store(&config{
		gen:    generation.Add(1),
		cfg:    cfg,
		bots:   agent.New(cfg.Tracking.BotAgents),
		enc:    codec.NewEncoder(cfg.Limits.GzipLevel, cfg.Limits.BrotliLevel),
		render: render.New(cfg, p.catalog, p.log),
	})
}

// newEngine builds the recommendation engine a configuration asks for.
func newEngine(r rules.Recommendations) *recommend.Engine {
	return recommend.New(recommend.Config{
		MaxItems:        r.MaxProducts,
		Neighbours:      r.Neighbours,
		MaxSessions:     r.MaxSessions,
		SessionsPerItem: r.SessionsPerProduct,
		HalfLife:        r.HalfLife.D(),
		TrendHalfLife:   r.TrendingHalfLife.D(),
	})
}

// generation numbers configurations.
var generation atomic.Uint64

// Config returns the configuration in force.
func (p *Proxy) Config() *rules.Compiled { return p.conf.Load().cfg }

// Server returns a fasthttp server for the proxy, configured from the
// server section: timeouts, limits and error responses.
func (p *Proxy) Server() *fasthttp.Server {
	s := p.conf.Load().cfg.Server
	srv := &fasthttp.Server{
		Handler:                      p.Handler,
		ErrorHandler:                 p.serverError,
		Name:                         "",
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  s.ReadTimeout.D(),
		WriteTimeout:                 s.WriteTimeout.D(),
		IdleTimeout:                  s.IdleTimeout.D(),
		MaxConnsPerIP:                s.MaxConnsPerIP,
		Concurrency:                  s.Concurrency,
		MaxRequestBodySize:           int(s.MaxRequestBody),
		ReadBufferSize:               int(s.ReadBufferSize),
		// What a response is written through, held only while one is
		// written (ReduceMemoryUsage). Bodies held whole go to the socket
		// directly, streamed ones a copy buffer at a time
		// (upstreamBody.WriteTo). 32 KiB rather than 16: measured with
		// bench/load on ~200 KB pages passed through, 16 KiB cost 40% more
		// server CPU per request (0.325 against 0.229 ms). Not 64 KiB:
		// a personalized page of 32 to 64 KB would go out in one write
		// call instead of two, but a personalized page is copied into
		// this buffer whole, so every slow reader of one would hold 32 KiB
		// more (tried on 2026-12-03; bench/load memory -slow with
		// -slow-accept text/html measures it, though noisily). The two
		// writes are marked so that the kernel sends them as one
		// (moreWriter).
		WriteBufferSize: 32 << 10,
		// Connections between requests keep no read or write buffer and
		// no body buffer (fasthttp keeps all three per connection by
		// default, at the size of the largest body it served): an idle
		// keep-alive connection costs its goroutine's stack and little else,
		// for a pool lookup per request.
		ReduceMemoryUsage: true,
		// fasthttp's parse errors quote the request bytes they failed
		// on, cookies included: not in logs.
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{p.log},
		CloseOnShutdown:       true,
	}
	if t := s.TLS; t != nil {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return srv
}

// Close releases the proxy's memory and background work.
func (p *Proxy) Close() {
	p.profiles.Close()
	p.pages.Close()
}

// serverError answers requests fasthttp could not read: without error text.
func (p *Proxy) serverError(ctx *fasthttp.RequestCtx, err error) {
	status := fasthttp.StatusBadRequest
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		status = fasthttp.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status = fasthttp.StatusRequestEntityTooLarge
	case isTimeout(err):
		status = fasthttp.StatusRequestTimeout
	}
	p.metrics.clientErrors.Add(1)
	p.log.Debug("bad request", "status", status, "remote", ctx.RemoteIP().String(), "err", err)
	writeErrorPage(ctx, status)
	ctx.SetConnectionClose() // after: writeErrorPage resets the response, close included
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// fasthttpLogger sends fasthttp's own messages to slog at debug level.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug("fasthttp: " + fmt.Sprintf(format, args...))
}
