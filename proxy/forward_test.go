package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopedge/rules"
)

// recorder is an upstream that records what reached it and answers with a
// handler of the test's choosing.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
	n    atomic.Int64
	srv  *httptest.Server
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.body = append(r.body, b)
		r.mu.Unlock()
		r.n.Add(1)
		h(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("nothing reached the upstream")
	}
	return r.reqs[len(r.reqs)-1], r.body[len(r.body)-1]
}

const smallPage = `<!DOCTYPE html><html><head><title>t</title></head><body><nav class="site-nav"><ul class="nav-menu"><li class="nav-item"><a href="/c/a">A</a></li><li class="nav-item"><a href="/c/b">B</a></li></ul></nav><p>hello</p></body></html>`

func htmlPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, smallPage)
}

// rawRequest sends bytes to the proxy on a fresh connection and returns
// everything it answers until it closes or goes quiet.
func rawRequest(t *testing.T, proxyURL, raw string) string {
	t.Helper()
	c := dialProxy(t, proxyURL)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

// dialProxy opens a raw TCP connection to the proxy at proxyURL, closed
// when the test ends.
func dialProxy(t *testing.T, proxyURL string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(proxyURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRequestForwarding: what the visitor sends reaches the shop, minus
// hop-by-hop headers, plus X-Forwarded-*.
func TestRequestForwarding(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	body := `{"a":[1,2,3]}`
	req, _ := http.NewRequest("PATCH", e.url+"/api/v1/items/%2Fodd%20name?b=2&a=1&a=0#frag", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom", "kept")
	req.Header.Set("X-Drop-Me", "secret")
	req.Header.Set("Connection", "keep-alive, X-Drop-Me, X-Forwarded-For")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Te", "trailers")
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "for=6.6.6.6")
	req.Header.Add("Cookie", "a=1; b=2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got, gotBody := up.last(t)
	checks := []struct{ what, got, want string }{
		{"method", got.Method, "PATCH"},
		{"request target", got.RequestURI, "/api/v1/items/%2Fodd%20name?b=2&a=1&a=0"},
		{"body", string(gotBody), body},
		{"Content-Type", got.Header.Get("Content-Type"), "application/json"},
		{"X-Custom", got.Header.Get("X-Custom"), "kept"},
		{"Cookie", got.Header.Get("Cookie"), "a=1; b=2"},
		{"X-Forwarded-For", got.Header.Get("X-Forwarded-For"), "127.0.0.1"},
		{"X-Forwarded-Proto", got.Header.Get("X-Forwarded-Proto"), "http"},
		{"X-Forwarded-Host", got.Header.Get("X-Forwarded-Host"), host(e.url)},
		{"Host (kept)", got.Host, host(e.url)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	for _, h := range []string{"X-Drop-Me", "Keep-Alive", "Proxy-Authorization", "Upgrade", "Te", "Forwarded"} {
		if v := got.Header.Get(h); v != "" {
			t.Errorf("%s reached the shop: %q", h, v)
		}
	}
}

// TestConsoleCookieStripped: the operations console's session cookie, which
// a browser sends to every port of the admin listener's host, never reaches
// the shop; the shop's own cookies around it do, and a Cookie header without
// it reaches the shop byte for byte.
func TestConsoleCookieStripped(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	tests := []struct {
		name, cookie, want string
	}{
		{"alone", "shopedge_console=0123abcd", ""},
		{"between", "a=1; shopedge_console=0123abcd; b=2", "a=1; b=2"},
		{"two headers", "a=1\x00shopedge_console=x", "a=1"},
		{"without", "a=1;b=2;  shopedge_console_x=1", "a=1;b=2;  shopedge_console_x=1"},
		{"untouched", "a=1;b=2", "a=1;b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/static/x.js", nil)
			for _, c := range strings.Split(tt.cookie, "\x00") {
				req.Header.Add("Cookie", c)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got, _ := up.last(t)
			if c := strings.Join(got.Header.Values("Cookie"), "; "); c != tt.want {
				t.Errorf("the shop got Cookie %q, want %q", c, tt.want)
			}
		})
	}
}

// TestCookiesAsSent: the Cookie header reaches the shop as the browser
// sent it on the requests whose cookies the proxy reads (a page it may
// personalize, a cart add), not rebuilt: quoted values (Django's
// "messages", Python's), a pair without a name, the visitor's own cookie.
// The console's session is the one cookie taken out, the rest byte for
// byte.
func TestCookiesAsSent(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(smallPage), smallPage))
	e := startProxy(t, demoConfig(t, shop.url, nil))
	first := rawRequest(t, e.url, "GET /c/shoes HTTP/1.1\r\nHost: shop.example\r\nAccept: text/html\r\nUser-Agent: "+browserUA+"\r\nConnection: close\r\n\r\n")
	_, rest, ok := strings.Cut(first, "Set-Cookie: se_vid=")
	if !ok {
		t.Fatalf("no visitor cookie in %.200q", first)
	}
	vid, _, _ := strings.Cut(rest, ";")
	jar := `messages="abc\054def:1qX"; csrftoken=T; sess="abc"; =bare; se_vid=` + vid + `; x="a\\b"`
	withConsole := `messages="abc\054def:1qX"; shopedge_console=0123abcd; csrftoken=T; sess="abc"; =bare; se_vid=` + vid + `; x="a\\b"`
	for _, tc := range []struct{ name, head, cookie, want string }{
		{"page", "GET /c/shoes HTTP/1.1\r\nAccept: text/html\r\n", jar, jar},
		{"cart add", "POST /cart/add HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n", jar, jar},
		{"console session", "GET /c/shoes HTTP/1.1\r\nAccept: text/html\r\n", withConsole, jar},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cookie := tc.cookie
			body := ""
			if strings.HasPrefix(tc.head, "POST") {
				body = "sku=SE-10001"
			}
			n := len(shop.requests())
			got := rawRequest(t, e.url, tc.head+"Host: shop.example\r\nUser-Agent: "+browserUA+"\r\nCookie: "+cookie+"\r\nConnection: close\r\n\r\n"+body)
			if !strings.HasPrefix(got, "HTTP/1.1 ") {
				t.Fatalf("answer %.60q", got)
			}
			reqs := shop.requests()
			if len(reqs) != n+1 {
				t.Fatalf("the shop got %d requests, want 1", len(reqs)-n)
			}
			if v := fieldValues(reqs[n], "Cookie"); len(v) != 1 || v[0] != tc.want {
				t.Errorf("the shop got Cookie %q\nwant           %q", v, tc.want)
			}
			if strings.Contains(got, "Set-Cookie: se_vid=") && tc.name == "page" {
				t.Errorf("a returning visitor was issued a new cookie: their own was not read")
			}
		})
	}
}

// TestConsentCookieAsSent: behind a consent gate, the consent cookie read
// (present with an empty value: the gate, without matches, takes its
// presence) leaves the jar the shop gets as the browser sent it.
func TestConsentCookieAsSent(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(smallPage), smallPage))
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Identity.Consent = &rules.Consent{Cookie: "CookieConsent"} }))
	jar := `messages="abc\054def:1qX"; CookieConsent=; sess="abc"`
	got := rawRequest(t, e.url, "GET /c/shoes HTTP/1.1\r\nHost: shop.example\r\nAccept: text/html\r\nUser-Agent: "+browserUA+"\r\nCookie: "+jar+"\r\nConnection: close\r\n\r\n")
	if !strings.Contains(got, "Set-Cookie: se_vid=") {
		t.Errorf("no visitor cookie: the consent cookie, sent empty, was not taken (%.120q)", got)
	}
	reqs := shop.requests()
	if len(reqs) != 1 {
		t.Fatalf("the shop got %d requests, want 1", len(reqs))
	}
	if v := fieldValues(reqs[0], "Cookie"); len(v) != 1 || v[0] != jar {
		t.Errorf("the shop got Cookie %q, want %q", v, jar)
	}
}

