package proxy

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy/identity"
	"shopedge/rules"
)

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

var testSecret = []byte("test-secret-test-secret-test-secret-0123456789")

// env is a proxy in front of an upstream, both on loopback sockets.
type env struct {
	t        testing.TB
	proxy    *Proxy
	url      string // the proxy's base URL
	upstream string // the upstream's base URL
	shop     *shop.Shop
}

// demoConfig is configs/demo.yaml pointed at upstream, changed by mutate.
func demoConfig(t testing.TB, upstream string, mutate func(*rules.Config)) *rules.Config {
	t.Helper()
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream.URL = upstream
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = ""
	if mutate != nil {
		mutate(cfg.Config)
	}
	return cfg.Config
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
	p, err := New(compile(t, cfg), Options{
		Keys:   []identity.Key{{ID: "t1", Secret: testSecret}},
		Logger: log,
		Now:    now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.Server()
	go func() { _ = p.Serve(srv, ln) }()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		p.Close()
	})
	return &env{t: t, proxy: p, url: "http://" + ln.Addr().String(), upstream: cfg.Upstream.URL}
}

// newShopEnv runs the demo shop with shopedge in front of it.
func newShopEnv(t testing.TB, mutate func(*rules.Config)) *env {
	return newShopEnvAt(t, mutate, nil)
}

// newShopEnvAt is newShopEnv with the proxy's clock at now.
func newShopEnvAt(t testing.TB, mutate func(*rules.Config), now func() time.Time) *env {
	t.Helper()
	s := shop.New(1)
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	e := startProxyAt(t, demoConfig(t, up.URL, mutate), now)
	e.shop = s
	return e
}

// ticking is a clock that moves a second on every reading: the engine's
// once-a-second lists are fresh on every request.
func ticking() func() time.Time {
	var mu sync.Mutex
	now := time.Now()
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

// visitor is a browser: a cookie jar, a user agent, no automatic
// decompression and no redirects followed.
type visitor struct {
	t      testing.TB
	client *http.Client
	ua     string
	header http.Header // extra request headers
}

func (e *env) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{
		t: e.t,
		client: &http.Client{
			Jar:           jar,
			Transport:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ua:     browserUA,
		header: http.Header{},
	}
}

// reply is a response as a browser sees it, body decoded.
type reply struct {
	resp *http.Response
	raw  []byte // the bytes on the wire
	body string // decoded
}

func (v *visitor) do(req *http.Request) reply {
	v.t.Helper()
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", v.ua)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	}
	for k, vs := range v.header {
		req.Header[k] = vs
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return reply{resp: resp, raw: raw, body: string(decode(v.t, resp.Header.Get("Content-Encoding"), raw))}
}

func (v *visitor) get(url string) reply {
	v.t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

func decode(t testing.TB, enc string, raw []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return raw
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(raw))
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body: %v", enc, err)
	}
	return b
}

var navLink = regexp.MustCompile(`<li class="nav-item[^"]*">\s*<a href="([^"]+)"`)

// navOrder returns the hrefs of the main menu's entries, in page order.
func navOrder(body string) []string {
	var out []string
	for _, m := range navLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// shopNav is the demo shop's own menu order.
func (e *env) shopNav() []string {
	var out []string
	for _, c := range e.shop.Catalog.Top {
		out = append(out, c.URL())
	}
	return out
}

// productsIn returns the URLs of in-stock products of a category.
func (e *env) productsIn(slug string, n int) []string {
	var out []string
	for _, p := range e.shop.Catalog.Categories[slug].Products {
		if len(out) < n {
			out = append(out, p.URL())
		}
	}
	return out
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
