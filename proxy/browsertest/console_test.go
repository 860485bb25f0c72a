package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/valyala/fasthttp"

	"shopedge/proxy"
	"shopedge/proxy/proxytest"
	"shopedge/rules"
)

const consoleToken = "console-browser-token"

// consoleEnv is the demo shop behind shopedge, and shopedge's admin
// listener, all on loopback.
type consoleEnv struct {
	env
	admin string
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	c := &proxytest.Clock{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var p *proxy.Proxy
	h := proxytest.Start(t, proxytest.Options{}, func(cfg *proxytest.Config) (*proxy.Proxy, error) {
		compiled, err := rules.Compile(cfg)
		if err != nil {
			return nil, err
		}
		p, err = proxy.New(compiled, proxy.Options{Keys: proxytest.Keys(), Now: c.Now, Logger: log})
		return p, err
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: p.Admin(consoleToken)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return &consoleEnv{env: env{url: h.URL, shop: h.Shop.Shop, clock: c}, admin: "http://" + ln.Addr().String()}
}

// shoppers send n visitors through the proxy, each to the home page and
// a few product pages, and answer their visitor cookies (signed tokens,
// which the console takes as well as ids).
func (e *consoleEnv) shoppers(t *testing.T, n int) []string {
	t.Helper()
	base, _ := url.Parse(e.url)
	var ids []string
	for i := range n {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		paths := []string{"/"}
		for j := range 3 {
			paths = append(paths, e.shop.Catalog.Products[(i*3+j)%len(e.shop.Catalog.Products)].URL())
		}
		for _, path := range paths {
			req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
			req.Header.Set("Accept", "text/html")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("shopper %d: %s: %v", i, path, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		for _, c := range jar.Cookies(base) {
			if c.Name == "se_vid" {
				ids = append(ids, c.Value)
			}
		}
	}
	if len(ids) != n {
		t.Fatalf("%d visitor cookies for %d shoppers", len(ids), n)
	}
	return ids
}

// visitorOf is the visitor id in a visitor cookie (the token's subject).
func visitorOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("visitor cookie %q is not a JWT", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Sub string `json:"sub"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &claims)
	}
	if err != nil || claims.Sub == "" {
		t.Fatalf("visitor cookie %q: no subject (%v)", token, err)
	}
	return claims.Sub
}

// adminStatus is the status of a GET to the admin JSON API.
func (e *consoleEnv) adminStatus(t *testing.T, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.admin+path, nil)
	req.Header.Set("Authorization", "Bearer "+consoleToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pageProblems collects what the pages of ctx report as errors: console
// errors, uncaught exceptions, the browser's own error log (a refused
// resource, a CSP violation).
type pageProblems struct {
	mu   sync.Mutex
	list []string
}

func watchProblems(ctx context.Context) *pageProblems {
	p := &pageProblems{}
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
				msg = "console." + string(ev.Type)
				for _, a := range ev.Args {
					msg += " " + string(a.Value)
				}
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.LevelError {
				msg = "log: " + ev.Entry.Text + " " + ev.Entry.URL
			}
		}
		if msg != "" {
			p.mu.Lock()
			p.list = append(p.list, msg)
			p.mu.Unlock()
		}
	})
	return p
}

func (p *pageProblems) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.list
	p.list = nil
	return out
}

// signInConsole opens the console, is sent to the sign-in form, and
// signs in through it.
func signInConsole(t *testing.T, ctx context.Context, admin string) {
	t.Helper()
	var path string
	run(t, ctx, chromedp.Navigate(admin+"/"), chromedp.WaitVisible(`#token`, chromedp.ByID), chromedp.Evaluate(`location.pathname`, &path))
	if path != "/login" {
		t.Fatalf("an unauthenticated look at the console landed on %q, want /login", path)
	}
	run(t, ctx,
		chromedp.SendKeys(`#token`, consoleToken, chromedp.ByID),
		chromedp.Click(`form.login button`, chromedp.ByQuery),
	)
	if !waitFor(t, ctx, `!!document.getElementById("requests")`, 10*time.Second) {
		t.Fatalf("signed in, no overview: at %s\n%s", eval[string](t, ctx, `location.href`), eval[string](t, ctx, `document.body.innerText`))
	}
}

// openConsolePage loads path and waits for its heading.
func openConsolePage(t *testing.T, ctx context.Context, admin, path string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(admin+path), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
}

func TestConsole(t *testing.T) {
	e := newConsoleEnv(t)
	ids := e.shoppers(t, 4)
	first, second := visitorOf(t, ids[0]), visitorOf(t, ids[1])
	if s := e.adminStatus(t, "/profiles/"+first); s != http.StatusOK {
		t.Fatalf("the first shopper's profile: %d", s)
	}

	ctx := browser(t, false)
	problems := watchProblems(ctx)
	signInConsole(t, ctx, e.admin)

	if n := eval[int](t, ctx, `+document.getElementById("requests").textContent`); n < 16 {
		t.Errorf("the overview counts %d requests after 16", n)
	}
	bars := eval[int](t, ctx, `[...document.querySelectorAll("#passed rect")].filter(r => parseFloat(r.getAttribute("width")) > 0).length`)
	columns := eval[int](t, ctx, `[...document.querySelectorAll("#added rect")].filter(r => parseFloat(r.getAttribute("height")) > 0).length`)
	if bars == 0 || columns == 0 {
		t.Errorf("the overview's charts are empty: %d personalized/passed bars, %d histogram columns", bars, columns)
	}
	screenshot(t, ctx, "console-overview-laptop")

	pages := []struct{ path, name string }{
		{"/console/actions", "actions"},
		{"/console/catalog", "catalog"},
		{"/console/experiments", "experiments"},
		{"/console/visitors?id=" + url.QueryEscape(ids[0]) + "&path=/", "visitors"},
	}
	for _, pg := range pages {
		openConsolePage(t, ctx, e.admin, pg.path)
		screenshot(t, ctx, "console-"+pg.name+"-laptop")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("main table").length`); n < 2 {
		t.Errorf("the visitor page shows %d tables: no profile or explanation", n)
	}
	openConsolePage(t, ctx, e.admin, "/console/actions")
	if n := eval[int](t, ctx, `[...document.querySelectorAll("table.actions rect")].filter(r => parseFloat(r.getAttribute("width")) > 0).length`); n == 0 {
		t.Error("no block's bar has a length after the shoppers")
	}

	// Erase asks first, then does what DELETE /profiles/{id} does.
	openConsolePage(t, ctx, e.admin, "/console/visitors?id="+url.QueryEscape(ids[0]))
	run(t, ctx, chromedp.Click(`#erase`, chromedp.ByID), chromedp.WaitVisible(`#confirm`, chromedp.ByID))
	if text := eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(text, "cannot be undone") {
		t.Errorf("the erase page does not ask first:\n%s", text)
	}
	if s := e.adminStatus(t, "/profiles/"+first); s != http.StatusOK {
		t.Fatalf("asking to erase erased already: %d", s)
	}
	screenshot(t, ctx, "console-erase-laptop")
	run(t, ctx, chromedp.Click(`#confirm`, chromedp.ByID), chromedp.WaitVisible(`#erased`, chromedp.ByID))
	if s := e.adminStatus(t, "/profiles/"+first); s != http.StatusNotFound {
		t.Errorf("after erase, GET /profiles/{id}: %d, want 404", s)
	}
	if s := e.adminStatus(t, "/profiles/"+second); s != http.StatusOK {
		t.Errorf("another visitor went too: %d", s)
	}
	for _, p := range problems.take() {
		t.Errorf("laptop: %s", p)
	}
	if v := eval[[]string](t, ctx, `window.__violations || []`); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}

	phone := browser(t, true)
	run(t, phone, emulation.SetDeviceMetricsOverride(390, 844, 3, true))
	phoneProblems := watchProblems(phone)
	signInConsole(t, phone, e.admin)
	if w := eval[int](t, phone, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the overview is %dpx wide on a 390px phone", w)
	}
	screenshot(t, phone, "console-overview-phone")
	for _, pg := range pages[:2] {
		openConsolePage(t, phone, e.admin, pg.path)
		screenshot(t, phone, "console-"+pg.name+"-phone")
	}
	for _, p := range phoneProblems.take() {
		t.Errorf("phone: %s", p)
	}
}
