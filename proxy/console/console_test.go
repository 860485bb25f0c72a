package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

const token = "s3cret-admin-token"

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

type fake struct{ erased []string }

func (f *fake) Overview(now time.Time) Overview {
	return Overview{At: now, Requests: 120, Rewrites: 80, Passed: []Count{{"not_html", 30}, {"bot", 10}},
		Upstream: []Count{{"timeout", 2}}, Added: []Count{{"≤1ms", 70}, {"≤5ms", 40}, {"+Inf", 0}},
		P50: 800 * time.Microsecond, P99: 4 * time.Millisecond, ProfilesHeld: 12, ProfileBytes: 3 << 20, MaxMemory: 256 << 20,
		Reloads: []Reload{{At: now, Result: "success"}}}
}
func (f *fake) Actions(time.Time) ([]Action, []Action) {
	return []Action{{ID: "also-viewed", Shown: 50, Clicks: 5, CTR: 0.1, Conversions: 1, Revenue: 42}}, nil
}
func (f *fake) Profile(id string) ([]Section, bool, error) {
	if id != "v1" {
		return nil, false, nil
	}
	return []Section{{Title: "Profile", Rows: [][]string{{"visits", "3"}}}}, true, nil
}
func (f *fake) Explain(id, path string) ([]Section, error) {
	return []Section{{Title: "Regions", Head: []string{"kind", "action"}, Rows: [][]string{{"block", "fill"}}}}, nil
}
func (f *fake) Erase(id string) error { f.erased = append(f.erased, id); return nil }
func (f *fake) Catalog(q string, limit int) (int, []Product) {
	return 1, []Product{{Name: `<script>alert("x")</script>`, Key: "sku-1", URL: "/p/1", OutOfStock: true,
		Fields: []Field{{Name: "name", Value: `<img src=x onerror=alert(1)>`, Source: "jsonld"}}}}
}
func (f *fake) Experiments(context.Context) ([]Experiment, error) {
	return []Experiment{{Name: "exp", Action: "also-viewed", Outcome: "better", Arms: []Arm{{Name: "control", Visitors: 100},
		{Name: "b", Visitors: 100, Effect: true, Uplift: 0.2, Low: 0.05, High: 0.4}}}}, nil
}

// do sends one request to c.
func do(c *Console, method, uri string, setup func(r *fasthttp.Request)) *fasthttp.Response {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	ctx.Request.Header.SetHost("127.0.0.1:9090")
	if setup != nil {
		setup(&ctx.Request)
	}
	c.Serve(&ctx)
	resp := &fasthttp.Response{}
	ctx.Response.CopyTo(resp)
	return resp
}

func form(body string) func(r *fasthttp.Request) {
	return func(r *fasthttp.Request) {
		r.Header.SetContentType("application/x-www-form-urlencoded")
		r.SetBodyString(body)
	}
}

// signIn signs in and answers the session cookie and the CSRF token.
func signIn(t *testing.T, c *Console) (string, string) {
	t.Helper()
	resp := do(c, "POST", "/login", form("token="+token))
	if resp.StatusCode() != fasthttp.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", resp.StatusCode(), resp.Body())
	}
	var ck fasthttp.Cookie
	ck.SetKey(CookieName)
	if !resp.Header.Cookie(&ck) {
		t.Fatal("no session cookie")
	}
	id := string(ck.Value())
	s, ok := c.sessions.get(id, t0)
	if !ok {
		t.Fatal("session not held")
	}
	return id, s.csrf
}

func withCookie(id string, more func(r *fasthttp.Request)) func(r *fasthttp.Request) {
	return func(r *fasthttp.Request) {
		r.Header.SetCookie(CookieName, id)
		if more != nil {
			more(r)
		}
	}
}

func newConsole() (*Console, *fake) {
	f := &fake{}
	return New(f, token, func() time.Time { return t0 }), f
}

