package proxy

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/valyala/fasthttp"

	"shopedge/bench/shop"
	"shopedge/rules"
)

// editedShop runs the demo shop behind a handler that passes each HTML
// page it serves through edit, compressed with gzip when the proxy asks
// for it: the demo's pages with what real shops' pages have.
func editedShop(t *testing.T, mutate func(*rules.Config), edit func(path string, page []byte) []byte) *env {
	t.Helper()
	s := shop.New(1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gz := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
		r.Header.Del("Accept-Encoding")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		h := w.Header()
		for k, vs := range rec.Header() {
			h[k] = vs
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			body = edit(r.URL.Path, body)
			if gz {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write(body)
				zw.Close()
				body = b.Bytes()
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(up.Close)
	e := startProxy(t, demoConfig(t, up.URL, mutate))
	e.shop = s
	return e
}

// TestByteOrderMarkPage: a shop page that starts with a UTF-8 byte order
// mark gets its blocks, banners and overlay like any other, and still
// starts with the mark, then the doctype (issue 9).
func TestByteOrderMarkPage(t *testing.T) {
	t.Parallel()
	const bom = "\xEF\xBB\xBF"
	for _, enc := range []string{"identity", "gzip"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			e := editedShop(t, nil, func(_ string, page []byte) []byte { return append([]byte(bom), page...) })
			ps := e.inStock("kids", 2)
			// Someone viewed both products: the second is what is viewed
			// with the first.
			first := e.visitor()
			first.get(e.url + ps[0].URL())
			first.get(e.url + ps[1].URL())
			v := e.visitor()
			if enc == "gzip" {
				v.header.Set("Accept-Encoding", "gzip")
			}
			pg := v.get(e.url + ps[0].URL())
			if got := pg.resp.Header.Get("Content-Encoding"); (enc == "gzip") != (got == "gzip") {
				t.Fatalf("Content-Encoding %q for %s", got, enc)
			}
			if !strings.HasPrefix(pg.body, bom+"<!DOCTYPE html>") {
				t.Fatalf("page starts with %q, want the byte order mark, then the doctype", pg.body[:min(len(pg.body), 20)])
			}
			if got := blockLinks(t, pg.body, "also-viewed"); len(got) == 0 {
				t.Errorf("no also-viewed block on a page with a byte order mark")
			}
			if got := overlays(pg.body); len(got) != 1 || got[0] != "exit-offer" {
				t.Errorf("overlays %v, want [exit-offer]", got)
			}
			head := pg.body[:strings.Index(pg.body, "</head>")]
			if !strings.Contains(head, `<link rel="stylesheet" href="/_shopedge/shopedge.css?v=`) {
				t.Errorf("no stylesheet at the end of the head")
			}
			if !strings.Contains(pg.body, `<script src="/_shopedge/shopedge.js?v=`) {
				t.Errorf("no script")
			}
			if got, want := withoutBlocks(pg.body), e.direct(t, ps[0].URL(), host(e.url)); got != want {
				t.Errorf("the page changed beyond what shopedge adds:\n%s", lineDiff(got, want))
			}
		})
	}
}

// lineDiff shows the first line where got and want differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + a + "\nwant: " + b
		}
	}
	return "(same lines)"
}

// basePage serves a product page whose <base href> is base.
func basePage(t *testing.T, base string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><base href="%s"><title>Boots</title></head><body><main id="main"><div class="product"><h1>Boots</h1><div class="price">€50</div></div></main></body></html>`, base)
	}))
	t.Cleanup(up.Close)
	return up.URL
}

var ownTags = regexp.MustCompile(`<link rel="stylesheet" href="([^"]*)shopedge\.css\?v=[0-9a-f]+">|<script src="([^"]*)shopedge\.js\?v=[0-9a-f]+" defer data-se-beacon="([^"]*)beacon">`)

// ownPrefixes returns where a page loads the stylesheet, the script and
// sends beacons from: the part of each address before the file name.
func ownPrefixes(body string) (css, js, beacon string) {
	for _, m := range ownTags.FindAllStringSubmatch(body, -1) {
		if strings.HasPrefix(m[0], "<link") {
			css = m[1]
		} else {
			js, beacon = m[2], m[3]
		}
	}
	return css, js, beacon
}

