package main

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"shopedge/bench/shop"
)

// The upstream of the benchmarks is the demo shop behind a fasthttp front
// that keeps every page it rendered: the first request for a URL (in each
// coding) renders it with the real shop, later ones are answered from
// memory without allocating. The bytes are the shop's own (as an empty
// cart shows them), so that the proxies, not the shop's templates and
// compressors, are what a run measures. Cart additions answer like the
// shop does (303 to /cart, a session cookie) without keeping carts.

// frontPage is a page as the shop sent it.
type frontPage struct {
	status  int
	headers [][2]string
	body    []byte
}

type front struct {
	s     *shop.Shop
	pages sync.Map // key -> *frontPage
	bytes atomic.Int64
}

// maxFrontBytes bounds the pages the front keeps; beyond it, pages are
// rendered for each request.
const maxFrontBytes = 2 << 30

func serveShop(ln net.Listener) error {
	f := &front{s: shop.New(1)}
	srv := &fasthttp.Server{Handler: f.serve, NoDefaultServerHeader: true, ReadBufferSize: 32 << 10, Concurrency: 1 << 16}
	return srv.Serve(ln)
}

func (f *front) serve(ctx *fasthttp.RequestCtx) {
	if ctx.IsPost() && string(ctx.Path()) == "/cart/add" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		var c fasthttp.Cookie
		c.SetKey(shop.SessionCookie)
		c.SetValue(hex.EncodeToString(b[:]))
		c.SetPath("/")
		c.SetHTTPOnly(true)
		ctx.Response.Header.SetCookie(&c)
		ctx.Redirect("/cart", fasthttp.StatusSeeOther)
		return
	}
	coding := ""
	if ae := ctx.Request.Header.Peek("Accept-Encoding"); strings.Contains(string(ae), "br") {
		coding = "br"
	} else if strings.Contains(string(ae), "gzip") {
		coding = "gzip"
	}
	key := string(ctx.Method()) + " " + string(ctx.RequestURI()) + " " + coding
	v, ok := f.pages.Load(key)
	if !ok {
		p := f.render(ctx, coding)
		if f.bytes.Add(int64(len(p.body))) <= maxFrontBytes {
			f.pages.Store(key, p)
		}
		v = p
	}
	p := v.(*frontPage)
	ctx.SetStatusCode(p.status)
	for _, h := range p.headers {
		ctx.Response.Header.Set(h[0], h[1])
	}
	ctx.SetBody(p.body)
}

// render asks the real shop for a page.
func (f *front) render(ctx *fasthttp.RequestCtx, coding string) *frontPage {
	req := httptest.NewRequest(string(ctx.Method()), string(ctx.RequestURI()), nil)
	req.Host = string(ctx.Host())
	if coding != "" {
		req.Header.Set("Accept-Encoding", coding)
	}
	rec := httptest.NewRecorder()
	f.s.ServeHTTP(rec, req)
	p := &frontPage{status: rec.Code, body: rec.Body.Bytes()}
	for k, vs := range rec.Header() {
		if k == "Content-Length" || k == "Date" {
			continue
		}
		for _, v := range vs {
			p.headers = append(p.headers, [2]string{k, v})
		}
	}
	return p
}