func TestSessionCookie(t *testing.T) {
	c, _ := newConsole()
	resp := do(c, "POST", "/login", form("token="+token))
	ck := fasthttp.AcquireCookie()
	ck.SetKey(CookieName)
	if !resp.Header.Cookie(ck) {
		t.Fatalf("no cookie: %s", resp.Header.String())
	}
	if !ck.HTTPOnly() || ck.SameSite() != fasthttp.CookieSameSiteStrictMode || string(ck.Path()) != "/" || ck.MaxAge() != 12*3600 {
		t.Errorf("cookie %s: want HttpOnly, SameSite=Strict, Path=/, Max-Age=43200", ck.String())
	}
	if len(ck.Value()) < 32 {
		t.Errorf("session id %q is short", ck.Value())
	}
	if loc := string(resp.Header.Peek("Location")); !strings.HasSuffix(loc, "/") {
		t.Errorf("after sign-in, Location %q", loc)
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name   string
		con    *Console
		body   string
		header map[string]string
		status int
	}{
		{"right token", New(&fake{}, token, nil), "token=" + token, nil, fasthttp.StatusSeeOther},
		{"wrong token", New(&fake{}, token, nil), "token=guess", nil, fasthttp.StatusUnauthorized},
		{"empty token", New(&fake{}, token, nil), "token=", nil, fasthttp.StatusUnauthorized},
		{"no admin token lets nobody in", New(&fake{}, "", nil), "token=", nil, fasthttp.StatusUnauthorized},
		{"cross-site", New(&fake{}, token, nil), "token=" + token, map[string]string{"Sec-Fetch-Site": "cross-site"}, fasthttp.StatusForbidden},
		{"other origin", New(&fake{}, token, nil), "token=" + token, map[string]string{"Origin": "https://evil.example"}, fasthttp.StatusForbidden},
		{"same origin", New(&fake{}, token, nil), "token=" + token, map[string]string{"Origin": "http://127.0.0.1:9090", "Sec-Fetch-Site": "same-origin"}, fasthttp.StatusSeeOther},
		{"origin null under no-referrer", New(&fake{}, token, nil), "token=" + token, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, fasthttp.StatusSeeOther},
		{"same-site is not same-origin", New(&fake{}, token, nil), "token=" + token, map[string]string{"Sec-Fetch-Site": "same-site"}, fasthttp.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(tt.con, "POST", "/login", func(r *fasthttp.Request) {
				form(tt.body)(r)
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
			})
			if resp.StatusCode() != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode(), tt.status)
			}
			if tt.status != fasthttp.StatusSeeOther && len(resp.Header.PeekCookie(CookieName)) > 0 {
				t.Error("a cookie was set for a refused sign-in")
			}
		})
	}
}

func TestUnauthenticated(t *testing.T) {
	c, _ := newConsole()
	for _, path := range []string{"/", "/console/actions", "/console/visitors", "/console/catalog", "/console/experiments"} {
		resp := do(c, "GET", path, nil)
		if resp.StatusCode() != fasthttp.StatusSeeOther || string(resp.Header.Peek("Location")) != "http://127.0.0.1:9090/login" && string(resp.Header.Peek("Location")) != "/login" {
			t.Errorf("GET %s: %d to %q, want a redirect to /login", path, resp.StatusCode(), resp.Header.Peek("Location"))
		}
		resp = do(c, "GET", path, withCookie("not-a-session", nil))
		if resp.StatusCode() != fasthttp.StatusSeeOther {
			t.Errorf("GET %s with a made-up session: %d", path, resp.StatusCode())
		}
	}
	if resp := do(c, "POST", "/console/visitors/erase", form("id=v1")); resp.StatusCode() != fasthttp.StatusUnauthorized {
		t.Errorf("POST without session: %d", resp.StatusCode())
	}
}

func TestCSRF(t *testing.T) {
	c, f := newConsole()
	id, csrf := signIn(t, c)
	tests := []struct {
		name   string
		body   string
		header map[string]string
		status int
	}{
		{"no token", "id=v1", nil, fasthttp.StatusForbidden},
		{"wrong token", "id=v1&csrf=0000", nil, fasthttp.StatusForbidden},
		{"cross-site", "id=v1&csrf=" + csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}, fasthttp.StatusForbidden},
		{"other origin", "id=v1&csrf=" + csrf, map[string]string{"Origin": "http://127.0.0.1.evil.example"}, fasthttp.StatusForbidden},
		{"own form", "id=v1&csrf=" + csrf, map[string]string{"Origin": "http://127.0.0.1:9090", "Sec-Fetch-Site": "same-origin"}, fasthttp.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.erased = nil
			resp := do(c, "POST", "/console/visitors/erase", withCookie(id, func(r *fasthttp.Request) {
				form(tt.body)(r)
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
			}))
			if resp.StatusCode() != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tt.status, resp.Body())
			}
			if erased := len(f.erased) > 0; erased != (tt.status == fasthttp.StatusSeeOther) {
				t.Errorf("erased %v", f.erased)
			}
		})
	}
	// A tool's Bearer token reads pages but cannot POST: it has no CSRF token.
	resp := do(c, "POST", "/console/visitors/erase", func(r *fasthttp.Request) {
		form("id=v1&csrf=")(r)
		r.Header.Set("Authorization", "Bearer "+token)
	})
	if resp.StatusCode() != fasthttp.StatusForbidden {
		t.Errorf("Bearer POST: %d", resp.StatusCode())
	}
}

