package proxy

import (
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/codec"
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
		p.identify(x)
	}
	resp, ok := p.forward(x, facts)
	if !ok {
		return
	}
	if x.cartAdd != nil && resp.StatusCode() < 400 {
		p.recordCartAdd(x)
	}
	if reason := rewritable(resp, x); reason != "" {
		p.metrics.passThrough(reason)
		p.passThrough(x, resp, nil)
		return
	}
	p.personalize(x, resp)
}

// exchange is one request on its way through the proxy, made by Handler
// and dropped when it returns (nothing of it, or of ctx, outlives the
// handler). Each group of fields says which step sets it; the steps after
// only read it. Configuration values come from conf, never from a later
// load, so that a request sees one configuration from start to end.
type exchange struct {
	ctx   *fasthttp.RequestCtx // the visitor's request (read by every step) and the response (written by respond and the error pages)
	conf  *config              // the configuration in force; read-only
	start time.Time

	// waited is how long the request waited for the shop: forward, and
	// every later read of the shop's body, add to it, so that the time
	// the proxy itself adds can be told apart.
	waited time.Duration

	// Set by classify.
	https       bool
	trustedPeer bool
	tracked     bool // a person who allows tracking: not a bot, no Sec-GPC
	prefetch    bool // a prefetch or prerender: not a view
	candidate   bool // a GET for a page that may be personalized
	accepts     codec.Accepted
	page        rules.PageType
	rule        *rules.PageRule
	cartAdd     *rules.CartAdd

	// Set by identify.
	visitorID string // "" when not identified
	returning bool   // the visitor's token was valid
	refresh   bool   // the token must be (re)issued

	// Response instructions, set by the step that decides them (the cart
	// add, personalize) and carried out by respond.
	setCookie bool   // put the visitor's token on this response
	token     string // the token to set; issued by respond when ""
}