// TestTrustedProxy: X-Forwarded-* from a configured trusted peer are kept
// and extended.
func TestTrustedProxy(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, htmlPage)
	e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.0/8"}
		c.Upstream.HostHeader = "upstream"
	}))
	v := e.visitor()
	v.header.Set("X-Forwarded-For", "203.0.113.7")
	v.header.Set("X-Forwarded-Proto", "https")
	pg := v.get(e.url + "/")
	got, _ := up.last(t)
	if xff := got.Header.Get("X-Forwarded-For"); xff != "203.0.113.7, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", xff)
	}
	if got.Host != host(up.srv.URL) {
		t.Errorf("Host = %q, want the upstream's %q (host_header: upstream)", got.Host, host(up.srv.URL))
	}
	c := cookieNamed(pg.resp, "se_vid")
	if c == nil || !c.Secure {
		t.Errorf("cookie for a visitor on HTTPS (via a trusted proxy) is not Secure: %+v", c)
	}
}

// TestTrustedProxyHopByHop: a trusted proxy's X-Forwarded-Proto that its
// Connection header names is for shopedge's hop alone (hop-by-hop): removed,
// and not believed either. The shop hears the scheme shopedge saw, and the
// visitor's cookie is not Secure for a scheme nobody vouched for.
func TestTrustedProxyHopByHop(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, htmlPage)
	e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Server.TrustedProxies = []string{"127.0.0.0/8"} }))
	v := e.visitor()
	v.header.Set("Connection", "keep-alive, X-Forwarded-Proto")
	v.header.Set("X-Forwarded-Proto", "https")
	pg := v.get(e.url + "/")
	got, _ := up.last(t)
	if p := got.Header.Values("X-Forwarded-Proto"); len(p) != 1 || p[0] != "http" {
		t.Errorf("the shop got X-Forwarded-Proto %q, want [http]", p)
	}
	if c := cookieNamed(pg.resp, "se_vid"); c == nil || c.Secure {
		t.Errorf("visitor cookie %+v: want one, not Secure", c)
	}
}

