// Package plainproxy is the baseline of shopedge's benchmarks: a minimal
// reverse proxy written with fasthttp, the way its users commonly write
// one, that forwards every request to one upstream and copies the answer
// back, rewriting nothing. shopedge's costs are measured against it.
package plainproxy

import (
	"net"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// hop are the hop-by-hop headers a proxy must not forward.
var hop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// Handler returns a handler that forwards to upstream (http://host:port).
func Handler(upstream string) (fasthttp.RequestHandler, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	c := &fasthttp.HostClient{
		Addr:                   u.Host,
		MaxConns:               512,
		MaxConnWaitTimeout:     5 * time.Second,
		MaxIdleConnDuration:    10 * time.Second,
		ReadBufferSize:         64 << 10,
		DisablePathNormalizing: true,
	}
	return func(ctx *fasthttp.RequestCtx) {
		req := &ctx.Request
		for _, h := range hop {
			req.Header.Del(h)
		}
		req.Header.Set("X-Forwarded-For", ctx.RemoteIP().String())
		req.SetHost(u.Host)
		if err := c.DoTimeout(req, &ctx.Response, 30*time.Second); err != nil {
			ctx.ResetBody()
			ctx.SetStatusCode(fasthttp.StatusBadGateway)
			return
		}
		for _, h := range hop {
			ctx.Response.Header.Del(h)
		}
	}, nil
}

// Serve runs the proxy on ln until it fails.
func Serve(ln net.Listener, upstream string) error {
	h, err := Handler(upstream)
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{Handler: h, NoDefaultServerHeader: true, ReadBufferSize: 32 << 10}
	return srv.Serve(ln)
}
