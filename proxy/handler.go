package proxy

import (
	"bytes"
	"net/url"
	gopath "path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/codec"
	"shopedge/rules"
)

// Handler serves one request. It reads top to bottom as the request flows:
// admit → classify → identify → forward → (learn, record, decide, rewrite)
// → respond.
func (p *Proxy) Handler(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	st := p.state.Load()
	p.metrics.requests.Add(1)
	waited := p.serve(ctx, st, start)
	p.metrics.added.observe((time.Since(start) - waited).Seconds())
	if st.cfg.Log.Access {
		p.log.Info("request", "method", string(ctx.Method()), "path", string(ctx.Path()),
			"status", ctx.Response.StatusCode(), "duration", time.Since(start))
	}
}

// serve handles a request; it returns how long it waited for the shop, so
// that the time the proxy adds can be told apart.
func (p *Proxy) serve(ctx *fasthttp.RequestCtx, st *state, start time.Time) (waited time.Duration) {
	facts, ok := p.admit(ctx, st)
	if !ok {
		return 0
	}
	if prefix := st.own.prefix; hasPrefixFold(ctx.Path(), prefix) || hasPrefixFold(ctx.Request.Header.RequestURI(), prefix) {
		// Never forwarded: neither the path as decoded nor as sent
		// ("/_shopedge/../x" is "/x" decoded) reaches the shop, in any
		// case ("/_SHOPEDGE/x" is the prefix to a shop that reads paths
		// without case, as intoPrefix says): what is not shopedge's own
		// asset or beacon is not found.
		p.serveOwn(ctx, st)
		return 0
	}
	if intoPrefix(ctx.Path(), st.own.prefix) {
		// "/x\..\_shopedge/x" is "/_shopedge/x" to a shop that reads '\'
		// as '/': refused, never forwarded.
		p.refuse(ctx, fasthttp.StatusBadRequest)
		return 0
	}

	v := p.classify(ctx, st)
	if v.tracked && (v.candidate || v.cartAdd != nil) {
		p.identify(ctx, st, &v)
	}

	// A click on a recommended product: counted for its block, and the
	// parameter that says so is not the shop's business.
	var query []byte
	var stripQuery bool
	if q := ctx.URI().QueryString(); len(q) > 0 {
		query, stripQuery = p.takeAttribution(st, q, v.tracked && v.candidate && !v.prefetch)
	}

	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	p.up.buildRequest(ctx, req, forwardOpts{
		query:          query,
		setQuery:       stripQuery,
		rewritable:     v.candidate,
		acceptEncoding: v.accepts.Header(),
		trustedPeer:    v.trustedPeer,
		https:          v.https,
		facts:          facts,
		underscores:    st.cfg.Server.UnderscoresInHeaders,
	})
	t0 := time.Now()
	err := p.up.client.DoDeadline(req, resp, start.Add(p.up.timeout))
	waited = time.Since(t0)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		p.upstreamError(ctx, err)
		return waited
	}

	if v.cartAdd != nil && resp.StatusCode() < 400 {
		p.recordCartAdd(ctx, st, &v)
	}
	if reason := rewritable(ctx, resp, &v); reason != "" {
		p.metrics.passThrough(reason)
		return waited + p.passThrough(ctx, st, resp, &v, nil)
	}
	return waited + p.personalize(ctx, st, &v, resp, start)
}

// visit is what the proxy learns of a request before forwarding it.
type visit struct {
	https       bool
	trustedPeer bool
	tracked     bool // a person who allows tracking: not a bot, no Sec-GPC
	prefetch    bool // a prefetch or prerender: not a view
	candidate   bool // a GET for a page that may be personalized
	accepts     codec.Accepted
	page        rules.PageType
	rule        *rules.PageRule
	cartAdd     *rules.CartAdd

	// Set by identify.
	id        string // visitor id; "" when not identified
	returning bool   // the visitor's token was valid
	issue     bool   // the token must be (re)issued
	token     string
	cookie    bool // set the token on this response
}