func TestPages(t *testing.T) {
	c, _ := newConsole()
	id, csrf := signIn(t, c)
	for _, path := range []string{"/", "/console/actions", "/console/visitors", "/console/visitors?id=v1&path=/",
		"/console/visitors?id=nobody", "/console/visitors/erase?id=v1", "/console/catalog?q=x", "/console/experiments", "/login"} {
		resp := do(c, "GET", path, withCookie(id, nil))
		if resp.StatusCode() != fasthttp.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode(), resp.Body())
			continue
		}
		for k, v := range map[string]string{"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := string(resp.Header.Peek(k)); got != v {
				t.Errorf("GET %s: %s %q", path, k, got)
			}
		}
		if path != "/login" && !strings.Contains(string(resp.Body()), `name="csrf" value="`+csrf+`"`) {
			t.Errorf("GET %s: no CSRF field in the sign-out form", path)
		}
	}
	// A tool reads with its header.
	resp := do(c, "GET", "/", func(r *fasthttp.Request) { r.Header.Set("Authorization", "Bearer "+token) })
	if resp.StatusCode() != fasthttp.StatusOK || !strings.Contains(string(resp.Body()), `id="requests">120<`) {
		t.Errorf("Bearer GET /: %d", resp.StatusCode())
	}
	if resp := do(c, "GET", "/", func(r *fasthttp.Request) { r.Header.Set("Authorization", "Bearer nope") }); resp.StatusCode() != fasthttp.StatusSeeOther {
		t.Errorf("wrong Bearer GET /: %d", resp.StatusCode())
	}
	if resp := do(c, "GET", "/console/static/console.css", nil); resp.StatusCode() != 200 || !strings.HasPrefix(string(resp.Header.ContentType()), "text/css") {
		t.Errorf("stylesheet: %d %s", resp.StatusCode(), resp.Header.ContentType())
	}
}

func TestHostileProductEscaped(t *testing.T) {
	c, _ := newConsole()
	id, _ := signIn(t, c)
	body := string(do(c, "GET", "/console/catalog", withCookie(id, nil)).Body())
	for _, bad := range []string{`<script>alert`, `<img src=x`} {
		if strings.Contains(body, bad) {
			t.Errorf("catalog page carries %q unescaped", bad)
		}
	}
	if !strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) || !strings.Contains(body, "out of stock") {
		t.Errorf("the product name is not shown escaped, or out of stock is not marked:\n%s", body)
	}
}

func TestLogoutAndOnce(t *testing.T) {
	c, _ := newConsole()
	id, csrf := signIn(t, c)
	if resp := do(c, "POST", "/logout", withCookie(id, form("csrf="+csrf))); resp.StatusCode() != fasthttp.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode())
	}
	if resp := do(c, "GET", "/", withCookie(id, nil)); resp.StatusCode() != fasthttp.StatusSeeOther {
		t.Errorf("after logout: %d", resp.StatusCode())
	}
	code := c.OnceCode()
	if resp := do(c, "GET", "/login?once="+code, nil); resp.StatusCode() != fasthttp.StatusSeeOther || len(resp.Header.PeekCookie(CookieName)) == 0 {
		t.Errorf("one-time link: %d", resp.StatusCode())
	}
	if resp := do(c, "GET", "/login?once="+code, nil); resp.StatusCode() != fasthttp.StatusUnauthorized {
		t.Errorf("one-time link used twice: %d", resp.StatusCode())
	}
}

func TestSessionsBounded(t *testing.T) {
	var s sessions
	for range maxSessions + 10 {
		s.start(t0)
	}
	if len(s.byID) > maxSessions {
		t.Errorf("%d sessions held", len(s.byID))
	}
	id, _ := s.start(t0)
	if _, ok := s.get(id, t0.Add(sessionTTL)); ok {
		t.Error("a session outlived 12 hours")
	}
}
