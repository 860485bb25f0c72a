package proxy

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"shopedge/bench/shop"
	"shopedge/proxy/codec"
	"shopedge/proxy/identity"
)

// staticShop serves fixed bytes from memory over an in-memory listener, so
// that a benchmark measures the proxy, not the shop.
func staticShop(b *testing.B, body []byte, encoding string) *fasthttputil.InmemoryListener {
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/html; charset=utf-8")
		if encoding != "" {
			ctx.Response.Header.Set("Content-Encoding", encoding)
		}
		ctx.Response.Header.Set("Cache-Control", "public, max-age=60")
		ctx.SetBody(body)
	}}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Shutdown() })
	return ln
}

// demoPage renders a page of the demo shop.
func demoPage(b *testing.B, path string) []byte {
	srv := httptest.NewServer(shop.New(1))
	defer srv.Close()
	v := (&env{t: b}).visitor()
	return []byte(v.get(srv.URL + path).body)
}

// benchPages are the page sizes measured: the demo home page, and a
// product page with reviews inline at about 100 KB and 400 KB (the median
// of real product pages).
var benchPages = []struct{ name, path string }{
	{"30KB", "/"},
	{"100KB", "/p/essential-grey-slip-dress-se-10001?reviews=450"},
	{"400KB", "/p/essential-grey-slip-dress-se-10001?reviews=all"},
}

// benchProxy is a proxy whose upstream serves body from memory.
func benchProxy(b *testing.B, body []byte, encoding string) *Proxy {
	ln := staticShop(b, body, encoding)
	cfg := demoConfig(b, "http://shop.internal", nil)
	p, err := New(cfg, Options{
		Keys:   []identity.Key{{ID: "t1", Secret: testSecret}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	p.up.client.Dial = func(string) (net.Conn, error) { return ln.Dial() }
	p.up.client.DialTimeout = nil
	return p
}

// BenchmarkHandler measures the proxy's own work per request, the shop
// served from memory: a bot's request passing through, and a returning
// visitor's request whose menu is reordered (the demo plan today). The
// difference is the cost of personalization.
func BenchmarkHandler(b *testing.B) {
	for _, pg := range benchPages {
		page := demoPage(b, pg.path)
		gz, _ := codec.NewEncoder(6, 4).Encode(nil, page, codec.Gzip)
		for _, enc := range []struct {
			name, header string
			body         []byte
		}{{"identity", "", page}, {"gzip", "gzip", gz}} {
			for _, mode := range []string{"passthrough", "personalized"} {
				b.Run(pg.name+"/"+enc.name+"/"+mode, func(b *testing.B) {
					p := benchProxy(b, enc.body, enc.header)
					var req fasthttp.Request
					req.SetRequestURI("/")
					req.Header.SetHost("shop.example")
					req.Header.Set("Accept", "text/html")
					req.Header.Set("Accept-Encoding", "gzip")
					if mode == "personalized" {
						req.Header.SetUserAgent(browserUA)
						req.Header.SetCookie("se_vid", interestedVisitor(b, p, "/c/shoes"))
					} else {
						req.Header.SetUserAgent("Googlebot/2.1")
					}
					var ctx fasthttp.RequestCtx
					addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
					b.ReportAllocs()
					b.SetBytes(int64(len(page)))
					for b.Loop() {
						ctx.Init(&req, addr, nil)
						p.Handler(&ctx)
						if ctx.Response.StatusCode() != 200 {
							b.Fatalf("status %d", ctx.Response.StatusCode())
						}
						drain(&ctx)
					}
					if mode == "personalized" && p.metrics.rewrites.Load() == 0 {
						var sb strings.Builder
						p.metrics.WriteTo(&sb, nil)
						b.Fatal("nothing was personalized\n" + sb.String())
					}
				})
			}
		}
	}
}

// BenchmarkAnalyze measures the first sight of a page: decoding, indexing
// and finding its menus, which the page cache then spares every other
// visitor.
func BenchmarkAnalyze(b *testing.B) {
	for _, pg := range benchPages {
		page := demoPage(b, pg.path)
		b.Run(pg.name, func(b *testing.B) {
			p := benchProxy(b, page, "")
			st := p.state.Load()
			var ctx fasthttp.RequestCtx
			var req fasthttp.Request
			req.SetRequestURI("/")
			ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
			v := &visit{page: "home"}
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				info, err := p.analyze(&ctx, st, v, page, codec.Identity, []byte("text/html; charset=utf-8"), p.now())
				if err != nil || len(info.sites) != 1 {
					b.Fatalf("analyze: %v, %d sites", err, len(info.sites))
				}
			}
		})
	}
}

// drain consumes a streamed response body, as the server would.
func drain(ctx *fasthttp.RequestCtx) {
	if ctx.Response.IsBodyStream() {
		_, _ = io.Copy(io.Discard, ctx.Response.BodyStream())
		_ = ctx.Response.CloseBodyStream()
	}
	ctx.Response.Reset()
}

// interestedVisitor makes a visitor whose profile is interested in a
// category, and returns the visitor's token.
func interestedVisitor(b *testing.B, p *Proxy, categoryPath string) string {
	var req fasthttp.Request
	req.SetRequestURI(categoryPath)
	req.Header.SetHost("shop.example")
	req.Header.Set("Accept", "text/html")
	req.Header.SetUserAgent(browserUA)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
	p.Handler(&ctx)
	var token string
	ctx.Response.Header.VisitAllCookie(func(k, v []byte) {
		var c fasthttp.Cookie
		if c.ParseBytes(v) == nil && string(c.Key()) == "se_vid" {
			token = string(c.Value())
		}
	})
	drain(&ctx)
	if token == "" {
		b.Fatal("no visitor cookie")
	}
	for range 3 {
		req.Header.SetCookie("se_vid", token)
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
		p.Handler(&ctx)
		drain(&ctx)
	}
	p.profiles.Wait()
	return token
}
