package proxy

import (
	"bytes"
	"net"
	"net/netip"
	"shopedge/proxy/console"
	"time"

	"github.com/valyala/fasthttp"
)

// hopHeaders are removed in both directions: they describe one connection,
// not the message (RFC 9110 section 7.6.1, and the de-facto Proxy-Connection
// and Keep-Alive).
var hopHeaders = [...]string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// forwardedHeaders are the claims about the way a request came: which
// client, scheme, host, port and path prefix. Only a proxy can make them, so
// from a peer that is not a trusted proxy every copy is removed (with any
// other X-Forwarded-* name: see scanHeaders), before shopedge sets its own.
var forwardedHeaders = []string{
	"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Ssl",
	"X-Forwarded-Scheme", "X-Forwarded-Prefix", "X-Forwarded-Server", "Forwarded", "X-Real-Ip",
}

// nextToken returns the first element of a comma-separated header value
// (a Connection header's header names), trimmed, and the rest of the list.
// The element is empty for an empty one ("a,,b").
func nextToken(v []byte) (tok, rest []byte) {
	tok, rest, _ = bytes.Cut(v, []byte{','})
	return bytes.TrimSpace(tok), rest
}

// headers is what request and response headers share in fasthttp.
type headers interface {
	PeekAll(key string) [][]byte
	Del(key string)
	DelBytes(key []byte)
	ResetConnectionClose()
}

// stripHop removes hop-by-hop headers, those any Connection header names
// included, before the proxy adds its own (so that "Connection:
// X-Forwarded-For" cannot remove them). A message may carry several
// Connection headers; the tokens of every one count (RFC 9110 section
// 5.3: they are one list).
//
// have says which of hopHeaders may be there (bit i for hopHeaders[i]):
// one pass over the headers finds them (presentNames, presentRawNames),
// and only those are deleted, for most messages carry none and each Del
// normalizes its name and scans every header.
func stripHop(h headers, have uint32) {
	if have&(1<<trailerIndex) != 0 {
		// Deleting Trailer moves a response's trailer fields (which All
		// does not yield) into its headers, Upgrade among them (the one
		// hop-by-hop name fasthttp takes as a trailer field): after a
		// Trailer, every name may be there.
		have = 1<<len(hopHeaders) - 1
	}
	if have&1 != 0 { // hopHeaders[0], Connection
		// PeekAll's slices point into the header's own storage. Deleting
		// a header only reorders entries, except Trailer, whose deletion
		// may store a header again (fasthttp keeps a dedicated one there,
		// and moves trailer fields into the headers): it is left to the
		// hop-by-hop list, after the loop. A request reaches here without
		// trailer fields (admit refuses them), so that move brings
		// nothing back.
		for _, v := range h.PeekAll("Connection") {
			for len(v) > 0 {
				var tok []byte
				tok, v = nextToken(v)
				if len(tok) > 0 && !bytes.EqualFold(tok, []byte("Trailer")) {
					h.DelBytes(tok)
				}
			}
		}
	}
	for i, k := range hopHeaders {
		if have&(1<<i) != 0 {
			h.Del(k)
		}
	}
	h.ResetConnectionClose()
}

// presentNames returns which of names (at most 32) a response's headers
// hold, bit i for names[i], in one pass, without case. All yields every
// header fasthttp keeps but a response's trailer fields, which it yields
// as one Trailer header (stripHop then deletes every name: see there).
// (A request's All would parse its cookies: see presentRawNames.)
func presentNames(h *fasthttp.ResponseHeader, names []string) uint32 {
	var have uint32
	for k := range h.All() {
		have |= nameBit(k, names)
	}
	return have
}

// presentRawNames is presentNames for a request, read from the header
// block as it came (RawHeaders), which holds every header fasthttp
// parsed; without one (a request made in code), every name may be there.
func presentRawNames(raw []byte, names []string) uint32 {
	if len(raw) == 0 {
		return 1<<len(names) - 1
	}
	var have uint32
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		if colon := bytes.IndexByte(line, ':'); colon > 0 && line[0] != ' ' && line[0] != '\t' {
			have |= nameBit(bytes.TrimRight(line[:colon], " \t"), names)
		}
	}
	return have
}

// nameBit is the bit of k among names (without case), or 0.
func nameBit(k []byte, names []string) uint32 {
	for i, n := range names {
		if len(k) == len(n) && bytes.EqualFold(k, []byte(n)) {
			return 1 << i
		}
	}
	return 0
}

