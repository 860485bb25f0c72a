package proxy

import (
	"errors"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/agent"
	"shopedge/proxy/bufpool"
	"shopedge/proxy/codec"
	"shopedge/proxy/csp"
	"shopedge/proxy/learn"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/profile"
	"shopedge/proxy/splice"
	"shopedge/rules"
)

// Handler serves one request. It reads top to bottom as the request
// flows, one step a call: admit → classify → identify → forward, then for
// a page that may be personalized (personalize): analyse (page, cached) →
// learn and record → decide (plan) → render → assemble (splice) →
// respond. Every other response passes through as the shop sent it.
func (p *Proxy) Handler(ctx *fasthttp.RequestCtx) {
	x := &exchange{ctx: ctx, conf: p.conf.Load(), start: time.Now()}
	p.metrics.requests.Add(1)
	p.serve(x)
	if x.preview != nil {
		previewHeaders(x)
	} else {
		p.changed(x.visitorID) // written behind, for the other instances
	}
	p.metrics.added.observe((time.Since(x.start) - x.waited).Seconds())
	if x.conf.cfg.Log.Access {
		p.log.Info("request", "method", string(ctx.Method()), "path", string(ctx.Path()),
			"status", ctx.Response.StatusCode(), "duration", time.Since(x.start))
	}
}

func (p *Proxy) serve(x *exchange) {
	ctx, conf := x.ctx, x.conf
	facts, ok := p.admit(ctx, conf)
	if !ok {
		return
	}
	if prefix := conf.cfg.Assets.Prefix; hasPrefixFold(ctx.Path(), prefix) || hasPrefixFold(ctx.Request.Header.RequestURI(), prefix) {
		// Never forwarded: neither the path as decoded nor as sent
		// ("/_shopedge/../x" is "/x" decoded) reaches the shop, in any
		// case ("/_SHOPEDGE/x" is the prefix to a shop that reads paths
		// without case, as intoPrefix says): what is not shopedge's own
		// asset or beacon is not found.
		p.serveOwn(ctx, conf)
		return
	}
	if intoPrefix(ctx.Path(), conf.cfg.Assets.Prefix) {
		// "/x\..\_shopedge/x" is "/_shopedge/x" to a shop that reads '\'
		// as '/': refused, never forwarded.
		p.refuse(ctx, fasthttp.StatusBadRequest)
		return
	}

	p.classify(x)
	if x.tracked && (x.candidate || x.cartAdd != nil) {
		p.readPreview(x)
		p.identify(x)
	}
	resp, ok := p.forward(x, facts)
	if !ok {
		return
	}
	if x.cartAdd != nil && resp.StatusCode() < 400 && x.preview == nil {
		p.recordCartAdd(x)
	}
	if reason := rewritable(resp, x); reason != "" {
		p.metrics.passThrough(reason)
		p.passThrough(x, resp, nil)
		return
	}
	p.personalize(x, resp)
}