// TestHTTPSOnlyCookie: a shop served over HTTPS only gets a __Host- cookie,
// always Secure, and reads it back.
func TestHTTPSOnlyCookie(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, htmlPage)
	e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Identity.HTTPSOnly = true }))
	req, _ := http.NewRequest("GET", e.url+"/", nil)
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := cookieNamed(resp, "__Host-se_vid")
	if c == nil || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly {
		t.Fatalf("cookie = %+v, want __Host-se_vid, Secure, HttpOnly, Path=/, no Domain", c)
	}
	req.Header.Set("Cookie", "__Host-se_vid="+c.Value)
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cookieNamed(resp, "__Host-se_vid") != nil {
		t.Errorf("a fresh token was not recognised: a new one was issued")
	}
}

// TestResponseHeaders: every Set-Cookie and the shop's headers come back;
// hop-by-hop ones do not.
func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Set-Cookie", "session=abc; Path=/; HttpOnly")
		h.Add("Set-Cookie", "prefs=dark; Path=/; Max-Age=3600")
		h.Add("Set-Cookie", "session=other-path; Path=/account")
		h.Set("X-Shop", "yes")
		h.Set("Content-Security-Policy", "default-src 'self'")
		h.Set("Connection", "X-Up-Private")
		h.Set("X-Up-Private", "1")
		h.Set("Keep-Alive", "timeout=3")
		h.Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	resp, err := http.Get(e.url + "/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); len(got) != 3 || !strings.HasPrefix(got[2], "session=other-path") {
		t.Errorf("Set-Cookie = %q, want all three of the shop's", got)
	}
	if resp.Header.Get("X-Shop") != "yes" || resp.Header.Get("Content-Security-Policy") != "default-src 'self'" {
		t.Errorf("shop headers lost: %v", resp.Header)
	}
	for _, h := range []string{"X-Up-Private", "Keep-Alive"} {
		if resp.Header.Get(h) != "" {
			t.Errorf("hop-by-hop %s reached the visitor", h)
		}
	}
}