// forwardOpts says how a request is forwarded.
type forwardOpts struct {
	// rewritable: the response may be rewritten, so ask for it in an
	// encoding the proxy can decode.
	rewritable bool
	// whole: the request asks for a page (exchange.document, isDocument),
	// so ask for a full, fresh body: no Range, If-Range, If-None-Match or
	// If-Modified-Since. Other requests keep theirs, and a 206 or 304 goes
	// back as the shop sent it.
	whole bool
	// acceptEncoding is the Accept-Encoding to send when rewritable.
	acceptEncoding string
	// trustedPeer: the client is a trusted proxy; keep its X-Forwarded-*.
	trustedPeer bool
	// https: the visitor's scheme.
	https bool
	// setQuery: send query as the query string instead of the visitor's.
	setQuery bool
	query    []byte
	// facts: what the request's header block holds (scanHeaders).
	facts headerFacts
	// underscores: forward header names with '_'
	// (server.underscores_in_headers).
	underscores bool
}

// buildRequest copies the visitor's request into req, addressed to the
// upstream, as HTTP/1.1, with hop-by-hop headers and the console's session
// cookie removed and X-Forwarded-*
// set: from a peer that is not a trusted proxy, every forwarded header it
// sent is removed first; from a trusted one, each arrives as one header,
// X-Forwarded-For with the peer appended.
func (u *upstream) buildRequest(ctx *fasthttp.RequestCtx, req *fasthttp.Request, o forwardOpts) {
	ctx.Request.CopyTo(req)
	h := &req.Header
	// A body the visitor sent without a Content-Type goes without one:
	// the flag CopyTo copies is the server's request's (off), and fasthttp
	// would add application/octet-stream.
	h.SetNoDefaultContentType(true)
	h.SetProtocolBytes(http11) // the shop hears HTTP/1.1, whatever the visitor spoke
	raw := ctx.Request.Header.RawHeaders()
	stripHop(h, presentRawNames(raw, hopHeaders[:]))
	if o.facts.consoleCookie {
		// The console listens on another port of the same host, and
		// browsers send a host's cookies to every port: its session is a
		// credential of the admin listener, not the shop's business.
		dropCookie(h, console.CookieName)
	}
	host := ctx.Request.Header.Host()

	uri := req.URI()
	uri.DisablePathNormalizing = true
	uri.SetScheme(u.scheme)
	uri.SetHost(u.host)
	if o.setQuery {
		uri.SetQueryStringBytes(o.query)
	}
	if u.keepHost && len(host) > 0 {
		h.SetHostBytes(host)
		req.UseHostHeader = true
	} else {
		h.SetHost(u.host)
		req.UseHostHeader = false
	}

	if o.facts.underscore && !o.underscores {
		// nginx's underscores_in_headers off: a CGI-style shop reads
		// X_Forwarded_For as X-Forwarded-For.
		dropNames(h, raw, func(name []byte) bool { return bytes.IndexByte(name, '_') >= 0 })
	}
	var buf [64]byte
	peer := buf[:0]
	if a, ok := netip.AddrFromSlice(ctx.RemoteIP()); ok {
		peer = a.Unmap().AppendTo(peer)
	}
	if o.trustedPeer {
		if o.facts.forwardedTwice {
			for _, k := range forwardedHeaders[1:] { // [0], X-Forwarded-For, just below
				joinHeader(h, raw, k, nil)
			}
		}
		joinHeader(h, raw, "X-Forwarded-For", peer)
		if len(h.Peek("X-Forwarded-Proto")) == 0 {
			h.Set("X-Forwarded-Proto", scheme(o.https))
		}
		if len(h.Peek("X-Forwarded-Host")) == 0 && len(host) > 0 {
			h.SetBytesV("X-Forwarded-Host", host)
		}
	} else {
		if o.facts.forwarded {
			// Del removes every copy (h.Set would replace only the first).
			for _, k := range forwardedHeaders {
				h.Del(k)
			}
			dropNames(h, raw, func(name []byte) bool { return forwardedIndex(name) >= 0 })
		}
		h.SetBytesV("X-Forwarded-For", peer)
		h.Set("X-Forwarded-Proto", scheme(o.https))
		if len(host) > 0 { // an HTTP/1.0 request may have none
			h.SetBytesV("X-Forwarded-Host", host)
		}
	}

	if o.rewritable {
		if o.whole {
			// A navigation's page is asked for whole and fresh, so that it
			// can be rewritten.
			have := presentRawNames(raw, conditionalHeaders[:])
			for i, k := range conditionalHeaders {
				if have&(1<<i) != 0 {
					h.Del(k)
				}
			}
		}
		h.Set("Accept-Encoding", o.acceptEncoding)
	}
}

