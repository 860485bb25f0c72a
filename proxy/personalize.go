package proxy

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/csp"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/splice"
	"shopedge/rewrite/markup"
)

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
		p.recordView(x, p.eventFromURL(x), now)
		p.passThrough(x, resp, nil)
		return
	}
	raw := getBuf()
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
		putBuf(raw)
		p.upstreamError(x.ctx, err)
		return
	}
	if !complete {
		p.metrics.passThrough("too_large")
		p.recordView(x, p.eventFromURL(x), now)
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
		default:
			p.log.Info("page not decodable, passed through", "path", string(x.ctx.Path()), "encoding", enc.String(), "err", err)
		}
		p.metrics.passThrough(reason)
		p.recordView(x, p.eventFromURL(x), now)
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	p.metrics.pageSkips(&a.Skips)
	ev := p.learnPage(x, a, fresh, now)
	prof := p.recordView(x, ev, now)
	if len(a.Regions) == 0 {
		p.metrics.passThrough("no_change")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}

	d := prof.Snapshot()
	verdict := csp.AllowAll
	if a.Injects {
		verdict = pageCSP(x, resp, a)
	}
	pl := plan.Decide(&plan.Input{
		Config:  cfg,
		Page:    a,
		Profile: &d,
		Request: plan.Request{
			Type:       x.page,
			VisitorID:  x.visitorID,
			Returning:  x.returning,
			Host:       string(x.ctx.Request.Header.Host()),
			HTTPS:      x.https,
			Product:    ev.product,
			Categories: ev.categories,
			Dismissed:  dismissals{x.ctx},
		},
		CSP:     verdict,
		Now:     now,
		Engine:  p.rec,
		Catalog: p.catalog,
		Counts:  liveCounts{views: p.views, carts: p.carts},
	})
	if pl.CSPSkipped {
		p.metrics.cspSkipped.Add(1)
	}
	if !pl.Changed() {
		p.metrics.passThrough("no_change")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	scratch := getBuf()
	out := x.conf.render.Render(scratch, pl, a, verdict, now)
	p.metrics.rendered(x.conf.cfg, pl, a, &out)
	if !out.Changed() {
		putBuf(scratch)
		p.metrics.passThrough("no_change")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	switch enc {
	case codec.Identity:
		// The shop's bytes go out from the buffer they were read into, the
		// visitor's from scratch: no copy of the page.
		b := &splicedBody{raw: raw, scratch: scratch}
		var size int
		b.pieces, size = splice.Pieces(make([][]byte, 0, 2*len(out.Contents)+1), *raw, a.Spans, out.Contents)
		p.metrics.rewrote(time.Since(x.start))
		p.respond(x, resp, b, size, true)
		return
	case codec.Gzip:
		body := getBuf()
		*body = a.Gzip.Append((*body)[:0], out.Contents, cfg.Limits.GzipLevel)
		putBuf(scratch)
		putBuf(raw)
		p.metrics.rewrote(time.Since(x.start))
		p.respond(x, resp, newPooledBody(body), len(*body), true)
		return
	}
	// Brotli (for clients that take nothing else) is decoded and
	// re-encoded whole.
	plain, body := getBuf(), getBuf()
	*plain, err = codec.Decode((*plain)[:0], *raw, enc, limit)
	if err == nil {
		*body = splice.Assemble((*body)[:0], *plain, a.Spans, out.Contents)
		*plain, err = x.conf.enc.Encode((*plain)[:0], *body, enc)
		body, plain = plain, body
	}
	putBuf(plain)
	putBuf(scratch)
	if err != nil {
		putBuf(body)
		p.log.Error("re-encode page", "encoding", enc.String(), "err", err)
		p.metrics.passThrough("encode_error")
		p.respond(x, resp, newPooledBody(raw), len(*raw), false)
		return
	}
	putBuf(raw)
	p.metrics.rewrote(time.Since(x.start))
	p.respond(x, resp, newPooledBody(body), len(*body), true)
}

// analysis returns the page's analysis: kept from an earlier response
// with the same bytes, or made now (fresh) and kept.
func (p *Proxy) analysis(x *exchange, raw []byte, enc codec.Encoding, contentType []byte) (a *page.Analysis, fresh bool, err error) {
	key := page.Key(raw, enc, x.page, x.conf.gen)
	if a, ok := p.pages.Get(key, len(raw)); ok {
		p.metrics.pageHits.Add(1)
		return a, false, nil
	}
	p.metrics.pageMisses.Add(1)
	a, err = page.Analyze(page.Input{
		Config:      x.conf.cfg,
		Type:        x.page,
		Raw:         raw,
		Encoding:    enc,
		ContentType: contentType,
		URL:         scheme(x.https) + "://" + string(x.ctx.Request.Header.Host()) + string(x.ctx.Path()),
		Budget:      p.pages.Budget(),
		Log:         p.log,
	})
	if err != nil {
		return nil, false, err
	}
	p.pages.Put(key, a)
	return a, true, nil
}

// pageCSP returns the verdict of the response's and the page's policies.
func pageCSP(x *exchange, resp *fasthttp.Response, a *page.Analysis) csp.Verdict {
	if len(a.CSP) == 0 && resp.Header.Peek("Content-Security-Policy") == nil {
		return csp.AllowAll // most pages: no policy
	}
	var policies []string
	for _, v := range resp.Header.PeekAll("Content-Security-Policy") {
		policies = append(policies, string(v))
	}
	policies = append(policies, a.CSP...)
	return csp.Check(policies, string(x.ctx.Request.Header.Host()), x.https)
}

// dismissals reads the overlays a browser dismissed: the script sets a
// cookie for each (markup.DismissCookiePrefix and the overlay's id).
type dismissals struct{ ctx *fasthttp.RequestCtx }

func (d dismissals) Dismissed(id string) bool {
	return len(d.ctx.Request.Header.Cookie(markup.DismissCookiePrefix+id)) > 0
}

// liveCounts are the counts social proof reads, for plan.
type liveCounts struct{ views, carts *live.Counter }

func (c liveCounts) Views(id catalog.ID, now time.Time) live.Counts { return c.views.Get(id, now) }
func (c liveCounts) Carts(id catalog.ID, now time.Time) live.Counts { return c.carts.Get(id, now) }
