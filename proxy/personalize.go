package proxy

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/html"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/profile"
	"shopedge/rewrite"
	"shopedge/rules"
)

// personalize handles a page that may be personalized: it reads the body
// (bounded), decodes it, learns from it, records the view, decides what to
// change for this visitor, splices the changes in and re-encodes. Whatever
// it cannot do safely, it skips: the shop's bytes go out instead.
func (p *Proxy) personalize(ctx *fasthttp.RequestCtx, st *state, v *visit, resp *fasthttp.Response, start time.Time) {
	cfg := st.cfg
	limit := int(cfg.Limits.MaxRewriteBody)
	now := p.now()
	if cl := resp.Header.ContentLength(); cl > limit {
		p.metrics.passThrough("too_large")
		p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
		p.passThrough(ctx, st, resp, v, nil)
		return
	}
	raw := getBuf()
	complete, err := readBody(resp, limit, raw)
	if err != nil {
		// Nothing was sent yet: a cut body is a failed exchange, never a
		// short 200.
		if resp.IsBodyStream() {
			_ = resp.CloseBodyStream()
		}
		fasthttp.ReleaseResponse(resp)
		putBuf(raw)
		p.upstreamError(ctx, err)
		return
	}
	if !complete {
		p.metrics.passThrough("too_large")
		p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
		p.passThrough(ctx, st, resp, v, raw)
		return
	}
	defer putBuf(raw)

	enc := codec.Parse(resp.Header.ContentEncoding())
	page := *raw
	var dec *[]byte
	if enc != codec.Identity {
		dec = getBuf()
		defer putBuf(dec)
		*dec, err = codec.Decode((*dec)[:0], *raw, enc, limit)
		if err != nil {
			reason := "decode_error"
			if errors.Is(err, codec.ErrTooLarge) {
				reason = "too_large"
			} else {
				p.log.Info("page not decodable, passed through", "path", string(ctx.Path()), "encoding", enc.String(), "err", err)
			}
			p.metrics.passThrough(reason)
			p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
			p.sendBuffered(ctx, st, resp, v, *raw, false)
			return
		}
		page = *dec
	}
	if !isUTF8(page, resp.Header.ContentType()) {
		p.metrics.passThrough("charset")
		p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
		p.sendBuffered(ctx, st, resp, v, *raw, false)
		return
	}

	doc := rewrite.Parse(page)
	defer doc.Release()
	ev := p.learn(ctx, v, doc, now)
	prof := p.recordView(ctx, st, v, ev, now)

	ed := doc.Edit()
	if cfg.Navigation != nil && v.returning {
		snap := prof.Snapshot()
		p.reorderNavigation(cfg, doc, ed, &snap, now)
	}
	if ed.Len() == 0 {
		p.metrics.passThrough("no_change")
		p.sendBuffered(ctx, st, resp, v, *raw, false)
		return
	}
	out := getBuf()
	defer putBuf(out)
	*out = ed.Bytes((*out)[:0])
	body := *out
	if enc != codec.Identity {
		zbuf := getBuf()
		defer putBuf(zbuf)
		*zbuf, err = st.enc.Encode((*zbuf)[:0], *out, enc)
		if err != nil {
			p.log.Error("re-encode page", "encoding", enc.String(), "err", err)
			p.metrics.passThrough("encode_error")
			p.sendBuffered(ctx, st, resp, v, *raw, false)
			return
		}
		body = *zbuf
	}
	p.metrics.rewrote(time.Since(start))
	p.sendBuffered(ctx, st, resp, v, body, true)
}