// TestBaseElsewhere: on a page whose <base href> points at another host
// (or scheme), the stylesheet, the script and the beacon are addressed on
// the origin the visitor asked for, which root-relative paths would not
// be; other pages keep root-relative paths. The absolute addresses are
// made per request: a page's bytes served under two host names give each
// its own (issue 9).
func TestBaseElsewhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base string
		host       string // the Host the visitor asks for
		absolute   bool
	}{
		{name: "another host", base: "https://cdn.example/assets/", host: "shop.example", absolute: true},
		{name: "scheme-relative", base: "//cdn.example/", host: "shop.example", absolute: true},
		{name: "same host, other scheme", base: "https://shop.example/", host: "shop.example", absolute: true},
		{name: "same origin", base: "http://SHOP.example/", host: "shop.example"},
		{name: "relative", base: "/shop/", host: "shop.example"},
		{name: "empty", base: "", host: "shop.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startProxy(t, demoConfig(t, basePage(t, tt.base), nil))
			req, _ := http.NewRequest("GET", e.url+"/p/boots", nil)
			req.Host = tt.host
			pg := e.visitor().do(req)
			want := "/_shopedge/"
			if tt.absolute {
				want = "http://" + tt.host + "/_shopedge/"
			}
			css, js, beacon := ownPrefixes(pg.body)
			if css != want || js != want || beacon != want {
				t.Errorf("stylesheet, script and beacon at %q, %q, %q; want %q\n%s", css, js, beacon, want, pg.body)
			}
		})
	}
	t.Run("blocks and overlays", func(t *testing.T) {
		t.Parallel()
		testBaseElsewhereInjected(t)
	})
	t.Run("two hosts, one page", func(t *testing.T) {
		t.Parallel()
		e := startProxy(t, demoConfig(t, basePage(t, "https://cdn.example/"), nil))
		for _, host := range []string{"a.example", "b.example", "a.example:8443"} {
			req, _ := http.NewRequest("GET", e.url+"/p/boots", nil)
			req.Host = host
			css, js, beacon := ownPrefixes(e.visitor().do(req).body)
			if want := "http://" + host + "/_shopedge/"; css != want || js != want || beacon != want {
				t.Errorf("Host %s: stylesheet, script and beacon at %q, %q, %q; want %q", host, css, js, beacon, want)
			}
		}
	})
}

// testBaseElsewhereInjected: on a product page whose <base href> points at
// a CDN, what shopedge renders into the page links to the origin the
// visitor asked for: the recommendation block's products and images, and
// the overlay's button (a configured path). Each Host gets its own origin,
// and the shop's other pages, served by the same proxy, keep root-relative
// URLs: nothing rendered for one page leaks into another's (issue 9).
func testBaseElsewhereInjected(t *testing.T) {
	var based atomic.Value // the path of the page given a <base href>
	based.Store("")
	e := editedShop(t, func(c *rules.Config) {
		for i := range c.Overlays.Rules {
			if r := &c.Overlays.Rules[i]; r.ID == "exit-offer" {
				r.Button, r.Link = "See the sale", "/c/sale"
			}
		}
	}, func(path string, page []byte) []byte {
		if path != based.Load().(string) {
			return page
		}
		return bytes.Replace(page, []byte("<head>"), []byte(`<head><base href="https://cdn.example/">`), 1)
	})
	ps := e.inStock("kids", 2)
	based.Store(ps[0].URL())
	// Someone viewed both products: each is what is viewed with the other.
	first := e.visitor()
	first.get(e.url + ps[0].URL())
	first.get(e.url + ps[1].URL())
	check := func(name, host, path, origin string) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.url+path, nil)
		req.Host = host
		pg := e.visitor().do(req)
		wantLink, wantImage := origin+ps[1].URL()+"?se_rec=also-viewed", origin+ps[1].Image()
		if ps[0].URL() != path {
			wantLink, wantImage = origin+ps[0].URL()+"?se_rec=also-viewed", origin+ps[0].Image()
		}
		if got := blockLinks(t, pg.body, "also-viewed"); !slices.Contains(got, wantLink) {
			t.Errorf("%s: also-viewed links %q, want %q among them", name, got, wantLink)
		}
		if got := blockImages(t, pg.body, "also-viewed"); !slices.Contains(got, wantImage) {
			t.Errorf("%s: also-viewed images %q, want %q among them", name, got, wantImage)
		}
		if got, want := overlayLink(pg.body, "exit-offer"), origin+"/c/sale"; got != want {
			t.Errorf("%s: exit-offer button links to %q, want %q", name, got, want)
		}
	}
	// Twice each: the second is served from whatever was kept.
	for range 2 {
		check("base elsewhere", "a.example", ps[0].URL(), "http://a.example")
		check("another Host", "b.example:8443", ps[0].URL(), "http://b.example:8443")
		check("no base", "a.example", ps[1].URL(), "")
	}
}

