package proxy

// The page path's steps that handler.go calls: the analysis (cached), the
// CSP verdict, and what plan reads through its interfaces.

import (
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/csp"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/rewrite/markup"
)

// analysis returns the page's analysis: kept from an earlier response
// with the same bytes (and encoding, Content-Type and page type, under
// the same configuration), or made now (fresh) and kept. A page Analyze
// refuses (not decodable within the limit, not UTF-8) is kept refused
// too: its error comes back for the same bytes without decoding them
// again (fresh only the first time).
func (p *Proxy) analysis(x *exchange, raw []byte, enc codec.Encoding, contentType []byte) (a *page.Analysis, fresh bool, err error) {
	preview := x.preview != nil
	key := page.Key(raw, enc, contentType, x.page, x.conf.gen)
	if a, ok := p.pages.Get(key, len(raw)); ok && (!preview || a.HasBodyRegion() || a.Refused != nil) {
		p.metrics.pageHits.Add(1)
		if a.Refused != nil {
			return nil, false, a.Refused
		}
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
		Badge:       preview, // a place for the badge on every page
	})
	if err != nil {
		p.pages.Put(key, page.Refusal(len(raw), err))
		return nil, true, err
	}
	if !preview {
		p.pages.Put(key, a) // a preview's analysis has a place others' have not
	}
	return a, true, nil
}

// pageCSP returns the verdict of the response's and the page's policies.
func pageCSP(x *exchange, resp *fasthttp.Response, a *page.Analysis) csp.Verdict {
	return policyVerdict(resp, a, string(x.ctx.Request.Header.Host()), x.https)
}

// policyVerdict is the verdict of a response's and its page's policies for
// the proxy's assets on host.
func policyVerdict(resp *fasthttp.Response, a *page.Analysis, host string, https bool) csp.Verdict {
	if len(a.CSP) == 0 && resp.Header.Peek("Content-Security-Policy") == nil {
		return csp.AllowAll // most pages: no policy
	}
	var policies []string
	for _, v := range resp.Header.PeekAll("Content-Security-Policy") {
		policies = append(policies, string(v))
	}
	policies = append(policies, a.CSP...)
	return csp.Check(policies, host, https)
}

// browser is what plan reads of the visitor's request itself: cookies,
// headers, and the overlays the browser dismissed (the script sets a
// cookie for each: markup.DismissCookiePrefix and the overlay's id). Its
// slices alias the request: read during Decide only.
type browser struct{ ctx *fasthttp.RequestCtx }

func (b browser) Dismissed(id string) bool {
	return len(requestCookie(&b.ctx.Request.Header, markup.DismissCookiePrefix+id)) > 0
}

func (b browser) Cookie(name string) []byte { return requestCookie(&b.ctx.Request.Header, name) }

func (b browser) Header(name string) []byte { return b.ctx.Request.Header.Peek(name) }

// liveCounts are the counts social proof reads, for plan.
type liveCounts struct{ views, carts *live.Counter }

func (c *liveCounts) Views(id catalog.ID, now time.Time) live.Counts { return c.views.Get(id, now) }
func (c *liveCounts) Carts(id catalog.ID, now time.Time) live.Counts { return c.carts.Get(id, now) }