// TestRangeOfNonDocuments: a request that does not ask for a page (a
// video's, a download's, a script's fetch, accepting */*) keeps its Range
// and conditional headers, even at a path that looks like a page's: the
// shop's 206 and 304 reach the visitor as it sent them, so a video still
// seeks and a resumed download resumes. A navigation's (of a tab or a
// frame) and a fetch naming text/html (Turbo's) are taken out, as
// TestRewritableRequests shows for the Accept of a navigation.
func TestRangeOfNonDocuments(t *testing.T) {
	t.Parallel()
	clip := bytes.Repeat([]byte("0123456789"), 500)
	mod := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("ETag", `"clip"`)
		http.ServeContent(w, r, "", mod, bytes.NewReader(clip))
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
		body    []byte
		kept    []string // what reached the shop
	}{
		{"video, by Sec-Fetch-Dest", map[string]string{"Accept": "*/*", "Sec-Fetch-Dest": "video", "Range": "bytes=10-19"}, 206, clip[10:20], []string{"Range"}},
		{"download, by Accept", map[string]string{"Accept": "*/*", "Range": "bytes=4990-", "If-Range": `"clip"`}, 206, clip[4990:], []string{"Range", "If-Range"}},
		{"revalidation", map[string]string{"Accept": "*/*", "If-None-Match": `"clip"`}, 304, nil, []string{"If-None-Match"}},
		{"navigation, by Sec-Fetch-Dest", map[string]string{"Accept": "*/*", "Sec-Fetch-Dest": "document", "Range": "bytes=10-19"}, 200, clip, nil},
		{"a frame's navigation", map[string]string{"Accept": "*/*", "Sec-Fetch-Dest": "iframe", "If-None-Match": `"clip"`}, 200, clip, nil},
		{"a page fetched by Turbo", map[string]string{"Accept": "text/vnd.turbo-stream.html, text/html, application/xhtml+xml", "Sec-Fetch-Dest": "empty", "If-None-Match": `"clip"`}, 200, clip, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := e.visitor()
			req, _ := http.NewRequest("GET", e.url+"/media/clip", nil)
			for k, val := range tc.headers {
				req.Header.Set(k, val)
			}
			req.Header.Set("User-Agent", v.ua)
			resp, err := v.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			shop, _ := up.last(t)
			if resp.StatusCode != tc.status || !bytes.Equal(got, tc.body) {
				t.Errorf("status %d, %d bytes; want %d, %d bytes (the shop answered the Range it got: %q)", resp.StatusCode, len(got), tc.status, len(tc.body), shop.Header.Get("Range"))
			}
			if tc.status == 206 && resp.Header.Get("Content-Range") == "" {
				t.Errorf("206 without the shop's Content-Range")
			}
			for _, k := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
				if sent, want := shop.Header.Get(k) != "", slices.Contains(tc.kept, k); sent != want {
					t.Errorf("%s reached the shop: %v, want %v", k, sent, want)
				}
			}
		})
	}
}

// TestRequestWithoutContentType: a body the visitor sent without a
// Content-Type reaches the shop without one (fasthttp would have added
// application/octet-stream), of a known length or chunked.
func TestRequestWithoutContentType(t *testing.T) {
	t.Parallel()
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, nil))
	for _, raw := range []string{
		"POST /api/ping HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		"PUT /api/ping HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	} {
		n := len(shop.requests())
		if got := rawRequest(t, e.url, raw); !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("answer %.60q", got)
		}
		reqs := shop.requests()
		if len(reqs) != n+1 {
			t.Fatalf("the shop got %d requests, want 1", len(reqs)-n)
		}
		if v := fieldValues(reqs[n], "Content-Type"); len(v) != 0 {
			t.Errorf("%.20q: the shop got Content-Type %q; the visitor sent none", raw, v)
		}
	}
}

// TestRewritableRequests: for a page that may be rewritten the shop is
// asked for a whole, fresh body in a coding the proxy reads.
func TestRewritableRequests(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, htmlPage)
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	v := e.visitor()
	v.header.Set("Range", "bytes=0-10")
	v.header.Set("If-Range", `"x"`)
	v.header.Set("If-None-Match", `"abc"`)
	v.header.Set("If-Modified-Since", "Sun, 01 Nov 2026 09:00:00 GMT")
	v.header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	pg := v.get(e.url + "/")
	got, _ := up.last(t)
	for _, h := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
		if got.Header.Get(h) != "" {
			t.Errorf("%s reached the shop for a rewritable page", h)
		}
	}
	if ae := got.Header.Get("Accept-Encoding"); ae != "gzip" {
		t.Errorf("Accept-Encoding = %q, want gzip (a personalized gzip page is assembled from cached pieces)", ae)
	}
	if pg.resp.StatusCode != 200 || pg.body != smallPage {
		t.Errorf("status %d, body %q", pg.resp.StatusCode, pg.body)
	}
	if pg.resp.Header.Get("Accept-Ranges") != "" {
		t.Errorf("Accept-Ranges on a private page")
	}
}