// admit refuses requests for other hosts, absolute-form targets that
// disagree with Host, HTTP versions other than 1.0 and 1.1 (505), header
// names that are not tokens (400), transfer codings other than chunked
// (501) and chunked bodies that end in trailer fields (400). It answers the
// refused ones itself, and returns what the header block holds.
func (p *Proxy) admit(ctx *fasthttp.RequestCtx, st *state) (headerFacts, bool) {
	h := &ctx.Request.Header
	if proto := h.Protocol(); !bytes.Equal(proto, http11) && !bytes.Equal(proto, http10) {
		// fasthttp reads any HTTP/d.d; its framing is 1.1's or 1.0's only.
		p.refuse(ctx, fasthttp.StatusHTTPVersionNotSupported)
		return headerFacts{}, false
	}
	if len(h.PeekTrailerKeys()) > 0 && len(h.TrailerHeader()) > len("\r\n") {
		// Trailer fields of a chunked body: fasthttp keeps them apart, out
		// of RawHeaders (so out of scanHeaders' sight), and moves them into
		// the headers when Trailer is removed (stripHop), where they would
		// reach the shop past every rule here. Browsers never send request
		// trailers (fetch cannot), so refusing them costs no visitor, and
		// leaves no field for the shop to read otherwise than shopedge.
		// (TrailerHeader writes only the header's scratch buffer, which
		// nothing read so far points into.) A Trailer header announcing
		// fields that never came is hop-by-hop, removed (stripHop).
		p.refuse(ctx, fasthttp.StatusBadRequest)
		return headerFacts{}, false
	}
	facts := scanHeaders(h.RawHeaders())
	switch {
	case facts.badName:
		// "Foo Bar: x" is one field to fasthttp, another (or none) to
		// the next parser: 400, as Go's server and HAProxy answer.
		p.refuse(ctx, fasthttp.StatusBadRequest)
		return facts, false
	case facts.badTransferEncoding:
		// RFC 9112 section 6.1: a coding the server does not understand
		// is 501, and the framing of what follows is unknown: the
		// connection closes.
		p.refuse(ctx, fasthttp.StatusNotImplemented)
		return facts, false
	}
	host := h.Host()
	if uri := h.RequestURI(); len(uri) > 0 && uri[0] != '/' && uri[0] != '*' {
		// Absolute form: the authority must be the Host header's.
		if i := bytes.Index(uri, []byte("://")); i >= 0 {
			auth := uri[i+3:]
			if j := bytes.IndexAny(auth, "/?#"); j >= 0 {
				auth = auth[:j]
			}
			if !bytes.EqualFold(auth, host) {
				p.metrics.clientErrors.Add(1)
				writeErrorPage(ctx, fasthttp.StatusBadRequest)
				return facts, false
			}
		} else {
			p.metrics.clientErrors.Add(1)
			writeErrorPage(ctx, fasthttp.StatusBadRequest)
			return facts, false
		}
	}
	if st.hosts != nil {
		name := host
		if i := bytes.LastIndexByte(name, ':'); i >= 0 && !bytes.Contains(name[i:], []byte("]")) {
			name = name[:i]
		}
		if !st.hosts[string(bytes.ToLower(name))] {
			p.metrics.clientErrors.Add(1)
			writeErrorPage(ctx, fasthttp.StatusMisdirectedRequest)
			return facts, false
		}
	}
	return facts, true
}

// refuse answers a request the proxy will not forward, and closes the
// connection: what the client sends next may not be framed as the proxy
// read it.
func (p *Proxy) refuse(ctx *fasthttp.RequestCtx, status int) {
	p.metrics.clientErrors.Add(1)
	ctx.SetConnectionClose()
	writeErrorPage(ctx, status)
}

// intoPrefix reports whether the decoded path is under the reserved prefix
// for a shop that reads '\' as '/' (IIS does) or decodes the path once more
// ("%5C", "%2F": '\' and '/' after fasthttp's decoding, one more for
// "%255C"): '\' read as '/', decoded again, dot segments resolved.
// Browsers turn '\' into '/' in http(s) URLs before sending, so no page of
// the shop asks for one of these.
func intoPrefix(path []byte, prefix string) bool {
	if bytes.IndexByte(path, '\\') < 0 && bytes.IndexByte(path, '%') < 0 {
		return false
	}
	s := string(path)
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	s = strings.ReplaceAll(s, `\`, "/")
	clean := gopath.Clean("/"+s) + "/"
	// IIS, the shop that reads '\' as '/', also reads paths without case.
	return len(clean) >= len(prefix) && strings.EqualFold(clean[:len(prefix)], prefix)
}

// classify reads what the request is: page type, events, whether the
// visitor may be tracked and the response rewritten.
func (p *Proxy) classify(ctx *fasthttp.RequestCtx, st *state) visit {
	h := &ctx.Request.Header
	v := visit{trustedPeer: st.trusted(ctx.RemoteIP())}
	v.https = ctx.IsTLS() || v.trustedPeer && bytes.EqualFold(h.Peek("X-Forwarded-Proto"), []byte("https"))
	v.tracked = !st.bots.IsBot(h.UserAgent()) && !bytes.Equal(bytes.TrimSpace(h.Peek("Sec-GPC")), []byte("1"))
	v.prefetch = isPrefetch(h)
	if !v.tracked {
		return v
	}
	path := ctx.Path()
	v.page, v.rule = st.cfg.Classify(path)
	v.cartAdd = st.cfg.CartAddFor(h.Method(), path)
	v.candidate = st.learns && h.IsGet() && acceptsHTML(h.Peek("Accept")) && !isAsset(path)
	if v.candidate {
		v.accepts = codec.ParseAccept(h.Peek("Accept-Encoding"))
	}
	return v
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
func rewritable(ctx *fasthttp.RequestCtx, resp *fasthttp.Response, v *visit) string {
	switch {
	case !v.candidate:
		return "not_candidate"
	case resp.StatusCode() != fasthttp.StatusOK:
		return "status"
	case !isHTML(resp.Header.ContentType()):
		return "not_html"
	case codec.Parse(resp.Header.ContentEncoding()) == codec.Unknown:
		return "encoding"
	case hasToken(resp.Header.Peek("Cache-Control"), "no-transform"):
		return "no_transform"
	case len(resp.Header.Peek("Content-Range")) > 0:
		return "range"
	}
	return ""
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
