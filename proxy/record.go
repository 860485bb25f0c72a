package proxy

import (
	"bytes"
	"encoding/json"
	"net/url"
	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// profileOf returns the visitor's profile, creating it, and records the
// request's visit-level facts: a new visit's source and device. back is
// true when the visitor's cookie came back to a profile seen in one second
// only, before this request (see countPeople).
func (p *Proxy) profileOf(x *exchange, now time.Time) (prof *profile.Profile, back bool) {
	ctx, cfg := x.ctx, x.conf.cfg
	prof, _ = p.profiles.Load(x.visitorID)
	customer := cfg.Identity.CustomerCookie != "" && len(ctx.Request.Header.Cookie(cfg.Identity.CustomerCookie)) > 0
	prof.Update(func(d *profile.Data) {
		back = x.returning && d.LastSeen == d.FirstSeen
		if d.Touch(now, cfg.Profiles.VisitGap.D()) {
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
func (p *Proxy) recordCartAdd(x *exchange) {
	ident, qty := cartAddFields(&x.ctx.Request, x.cartAdd)
	if ident == "" || x.visitorID == "" {
		return
	}
	id, ok := p.catalog.Resolve(ident)
	if !ok {
		id = catalog.KeyOf(ident) // not seen yet; kept by its identifier
	}
	now := p.now()
	prof, back := p.profileOf(x, now)
	var visitStart uint32
	had := false
	prof.Update(func(d *profile.Data) {
		had = d.InCart(id)
		d.AddToCart(id, qty, now)
		visitStart = d.VisitStart
	})
	p.learn(x.visitorID, visitStart, id, nil, recommend.Cart, now)
	p.countPeople(x, back)
	if !had {
		if x.returning {
			p.carts.Add(id, now, true, true)
		} else {
			p.carts.Hold(x.visitorID, id, now) // a person once the cookie comes back
		}
	}
	p.metrics.events.Add(1)
	// The token goes on this response: it answers a POST, which no shared
	// cache stores.
	x.setCookie = x.refresh
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
func (p *Proxy) recordView(x *exchange, ev pageEvent, now time.Time) *profile.Profile {
	prof, back := p.profileOf(x, now)
	p.countPeople(x, back)
	if x.prefetch {
		return prof // forwarded, not a view
	}
	half := x.conf.cfg.Profiles.InterestHalfLife.D()
	var visitStart uint32
	var bought [profile.MaxCart]catalog.ID
	nBought := 0
	var lastView time.Time
	seen := false
	prof.Update(func(d *profile.Data) {
		visitStart = d.VisitStart
		switch x.page {
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
			d.Purchase(now)
		default:
			d.ViewPage()
		}
	})
	p.metrics.events.Add(1)
	if x.page == rules.PageProduct && ev.product != 0 {
		p.learn(x.visitorID, visitStart, ev.product, ev.categories, recommend.View, now)
		// People, not page views: a visitor counts once an hour and once
		// a day for a product, and only once identified.
		if x.returning {
			since := now.Sub(lastView)
			p.views.Add(ev.product, now, !seen || since >= time.Hour, !seen || since >= 24*time.Hour)
		} else {
			p.views.Hold(x.visitorID, ev.product, now)
		}
	}
	for _, id := range bought[:nBought] {
		p.learn(x.visitorID, visitStart, id, nil, recommend.Purchase, now)
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
func (p *Proxy) countPeople(x *exchange, back bool) {
	if back {
		p.views.Identified(x.visitorID)
		p.carts.Identified(x.visitorID)
	}
}

// learn records a product event in the recommendation engine.
func (p *Proxy) learn(visitorID string, visitStart uint32, id catalog.ID, cats []catalog.ID, kind recommend.Kind, now time.Time) {
	if id == 0 || visitorID == "" {
		return
	}
	if cats == nil {
		var buf [4]catalog.ID
		cats, _, _, _ = p.catalog.Facts(id, buf[:0])
	}
	p.rec.Record(recommend.Event{Session: plan.SessionKey(visitorID, visitStart), Item: id, Categories: cats, Kind: kind, Time: now})
}

// learnPage is what the proxy learns from a page it read: the product a
// product page describes goes into the catalog, the first time these
// bytes are seen (fresh) or when the catalog has forgotten it since. It
// returns what the view teaches the visitor's profile.
func (p *Proxy) learnPage(x *exchange, a *page.Analysis, fresh bool, now time.Time) pageEvent {
	switch {
	case x.page == rules.PageProduct && a.HasProduct:
		if fresh || !p.catalog.Has(a.Product.ID) {
			prod := a.Product
			// The page's absolute URLs may carry whatever Host the visitor
			// sent: keep the product's address, and an image on the page's
			// own host, as paths on the shop.
			prod.URL = localPath(prod.URL)
			if u, err := url.Parse(prod.Image); err == nil && strings.EqualFold(u.Host, string(x.ctx.Request.Header.Host())) {
				prod.Image = u.RequestURI()
			}
			p.catalog.Put(prod, now)
		}
		ev := pageEvent{product: a.Product.ID}
		for _, c := range a.Product.Categories {
			ev.categories = append(ev.categories, c.ID)
		}
		return ev
	case x.page == rules.PageCategory:
		ev := pageEvent{categories: append([]catalog.ID(nil), a.Crumbs...)}
		self := catalog.CategoryID(catalog.PathKey(string(x.ctx.Path())), "")
		if len(ev.categories) == 0 || ev.categories[len(ev.categories)-1] != self {
			ev.categories = append(ev.categories, self)
		}
		return ev
	}
	return p.eventFromURL(x)
}

// eventFromURL is what a page view teaches without reading the page.
func (p *Proxy) eventFromURL(x *exchange) pageEvent {
	var ev pageEvent
	switch x.page {
	case rules.PageProduct:
		if id, ok := p.catalog.Resolve(catalog.PathKey(string(x.ctx.Path()))); ok {
			ev.product = id
			if prod, ok := p.catalog.Get(id); ok {
				for _, c := range prod.Categories {
					ev.categories = append(ev.categories, c.ID)
				}
			}
		}
	case rules.PageCategory:
		ev.categories = []catalog.ID{catalog.CategoryID(catalog.PathKey(string(x.ctx.Path())), "")}
	case rules.PageSearch:
		if x.rule != nil {
			ev.query = string(x.ctx.QueryArgs().Peek(x.rule.Query))
		}
	}
	return ev
}

// localPath reduces a URL to its path and query, or "" when it is not an
// http(s) URL.
func localPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.RequestURI()
}
