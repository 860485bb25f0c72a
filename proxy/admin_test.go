package proxy

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestAdmin: health without a token; metrics, a visitor's profile, memory
// figures and erasure with it; nothing without it.
func TestAdmin(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	v := e.visitor()
	v.get(e.url + "/")
	for _, p := range e.productsIn("shoes/boots", 2) {
		v.get(e.url + p)
	}
	v.beacon(e.url, `{"e":"shown","id":"exit-offer"}`, nil)
	u, _ := url.Parse(e.url)
	var id string
	for _, c := range v.client.Jar.Cookies(u) {
		if who, ok := e.proxy.ids.Verify(c.Value); ok {
			id = who.ID
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: e.proxy.Admin("sesame")}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown()
	admin := "http://" + ln.Addr().String()
	call := func(method, path, token string) (int, string) {
		resp, b := adminCall(t, method, admin+path, token)
		return resp.StatusCode, string(b)
	}
	if code, body := call("GET", "/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	for _, path := range []string{"/metrics", "/profiles/" + id, "/debug/memory"} {
		if code, _ := call("GET", path, ""); code != 401 {
			t.Errorf("%s without a token: %d", path, code)
		}
		if code, _ := call("GET", path, "wrong"); code != 401 {
			t.Errorf("%s with a wrong token: %d", path, code)
		}
	}
	if code, body := call("GET", "/metrics", "sesame"); code != 200 || !strings.Contains(body, "shopedge_requests_total 4") || !strings.Contains(body, "shopedge_catalog_products 2") {
		t.Errorf("metrics: %d\n%s", code, body)
	}
	code, body := call("GET", "/profiles/"+id, "sesame")
	var prof profileView
	if err := json.Unmarshal([]byte(body), &prof); code != 200 || err != nil {
		t.Fatalf("profile: %d %v %s", code, err, body)
	}
	if len(prof.Recent) != 2 || prof.Recent[0].Name == "" || len(prof.Interests) == 0 || prof.Interests[0].Category != "Boots (/c/shoes/boots)" {
		t.Errorf("profile = %+v", prof)
	}
	if len(prof.Overlays) != 1 || prof.Overlays[0].ID != "exit-offer" || prof.Overlays[0].ShownThisVisit != 1 || prof.Overlays[0].LastShown == nil || prof.Overlays[0].DismissedUntil != nil {
		t.Errorf("overlays seen = %+v", prof.Overlays)
	}
	// The profile links to what the visitor gets on a page, and why.
	if code, body := call("GET", prof.Explain, "sesame"); code != 200 || !strings.Contains(body, `"visitor": "`+id+`"`) {
		t.Errorf("the profile's explain link %q: %d %s", prof.Explain, code, body)
	}
	if code, body := call("GET", "/debug/memory", "sesame"); code != 200 || !strings.Contains(body, `"engine_visits":1,`) {
		t.Errorf("debug/memory: %d %s", code, body)
	}
	if code, _ := call("DELETE", "/profiles/"+id, "sesame"); code != 204 {
		t.Errorf("delete: %d", code)
	}
	e.proxy.profiles.Wait()
	if code, _ := call("GET", "/profiles/"+id, "sesame"); code != 404 {
		t.Errorf("profile after erasure: %d", code)
	}
	if code, _ := call("GET", "/profiles/not-an-id", "sesame"); code != 400 {
		t.Errorf("bad id: %d", code)
	}
}

// TestAdminAuth: the admin API's answers to tools, token and errors: the
// Bearer scheme in any case, a wrong token of any length refused, and
// every error keeping the headers that say how to retry and not to cache.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: e.proxy.Admin("sesame")}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	admin := "http://" + ln.Addr().String()
	tests := []struct {
		name, method, path, auth string
		status                   int
		headers                  map[string]string
	}{
		{"no token", "GET", "/metrics", "", 401, map[string]string{"WWW-Authenticate": `Bearer realm="shopedge admin"`, "Cache-Control": "no-store"}},
		{"wrong token", "GET", "/metrics", "Bearer sesamx", 401, map[string]string{"WWW-Authenticate": `Bearer realm="shopedge admin"`}},
		{"longer token", "GET", "/metrics", "Bearer sesame2", 401, nil},
		{"token prefix", "GET", "/metrics", "Bearer sesam", 401, nil},
		{"other scheme", "GET", "/metrics", "Basic sesame", 401, nil},
		{"lower-case scheme", "GET", "/metrics", "bearer sesame", 200, map[string]string{"Cache-Control": "no-store"}},
		{"not found", "GET", "/nowhere", "Bearer sesame", 404, map[string]string{"Cache-Control": "no-store"}},
		{"reload by GET", "GET", "/reload", "Bearer sesame", 405, map[string]string{"Allow": "POST", "Cache-Control": "no-store"}},
		{"explain a path with CR LF", "GET", "/explain?visitor=x&path=/a%0D%0AX-Evil:%201", "Bearer sesame", 400, nil},
		{"explain a path with a space", "GET", "/explain?visitor=x&path=/a%20HTTP/1.1", "Bearer sesame", 400, nil},
		{"explain a host with CR LF", "GET", "/explain?visitor=x&path=/&host=a%0D%0AX:1", "Bearer sesame", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, admin+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for k, want := range tt.headers {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
	}
}