// TestHostChecks: only configured hosts are served; an absolute-form
// target must agree with Host.
func TestHostChecks(t *testing.T) {
	t.Parallel()
	// A raw shop: Go's server would refuse some of these Hosts itself.
	shop := newRawShopRecorder(t, okAnswer)
	e := startProxy(t, demoConfig(t, shop.url, func(c *rules.Config) { c.Server.Hosts = []string{"shop.example"} }))
	tests := []struct {
		name, raw, status string
	}{
		{"configured host", "GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
		{"configured host with port", "GET / HTTP/1.1\r\nHost: SHOP.example:8080\r\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
		{"configured host, fully qualified", "GET / HTTP/1.1\r\nHost: shop.example.\r\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
		{"configured host, fully qualified, with port", "GET / HTTP/1.1\r\nHost: Shop.Example.:443\r\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
		{"a host the configured one ends", "GET / HTTP/1.1\r\nHost: evilshop.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 421"},
		{"other host", "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 421"},
		{"absolute form, other authority", "GET http://evil.example/ HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 400"},
		{"absolute form, same authority", "GET http://shop.example/ HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
		// Cut at its last ':', this Host is the configured one; fasthttp
		// would send "shop.example:" as credentials.
		{"credentials in Host", "GET / HTTP/1.1\r\nHost: shop.example:@evil.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 400"},
		{"credentials in Host, no port", "GET / HTTP/1.1\r\nHost: shop.example@evil.example\r\nConnection: close\r\n\r\n", "HTTP/1.1 400"},
		{"path in Host", "GET / HTTP/1.1\r\nHost: shop.example/evil\r\nConnection: close\r\n\r\n", "HTTP/1.1 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(shop.requests())
			if got := rawRequest(t, e.url, tt.raw); !strings.HasPrefix(got, tt.status) {
				t.Errorf("answer %.60q, want %s", got, tt.status)
			}
			if forwarded := len(shop.requests()) > n; forwarded != (tt.status == "HTTP/1.1 200") {
				t.Errorf("forwarded to the shop: %v", forwarded)
			}
		})
	}
	if n := len(shop.requests()); n != 5 {
		t.Errorf("%d requests reached the shop, want 5", n)
	}
}

// TestFraming: ambiguous requests are refused or reach the shop as exactly
// one well-framed request.
func TestFraming(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	tests := []struct {
		name, raw string
		maxReqs   int64 // requests the shop may see
	}{
		{"two content lengths", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", 0},
		{"content length and chunked", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", 1},
		{"unknown transfer coding", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 0},
		{"bad chunk size", "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 0},
		{"negative content length", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.n.Load()
			got := rawRequest(t, e.url, tt.raw)
			seen := up.n.Load() - before
			if seen > tt.maxReqs {
				t.Errorf("the shop saw %d requests, want at most %d; answer %.80q", seen, tt.maxReqs, got)
			}
			if seen == 0 && !strings.HasPrefix(got, "HTTP/1.1 400") {
				t.Errorf("answer %.80q, want 400", got)
			}
			if strings.Contains(got, "smuggled") {
				t.Errorf("smuggled request answered")
			}
		})
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, r := range up.reqs {
		if r.URL.Path == "/smuggled" {
			t.Errorf("a smuggled request reached the shop")
		}
	}
}

// TestLimits: oversized headers get 431, oversized bodies 413, and a slow
// client does not hold up others.
func TestLimits(t *testing.T) {
	t.Parallel()
	up := newRecorder(t, htmlPage)
	e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) {
		c.Server.MaxRequestBody = 1 << 10
		c.Server.ReadTimeout = rules.Duration(time.Second)
	}))
	big := "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + strings.Repeat("x", 40<<10) + "\r\n\r\n"
	if got := rawRequest(t, e.url, big); !strings.HasPrefix(got, "HTTP/1.1 431") {
		t.Errorf("oversized header: %.60q, want 431", got)
	}
	post := fmt.Sprintf("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s", 2<<10, strings.Repeat("y", 2<<10))
	if got := rawRequest(t, e.url, post); !strings.HasPrefix(got, "HTTP/1.1 413") {
		t.Errorf("oversized body: %.60q, want 413", got)
	}

	// A slowloris client: headers one byte at a time.
	slow, err := net.Dial("tcp", host(e.url))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() {
		for _, c := range []byte("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ") {
			if _, err := slow.Write([]byte{c}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	fiveQuickRequests(t, e.url, "a slow client")
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(slow)
	if !strings.HasPrefix(string(b), "HTTP/1.1 408") && len(b) != 0 {
		t.Errorf("slow client got %.60q, want a close (or 408) after the read timeout", b)
	}

	// A slow body: the headers arrive, the body trickles.
	slowBody, err := net.Dial("tcp", host(e.url))
	if err != nil {
		t.Fatal(err)
	}
	defer slowBody.Close()
	_, _ = io.WriteString(slowBody, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\n")
	go func() {
		for range 100 {
			if _, err := slowBody.Write([]byte("z")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	fiveQuickRequests(t, e.url, "a slow body")
	if n := up.n.Load(); n != 5+5 {
		t.Errorf("the shop saw %d requests, want 10 (the slow body never completes)", n)
	}
}

// fiveQuickRequests checks that five requests are served promptly while
// a misbehaving client holds a connection.
func fiveQuickRequests(t *testing.T, url, beside string) {
	t.Helper()
	start := time.Now()
	for range 5 {
		resp, err := http.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("5 requests took %v next to %s", d, beside)
	}
}

// TestUpstreamFailures: a dead, slow or saturated shop gives a small
// 502, 504 or 503 page; a POST is never sent twice; a hung shop is not
// retried.
func TestUpstreamFailures(t *testing.T) {
	t.Parallel()
	t.Run("down", func(t *testing.T) {
		t.Parallel()
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		e := startProxy(t, demoConfig(t, "http://"+addr, nil))
		pg := e.visitor().get(e.url + "/")
		if pg.resp.StatusCode != 502 || !strings.Contains(pg.body, "not answering") || strings.Contains(pg.body, "connection refused") {
			t.Errorf("status %d body %q", pg.resp.StatusCode, pg.body)
		}
	})
	t.Run("slow", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Upstream.Timeout = rules.Duration(300 * time.Millisecond) }))
		start := time.Now()
		pg := e.visitor().get(e.url + "/")
		if pg.resp.StatusCode != 504 {
			t.Errorf("status %d, want 504", pg.resp.StatusCode)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v for a 300ms timeout", d)
		}
		if n := up.n.Load(); n != 1 {
			t.Errorf("a hung shop got %d requests, want 1 (no retry)", n)
		}
	})
	t.Run("stalled in the body", func(t *testing.T) {
		// A file (passed through, read whole as it is small) of which the
		// shop sends 3 bytes and then nothing: the deadline passes while
		// the proxy reads, a timeout (504), as before the headers.
		t.Parallel()
		release := make(chan struct{})
		up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			_, _ = io.WriteString(w, "abc")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Upstream.Timeout = rules.Duration(300 * time.Millisecond) }))
		pg := e.visitor().get(e.url + "/files/report.bin")
		if pg.resp.StatusCode != 504 {
			t.Errorf("status %d, want 504", pg.resp.StatusCode)
		}
		if got := metricValue(t, e.proxy, `shopedge_upstream_errors_total{kind="timeout"}`); got != "1" {
			t.Errorf("upstream timeouts counted: %s, want 1", got)
		}
	})
	t.Run("saturated", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			_, _ = io.WriteString(w, "late")
		})
		e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) {
			c.Upstream.MaxConns = 1
			c.Upstream.MaxConnWait = rules.Duration(50 * time.Millisecond)
		}))
		first := make(chan int)
		go func() {
			resp, err := http.Get(e.url + "/a")
			if err != nil {
				first <- 0
				return
			}
			resp.Body.Close()
			first <- resp.StatusCode
		}()
		for up.n.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		resp, err := http.Get(e.url + "/b")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		close(release)
		if resp.StatusCode != 503 {
			t.Errorf("second request while the pool is full: %d, want 503", resp.StatusCode)
		}
		if s := <-first; s != 200 {
			t.Errorf("first request: %d", s)
		}
	})
	t.Run("post once", func(t *testing.T) {
		t.Parallel()
		// A shop that takes the request and drops the connection.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var posts atomic.Int64
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					req, err := http.ReadRequest(bufio.NewReader(c))
					if err == nil && req.Method == "POST" {
						posts.Add(1)
					}
				}()
			}
		}()
		e := startProxy(t, demoConfig(t, "http://"+ln.Addr().String(), nil))
		resp, err := http.Post(e.url+"/cart/add", "application/x-www-form-urlencoded", strings.NewReader("sku=1"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 502 {
			t.Errorf("status %d, want 502", resp.StatusCode)
		}
		if n := posts.Load(); n != 1 {
			t.Errorf("the shop got the POST %d times, want 1", n)
		}
	})
}

