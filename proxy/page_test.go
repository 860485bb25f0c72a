package proxy

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
