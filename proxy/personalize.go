package proxy

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
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
	p.metrics.pageSkips(&info.skips)
	ev := info.event(p, ctx, v)
	prof := p.recordView(ctx, st, v, ev, now)
	if len(info.sites) == 0 {
		p.metrics.passThrough("no_change")
		p.sendBuffered(ctx, st, resp, v, raw, false)
		return waited
	}
	d := prof.Snapshot()
	scratch := getBuf()
	contents, changed := p.siteContents(ctx, resp, st, v, info, &ev, &d, now, scratch)
	if !changed {
		putBuf(scratch)
		p.metrics.passThrough("no_change")
		p.sendBuffered(ctx, st, resp, v, raw, false)
		return waited
	}
	if enc == codec.Identity {
		// The shop's bytes go out from the buffer they were read into, the
		// visitor's from scratch: no copy of the page.
		p.metrics.rewrote(time.Since(start))
		p.sendSpliced(ctx, st, resp, v, raw, info, contents, scratch)
		return waited
	}
	out := getBuf()
	switch enc {
	case codec.Gzip:
		*out = info.appendGzip((*out)[:0], contents, cfg.Limits.GzipLevel)
	default:
		// Brotli (for clients that take nothing else) is decoded and
		// re-encoded whole.
		plain := getBuf()
		*plain, err = codec.Decode((*plain)[:0], *raw, enc, limit)
		if err == nil {
			*out = info.assemble((*out)[:0], *plain, contents)
			*plain, err = st.enc.Encode((*plain)[:0], *out, enc)
			out, plain = plain, out
		}
		putBuf(plain)
		if err != nil {
			putBuf(out)
			putBuf(scratch)
			p.log.Error("re-encode page", "encoding", enc.String(), "err", err)
			p.metrics.passThrough("encode_error")
			p.sendBuffered(ctx, st, resp, v, raw, false)
			return waited
		}
	}
	putBuf(scratch)
	putBuf(raw)
	p.metrics.rewrote(time.Since(start))
	p.sendBuffered(ctx, st, resp, v, out, true)
	return waited
}

// assemble appends the page body with the given site contents (nil: the
// shop's bytes) to dst.
func (info *pageInfo) assemble(dst, body []byte, contents [][]byte) []byte {
	pos := 0
	for i, s := range info.sites {
		dst = append(dst, body[pos:s.span.Start]...)
		if contents[i] != nil {
			dst = append(dst, contents[i]...)
		} else {
			dst = append(dst, body[s.span.Start:s.span.End]...)
		}
		pos = s.span.End
	}
	return append(dst, body[pos:]...)
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