// cutShop answers every request with headers promising a body it does not
// finish.
func cutShop(t *testing.T, contentType string) string {
	return rawShop(t, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n<html><body>only the start", contentType))
}

// rawShop answers every request with the given bytes, then closes.
func rawShop(t *testing.T, answer string) string {
	return rawShopFunc(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = io.WriteString(c, answer)
	})
}

// rawShopFunc is a shop on loopback that serves each connection with
// serve, then closes it; it returns the shop's URL.
func rawShopFunc(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestCutBody: a body cut short by the shop never becomes a complete 200.
func TestCutBody(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"text/html; charset=utf-8", "application/octet-stream"} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			e := startProxy(t, demoConfig(t, cutShop(t, ct), nil))
			req, _ := http.NewRequest("GET", e.url+"/", nil)
			req.Header.Set("User-Agent", browserUA)
			req.Header.Set("Accept", "text/html")
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return // aborted: fine
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 {
				t.Errorf("a cut body arrived as a complete 200 of %d bytes", len(b))
			}
		})
	}
	t.Run("streamed", func(t *testing.T) {
		// Larger than what is read whole: the headers are out when the
		// body fails, so the visitor's connection is cut, and ops see it.
		t.Parallel()
		e := startProxy(t, demoConfig(t, rawShop(t, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4000000\r\n\r\n"+strings.Repeat("x", 400000)), nil))
		resp, err := http.Get(e.url + "/files/big.bin")
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Fatalf("a cut body arrived whole: %d bytes", len(b))
			}
		}
		if got := metricValue(t, e.proxy, `shopedge_upstream_errors_total{kind="body_cut"}`); got != "1" {
			t.Errorf("bodies cut counted: %s, want 1", got)
		}
	})
}

