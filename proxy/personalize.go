package proxy

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/profile"
	"shopedge/rewrite"
	"shopedge/rules"
)

// personalize handles a page that may be personalized: it reads the body
// (bounded), finds the page's analysis (decoding and indexing it the first
// time those bytes are seen), records the view, decides what to change for
// this visitor, splices the changes in and encodes the result. Whatever it
// cannot do safely, it skips: the shop's bytes go out instead. It returns
// how long it waited for the shop's body.
func (p *Proxy) personalize(ctx *fasthttp.RequestCtx, st *state, v *visit, resp *fasthttp.Response, start time.Time) (waited time.Duration) {
	cfg := st.cfg
	limit := int(cfg.Limits.MaxRewriteBody)
	now := p.now()
	if cl := resp.Header.ContentLength(); cl > limit {
		p.metrics.passThrough("too_large")
		p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
		p.passThrough(ctx, st, resp, v, nil)
		return waited
	}
	raw := getBuf()
	t0 := time.Now()
	complete, err := readBody(resp, limit, raw)
	waited = time.Since(t0)
	if err != nil {
		// Nothing was sent yet: a cut body is a failed exchange, never a
		// short 200.
		if resp.IsBodyStream() {
			_ = resp.CloseBodyStream()
		}
		fasthttp.ReleaseResponse(resp)
		putBuf(raw)
		p.upstreamError(ctx, err)
		return waited
	}
	if !complete {
		p.metrics.passThrough("too_large")
		p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
		p.passThrough(ctx, st, resp, v, raw)
		return waited
	}

	enc := codec.Parse(resp.Header.ContentEncoding())
	key := pageKey(*raw, enc, v.page, st.gen)
	info, ok := p.pages.get(key, len(*raw))
	if ok {
		p.metrics.pageHits.Add(1)
	} else {
		p.metrics.pageMisses.Add(1)
		if info, err = p.analyze(ctx, st, v, *raw, enc, resp.Header.ContentType(), now); err != nil {
			reason := "decode_error"
			switch {
			case errors.Is(err, codec.ErrTooLarge):
				reason = "too_large"
			case errors.Is(err, errNotUTF8):
				reason = "charset"
			default:
				p.log.Info("page not decodable, passed through", "path", string(ctx.Path()), "encoding", enc.String(), "err", err)
			}
			p.metrics.passThrough(reason)
			p.recordView(ctx, st, v, p.eventFromURL(ctx, v), now)
			p.sendBuffered(ctx, st, resp, v, raw, false)
			return waited
		}
		p.pages.put(key, info)
	}
	prof := p.recordView(ctx, st, v, info.event(p, ctx, v), now)

	var orders [][]int
	if cfg.Navigation != nil && v.returning && len(info.lists) > 0 {
		snap := prof.Snapshot()
		orders = menuOrders(cfg, info, &snap, now)
	}
	if orders == nil {
		p.metrics.passThrough("no_change")
		p.sendBuffered(ctx, st, resp, v, raw, false)
		return waited
	}
	if enc == codec.Identity {
		// The shop's bytes go out from the buffer they were read into, the
		// reordered menus from a small one: no copy of the page.
		p.metrics.rewrote(time.Since(start))
		p.sendSpliced(ctx, st, resp, v, raw, info, orders)
		return waited
	}
	out := getBuf()
	var sp rewrite.Splice
	for i, l := range info.lists {
		if orders[i] != nil {
			_ = sp.Reorder(l.slots, orders[i]) // lists are checked and apart
		}
	}
	switch enc {
	case codec.Gzip:
		scratch := getBuf()
		*out = info.appendGzip((*out)[:0], orders, cfg.Limits.GzipLevel, scratch)
		putBuf(scratch)
	default:
		// Brotli (for clients that take nothing else) is decoded and
		// re-encoded whole.
		plain := getBuf()
		*plain, err = codec.Decode((*plain)[:0], *raw, enc, limit)
		if err == nil {
			*out = sp.Bytes((*out)[:0], *plain)
			*plain, err = st.enc.Encode((*plain)[:0], *out, enc)
			out, plain = plain, out
		}
		putBuf(plain)
		if err != nil {
			putBuf(out)
			p.log.Error("re-encode page", "encoding", enc.String(), "err", err)
			p.metrics.passThrough("encode_error")
			p.sendBuffered(ctx, st, resp, v, raw, false)
			return waited
		}
	}
	putBuf(raw)
	p.metrics.rewrote(time.Since(start))
	p.sendBuffered(ctx, st, resp, v, out, true)
	return waited
}

// menuOrders returns, for each menu list of the page, the order of its
// entries for this visitor (nil when it keeps the shop's order), or nil
// when no list changes. An entry's interest is the highest interest in any
// category it links to, its submenu included.
func menuOrders(cfg *rules.Config, info *pageInfo, d *profile.Data, now time.Time) [][]int {
	half := cfg.Profiles.InterestHalfLife.D()
	var orders [][]int
	for i, l := range info.lists {
		var buf [32]float64
		interest := buf[:0]
		for _, cats := range l.cats {
			best := 0.0
			for _, c := range cats {
				best = max(best, d.Interest(c, now, half))
			}
			interest = append(interest, best)
		}
		order, changed := cfg.Navigation.Order(interest)
		if !changed {
			continue
		}
		if orders == nil {
			orders = make([][]int, len(info.lists))
		}
		orders[i] = order
	}
	return orders
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

// pageURL is the page's address as the visitor sees it.
func pageURL(ctx *fasthttp.RequestCtx, v *visit) string {
	return scheme(v.https) + "://" + string(ctx.Request.Header.Host()) + string(ctx.Path())
}
