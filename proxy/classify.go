package proxy

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/codec"
	"shopedge/rules"
)

// classify reads what the request is: page type, events, whether the
// visitor may be tracked and the response rewritten.
func (p *Proxy) classify(x *exchange) {
	ctx, conf := x.ctx, x.conf
	h := &ctx.Request.Header
	x.trustedPeer = conf.trusted(ctx.RemoteIP())
	x.https = viaHTTPS(ctx, x.trustedPeer)
	bot, device := conf.bots.Classify(h.UserAgent())
	x.device = device
	x.tracked = !bot && !bytes.Equal(bytes.TrimSpace(h.Peek("Sec-GPC")), []byte("1")) &&
		consented(h, conf.cfg.Identity.Consent)
	x.prefetch = isPrefetch(h)
	if !x.tracked {
		return
	}
	path := ctx.Path()
	x.page, x.rule = conf.cfg.Classify(path)
	x.cartAdd = conf.cfg.CartAddFor(h.Method(), path)
	x.candidate = conf.cfg.Learns && h.IsGet() && acceptsHTML(h.Peek("Accept")) && !isAsset(path)
	if x.candidate {
		x.accepts = codec.ParseAccept(h.Peek("Accept-Encoding"))
		x.document = isDocument(h)
	}
}

// isDocument reports whether a request asks for a page: a browser's
// navigation of a tab or a frame (Sec-Fetch-Dest), or a request whose
// Accept names text/html (every browser's navigation, and the fetches of
// Turbo, htmx or pjax, which swap pages in with Sec-Fetch-Dest: empty).
// A video's, a download's or a script's fetch, which accept anything
// (*/*) and never name text/html, are not, though their answer may still
// be HTML.
func isDocument(h *fasthttp.RequestHeader) bool {
	switch string(h.Peek("Sec-Fetch-Dest")) {
	case "document", "iframe", "frame":
		return true
	}
	return bytes.Contains(h.Peek("Accept"), []byte("text/html"))
}

// viaHTTPS reports whether the visitor's request came over HTTPS: to
// shopedge, or to the trusted proxy in front of it, by its
// X-Forwarded-Proto, unless its Connection header names that field (then
// it is hop-by-hop: for shopedge's hop alone, removed before forwarding
// by stripHop, and not believed either).
func viaHTTPS(ctx *fasthttp.RequestCtx, trustedPeer bool) bool {
	if ctx.IsTLS() {
		return true
	}
	h := &ctx.Request.Header
	return trustedPeer && bytes.EqualFold(h.Peek("X-Forwarded-Proto"), []byte("https")) &&
		!linesHaveToken(h.PeekAll(fasthttp.HeaderConnection), "X-Forwarded-Proto")
}

// consented reports whether the request grants personalization: always
// without a consent gate; with one, when its cookie is there and, if the
// gate says so, its value matches.
func consented(h *fasthttp.RequestHeader, c *rules.Consent) bool {
	if c == nil {
		return true
	}
	v := requestCookie(h, c.Cookie)
	if v == nil {
		return false
	}
	return c.Matches.Regexp == nil || c.Matches.Match(v)
}

// isPrefetch reports a speculative load (link prefetch, prerender).
func isPrefetch(h *fasthttp.RequestHeader) bool {
	for _, k := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		v := h.Peek(k)
		if bytes.Contains(v, []byte("prefetch")) || bytes.Contains(v, []byte("preview")) || bytes.Contains(v, []byte("prerender")) {
			return true
		}
	}
	return false
}

// acceptsHTML reports whether an Accept header allows an HTML answer. A
// missing header accepts anything.
func acceptsHTML(accept []byte) bool {
	return len(accept) == 0 || bytes.Contains(accept, []byte("text/html")) || bytes.Contains(accept, []byte("*/*"))
}

// assetExts are path endings that are never pages.
var assetExts = [][]byte{
	[]byte(".css"), []byte(".js"), []byte(".mjs"), []byte(".map"), []byte(".json"), []byte(".xml"), []byte(".txt"),
	[]byte(".png"), []byte(".jpg"), []byte(".jpeg"), []byte(".gif"), []byte(".webp"), []byte(".avif"), []byte(".svg"),
	[]byte(".ico"), []byte(".woff"), []byte(".woff2"), []byte(".ttf"), []byte(".otf"), []byte(".eot"),
	[]byte(".mp4"), []byte(".webm"), []byte(".mp3"), []byte(".pdf"), []byte(".zip"), []byte(".gz"), []byte(".bin"),
}

func isAsset(path []byte) bool {
	dot := bytes.LastIndexByte(path, '.')
	if dot < 0 || bytes.IndexByte(path[dot:], '/') >= 0 {
		return false
	}
	ext := path[dot:]
	for _, e := range assetExts {
		if bytes.EqualFold(ext, e) {
			return true
		}
	}
	return false
}

// rewritable returns why a response must pass through untouched, or "" if
// it may be personalized.
func rewritable(resp *fasthttp.Response, x *exchange) string {
	switch {
	case !x.candidate:
		return "not_candidate"
	case resp.StatusCode() != fasthttp.StatusOK:
		return "status"
	case !isHTML(resp.Header.ContentType()):
		return "not_html"
	case codec.Parse(resp.Header.ContentEncoding()) == codec.Unknown:
		return "encoding"
	case noTransform(&resp.Header):
		return "no_transform"
	case len(resp.Header.Peek("Content-Range")) > 0:
		return "range"
	}
	return ""
}

// noTransform reports whether any of the response's Cache-Control lines
// says no-transform (RFC 9111 section 5.2.2.6).
func noTransform(h *fasthttp.ResponseHeader) bool {
	return linesHaveToken(h.PeekAll("Cache-Control"), "no-transform")
}

// linesHaveToken reports whether any of a header's lines lists tok: its
// lines are one comma-separated list (RFC 9110 section 5.3).
func linesHaveToken(lines [][]byte, tok string) bool {
	for _, v := range lines {
		if hasToken(v, tok) {
			return true
		}
	}
	return false
}

func isHTML(ct []byte) bool {
	ct = bytes.TrimSpace(ct)
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = bytes.TrimSpace(ct[:i])
	}
	return bytes.EqualFold(ct, []byte("text/html"))
}

// hasToken reports whether a comma-separated header value lists tok.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte{','})
		t = bytes.TrimSpace(t)
		if i := bytes.IndexByte(t, '='); i >= 0 {
			t = t[:i]
		}
		if bytes.EqualFold(t, []byte(tok)) {
			return true
		}
	}
	return false
}
