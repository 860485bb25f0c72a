package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/rules"
)

// upstream is the one shop the proxy talks to. Requests go to its address
// whatever they ask for: the proxy is never an open proxy.
type upstream struct {
	client   *fasthttp.HostClient
	scheme   string // http or https
	host     string // host[:port] as in the URL, for the Host header
	keepHost bool
	timeout  time.Duration
}

func newUpstream(u rules.Upstream) (*upstream, error) {
	url, err := rules.ParseUpstreamURL(u.URL)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	addr := url.Host
	if url.Port() == "" {
		if url.Scheme == "https" {
			addr = net.JoinHostPort(url.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(url.Hostname(), "80")
		}
	}
	dialTimeout := u.DialTimeout.D()
	c := &fasthttp.HostClient{
		Addr:                      addr,
		IsTLS:                     url.Scheme == "https",
		MaxConns:                  u.MaxConns,
		MaxConnWaitTimeout:        u.MaxConnWait.D(),
		MaxIdleConnDuration:       u.MaxIdleConnDuration.D(),
		StreamResponseBody:        true,
		DisablePathNormalizing:    true,
		NoDefaultUserAgentHeader:  true,
		ReadBufferSize:            64 << 10, // shops send large Set-Cookie and CSP headers
		WriteBufferSize:           16 << 10,
		RetryIfErr:                retryIfErr,
		MaxIdemponentCallAttempts: 2,
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			return fasthttp.DialTimeout(addr, min(timeout, dialTimeout))
		},
	}
	if c.IsTLS {
		c.TLSConfig = &tls.Config{ServerName: url.Hostname(), InsecureSkipVerify: u.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	}
	return &upstream{
		client:   c,
		scheme:   url.Scheme,
		host:     url.Host,
		keepHost: u.HostHeader == "keep",
		timeout:  u.Timeout.D(),
	}, nil
}

// retryIfErr retries only GET and HEAD, and only when the shop closed a
// pooled connection before answering: a POST reaches the shop once, and a
// timed-out request is not sent again.
func retryIfErr(req *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
	if !(req.Header.IsGet() || req.Header.IsHead()) || len(req.Body()) > 0 || attempts > 1 {
		return false, false
	}
	return false, errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed)
}

// hopHeaders are removed in both directions: they describe one connection,
// not the message (RFC 9110 section 7.6.1, and the de-facto Proxy-Connection
// and Keep-Alive).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// connectionTokens returns the header names a Connection header lists.
func connectionTokens(v []byte) [][]byte {
	var out [][]byte
	for len(v) > 0 {
		var tok []byte
		tok, v, _ = bytes.Cut(v, []byte{','})
		if tok = bytes.TrimSpace(tok); len(tok) > 0 {
			out = append(out, tok)
		}
	}
	return out
}

// headers is what request and response headers share in fasthttp.
type headers interface {
	Peek(key string) []byte
	Del(key string)
	DelBytes(key []byte)
	ResetConnectionClose()
}

// stripHop removes hop-by-hop headers, those the Connection header names
// included, before the proxy adds its own (so that "Connection:
// X-Forwarded-For" cannot remove them).
func stripHop(h headers) {
	for _, tok := range connectionTokens(h.Peek("Connection")) {
		h.DelBytes(tok)
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.ResetConnectionClose()
}

// forwardOpts says how a request is forwarded.
type forwardOpts struct {
	// rewritable: the response may be rewritten, so ask for a full,
	// fresh body in an encoding the proxy can decode.
	rewritable bool
	// acceptEncoding is the Accept-Encoding to send when rewritable.
	acceptEncoding string
	// trustedPeer: the client is a trusted proxy; keep its X-Forwarded-*.
	trustedPeer bool
	// https: the visitor's scheme.
	https bool
	// setQuery: send query as the query string instead of the visitor's.
	setQuery bool
	query    []byte
}

// buildRequest copies the visitor's request into req, addressed to the
// upstream, with hop-by-hop headers removed and X-Forwarded-* set.
func (u *upstream) buildRequest(ctx *fasthttp.RequestCtx, req *fasthttp.Request, o forwardOpts) {
	ctx.Request.CopyTo(req)
	h := &req.Header
	stripHop(h)
	host := append([]byte(nil), ctx.Request.Header.Host()...)

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

	peer := ctx.RemoteIP().String()
	if o.trustedPeer {
		if prior := h.Peek("X-Forwarded-For"); len(prior) > 0 {
			h.Set("X-Forwarded-For", string(prior)+", "+peer)
		} else {
			h.Set("X-Forwarded-For", peer)
		}
		if len(h.Peek("X-Forwarded-Proto")) == 0 {
			h.Set("X-Forwarded-Proto", scheme(o.https))
		}
		if len(h.Peek("X-Forwarded-Host")) == 0 {
			h.SetBytesV("X-Forwarded-Host", host)
		}
	} else {
		h.Del("Forwarded")
		h.Del("X-Real-Ip")
		h.Set("X-Forwarded-For", peer)
		h.Set("X-Forwarded-Proto", scheme(o.https))
		h.SetBytesV("X-Forwarded-Host", host)
	}

	if o.rewritable {
		// A rewritten page is answered whole and fresh.
		h.Del("Range")
		h.Del("If-Range")
		h.Del("If-None-Match")
		h.Del("If-Modified-Since")
		h.Set("Accept-Encoding", o.acceptEncoding)
	}
}

func scheme(https bool) string {
	if https {
		return "https"
	}
	return "http"
}

// trusted reports whether the peer is a configured trusted proxy.
func (st *state) trusted(ip net.IP) bool {
	if len(st.trustedNets) == 0 {
		return false
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, p := range st.trustedNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// upstreamFailure classifies an upstream error into the status the visitor
// gets and a metric label.
func upstreamFailure(err error) (status int, kind string) {
	switch {
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return fasthttp.StatusServiceUnavailable, "pool_exhausted"
	case isTimeout(err), errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return fasthttp.StatusGatewayTimeout, "timeout"
	}
	return fasthttp.StatusBadGateway, "unreachable"
}