// personalize handles a page that may be personalized, one step a call:
// read the body (bounded), analyse it (page: decoded and indexed the
// first time those bytes are seen), learn from it and record the view,
// decide what this visitor gets (plan), render it, assemble the page
// (splice) and respond. Whatever it cannot do safely, it skips: the shop's
// bytes go out instead.
func (p *Proxy) personalize(x *exchange, resp *fasthttp.Response) {
	cfg := x.conf.cfg
	limit := int(cfg.Limits.MaxRewriteBody)
	now := p.now()
	if cl := resp.Header.ContentLength(); cl > limit {
		p.metrics.passThrough("too_large")
		p.viewFromURL(x, now)
		p.passThrough(x, resp, nil)
		return
	}
	raw := bufpool.Get()
	t0 := time.Now()
	complete, err := readBody(resp, limit, raw)
	x.waited += time.Since(t0)
	if err != nil {
		// Nothing was sent yet: a cut body is a failed exchange, never a
		// short 200.
		if resp.IsBodyStream() {
			_ = resp.CloseBodyStream()
		}
		fasthttp.ReleaseResponse(resp)
		bufpool.Put(raw)
		p.upstreamError(x.ctx, err)
		return
	}
	if !complete {
		p.metrics.passThrough("too_large")
		p.viewFromURL(x, now)
		p.passThrough(x, resp, raw)
		return
	}
	// From here the page goes out from the proxy's buffer, to a person the
	// proxy identified: with the visitor's cookie when it must be issued.
	x.setCookie = x.refresh

	enc := codec.Parse(resp.Header.ContentEncoding())
	a, fresh, err := p.analysis(x, *raw, enc, resp.Header.ContentType())
	if err != nil {
		reason := "decode_error"
		switch {
		case errors.Is(err, codec.ErrTooLarge):
			reason = "too_large"
		case errors.Is(err, page.ErrNotUTF8):
			reason = "charset"
		case fresh: // said once for the same bytes (they are kept refused)
			p.log.Info("page not decodable, passed through", "path", string(x.ctx.Path()), "encoding", enc.String(), "err", err)
		}
		p.metrics.passThrough(reason)
		p.viewFromURL(x, now)
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	p.metrics.pageSkips(&a.Skips)
	v := x.facts()
	var ev learn.Event
	var prof *profile.Profile
	// The profile as this request sees it: a plan reads it until released.
	d := snapshots.Get().(*profile.Data)
	defer snapshots.Put(d)
	if x.preview != nil {
		ev, *d = p.previewProfile(x, v, a, fresh, now) // records nothing of the visitor
	} else {
		var cartBuf [profile.MaxCart]profile.CartLine
		var cart []profile.CartLine
		purchase := x.page == rules.PagePurchase && (len(cfg.Experiments) > 0 || attributes(cfg))
		if purchase {
			cart = p.cartOf(x.visitorID, cartBuf[:0]) // before the purchase empties it
		}
		ev = p.learner.Page(v, a, fresh, now)
		prof = p.view(x, v, ev, now)
		if purchase {
			// The order the page shows, else the cart's value as it was
			// checked out; a page of neither (a reload once the cart is
			// empty, with no order on the page) is no new order.
			// An order with no number counts only with a cart checked out.
			// It counts in the experiments and for the block or overlay
			// last clicked (conversions.go).
			switch {
			case a.HasOrder && (a.Order.Number != "" || len(cart) > 0):
				p.ordered(cfg, prof, a.Order.Number, a.Order.Total, now)
			case !a.HasOrder && len(cart) > 0:
				p.ordered(cfg, prof, "", orderValue(p.catalog, cart), now)
			}
		}
		if cfg.GlobalControl > 0 && prof != nil && p.experiments.global(cfg, prof, x.visitorID) == rules.ArmControl {
			p.metrics.passThrough("global_control")
			p.respond(x, resp, newPooledBody(raw), len(*raw), false)
			return
		}
	}
	if len(a.Regions) == 0 {
		p.metrics.passThrough("no_change")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}

	if prof != nil {
		*d = prof.Snapshot()
	}
	verdict := csp.AllowAll
	if a.Injects {
		verdict = pageCSP(x, resp, a)
	}
	in := &plan.Input{
		Config:  cfg,
		Page:    a,
		Profile: d,
		Request: plan.Request{
			Type:       x.page,
			VisitorID:  x.visitorID,
			Returning:  x.returning,
			Host:       x.ctx.Request.Header.Host(),
			HTTPS:      x.https,
			Product:    ev.Product,
			Categories: ev.Categories,
			Dismissed:  browser{x.ctx},
			Lookup:     browser{x.ctx},
			Place:      x.place(),
		},
		CSP:     verdict,
		Now:     now,
		Engine:  p.rec,
		Catalog: p.catalog,
		Counts:  &p.counts,
		Explain: x.preview != nil,
	}
	if x.preview != nil {
		x.preview.apply(in)
	}
	pl := plan.Decide(in)
	if x.preview == nil && !x.prefetch {
		p.experiments.expose(cfg, prof, pl.Exposures) // a prefetch is no view
	}
	// Released when the handler returns, before fasthttp writes the body:
	// the body is made of the shop's bytes and the rendered ones (scratch,
	// the block cache), never of the plan's.
	defer pl.Release()
	if x.preview != nil {
		x.preview.explain = plan.AppendExplain(nil, pl, a, cfg)
	}
	if pl.CSPSkipped {
		p.metrics.cspSkipped.Add(1)
	}
	if !pl.Changed() && x.preview == nil {
		p.metrics.passThrough("no_change")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	scratch := bufpool.Get()
	out := x.conf.render.Render(scratch, pl, a, verdict, now)
	if x.preview != nil {
		p.previewBadge(x, pl, a, verdict.Style, verdict.StyleNonce, out.Contents)
	} else {
		p.metrics.rendered(x.conf.cfg, pl, a, &out)
	}
	if !out.Changed() {
		bufpool.Put(scratch)
		p.metrics.passThrough("no_change")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	switch enc {
	case codec.Identity:
		// The shop's bytes go out from the buffer they were read into, the
		// visitor's from scratch: no copy of the page.
		b := newSplicedBody(raw, scratch, 2*len(out.Contents)+1)
		var size int
		b.pieces, size = splice.Pieces(b.pieces, *raw, a.Spans, out.Contents)
		p.metrics.rewrote(time.Since(x.start))
		p.respond(x, resp, b, size, true)
		return
	case codec.Gzip:
		body := bufpool.Get()
		*body = a.Gzip.AppendParts((*body)[:0], out.Contents, out.Cuts, cfg.Limits.GzipLevel)
		bufpool.Put(scratch)
		bufpool.Put(raw)
		p.metrics.rewrote(time.Since(x.start))
		p.respond(x, resp, newPooledBody(body), len(*body), true)
		return
	}
	// Brotli (for clients that take nothing else) is decoded and
	// re-encoded whole.
	plain, body := bufpool.Get(), bufpool.Get()
	*plain, err = codec.Decode((*plain)[:0], *raw, enc, limit)
	if err == nil {
		*body = splice.Assemble((*body)[:0], *plain, a.Spans, out.Contents)
		*plain, err = x.conf.enc.Encode((*plain)[:0], *body, enc)
		body, plain = plain, body
	}
	bufpool.Put(plain)
	bufpool.Put(scratch)
	if err != nil {
		bufpool.Put(body)
		p.log.Error("re-encode page", "encoding", enc.String(), "err", err)
		p.metrics.passThrough("encode_error")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	bufpool.Put(raw)
	p.metrics.rewrote(time.Since(x.start))
	p.respond(x, resp, newPooledBody(body), len(*body), true)
}

// snapshots are the copies of visitors' profiles that plans read
// (profile.Data, 760 bytes of arrays): one a personalized request, which
// would otherwise be allocated for each, as the plan keeps a pointer to it.
var snapshots = sync.Pool{New: func() any { return new(profile.Data) }}

// exchange is one request on its way through the proxy, made by Handler
// and dropped when it returns (nothing of it, or of ctx, outlives the
// handler). Each group of fields says which step writes it; every other
// step only reads it. Configuration values come from conf, never from a
// later load, so that a request sees one configuration from start to end.
type exchange struct {
	ctx   *fasthttp.RequestCtx // the visitor's request (read by every step) and the response (written by respond and the error pages)
	conf  *config              // the configuration in force; read-only
	start time.Time

	// waited is how long the request waited for the shop: forward, and
	// every later read of the shop's body (personalize, passThrough), add
	// to it, so that the time the proxy itself adds can be told apart.
	waited time.Duration

	// Set by classify.
	https       bool
	trustedPeer bool
	tracked     bool         // a person who allows tracking: not a bot, no Sec-GPC
	device      agent.Device // what the user agent reads as (a bot's: the zero Device)
	prefetch    bool         // a prefetch or prerender: not a view
	candidate   bool         // a GET for a page that may be personalized
	document    bool         // a candidate that asks for a page (isDocument): asked for whole (forwardOpts.whole)
	accepts     codec.Accepted
	page        rules.PageType
	rule        *rules.PageRule
	cartAdd     *rules.CartAdd

	// Set by identify.
	visitorID string // "" when not identified
	returning bool   // the visitor's token was valid
	refresh   bool   // the token must be (re)issued

	// Response instructions: setCookie is set by the step that decides it
	// (recordCartAdd, personalize) and carried out by respond, which
	// writes token when it issues one (setVisitorCookie).
	setCookie bool   // put the visitor's token on this response
	token     string // the token to set; issued by respond when ""

	// Set by readPreview: the preview the browser is in; nil: none. Under
	// preview nothing is recorded or counted (preview.go).
	preview *preview

	// Written by facts, for the learn step: what it reads of the request.
	learnFacts learn.Facts
}
