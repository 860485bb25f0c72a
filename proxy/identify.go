package proxy

import (
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/identity"
)

// identify reads the visitor's token. A missing or invalid one (tampered,
// expired, foreign) makes a new visitor; nothing is answered differently.
// Under preview, the token is read and nothing issued.
func (p *Proxy) identify(x *exchange) {
	if x.preview != nil {
		p.identifyPreview(x) // read only (preview.go)
		return
	}
	raw := x.ctx.Request.Header.Cookie(x.conf.cfg.CookieName)
	if len(raw) > 0 && len(raw) <= identity.MaxTokenLen {
		if who, ok := p.ids.VerifyBytes(raw); ok {
			x.visitorID, x.returning = who.ID, true
			x.refresh = p.ids.NeedsRefresh(who)
			p.readThrough(who.ID) // another instance may have seen them last
			return
		}
		p.metrics.badTokens.Add(1)
	}
	x.visitorID, x.refresh = identity.NewVisitorID(), true
	p.metrics.newVisitors.Add(1)
}

// setVisitorCookie puts the visitor's token on the response.
func (p *Proxy) setVisitorCookie(x *exchange) {
	if x.token == "" {
		tok, err := p.ids.Issue(x.visitorID)
		if err != nil {
			p.log.Error("issue visitor token", "err", err)
			return
		}
		x.token = tok
	}
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(x.conf.cfg.CookieName)
	c.SetValue(x.token)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	c.SetSecure(x.https || x.conf.cfg.Identity.HTTPSOnly)
	c.SetMaxAge(int(p.ids.TTL() / time.Second))
	x.ctx.Response.Header.SetCookie(c)
}
