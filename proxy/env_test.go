package proxy

import (
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"shopedge/bench/shop"
	"shopedge/proxy/proxytest"
	"shopedge/rules"
)

// The helpers below are the proxy tests' names for proxytest's harness.

const browserUA = proxytest.BrowserUA

// testSecret is the secret of the harness's signing key, id "t1".
var testSecret = proxytest.Keys()[0].Secret

// env is a proxy in front of an upstream, both on loopback sockets.
type env struct {
	t        testing.TB
	proxy    *Proxy
	url      string // the proxy's base URL
	upstream string // the upstream's base URL
	shop     *shop.Shop
	served   *proxytest.Served // where the proxy listens; nil in an env of no proxy
}

// demoConfig is configs/demo.yaml pointed at upstream, changed by mutate.
func demoConfig(t testing.TB, upstream string, mutate func(*rules.Config)) *rules.Config {
	t.Helper()
	return proxytest.DemoConfig(t, upstream, mutate)
}

// compile compiles a configuration a test built or changed.
func compile(t testing.TB, cfg *rules.Config) *rules.Compiled {
	t.Helper()
	c, err := rules.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startProxy serves a proxy for cfg on a loopback port.
func startProxy(t testing.TB, cfg *rules.Config) *env { return startProxyAt(t, cfg, nil) }

// startProxyAt serves a proxy for cfg whose clock is now (nil: the real
// one).
func startProxyAt(t testing.TB, cfg *rules.Config, now func() time.Time) *env {
	t.Helper()
	return startProxyLogged(t, cfg, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// startProxyLogged is startProxyAt logging to log.
func startProxyLogged(t testing.TB, cfg *rules.Config, now func() time.Time, log *slog.Logger) *env {
	t.Helper()
	p, err := newTestProxy(cfg, now, log)
	if err != nil {
		t.Fatal(err)
	}
	s := proxytest.Serve(t, p)
	return &env{t: t, proxy: p, url: s.URL, upstream: cfg.Upstream.URL, served: s}
}

// newTestProxy builds a proxy for cfg with the harness's keys.
func newTestProxy(cfg *rules.Config, now func() time.Time, log *slog.Logger) (*Proxy, error) {
	c, err := rules.Compile(cfg)
	if err != nil {
		return nil, err
	}
	return New(c, Options{Keys: proxytest.Keys(), Logger: log, Now: now})
}

// newShopEnv runs the demo shop with shopedge in front of it.
func newShopEnv(t testing.TB, mutate func(*rules.Config)) *env {
	return newShopEnvAt(t, mutate, nil)
}

// newShopEnvAt is newShopEnv with the proxy's clock at now.
func newShopEnvAt(t testing.TB, mutate func(*rules.Config), now func() time.Time) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := proxytest.Start(t, proxytest.Options{Mutate: mutate}, func(cfg *proxytest.Config) (*Proxy, error) {
		return newTestProxy(cfg, now, log)
	})
	return &env{t: t, proxy: h.Proxy, url: h.URL, upstream: h.Shop.URL, shop: h.Shop.Shop, served: h.Served}
}

// ticking is a clock that moves a second on every reading: the engine's
// once-a-second lists are fresh on every request.
func ticking() func() time.Time { return proxytest.Ticking() }

// visitor is a browser (proxytest.Visitor): a cookie jar, a user agent, no
// automatic decompression and no redirects followed. Tests change ua and
// header; do hands them to the harness's visitor.
type visitor struct {
	t      testing.TB
	client *http.Client
	ua     string
	header http.Header // extra request headers
	v      *proxytest.Visitor
}

func (e *env) visitor() *visitor {
	v := proxytest.NewVisitor(e.t, e.url) // an env of no proxy visits any URL
	if e.served != nil {
		v = e.served.Visitor(e.t)
	}
	return &visitor{t: e.t, client: v.Client, ua: v.UA, header: v.Header, v: v}
}

// reply is a response as a browser sees it, body decoded.
type reply struct {
	resp *http.Response
	raw  []byte // the bytes on the wire
	body string // decoded
}

func (v *visitor) do(req *http.Request) reply {
	v.t.Helper()
	v.v.Client, v.v.UA, v.v.Header = v.client, v.ua, v.header
	pg := v.v.Do(req)
	return reply{resp: pg.Resp, raw: pg.Raw, body: pg.Body}
}

func (v *visitor) get(url string) reply {
	v.t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

func (v *visitor) post(url, contentType, body string) reply {
	v.t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return v.do(req)
}

// navOrder returns the hrefs of the main menu's entries, in page order.
func navOrder(body string) []string { return proxytest.NavOrder(body) }

// shopNav is the demo shop's own menu order.
func (e *env) shopNav() []string { return proxytest.Nav(e.shop) }

// productsIn returns the URLs of the first n products of a category, in
// stock or not.
func (e *env) productsIn(slug string, n int) []string {
	return proxytest.ProductsIn(e.shop, slug, n)
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	return proxytest.Page{Resp: resp}.Cookie(name)
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

// addSegments adds segments to a configuration's own (the demo's keep
// theirs).
func addSegments(c *rules.Config, segs map[string]rules.Condition) {
	if c.Segments == nil {
		c.Segments = map[string]rules.Condition{}
	}
	maps.Copy(c.Segments, segs)
}
