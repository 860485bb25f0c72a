package proxy

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"shopedge/bench/shop"
	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/identity"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/proxy/store/redistest"
	"shopedge/proxy/store/remote"
	"shopedge/rules"
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

// benchPages are the page sizes measured: a demo category page, the home
// page (its blocks: recently viewed, picked for you by session kNN, popular
// and trending), and a product page with reviews inline at about 100 KB and 400 KB (the median
// of real product pages).
var benchPages = []struct{ name, path string }{
	{"30KB", "/c/shoes"},
	{"home", "/"},
	{"100KB", "/p/essential-grey-slip-dress-se-10001?reviews=450"},
	{"400KB", "/p/essential-grey-slip-dress-se-10001?reviews=all"},
}

// setCookieLine puts a Cookie line on h as a request the server read from
// a connection has it: a line of the header block. (fasthttp's SetCookie
// puts it in the parsed jar instead, which the server never does, and from
// which every read of a cookie would cost a copy; see requestCookie.)
func setCookieLine(h *fasthttp.RequestHeader, name, value string) {
	special := !h.DisableSpecialHeader()
	var buf [512]byte // a token fits: the line costs the benchmark no allocation
	h.AddBytesV(fasthttp.HeaderCookie, append(append(append(buf[:0], name...), '='), value...))
	if special {
		h.EnableSpecialHeader()
	}
}

// benchProxy is a proxy whose upstream serves body from memory.
func benchProxy(b *testing.B, body []byte, encoding string) *Proxy {
	return benchProxyWith(b, body, encoding, nil)
}

// benchProxyWith is benchProxy with its configuration changed by mutate.
func benchProxyWith(b *testing.B, body []byte, encoding string, mutate func(*rules.Config)) *Proxy {
	return proxyOn(b, staticShop(b, body, encoding), mutate)
}

