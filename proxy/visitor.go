package proxy

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/identity"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// cookieName is the visitor cookie's name: __Host- prefixed for shops served
// over HTTPS only.
func cookieName(cfg *rules.Config) string {
	if cfg.Identity.HTTPSOnly {
		return "__Host-" + cfg.Identity.Cookie
	}
	return cfg.Identity.Cookie
}

// identify reads the visitor's token. A missing or invalid one (tampered,
// expired, foreign) makes a new visitor; nothing is answered differently.
func (p *Proxy) identify(ctx *fasthttp.RequestCtx, st *state, v *visit) {
	raw := ctx.Request.Header.Cookie(cookieName(st.cfg))
	if len(raw) > 0 && len(raw) <= identity.MaxTokenLen {
		if who, ok := p.ids.VerifyBytes(raw); ok {
			v.id, v.returning = who.ID, true
			v.issue = p.ids.NeedsRefresh(who)
			return
		}
		p.metrics.badTokens.Add(1)
	}
	v.id, v.issue = identity.NewVisitorID(), true
	p.metrics.newVisitors.Add(1)
}

// profileOf returns the visitor's profile, creating it, and records the
// request's visit-level facts: a new visit's source and device. back is
// true when the visitor's cookie came back to a profile seen in one second
// only, before this request (see countPeople).
func (p *Proxy) profileOf(ctx *fasthttp.RequestCtx, st *state, v *visit, now time.Time) (prof *profile.Profile, back bool) {
	prof, _ = p.profiles.Load(v.id)
	customer := st.cfg.Identity.CustomerCookie != "" && len(ctx.Request.Header.Cookie(st.cfg.Identity.CustomerCookie)) > 0
	prof.Update(func(d *profile.Data) {
		back = v.returning && d.LastSeen == d.FirstSeen
		if d.Touch(now, st.cfg.Profiles.VisitGap.D()) {
			d.Device = agent.Parse(ctx.Request.Header.UserAgent())
			d.SetSource(source(ctx))
		} else if src := source(ctx); src.UTMSource != "" {
			d.SetSource(src) // a campaign link mid-visit
		}
		if customer {
			d.Customer = true
		}
	})
	return prof, back
}

// source reads where a request came from: UTM parameters, and the
// referring host when it is another site.
func source(ctx *fasthttp.RequestCtx) profile.Source {
	args := ctx.QueryArgs()
	s := profile.Source{
		UTMSource:   string(args.Peek("utm_source")),
		UTMMedium:   string(args.Peek("utm_medium")),
		UTMCampaign: string(args.Peek("utm_campaign")),
	}
	if ref := ctx.Request.Header.Referer(); len(ref) > 0 {
		if u, err := url.Parse(string(ref)); err == nil && u.Host != "" && !strings.EqualFold(u.Host, string(ctx.Request.Header.Host())) {
			s.Referrer = strings.ToLower(u.Hostname())
		}
	}
	return s
}

// recordCartAdd records an add-to-cart request the shop accepted.
func (p *Proxy) recordCartAdd(ctx *fasthttp.RequestCtx, st *state, v *visit) {
	ident, qty := cartAddFields(&ctx.Request, v.cartAdd)
	if ident == "" || v.id == "" {
		return
	}
	id, ok := p.catalog.Resolve(ident)
	if !ok {
		id = catalog.KeyOf(ident) // not seen yet; kept by its identifier
	}
	now := p.now()
	prof, back := p.profileOf(ctx, st, v, now)
	var visitStart uint32
	had := false
	prof.Update(func(d *profile.Data) {
		had = d.InCart(id)
		d.AddToCart(id, qty)
		d.CartAt = uint32(now.Unix())
		visitStart = d.VisitStart
	})
	p.learn(v.id, visitStart, id, nil, recommend.Cart, now)
	p.countPeople(v, back)
	if !had {
		if v.returning {
			p.carts.Add(id, now, true, true)
		} else {
			p.carts.Hold(v.id, id, now) // a person once the cookie comes back
		}
	}
	p.metrics.events.Add(1)
	// The token goes on this response: it answers a POST, which no shared
	// cache stores.
	v.cookie = v.issue
}