// blockImages returns the image addresses of a block's products.
func blockImages(t *testing.T, body, id string) []string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	doc.Find(fmt.Sprintf(`[data-se-block=%q] img`, id)).Each(func(_ int, img *goquery.Selection) {
		src, _ := img.Attr("src")
		out = append(out, src)
	})
	return out
}

// overlayLink returns where an overlay's button leads, or "".
func overlayLink(body, id string) string {
	m := regexp.MustCompile(`(?s)<dialog[^>]* data-se-overlay="` + id + `".*?<a class="se-ov-cta" href="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// crumbsOf returns a page's breadcrumb trail, as the shop wrote it.
func crumbsOf(body string) string {
	i := strings.Index(body, `<ol>
  <li><a href="/">Home</a></li>`)
	if i < 0 {
		return ""
	}
	return body[i : i+strings.Index(body[i:], "</ol>")]
}

// scrapeMetrics fetches /metrics from the proxy's admin handler, served on
// a loopback port, as Prometheus would.
func scrapeMetrics(t *testing.T, e *env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: e.proxy.Admin("scrape-token")}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown()
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// metric returns the value of one series in the metrics text, or -1 when
// there is no such series.
func metric(t *testing.T, text, series string) int {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	return -1
}

// TestBreadcrumbNeverReordered: a navigation selector that matches the
// breadcrumb trail too (container: nav, item: li) reorders the menu by
// interest and leaves the trail as the shop wrote it, whether the trail is
// marked (the demo's aria-label and class) or only follows the page's
// JSON-LD BreadcrumbList. The trail is counted as a list skipped, not as a
// page passed through (issue 9).
func TestBreadcrumbNeverReordered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(path string, page []byte) []byte
	}{
		{name: "marked", edit: func(_ string, page []byte) []byte { return page }},
		{name: "json-ld only", edit: func(_ string, page []byte) []byte {
			return bytes.ReplaceAll(page, []byte(`<nav class="breadcrumbs" aria-label="Breadcrumb">`), []byte(`<nav>`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := editedShop(t, func(c *rules.Config) {
				var err error
				if c.Navigation.Container, err = rules.CompileSelector("nav"); err != nil {
					t.Fatal(err)
				}
				if c.Navigation.Item, err = rules.CompileSelector("li"); err != nil {
					t.Fatal(err)
				}
			}, tt.edit)
			v := e.visitor()
			kids := e.productsIn("kids", 3)
			for _, p := range kids {
				v.get(e.url + p)
			}
			pg := v.get(e.url + kids[0])
			if got := navOrder(pg.body); len(got) == 0 || got[0] != "/c/kids" {
				t.Fatalf("menu %v: want /c/kids first", got)
			}
			shopPage := e.direct(t, kids[0], host(e.url))
			got, want := crumbsOf(pg.body), crumbsOf(shopPage)
			if want == "" || !strings.Contains(want, `href="/c/kids"`) {
				t.Fatalf("the shop's product page has no breadcrumb through Kids:\n%s", shopPage)
			}
			if got != want {
				t.Errorf("breadcrumb changed:\n got: %s\nwant: %s", got, want)
			}
			if withoutPersonal(pg.body) != withoutPersonal(shopPage) {
				t.Errorf("the page outside the menu and blocks differs from the shop's:\n%s", lineDiff(withoutPersonal(pg.body), withoutPersonal(shopPage)))
			}
			// Four product pages served, each with its trail left alone.
			if got := metric(t, scrapeMetrics(t, e), `shopedge_lists_skipped_total{list="menu",reason="breadcrumb"}`); got != 4 {
				t.Errorf("lists skipped as breadcrumbs: %d, want 4", got)
			}
		})
	}
}

// TestSkipMetrics: each metric counts what its name says, for each page
// served (the first analyses the page, the others reuse the analysis): a
// menu left alone is a list skipped, not a page passed through (the page
// was rewritten), and blocks and banners that cannot be placed are counted
// apart. Every series is there from the start, at zero (issue 9).
func TestSkipMetrics(t *testing.T) {
	t.Parallel()
	// The menu's first entry has no end tag (a browser may see the next
	// one inside it); the price sits in a <p>, which a block or banner
	// after it would end.
	const page = `<!DOCTYPE html><html><head><title>Boots</title></head><body>` +
		`<nav class="site-nav"><ul class="nav-menu"><li class="nav-item"><a href="/c/a">A</a><li class="nav-item"><a href="/c/b">B</a></li></ul></nav>` +
		`<main id="main"><div class="product"><h1>Boots</h1><p>Only <span class="price">€50</span></p></div></main></body></html>`
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(up.Close)
	e := startProxy(t, demoConfig(t, up.URL, func(c *rules.Config) {
		for i := range c.Recommendations.Blocks {
			if b := &c.Recommendations.Blocks[i]; b.ID == "also-viewed" {
				var err error
				if b.Selector, err = rules.CompileSelector(".price"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}))
	series := []string{
		`shopedge_block_unplaced_total`,
		`shopedge_banner_unplaced_total`,
		`shopedge_lists_skipped_total{list="menu",reason="unsafe"}`,
		`shopedge_lists_skipped_total{list="menu",reason="breadcrumb"}`,
		`shopedge_lists_skipped_total{list="results",reason="unsafe"}`,
		`shopedge_lists_skipped_total{list="results",reason="breadcrumb"}`,
	}
	text := scrapeMetrics(t, e)
	for _, s := range series {
		if got := metric(t, text, s); got != 0 {
			t.Errorf("before any page: %s = %d, want 0", s, got)
		}
	}
	const views = 3
	for range views {
		if pg := e.visitor().get(e.url + "/p/boots"); len(overlays(pg.body)) != 1 {
			t.Fatalf("the page was not rewritten (no overlay):\n%s", pg.body)
		}
	}
	text = scrapeMetrics(t, e)
	for _, c := range []struct {
		series string
		want   int
	}{
		{`shopedge_block_unplaced_total`, views},
		{`shopedge_banner_unplaced_total`, views},
		{`shopedge_lists_skipped_total{list="menu",reason="unsafe"}`, views},
		{`shopedge_lists_skipped_total{list="menu",reason="breadcrumb"}`, 0},
		{`shopedge_rewrites_total`, views},
		{`shopedge_passthrough_total{reason="no_change"}`, 0},
		{`shopedge_passthrough_total{reason="nav_unsafe"}`, -1}, // no such series: the pages were rewritten
	} {
		if got := metric(t, text, c.series); got != c.want {
			t.Errorf("%s = %d, want %d", c.series, got, c.want)
		}
	}
}

// TestMetaCSPKeptAcrossRequests: a page's <meta> Content-Security-Policy,
// read when the page is analysed, still holds for the visitors served from
// that analysis after the buffers the page was read into have held other
// pages. (It was kept as a view of the pooled buffer: the policy turned
// into other pages' bytes, and a page whose policy forbids scripts got an
// overlay.)
func TestMetaCSPKeptAcrossRequests(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"identity", "gzip"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				meta := ""
				if r.URL.Path == "/p/strict" {
					meta = `<meta http-equiv="Content-Security-Policy" content="script-src 'none'; style-src 'none'">`
				}
				page := fmt.Sprintf(`<!DOCTYPE html><html><head>%s<title>%s</title></head><body><main id="main"><div class="product"><h1>%s</h1><div class="price">€50</div></div><p>%s</p></main></body></html>`,
					meta, r.URL.Path, r.URL.Path, strings.Repeat("x", 300))
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				if enc == "gzip" {
					var b bytes.Buffer
					zw := gzip.NewWriter(&b)
					io.WriteString(zw, page)
					zw.Close()
					page = b.String()
					w.Header().Set("Content-Encoding", "gzip")
				}
				io.WriteString(w, page)
			}))
			t.Cleanup(up.Close)
			e := startProxy(t, demoConfig(t, up.URL, nil))
			get := func(path string) reply {
				v := e.visitor()
				v.header.Set("Accept-Encoding", "gzip")
				return v.get(e.url + path)
			}
			for round := range 10 {
				if got := overlays(get("/p/strict").body); len(got) != 0 {
					t.Fatalf("round %d: the page's policy forbids scripts; got overlays %v", round, got)
				}
				for i := range 5 {
					get(fmt.Sprintf("/p/other-%d-%d", round, i))
				}
			}
		})
	}
}