// TestBadUpstreamFraming: a shop answer with ambiguous framing is a failed
// exchange, not a response passed on.
func TestBadUpstreamFraming(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]string{
		"two content lengths": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello!!",
		"bad chunk":           "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
		"not http":            "SSH-2.0-OpenSSH_9.6\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := startProxy(t, demoConfig(t, rawShop(t, answer), nil))
			pg := e.visitor().get(e.url + "/")
			if pg.resp.StatusCode != 502 {
				t.Errorf("status %d, want 502", pg.resp.StatusCode)
			}
		})
	}
}

// TestCharsetOfTheResponse: the same bytes, first served as UTF-8, then
// declared Latin-1 by the response's header, pass through the second
// time: the page's analysis, kept from the first, is not the verdict on
// the second's charset.
func TestCharsetOfTheResponse(t *testing.T) {
	t.Parallel()
	body := []byte(smallPage + "caf\u00e9") // valid UTF-8, and Latin-1 too ("cafÃ©")
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Query().Get("cs") == "latin1" {
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		}
		_, _ = w.Write(body)
	})
	e := startProxy(t, demoConfig(t, up.srv.URL, nil))
	v := e.visitor()
	for range 3 { // interest in category B: its menu entry would move up
		req, _ := http.NewRequest("GET", e.url+"/c/b", nil)
		v.do2(req)
	}
	for _, tc := range []struct {
		path      string
		rewritten bool
		charset   string // shopedge_passthrough_total{reason="charset"} after it
	}{
		{"/", true, "0"},
		{"/?cs=latin1", false, "1"},
		{"/", true, "1"},
	} {
		req, _ := http.NewRequest("GET", e.url+tc.path, nil)
		got := v.do2(req)
		e.proxy.pages.Wait() // the analysis is kept before the next request
		if changed := !bytes.Equal(got, body); changed != tc.rewritten {
			t.Errorf("%s: rewritten = %v, want %v (%d bytes, the shop sent %d)", tc.path, changed, tc.rewritten, len(got), len(body))
		}
		if got := metricValue(t, e.proxy, `shopedge_passthrough_total{reason="charset"}`); got != tc.charset {
			t.Errorf("%s: passed through for the charset %s times in all, want %s", tc.path, got, tc.charset)
		}
	}
}

// TestRefusedOnce: a page the proxy refuses to rewrite (another charset,
// too large once decoded, not decodable) is decoded and refused once:
// the same bytes again pass through, byte for byte, from the kept
// verdict.
func TestRefusedOnce(t *testing.T) {
	t.Parallel()
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte(smallPage))
	_, _ = zw.Write(make([]byte, 2<<20)) // 2 MB behind the page, over the 1 MB limit
	zw.Close()
	for _, tc := range []struct {
		name, contentType, encoding, reason string
		body                                []byte
	}{
		{"latin-1", "text/html; charset=iso-8859-1", "", "charset", []byte(smallPage + "\xe9")},
		{"too large decoded", "text/html", "gzip", "too_large", bomb.Bytes()},
		{"corrupt gzip", "text/html", "gzip", "decode_error", []byte("\x1f\x8b\x08\x00garbage")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				if tc.encoding != "" {
					w.Header().Set("Content-Encoding", tc.encoding)
				}
				_, _ = w.Write(tc.body)
			})
			e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Limits.MaxRewriteBody = 1 << 20 }))
			v := e.visitor()
			for i := range 3 {
				req, _ := http.NewRequest("GET", e.url+"/", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				resp, got := v.doRaw(req)
				if !bytes.Equal(got, tc.body) {
					t.Fatalf("request %d: %d bytes, not the shop's %d", i+1, len(got), len(tc.body))
				}
				if ce, ct := resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"); ce != tc.encoding || ct != tc.contentType {
					t.Errorf("request %d: Content-Encoding %q, Content-Type %q; want the shop's %q, %q", i+1, ce, ct, tc.encoding, tc.contentType)
				}
				e.proxy.pages.Wait() // the verdict is kept before the next request
			}
			for sample, want := range map[string]string{
				"shopedge_page_cache_misses_total":                       "1",
				"shopedge_page_cache_hits_total":                         "2",
				`shopedge_passthrough_total{reason="` + tc.reason + `"}`: "3",
			} {
				if got := metricValue(t, e.proxy, sample); got != want {
					t.Errorf("%s = %s, want %s", sample, got, want)
				}
			}
		})
	}
}