// learn reads what a page teaches: the product it shows (into the
// catalog), the category path of a category page, search terms.
func (p *Proxy) learn(ctx *fasthttp.RequestCtx, v *visit, doc *rewrite.Doc, now time.Time) pageEvent {
	var ev pageEvent
	switch v.page {
	case rules.PageProduct:
		if prod, ok := catalog.Extract(catalog.FromDoc(doc, pageURL(ctx, v))); ok {
			// The page's absolute URLs may carry whatever Host the visitor
			// sent: keep the product's address, and an image on the page's
			// own host, as paths on the shop.
			prod.URL = localPath(prod.URL)
			if u, err := url.Parse(prod.Image); err == nil && strings.EqualFold(u.Host, string(ctx.Request.Header.Host())) {
				prod.Image = u.RequestURI()
			}
			p.catalog.Put(prod, now)
			ev.product = prod.ID
			for _, c := range prod.Categories {
				ev.categories = append(ev.categories, c.ID)
			}
			return ev
		}
		return p.eventFromURL(ctx, v)
	case rules.PageCategory:
		crumbs := catalog.Breadcrumbs(catalog.FromDoc(doc, pageURL(ctx, v)))
		for _, c := range crumbs {
			ev.categories = append(ev.categories, c.ID)
		}
		self := catalog.CategoryID(catalog.PathKey(string(ctx.Path())), "")
		if len(ev.categories) == 0 || ev.categories[len(ev.categories)-1] != self {
			ev.categories = append(ev.categories, self)
		}
		return ev
	}
	return p.eventFromURL(ctx, v)
}

// eventFromURL is what a page view teaches without reading the page.
func (p *Proxy) eventFromURL(ctx *fasthttp.RequestCtx, v *visit) pageEvent {
	var ev pageEvent
	switch v.page {
	case rules.PageProduct:
		if id, ok := p.catalog.Resolve(catalog.PathKey(string(ctx.Path()))); ok {
			ev.product = id
			if prod, ok := p.catalog.Get(id); ok {
				for _, c := range prod.Categories {
					ev.categories = append(ev.categories, c.ID)
				}
			}
		}
	case rules.PageCategory:
		ev.categories = []catalog.ID{catalog.CategoryID(catalog.PathKey(string(ctx.Path())), "")}
	case rules.PageSearch:
		if v.rule != nil {
			ev.query = string(ctx.QueryArgs().Peek(v.rule.Query))
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

// pageURL is the page's address as the visitor sees it.
func pageURL(ctx *fasthttp.RequestCtx, v *visit) string {
	return scheme(v.https) + "://" + string(ctx.Request.Header.Host()) + string(ctx.Path())
}

// anchors selects links.
type anchors struct{}

func (anchors) Match(n *html.Node) bool {
	if n.Data != "a" {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "href" {
			return true
		}
	}
	return false
}

// reorderNavigation moves the menu entries of the categories the visitor
// is interested in to the front, most interesting first. An entry's
// interest is the highest interest in any category it links to (its
// submenu included).
func (p *Proxy) reorderNavigation(cfg *rules.Config, doc *rewrite.Doc, ed *rewrite.Editor, d *profile.Data, now time.Time) {
	nav := cfg.Navigation
	half := cfg.Profiles.InterestHalfLife.D()
	for _, menu := range doc.Find(nav.Container) {
		for _, items := range siblingGroups(menu.FindOutermost(nav.Item)) {
			p.reorderItems(nav, ed, items, d, now, half)
		}
	}
}

// siblingGroups splits elements (in document order) into runs that share a
// parent: entries move within their own list only.
func siblingGroups(items []rewrite.Element) [][]rewrite.Element {
	var groups [][]rewrite.Element
	for len(items) > 0 {
		parent := items[0].Node().Parent
		n := 1
		for n < len(items) && items[n].Node().Parent == parent {
			n++
		}
		groups = append(groups, items[:n])
		items = items[n:]
	}
	return groups
}

func (p *Proxy) reorderItems(nav *rules.Navigation, ed *rewrite.Editor, items []rewrite.Element, d *profile.Data, now time.Time, half time.Duration) {
	if len(items) < 2 {
		return
	}
	interest := make([]float64, len(items))
	for i, it := range items {
		for _, a := range it.Find(anchors{}) {
			href, _ := a.Attr("href")
			for _, id := range []catalog.ID{
				catalog.CategoryID(catalog.PathKey(href), ""),
				catalog.CategoryID("", a.Text()),
			} {
				interest[i] = max(interest[i], d.Interest(id, now, half))
			}
		}
	}
	order, changed := nav.Order(interest)
	if !changed {
		return
	}
	if err := ed.Reorder(items, order); err != nil {
		p.metrics.passThrough("nav_unsafe")
		p.log.Debug("navigation not reordered", "err", err)
	}
}