// proxyOn is a proxy on the demo plan (changed by mutate) whose upstream
// is ln.
func proxyOn(b *testing.B, ln *fasthttputil.InmemoryListener, mutate func(*rules.Config)) *Proxy {
	p, err := New(compile(b, demoConfig(b, "http://shop.internal", mutate)), Options{
		Keys:   []identity.Key{{ID: "t1", Secret: testSecret}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	p.up.dial = func(string, time.Duration) (net.Conn, error) { return ln.Dial() }
	return p
}

// BenchmarkHandlerShared is BenchmarkHandler's personalized category
// page with the state shared through a real Redis (store.url): the same
// work, plus marking the visitor's profile to write behind (a category
// view teaches the engine nothing, so nothing is published). The writes
// go out from the store's goroutine every flush interval, measured with
// the rest.
func BenchmarkHandlerShared(b *testing.B) {
	srv := redistest.Start(b)
	page := demoPage(b, benchPages[0].path)
	p := benchProxyWith(b, page, "", func(c *rules.Config) { c.Store.URL = srv.URL() })
	b.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	warmDemo(b, p)
	var req fasthttp.Request
	req.SetRequestURI(benchPages[0].path)
	req.Header.SetHost("shop.example")
	req.Header.Set("Accept", "text/html")
	req.Header.SetUserAgent(browserUA)
	setCookieLine(&req.Header, "se_vid", shoeVisitor(b, p))
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
	b.StopTimer()
	if err := p.shared.(*remote.Store).Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := p.shared.(*remote.Store).Stats(); st.ProfileWrites == 0 || p.metrics.rewrites.Load() == 0 {
		b.Fatalf("nothing shared or personalized: %+v, %d rewrites", st, p.metrics.rewrites.Load())
	}
}

// BenchmarkHandler measures the proxy's own work per request, the shop
// served from memory, on the demo plan (configs/demo.yaml) with a warm
// store: the catalog knows the demo shop's products and the engine has
// learned from the sample clickstream. "passthrough" is a bot's request,
// streamed untouched; "personalized" a returning visitor who viewed four
// pairs of shoes: the category page gets its menu reordered, the
// category's popular products re-ranked for the visitor and the exit-offer
// overlay; a product page its menu, the also viewed block, the two banners
// and the overlay. The difference is the cost of personalization.
func BenchmarkHandler(b *testing.B) {
	for _, pg := range benchPages {
		page := demoPage(b, pg.path)
		gz, _ := codec.NewEncoder(6, 4).Encode(nil, page, codec.Gzip)
		for _, enc := range []struct {
			name, header string
			body         []byte
		}{{"identity", "", page}, {"gzip", "gzip", gz}} {
			for _, mode := range []string{"passthrough", "personalized", "firstview"} {
				b.Run(pg.name+"/"+enc.name+"/"+mode, func(b *testing.B) {
					p := benchProxy(b, enc.body, enc.header)
					warmDemo(b, p)
					var req fasthttp.Request
					req.SetRequestURI(pg.path)
					req.Header.SetHost("shop.example")
					req.Header.Set("Accept", "text/html")
					req.Header.Set("Accept-Encoding", "gzip")
					switch mode {
					case "personalized":
						req.Header.SetUserAgent(browserUA)
						setCookieLine(&req.Header, "se_vid", shoeVisitor(b, p))
					case "firstview":
						req.Header.SetUserAgent(browserUA) // no cookie: a new visitor each time
					default:
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
						if mode == "firstview" && len(ctx.Response.Header.PeekCookie("se_vid")) == 0 {
							b.Fatal("a new visitor got no cookie")
						}
						drain(&ctx)
					}
					if mode == "personalized" {
						var sb strings.Builder
						p.metrics.WriteTo(&sb, nil)
						if p.metrics.rewrites.Load() == 0 || !strings.Contains(sb.String(), "shopedge_block_shown_total") {
							b.Fatal("nothing was personalized\n" + sb.String())
						}
						shown := 0
						p.metrics.blocksMu.RLock()
						for _, c := range p.metrics.blocks {
							shown += int(c.shown.Load())
						}
						p.metrics.blocksMu.RUnlock()
						if shown < b.N {
							b.Fatalf("%d blocks shown in %d requests", shown, b.N)
						}
						// Every page carries the exit offer too: menu, blocks
						// (banners on product pages) and an overlay.
						if n := p.metrics.overlay("exit-offer").injected.Load(); pg.name != "home" && n < int64(b.N) {
							b.Fatalf("%d overlays in %d requests", n, b.N)
						}
					}
				})
			}
		}
	}
}

// warmDemo fills a proxy's catalog with the demo shop's products, and its
// engine with the sample clickstream, moved in time to end now.
func warmDemo(b *testing.B, p *Proxy) {
	b.Helper()
	now := p.now()
	demo := shop.New(1).Catalog
	cats := map[string][]catalog.ID{}
	for _, sp := range demo.Products {
		prod := catalog.Product{
			ID: catalog.KeyOf(sp.SKU), Key: sp.SKU, SKU: sp.SKU, Name: sp.Name, URL: sp.URL(), Image: sp.Image(),
			Price: sp.Price, Currency: "EUR", Brand: sp.Brand, Availability: catalog.InStock,
		}
		if !sp.InStock {
			prod.Availability = catalog.OutOfStock
		}
		for _, c := range sp.Category.Path() {
			prod.Categories = append(prod.Categories, catalog.NewCategory(c.Name, c.URL()))
			cats[sp.SKU] = append(cats[sp.SKU], catalog.NewCategory(c.Name, c.URL()).ID)
		}
		p.catalog.Put(prod, now)
	}
	f, err := os.Open("recommend/testdata/sample.csv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	rows = rows[1:]
	last, _ := strconv.ParseInt(rows[len(rows)-1][1], 10, 64)
	shift := now.Unix() - last
	kinds := map[string]recommend.Kind{"view": recommend.View, "cart": recommend.Cart, "purchase": recommend.Purchase}
	for _, r := range rows {
		at, _ := strconv.ParseInt(r[1], 10, 64)
		p.rec.Record(recommend.Event{
			Session: xxhash.Sum64String(r[0]), Item: catalog.KeyOf(r[3]), Categories: cats[r[3]],
			Kind: kinds[r[2]], Time: time.Unix(at+shift, 0),
		})
	}
}

// shoeVisitor makes a returning visitor who viewed four pairs of shoes in
// this visit, and returns the visitor's token.
func shoeVisitor(b *testing.B, p *Proxy) string {
	b.Helper()
	token, err := p.ids.Issue(identity.NewVisitorID())
	if err != nil {
		b.Fatal(err)
	}
	who, _ := p.ids.Verify(token)
	prof, _ := p.profiles.Load(who.ID)
	now := p.now()
	half := p.Config().Profiles.InterestHalfLife.D()
	var viewed []*shop.Product
	for _, sp := range shop.New(1).Catalog.Categories["shoes"].Products {
		if sp.InStock && len(viewed) < 4 {
			viewed = append(viewed, sp)
		}
	}
	prof.Update(func(d *profile.Data) {
		d.Touch(now.Add(-time.Hour), time.Minute) // an earlier visit
		d.Touch(now, time.Minute)
		for _, sp := range viewed {
			var cats []catalog.ID
			for _, c := range sp.Category.Path() {
				cats = append(cats, catalog.CategoryID(catalog.PathKey(c.URL()), ""))
			}
			d.ViewProduct(catalog.KeyOf(sp.SKU), cats, now, half)
		}
	})
	p.profiles.Wait()
	return token
}

// drain consumes a streamed response body, as the server would.
func drain(ctx *fasthttp.RequestCtx) {
	if ctx.Response.IsBodyStream() {
		_, _ = io.Copy(io.Discard, ctx.Response.BodyStream())
		_ = ctx.Response.CloseBodyStream()
	}
	ctx.Response.Reset()
}

// BenchmarkHandlerMix is the load harness's traffic in one process, the
// shop served from memory, on the demo plan with a warm store: visits of
// about six pages (home, a category, a few of its products, sometimes a
// search, sometimes home again), two in three by a new visitor (the first
// page without a cookie, the next ones with the one it got), one in three
// by a visitor who came before. Unlike BenchmarkHandler, visitors and
// pages change from request to request, so the figure includes what
// caches miss; it is the proxy's own CPU per request, without the system
// calls of real sockets.
func BenchmarkHandlerMix(b *testing.B) {
	demo := shop.New(1).Catalog
	var tops []*shop.Category
	for _, c := range demo.Top {
		if len(c.Products) > 0 {
			tops = append(tops, c)
		}
	}
	visit := func(k int) []string {
		c := tops[k%len(tops)]
		steps := []string{"/", c.URL()}
		var last *shop.Product
		for j := range 2 + k%3 {
			last = c.Products[(k*3+j)%min(12, len(c.Products))]
			steps = append(steps, last.URL())
		}
		if k%10 < 4 {
			words := strings.Fields(strings.ToLower(last.Name))
			steps = append(steps, "/search?q="+words[len(words)-1])
		}
		if k%10 < 3 {
			steps = append(steps, "/")
		}
		return steps
	}
	pages := map[string][]byte{}
	srv := httptest.NewServer(shop.New(1))
	v := (&env{t: b}).visitor()
	for k := range 60 {
		for _, path := range visit(k) {
			if pages[path] == nil {
				pages[path] = []byte(v.get(srv.URL + path).body)
			}
		}
	}
	srv.Close()
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			bodies := map[string][]byte{}
			for path, page := range pages {
				if enc == "gzip" {
					page, _ = codec.NewEncoder(6, 4).Encode(nil, page, codec.Gzip)
				}
				bodies[path] = page
			}
			ln := fasthttputil.NewInmemoryListener()
			shopSrv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
				body, ok := bodies[string(ctx.RequestURI())]
				if !ok {
					ctx.SetStatusCode(fasthttp.StatusNotFound)
					return
				}
				ctx.SetContentType("text/html; charset=utf-8")
				if enc == "gzip" {
					ctx.Response.Header.Set("Content-Encoding", "gzip")
				}
				ctx.SetBody(body)
			}}
			go func() { _ = shopSrv.Serve(ln) }()
			b.Cleanup(func() { _ = shopSrv.Shutdown() })
			p := proxyOn(b, ln, nil)
			warmDemo(b, p)
			var req fasthttp.Request
			req.Header.SetHost("shop.example")
			req.Header.Set("Accept", "text/html")
			req.Header.SetUserAgent(browserUA)
			if enc == "gzip" {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			var ctx fasthttp.RequestCtx
			var cookie fasthttp.Cookie
			addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
			var returning []string // tokens of earlier visitors
			var steps []string
			token, k := "", 0
			b.ReportAllocs()
			for b.Loop() {
				if len(steps) == 0 { // the next visit
					steps, token = visit(k), ""
					if k%3 == 2 && len(returning) > 0 {
						token = returning[(k*7919)%len(returning)]
					}
					k++
				}
				req.SetRequestURI(steps[0])
				steps = steps[1:]
				req.Header.Del("Cookie")
				if token != "" {
					setCookieLine(&req.Header, "se_vid", token)
				}
				ctx.Init(&req, addr, nil)
				p.Handler(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("%s: status %d", req.URI().RequestURI(), ctx.Response.StatusCode())
				}
				if raw := ctx.Response.Header.PeekCookie("se_vid"); raw != nil && cookie.ParseBytes(raw) == nil {
					token = string(cookie.Value())
					if len(returning) < 4096 {
						returning = append(returning, token)
					}
				}
				drain(&ctx)
			}
			if p.metrics.rewrites.Load() < int64(b.N)/2 {
				b.Fatalf("%d of %d pages personalized", p.metrics.rewrites.Load(), b.N)
			}
		})
	}
}
