package proxy

import (
	"bytes"
	"encoding/json"
	"net/url"
	"shopedge/proxy/learn"
	"shopedge/proxy/profile"
	"shopedge/proxy/traffic"
	"shopedge/rules"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The glue between the exchange and the learn step: what recording reads
// of the request, and the cart add's body.

// searchQuery is a search page's query, from its URL's arguments; "" for
// other pages.
func searchQuery(t rules.PageType, rule *rules.PageRule, args *fasthttp.Args) string {
	if rule == nil || t != rules.PageSearch {
		return ""
	}
	return string(args.Peek(rule.Query))
}

// facts is what the learn step knows of the request.
func (x *exchange) facts() *learn.Facts {
	ctx, cfg := x.ctx, x.conf.cfg
	query := searchQuery(x.page, x.rule, ctx.QueryArgs())
	x.learnFacts = learn.Facts{
		VisitorID: x.visitorID,
		Returning: x.returning,
		Prefetch:  x.prefetch,
		Page:      x.page,
		Path:      ctx.Path(),
		Query:     query,
		Customer:  cfg.Identity.CustomerCookie != "" && len(requestCookie(&ctx.Request.Header, cfg.Identity.CustomerCookie)) > 0,
		Device:    x.device,
		Source:    source(ctx),
		VisitGap:  cfg.Profiles.VisitGap.D(),
		HalfLife:  cfg.Profiles.InterestHalfLife.D(),
	}
	return &x.learnFacts
}

// viewFromURL records the view of a page the proxy did not read, by what
// its URL says (nothing under preview). A new visitor whose cookie does
// not go out with this response (a page too large to rewrite passes
// through with the shop's headers) is not recorded: they would come back
// as someone else, and every such request would leave a profile nobody
// owns.
func (p *Proxy) viewFromURL(x *exchange, now time.Time) {
	if x.preview != nil {
		return // a preview records nothing
	}
	if !x.returning && !x.setCookie {
		return
	}
	v := x.facts()
	p.view(x, v, p.learner.FromURL(v), now)
}

// view records a page view and counts it.
func (p *Proxy) view(x *exchange, v *learn.Facts, ev learn.Event, now time.Time) *profile.Profile {
	prof := p.learner.View(v, ev, now)
	if !x.prefetch {
		p.metrics.events.Add(1)
	}
	return prof
}

// recordCartAdd records an add-to-cart request the shop accepted.
func (p *Proxy) recordCartAdd(x *exchange) {
	ident, qty := cartAddFields(&x.ctx.Request, x.cartAdd)
	if p.learner.CartAdd(x.facts(), ident, qty, p.now()) {
		p.metrics.events.Add(1)
		if len(x.conf.cfg.Experiments) > 0 {
			if prof, ok := p.profiles.Get(x.visitorID); ok {
				p.experiments.cartAdd(x.conf.cfg, prof)
			}
		}
		// The token goes on this response: it answers a POST, which no
		// shared cache stores.
		x.setCookie = x.refresh
	}
}

// source reads where a request came from: UTM parameters, the referring
// host when it is another site, and the class of traffic they and the
// landing URL's click ids (gclid, fbclid, msclkid, ...) make.
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
	click := false
	for _, id := range &traffic.ClickIDs {
		if args.Has(id) {
			click = true
			break
		}
	}
	s.Class = traffic.Classify(traffic.Visit{Referrer: s.Referrer, UTMSource: s.UTMSource, UTMMedium: s.UTMMedium, ClickID: click})
	return s
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
