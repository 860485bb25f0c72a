package proxy

import (
	"bytes"
	"net/url"
	gopath "path"
	"strings"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http/httpguts"
)

// admit refuses requests for other hosts, invalid Host values (400),
// absolute-form targets that disagree with Host, HTTP versions other than
// 1.0 and 1.1 (505), header names that are not tokens (400), transfer
// codings other than chunked (501) and chunked bodies that end in trailer
// fields (400). It answers the refused ones itself, and returns what the
// header block holds.
func (p *Proxy) admit(ctx *fasthttp.RequestCtx, conf *config) (headerFacts, bool) {
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
	if !httpguts.ValidHostHeader(string(host)) {
		// RFC 9112 section 3.2: an invalid Host is 400. "shop.test:@evil"
		// would have passed the hosts list as shop.test, and fasthttp
		// reads what precedes '@' as credentials (an Authorization header
		// the visitor never sent).
		p.refuse(ctx, fasthttp.StatusBadRequest)
		return facts, false
	}
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
	if conf.cfg.Hosts != nil {
		name := host
		if i := bytes.LastIndexByte(name, ':'); i >= 0 && !bytes.Contains(name[i:], []byte("]")) {
			name = name[:i]
		}
		// "shop.example." (a fully qualified name, as typed) is the host.
		name = bytes.TrimSuffix(name, []byte("."))
		var buf [255]byte // a DNS name's most; longer ones are no host of the list
		if len(name) > len(buf) || !conf.cfg.Hosts[string(appendLower(buf[:0], name))] {
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
	writeErrorPage(ctx, status)
	ctx.SetConnectionClose() // after: writeErrorPage resets the response, close included
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

// appendLower appends b in ASCII lower case to dst (a host name: no
// allocation with a dst of room, where bytes.ToLower makes a copy).
func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