// TestBodiesNotRewritten: what the proxy cannot rewrite safely passes
// through byte for byte: other charsets, no-transform, unknown codings,
// undecodable and bomb bodies.
func TestBodiesNotRewritten(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(smallPage))
	_, _ = zw.Write(make([]byte, 20<<20)) // a 20 MB bomb behind the page
	zw.Close()
	latin1 := strings.Replace(smallPage, "<title>", `<meta charset="iso-8859-1"><title>`, 1) + "\xe9"
	tests := []struct {
		name      string
		headers   map[string]string
		more      [][2]string // lines added after headers' (a second line of one of them)
		body      []byte
		rewritten bool
	}{
		{"control: utf-8", map[string]string{"Content-Type": "text/html; charset=utf-8"}, nil, []byte(smallPage), true},
		{"control: undeclared, valid utf-8", map[string]string{"Content-Type": "text/html"}, nil, []byte(smallPage + "\u00e9"), true},
		{"latin-1 by header", map[string]string{"Content-Type": "text/html; charset=iso-8859-1"}, nil, []byte(smallPage + "\xe9"), false},
		{"latin-1 by meta", map[string]string{"Content-Type": "text/html"}, nil, []byte(latin1), false},
		{"latin-1 by meta, ASCII bytes", map[string]string{"Content-Type": "text/html"}, nil, []byte(strings.Replace(smallPage, "<title>", `<meta charset="iso-8859-1"><title>`, 1)), false},
		{"no-transform", map[string]string{"Content-Type": "text/html", "Cache-Control": "public, no-transform"}, nil, []byte(smallPage), false},
		{"no-transform on a second Cache-Control line", map[string]string{"Content-Type": "text/html", "Cache-Control": "public, max-age=60"}, [][2]string{{"Cache-Control", "no-transform"}}, []byte(smallPage), false},
		{"zstd", map[string]string{"Content-Type": "text/html", "Content-Encoding": "zstd"}, nil, []byte("\x28\xb5\x2f\xfdnot really"), false},
		{"corrupt gzip", map[string]string{"Content-Type": "text/html", "Content-Encoding": "gzip"}, nil, []byte("\x1f\x8b\x08\x00garbage"), false},
		{"gzip bomb", map[string]string{"Content-Type": "text/html", "Content-Encoding": "gzip"}, nil, gz.Bytes(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				for _, kv := range tt.more {
					w.Header().Add(kv[0], kv[1])
				}
				_, _ = w.Write(tt.body)
			})
			e := startProxy(t, demoConfig(t, up.srv.URL, func(c *rules.Config) { c.Limits.MaxRewriteBody = 1 << 20 }))
			v := e.visitor()
			for range 3 { // interest in category B: its menu entry would move up
				req, _ := http.NewRequest("GET", e.url+"/c/b", nil)
				v.do2(req)
			}
			req, _ := http.NewRequest("GET", e.url+"/", nil)
			req.Header.Set("Accept-Encoding", "gzip, br")
			got := v.do2(req)
			if changed := !bytes.Equal(got, tt.body); changed != tt.rewritten {
				t.Errorf("rewritten = %v, want %v (%d bytes, the shop sent %d)", changed, tt.rewritten, len(got), len(tt.body))
			}
		})
	}
}

// do2 returns the raw body bytes of a request, without decoding.
func (v *visitor) do2(req *http.Request) []byte {
	v.t.Helper()
	_, b := v.doRaw(req)
	return b
}

// doRaw returns the response to a request and its raw body bytes, without
// decoding (the response's body is read and closed).
func (v *visitor) doRaw(req *http.Request) (*http.Response, []byte) {
	v.t.Helper()
	req.Header.Set("User-Agent", v.ua)
	req.Header.Set("Accept", "text/html")
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp, b
}