// cartAddFields reads the product identifier and quantity from a form or
// JSON add-to-cart body.
func cartAddFields(req *fasthttp.Request, rule *rules.CartAdd) (ident string, qty int) {
	body := req.Body()
	if bytes.HasPrefix(bytes.TrimSpace(req.Header.ContentType()), []byte("application/json")) {
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return "", 0
		}
		ident = jsonScalar(m[rule.ProductField])
		qty, _ = strconv.Atoi(jsonScalar(m[rule.QuantityField]))
		return ident, qty
	}
	if bytes.HasPrefix(req.Header.ContentType(), []byte("multipart/form-data")) {
		if f, err := req.MultipartForm(); err == nil {
			if vs := f.Value[rule.ProductField]; len(vs) > 0 {
				ident = vs[0]
			}
			if vs := f.Value[rule.QuantityField]; len(vs) > 0 {
				qty, _ = strconv.Atoi(vs[0])
			}
		}
		return ident, qty
	}
	var args fasthttp.Args
	args.ParseBytes(body)
	ident = string(args.Peek(rule.ProductField))
	if ident == "" {
		ident = string(req.URI().QueryArgs().Peek(rule.ProductField))
	}
	qty, _ = strconv.Atoi(string(args.Peek(rule.QuantityField)))
	return ident, qty
}

func jsonScalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return ""
}

// pageEvent is what a page view teaches, read from the request and the
// page.
type pageEvent struct {
	product    catalog.ID
	categories []catalog.ID
	query      string
}

// recordView records a page view in the visitor's profile.
func (p *Proxy) recordView(ctx *fasthttp.RequestCtx, st *state, v *visit, ev pageEvent, now time.Time) *profile.Profile {
	prof, back := p.profileOf(ctx, st, v, now)
	p.countPeople(v, back)
	if v.prefetch {
		return prof // forwarded, not a view
	}
	half := st.cfg.Profiles.InterestHalfLife.D()
	var visitStart uint32
	var bought [profile.MaxCart]catalog.ID
	nBought := 0
	var lastView time.Time
	seen := false
	prof.Update(func(d *profile.Data) {
		visitStart = d.VisitStart
		switch v.page {
		case rules.PageProduct:
			if ev.product != 0 {
				lastView, seen = d.ViewedAt(ev.product)
				d.ViewProduct(ev.product, ev.categories, now, half)
			} else {
				d.ViewPage()
			}
		case rules.PageCategory:
			d.ViewCategory(ev.categories, now, half)
		case rules.PageSearch:
			d.Search(ev.query)
		case rules.PagePurchase:
			d.ViewPage()
			nBought = len(d.CartProducts(bought[:0]))
			d.Purchase()
			d.BoughtAt = uint32(now.Unix())
		default:
			d.ViewPage()
		}
	})
	p.metrics.events.Add(1)
	if v.page == rules.PageProduct && ev.product != 0 {
		p.learn(v.id, visitStart, ev.product, ev.categories, recommend.View, now)
		// People, not page views: a visitor counts once an hour and once
		// a day for a product, and only once identified.
		if v.returning {
			since := now.Sub(lastView)
			p.views.Add(ev.product, now, !seen || since >= time.Hour, !seen || since >= 24*time.Hour)
		} else {
			p.views.Hold(v.id, ev.product, now)
		}
	}
	for _, id := range bought[:nBought] {
		p.learn(v.id, visitStart, id, nil, recommend.Purchase, now)
	}
	return prof
}

// countPeople counts, for social proof, what a visitor did before they
// were known to be a person. Social proof counts people, not requests: a
// request without the visitor cookie (a first visit, or curl and most
// tools, every time) gets a new id, and its product view or cart add is
// held until a request brings that id back in the cookie. Crawlers and
// visitors who send Sec-GPC are never identified, so never counted.
//
// Only the request that brings the cookie back looks for what is held:
// back, from profileOf, is true when the profile was seen in one second
// only (the cookieless request that made the id, which alone may have
// held something, and requests of that same second) or was made afresh
// (evicted, expired). Once the visitor was seen a second later, that
// request took what was held, so the visitor's every later request costs
// no lookup.
func (p *Proxy) countPeople(v *visit, back bool) {
	if back {
		p.views.Identified(v.id)
		p.carts.Identified(v.id)
	}
}

// setVisitorCookie puts the visitor's token on the response.
func (p *Proxy) setVisitorCookie(ctx *fasthttp.RequestCtx, st *state, v *visit) {
	if v.token == "" {
		tok, err := p.ids.Issue(v.id)
		if err != nil {
			p.log.Error("issue visitor token", "err", err)
			return
		}
		v.token = tok
	}
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(cookieName(st.cfg))
	c.SetValue(v.token)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	c.SetSecure(v.https || st.cfg.Identity.HTTPSOnly)
	c.SetMaxAge(int(p.ids.TTL() / time.Second))
	ctx.Response.Header.SetCookie(c)
}
