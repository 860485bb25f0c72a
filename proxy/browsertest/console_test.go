package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
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

	"shopedge/configs"
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

// newConsoleEnv runs the demo configuration with the demo's experiments
// (which the harness leaves out): an A/B of the popular block's strategy
// and title, popular-vs-trending, and a 10% holdout on the exit offer.
func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	demo, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatal(err)
	}
	experiments := func(c *rules.Config) {
		for i := range c.Overlays.Rules {
			c.Overlays.Rules[i].Experiment = demo.Overlays.Rules[i].Experiment
		}
		for i := range c.Recommendations.Blocks {
			c.Recommendations.Blocks[i].Experiment = demo.Recommendations.Blocks[i].Experiment
		}
	}
	c := &proxytest.Clock{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var p *proxy.Proxy
	h := proxytest.Start(t, proxytest.Options{Mutate: experiments}, func(cfg *proxytest.Config) (*proxy.Proxy, error) {
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

// buyers send n shoppers through the proxy: each opens the home page
// (where the popular block's A/B applies) and a product, and some of them
// buy it through the shop's checkout, more of those who saw the trending
// arm, so that the A/B has converters and non-converters in both arms.
// It answers how many home pages showed each arm's title.
func (e *consoleEnv) buyers(t *testing.T, n int) (trending, popular int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(14, 14))
	var stock []string
	for _, p := range e.shop.Catalog.Products {
		if p.InStock {
			stock = append(stock, p.SKU)
		}
	}
	for i := range n {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		send := func(method, path, contentType, body string) (*http.Response, string) {
			req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
			req.Header.Set("Accept", "text/html")
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("buyer %d: %s %s: %v", i, method, path, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, string(b)
		}
		_, home := send("GET", "/", "", "")
		rate := 0.0
		switch {
		case strings.Contains(home, "Trending now"):
			trending++
			rate = 0.6
		case strings.Contains(home, "Popular right now"):
			popular++
			rate = 0.35
		}
		send("GET", e.shop.Catalog.Products[rng.IntN(len(e.shop.Catalog.Products))].URL(), "", "")
		if rng.Float64() >= rate {
			continue
		}
		send("POST", "/cart/add", "application/x-www-form-urlencoded", url.Values{"sku": {stock[rng.IntN(len(stock))]}, "qty": {"1"}}.Encode())
		placed, _ := send("POST", "/checkout/place", "application/x-www-form-urlencoded", "first=A")
		if placed.StatusCode != http.StatusSeeOther {
			t.Fatalf("buyer %d: checkout: %d", i, placed.StatusCode)
		}
		send("GET", placed.Header.Get("Location"), "", "")
	}
	return trending, popular
}

// histogramLabelsFit checks, in the page, that every label of the
// Overview's histogram is drawn inside the chart (its box within the
// SVG's) and large enough to read (glyphs at least 8 CSS pixels high:
// the labels run upwards, so their boxes' width).
func histogramLabelsFit(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	var got struct {
		Labels int
		Out    []string
		Small  []string
	}
	run(t, ctx, chromedp.Evaluate(`(function(){
var svg=document.getElementById("added"),s=svg.getBoundingClientRect(),out=[],small=[],texts=svg.querySelectorAll("text");
texts.forEach(function(x){var r=x.getBoundingClientRect();
 if(r.left<s.left-0.5||r.right>s.right+0.5||r.top<s.top-0.5||r.bottom>s.bottom+0.5)out.push(x.textContent+" "+JSON.stringify(r)+" in "+JSON.stringify(s));
 if(r.width<8)small.push(x.textContent+" "+r.width.toFixed(1)+"px");});
return {Labels:texts.length,Out:out,Small:small};})()`, &got))
	if got.Labels < 10 {
		t.Errorf("%s: the histogram has %d labels, want one per bucket", where, got.Labels)
	}
	for _, o := range got.Out {
		t.Errorf("%s: a histogram label is drawn outside the chart: %s", where, o)
	}
	for _, o := range got.Small {
		t.Errorf("%s: a histogram label is too small to read: %s", where, o)
	}
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
	noViolations(t, ctx, "the overview")
}

// openConsolePage loads path, waits for its heading and checks that the
// page broke no CSP rule (window.__violations starts anew on each load, so
// each page is checked on its own).
func openConsolePage(t *testing.T, ctx context.Context, admin, path string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(admin+path), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
	noViolations(t, ctx, path)
}

// noViolations fails t if the page now shown broke a CSP rule.
func noViolations(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	if v := eval[[]string](t, ctx, `window.__violations || []`); len(v) > 0 {
		t.Errorf("%s: CSP violations: %v", where, v)
	}
}

func TestConsole(t *testing.T) {
	e := newConsoleEnv(t)
	ids := e.shoppers(t, 4)
	first, second := visitorOf(t, ids[0]), visitorOf(t, ids[1])
	trending, popular := e.buyers(t, 240)
	if trending < 60 || popular < 60 {
		t.Fatalf("the popular block's arms showed on %d (trending) and %d (popular) home pages, want 60 or more each", trending, popular)
	}
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
	histogramLabelsFit(t, ctx, "laptop")
	screenshot(t, ctx, "console-overview-laptop")

	pages := []struct{ path, name string }{
		{"/console/actions", "actions"},
		{"/console/catalog", "catalog"},
		{"/console/experiments", "experiments"},
		{"/console/visitors?id=" + url.QueryEscape(ids[0]) + "&path=/", "visitors"},
	}
	for _, pg := range pages {
		openConsolePage(t, ctx, e.admin, pg.path)
		if pg.name == "experiments" {
			experimentsShown(t, ctx)
			screenshot(t, ctx, "console-experiments")
			continue
		}
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
	previewThroughConsole(t, ctx, e)
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
	histogramLabelsFit(t, phone, "phone")
	screenshot(t, phone, "console-overview-phone")
	run(t, phone, chromedp.ScrollIntoView(`#added`, chromedp.ByID))
	screenshot(t, phone, "console-histogram-phone")
	for _, pg := range append(pages[:2:2], struct{ path, name string }{"/console/preview", "preview-page"}) {
		openConsolePage(t, phone, e.admin, pg.path)
		screenshot(t, phone, "console-"+pg.name+"-phone")
	}
	for _, p := range phoneProblems.take() {
		t.Errorf("phone: %s", p)
	}
}

// experimentsShown checks the Experiments page after the buyers: the
// popular block's A/B with its two arms, the trending arm's uplift drawn
// as an interval bar, and a verdict.
func experimentsShown(t *testing.T, ctx context.Context) {
	t.Helper()
	var got struct {
		Arms      []string
		Intervals int
		Verdict   string
		Previews  int
	}
	run(t, ctx, chromedp.Evaluate(`(function(){
var sec=[...document.querySelectorAll("section.experiment")].find(function(s){return s.querySelector("h2").textContent.indexOf("popular-vs-trending")>=0});
if(!sec)return {Arms:[],Intervals:0,Verdict:"",Previews:0};
return {Arms:[...sec.querySelectorAll("tr th[scope=row]")].map(function(th){return th.firstChild.textContent.trim()}),
 Intervals:[...sec.querySelectorAll("svg.interval rect.ci")].filter(function(r){return parseFloat(r.getAttribute("width"))>0}).length,
 Verdict:sec.querySelector("h2 + p").textContent.trim(),
 Previews:sec.querySelectorAll("a.preview-arm").length};})()`, &got))
	if strings.Join(got.Arms, ",") != "default,trending" || got.Intervals != 1 || got.Verdict == "" || got.Previews != 2 {
		t.Errorf("the Experiments page shows popular-vs-trending with arms %q, %d interval bars, verdict %q, %d preview links; want default and trending, one bar, a verdict, two links",
			got.Arms, got.Intervals, got.Verdict, got.Previews)
	}
}

// previewThroughConsole makes a preview link of the popular block's
// trending arm on the Preview page, opens it, and sees the shop's home
// page under the preview: the badge naming the arm, and the arm's block.
func previewThroughConsole(t *testing.T, ctx context.Context, e *consoleEnv) {
	t.Helper()
	openConsolePage(t, ctx, e.admin, "/console/preview")
	run(t, ctx,
		chromedp.SetValue(`#experiment_arm`, "popular-vs-trending:trending", chromedp.ByID),
		chromedp.SendKeys(`#base`, e.url, chromedp.ByID),
		chromedp.Click(`#make`, chromedp.ByID),
		chromedp.WaitVisible(`#preview-link`, chromedp.ByID),
	)
	var link, previews string
	run(t, ctx, chromedp.Value(`#preview-link`, &link, chromedp.ByID), chromedp.Text(`#previews`, &previews, chromedp.ByID))
	if !strings.HasPrefix(link, e.url+"/_shopedge/preview?t=") || !strings.Contains(previews, "a visitor in arm trending of experiment popular-vs-trending") {
		t.Fatalf("the Preview page made %q, saying %q", link, previews)
	}
	if ro := eval[bool](t, ctx, `document.getElementById("preview-link").readOnly`); !ro {
		t.Errorf("the link's field is not read-only")
	}
	screenshot(t, ctx, "console-preview-page-laptop")

	run(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(`.se-preview`, chromedp.ByQuery))
	var at, badge, block string
	run(t, ctx, chromedp.Evaluate(`location.href`, &at), chromedp.Text(`.se-preview`, &badge, chromedp.ByQuery))
	if badge = strings.Join(strings.Fields(badge), " "); at != e.url+"/" || !strings.Contains(badge, "preview: popular-vs-trending: trending") {
		t.Errorf("the preview link landed on %q with the badge %q", at, badge)
	}
	run(t, ctx, chromedp.Text(`[data-se-block="popular"]`, &block, chromedp.ByQuery))
	if !strings.Contains(block, "Trending now") {
		t.Errorf("under the preview of trending, the popular block reads %q", block)
	}
	run(t, ctx, chromedp.ScrollIntoView(`[data-se-block="popular"]`, chromedp.ByQuery))
	screenshot(t, ctx, "console-preview")
}