// trailerIndex is Trailer's place in hopHeaders.
const trailerIndex = 6

// conditionalHeaders ask for part of a page or for none if unchanged: a
// navigation's page (forwardOpts.whole) is asked for whole and fresh.
var conditionalHeaders = [...]string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"}

// The request versions shopedge reads (admit); the shop hears http11.
var (
	http10 = []byte("HTTP/1.0")
	http11 = []byte("HTTP/1.1")
)

// joinHeader makes the copies of header k one header, their values joined
// with ", " in the order they came (RFC 9110 section 5.3: one list), with
// more appended when it is not empty. Nothing changes for a single copy and
// nothing to add. The order is read from raw, the request's header block:
// fasthttp's Del moves entries around. When h holds no k (none came, or a
// Connection header named it and stripHop removed it), the raw block does
// not bring it back: k is more alone, or absent.
func joinHeader(h *fasthttp.RequestHeader, raw []byte, k string, more []byte) {
	if len(h.PeekAll(k)) == 0 {
		if len(more) > 0 {
			h.SetBytesV(k, more)
		}
		return
	}
	var buf [256]byte
	b := buf[:0]
	n := 0
	if len(raw) == 0 {
		for _, v := range h.PeekAll(k) {
			b = appendListValue(b, v)
			n++
		}
	} else {
		matched := false
		for len(raw) > 0 {
			var line []byte
			line, raw = nextLine(raw)
			line = bytes.TrimRight(line, "\r")
			if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
				if matched { // obs-fold: fasthttp joins the lines with a space
					b = append(b, ' ')
					b = append(b, bytes.Trim(line, " \t")...)
				}
				continue
			}
			name, v, ok := bytes.Cut(line, []byte{':'})
			if matched = ok && bytes.EqualFold(name, []byte(k)); matched {
				b = appendListValue(b, bytes.Trim(v, " \t"))
				n++
			}
		}
	}
	if n < 2 && len(more) == 0 {
		return
	}
	if len(more) > 0 {
		b = appendListValue(b, more)
	}
	h.Del(k)
	h.SetBytesV(k, b)
}

// appendListValue appends v to a comma-separated list.
func appendListValue(b, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	if len(b) > 0 {
		b = append(b, ", "...)
	}
	return append(b, v...)
}

// dropNames removes the headers whose name, as it came in the raw header
// block, drop reports.
func dropNames(h *fasthttp.RequestHeader, raw []byte, drop func(name []byte) bool) {
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		if colon := bytes.IndexByte(line, ':'); colon > 0 && drop(line[:colon]) {
			h.DelBytes(line[:colon])
		}
	}
}

func scheme(https bool) string {
	if https {
		return "https"
	}
	return "http"
}

// trusted reports whether the peer is a configured trusted proxy.
func (c *config) trusted(ip net.IP) bool {
	if len(c.cfg.TrustedProxies) == 0 {
		return false
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, p := range c.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forward sends the request to the shop and returns its response, whose
// release the caller owns; on failure it answers the visitor itself (502,
// 503 or 504) and ok is false. A click on a recommended product is
// counted for its block, and the parameter that says so is not the shop's
// business.
func (p *Proxy) forward(x *exchange, facts headerFacts) (resp *fasthttp.Response, ok bool) {
	ctx, conf := x.ctx, x.conf
	var query []byte
	var stripQuery bool
	if q := ctx.URI().QueryString(); len(q) > 0 {
		query, stripQuery = p.takeAttribution(conf, q, x.tracked && x.candidate && !x.prefetch && x.preview == nil, x.visitorID)
	}
	req := fasthttp.AcquireRequest()
	resp = fasthttp.AcquireResponse()
	p.up.buildRequest(ctx, req, forwardOpts{
		query:          query,
		setQuery:       stripQuery,
		rewritable:     x.candidate,
		whole:          x.document,
		acceptEncoding: x.accepts.Header(),
		trustedPeer:    x.trustedPeer,
		https:          x.https,
		facts:          facts,
		underscores:    conf.cfg.Server.UnderscoresInHeaders,
	})
	t0 := time.Now()
	err := p.up.client.DoDeadline(req, resp, x.start.Add(p.up.timeout))
	x.waited += time.Since(t0)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		p.upstreamError(ctx, err)
		return nil, false
	}
	return resp, true
}
