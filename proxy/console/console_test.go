package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/valyala/fasthttp"
)

const token = "s3cret-admin-token"

// quiet is the tests' logger: it drops what it is given.
var quiet = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

type fake struct {
	erased []string
	asked  []PreviewRequest // the preview links asked for
	// storeDown, when set, is the error of Erase and Experiments.
	storeDown error
}

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

// VisitorID takes ids of letters and digits, and "cookie.ID" as a signed
// cookie naming ID.
func (f *fake) VisitorID(v string) (string, error) {
	if id, ok := strings.CutPrefix(v, "cookie."); ok {
		v = id
	}
	if v == "" || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return "", fmt.Errorf("%q: %w", v, ErrBadID)
	}
	return v, nil
}

func (f *fake) Erase(id string) error {
	if f.storeDown != nil {
		return f.storeDown
	}
	f.erased = append(f.erased, id)
	return nil
}
func (f *fake) Catalog(q string, limit int) (int, []Product) {
	return 1, []Product{{Name: `<script>alert("x")</script>`, Key: "sku-1", URL: "/p/1", OutOfStock: true,
		Fields: []Field{{Name: "name", Value: `<img src=x onerror=alert(1)>`, Source: "jsonld"}}}}
}
func (f *fake) Experiments(context.Context) ([]Experiment, error) {
	if f.storeDown != nil {
		return nil, f.storeDown
	}
	return []Experiment{{Name: "exp", Action: "also-viewed", Outcome: "better", Previewable: true, Arms: []Arm{{Name: "control", Visitors: 100},
		{Name: "b", Visitors: 100, Effect: true, Uplift: 0.2, Low: 0.05, High: 0.4}}}}, nil
}

func (f *fake) PreviewChoices() PreviewChoices {
	return PreviewChoices{Segments: []string{"new", "returning", "vip"},
		Experiments: []PreviewExperiment{{Name: "exp", Action: "block:also-viewed", Arms: []string{"control", "b"}}},
		Base:        "http://shop.example", Lifetimes: []string{"15m", "1h", "24h"}, Lifetime: "1h"}
}

func (f *fake) PreviewLink(r PreviewRequest) (PreviewLink, error) {
	f.asked = append(f.asked, r)
	if r.Segment == "nobody" {
		return PreviewLink{}, errors.New(`preview: unknown segment "nobody"; known: new, returning, vip`)
	}
	return PreviewLink{Link: "http://shop.example/_shopedge/preview?t=tok&x=\"1\"", Segment: r.Segment, Experiment: r.Experiment, Arm: r.Arm,
		Expires: t0.Add(time.Hour)}, nil
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
	return New(f, token, func() time.Time { return t0 }, quiet), f
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
		{"right token", New(&fake{}, token, nil, quiet), "token=" + token, nil, fasthttp.StatusSeeOther},
		{"wrong token", New(&fake{}, token, nil, quiet), "token=guess", nil, fasthttp.StatusUnauthorized},
		{"empty token", New(&fake{}, token, nil, quiet), "token=", nil, fasthttp.StatusUnauthorized},
		{"no admin token lets nobody in", New(&fake{}, "", nil, quiet), "token=", nil, fasthttp.StatusUnauthorized},
		{"cross-site", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Sec-Fetch-Site": "cross-site"}, fasthttp.StatusForbidden},
		{"other origin", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Origin": "https://evil.example"}, fasthttp.StatusForbidden},
		{"same origin", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Origin": "http://127.0.0.1:9090", "Sec-Fetch-Site": "same-origin"}, fasthttp.StatusSeeOther},
		{"origin null under no-referrer", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, fasthttp.StatusSeeOther},
		// Without Sec-Fetch-Site, Origin decides.
		{"origin null, no Sec-Fetch-Site", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Origin": "null"}, fasthttp.StatusSeeOther},
		{"no origin, no Sec-Fetch-Site", New(&fake{}, token, nil, quiet), "token=" + token, nil, fasthttp.StatusSeeOther},
		{"same host origin, no Sec-Fetch-Site", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Origin": "http://127.0.0.1:9090"}, fasthttp.StatusSeeOther},
		{"other host origin, no Sec-Fetch-Site", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Origin": "http://127.0.0.1:9091"}, fasthttp.StatusForbidden},
		{"same-site is not same-origin", New(&fake{}, token, nil, quiet), "token=" + token, map[string]string{"Sec-Fetch-Site": "same-site"}, fasthttp.StatusForbidden},
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
		"/console/visitors?id=nobody", "/console/visitors/erase?id=v1", "/console/catalog?q=x", "/console/experiments", "/console/preview", "/login"} {
		resp := do(c, "GET", path, withCookie(id, nil))
		if resp.StatusCode() != fasthttp.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode(), resp.Body())
			continue
		}
		for k, v := range map[string]string{"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
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
	if resp := do(c, "GET", "/", func(r *fasthttp.Request) { r.Header.Set("Authorization", "Bearer nope") }); resp.StatusCode() != fasthttp.StatusUnauthorized {
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
	var ids []string
	for i := range maxSessions + 10 {
		id, _ := s.start(t0.Add(time.Duration(i) * time.Second))
		ids = append(ids, id)
	}
	if len(s.byID) > maxSessions {
		t.Errorf("%d sessions held", len(s.byID))
	}
	at := t0.Add(time.Hour)
	for i, id := range ids {
		_, ok := s.get(id, at)
		if gone := i < 10; ok == gone {
			t.Errorf("session %d of %d (started %ds after the first): held %v, want %v", i+1, len(ids), i, ok, !gone)
		}
	}
	id, _ := s.start(t0)
	if _, ok := s.get(id, t0.Add(sessionTTL)); ok {
		t.Error("a session outlived 12 hours")
	}
}

// doc parses a response's HTML.
func doc(t *testing.T, resp *fasthttp.Response) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(string(resp.Body())))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPreviewPage: the Preview page offers the configuration's segments
// and the experiments' arms, preselects what the query names, is in the
// navigation; a POST with the session's CSRF token makes the link (the
// experiment and arm split from the form's one field) and shows it in a
// read-only field with what it previews and until when; without the token
// nothing is made; an unknown name is a 400 with the error, the form kept.
func TestPreviewPage(t *testing.T) {
	c, f := newConsole()
	id, csrf := signIn(t, c)

	resp := do(c, "GET", "/console/preview?experiment=exp&arm=b&segment=vip", withCookie(id, nil))
	if resp.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("GET: %d %s", resp.StatusCode(), resp.Body())
	}
	d := doc(t, resp)
	if got := d.Find(`nav a[aria-current=page]`).Text(); got != "Preview" {
		t.Errorf("navigation marks %q, want Preview", got)
	}
	var segs, arms []string
	d.Find(`#segment option`).Each(func(_ int, s *goquery.Selection) { segs = append(segs, s.Text()) })
	d.Find(`#experiment_arm option`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); arms = append(arms, v) })
	if strings.Join(segs, ",") != "none,new,returning,vip" || strings.Join(arms, ",") != ",exp:control,exp:b" {
		t.Errorf("choices: segments %q, arms %q", segs, arms)
	}
	if got := d.Find(`#segment option[selected]`).Text(); got != "vip" {
		t.Errorf("segment preselected %q, want vip", got)
	}
	if got, _ := d.Find(`#experiment_arm option[selected]`).Attr("value"); got != "exp:b" {
		t.Errorf("arm preselected %q, want exp:b", got)
	}
	if got := d.Find(`#ttl option[selected]`).Text(); got != "1h" {
		t.Errorf("lifetime preselected %q, want 1h", got)
	}
	if got, _ := d.Find(`form.preview input[name=csrf]`).Attr("value"); got != csrf {
		t.Errorf("the form's CSRF token %q, want the session's", got)
	}
	if d.Find(`#preview-link`).Length() != 0 || len(f.asked) != 0 {
		t.Errorf("a GET made a link")
	}

	for _, tt := range []struct {
		name, body string
		header     map[string]string
	}{
		{"no CSRF token", "segment=vip&experiment_arm=exp:b&ttl=1h", nil},
		{"a wrong CSRF token", "segment=vip&experiment_arm=exp:b&ttl=1h&csrf=0000", nil},
		{"cross-site", "segment=vip&experiment_arm=exp:b&ttl=1h&csrf=" + csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(c, "POST", "/console/preview", withCookie(id, func(r *fasthttp.Request) {
				form(tt.body)(r)
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
			}))
			if resp.StatusCode() != fasthttp.StatusForbidden || len(f.asked) != 0 || strings.Contains(string(resp.Body()), "_shopedge/preview") {
				t.Errorf("status %d, links asked %v; want 403 and none", resp.StatusCode(), f.asked)
			}
		})
	}
	if resp := do(c, "POST", "/console/preview", func(r *fasthttp.Request) {
		form("segment=vip&csrf=")(r)
		r.Header.Set("Authorization", "Bearer "+token)
	}); resp.StatusCode() != fasthttp.StatusForbidden || len(f.asked) != 0 {
		t.Errorf("a tool's POST: %d, links asked %v", resp.StatusCode(), f.asked)
	}

	resp = do(c, "POST", "/console/preview", withCookie(id, form("segment=vip&experiment_arm=exp:b&ttl=24h&base=+http://127.0.0.1:8080+&csrf="+csrf)))
	if resp.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("POST: %d %s", resp.StatusCode(), resp.Body())
	}
	want := PreviewRequest{Segment: "vip", Experiment: "exp", Arm: "b", Lifetime: "24h", Base: "http://127.0.0.1:8080"}
	if len(f.asked) != 1 || f.asked[0] != want {
		t.Fatalf("asked %+v, want %+v", f.asked, want)
	}
	d = doc(t, resp)
	field := d.Find(`#preview-link`)
	if v, _ := field.Attr("value"); v != `http://shop.example/_shopedge/preview?t=tok&x="1"` {
		t.Errorf("the link field holds %q", v)
	}
	if _, ro := field.Attr("readonly"); !ro {
		t.Errorf("the link field is not read-only")
	}
	if got := strings.Join(strings.Fields(d.Find(`#previews`).Text()), " "); got != "Shows the shop as a member of segment vip and a visitor in arm b of experiment exp, until 2026-12-02 13:00:00 UTC." {
		t.Errorf("what it previews: %q", got)
	}
	if got, _ := d.Find(`#experiment_arm option[selected]`).Attr("value"); got != "exp:b" {
		t.Errorf("after the POST, arm preselected %q, want exp:b", got)
	}

	// The Experiments page links each arm's preview.
	var links []string
	doc(t, do(c, "GET", "/console/experiments", withCookie(id, nil))).Find(`a.preview-arm`).Each(func(_ int, s *goquery.Selection) {
		h, _ := s.Attr("href")
		links = append(links, h)
	})
	if strings.Join(links, " ") != "/console/preview?experiment=exp&arm=control /console/preview?experiment=exp&arm=b" {
		t.Errorf("the Experiments page's preview links: %q", links)
	}

	f.asked = nil
	resp = do(c, "POST", "/console/preview", withCookie(id, form("segment=nobody&csrf="+csrf)))
	d = doc(t, resp)
	if resp.StatusCode() != fasthttp.StatusBadRequest || !strings.Contains(d.Find(`.error`).Text(), `unknown segment "nobody"; known: new, returning, vip`) || d.Find(`#preview-link`).Length() != 0 {
		t.Errorf("unknown segment: %d, error %q", resp.StatusCode(), d.Find(`.error`).Text())
	}
	if len(f.asked) != 1 || f.asked[0].Lifetime != "1h" {
		t.Errorf("asked %+v, want the default lifetime when the form names none", f.asked)
	}
}

// TestErrorHeaders: every error the console answers keeps the headers
// every page carries (ctx.Error would reset them), and the 405 its Allow.
func TestErrorHeaders(t *testing.T) {
	c, _ := newConsole()
	id, _ := signIn(t, c)
	for _, tc := range []struct {
		name, method, uri string
		setup             func(r *fasthttp.Request)
		status            int
	}{
		{"PUT /", "PUT", "/", withCookie(id, nil), fasthttp.StatusMethodNotAllowed},
		{"unknown path", "GET", "/console/nowhere", withCookie(id, nil), fasthttp.StatusNotFound},
		{"POST unauthenticated", "POST", "/console/visitors/erase", form("id=v1"), fasthttp.StatusUnauthorized},
		{"missing static file", "GET", "/console/static/none.css", nil, fasthttp.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(c, tc.method, tc.uri, tc.setup)
			if resp.StatusCode() != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode(), tc.status)
			}
			for k, want := range map[string]string{"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
				"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
				if got := string(resp.Header.Peek(k)); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if tc.status == fasthttp.StatusMethodNotAllowed {
				if got := string(resp.Header.Peek("Allow")); got != "GET, POST" {
					t.Errorf("Allow: %q, want GET, POST", got)
				}
			}
		})
	}
}

// TestRedirectsRelative: a redirect's Location is a root-relative path,
// never made from the request's Host.
func TestRedirectsRelative(t *testing.T) {
	c, _ := newConsole()
	id, csrf := signIn(t, c)
	evil := func(more func(r *fasthttp.Request)) func(r *fasthttp.Request) {
		return func(r *fasthttp.Request) {
			if more != nil {
				more(r)
			}
			r.Header.SetHost("evil.example")
		}
	}
	for _, tc := range []struct {
		name, method, uri string
		setup             func(r *fasthttp.Request)
		want              string
	}{
		{"not signed in", "GET", "/", evil(nil), "/login"},
		{"sign-in", "POST", "/login", evil(form("token=" + token)), "/"},
		{"erase", "POST", "/console/visitors/erase", evil(withCookie(id, form("id=v1&csrf="+csrf))), "/console/visitors?erased=1&id=v1"},
		{"sign-out", "POST", "/logout", evil(withCookie(id, form("csrf="+csrf))), "/login"},
	} {
		resp := do(c, tc.method, tc.uri, tc.setup)
		if resp.StatusCode() != fasthttp.StatusSeeOther || string(resp.Header.Peek("Location")) != tc.want {
			t.Errorf("%s: %d Location %q, want 303 %q", tc.name, resp.StatusCode(), resp.Header.Peek("Location"), tc.want)
		}
	}
}

// TestWrongBearer: a tool with a wrong token gets 401 and a challenge, not
// a redirect to the sign-in form; the right one, in any case of the
// scheme, gets the page.
func TestWrongBearer(t *testing.T) {
	c, _ := newConsole()
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"Bearer wrong", fasthttp.StatusUnauthorized},
		{"Basic " + token, fasthttp.StatusUnauthorized},
		{"Bearer " + token, fasthttp.StatusOK},
		{"bearer " + token, fasthttp.StatusOK},
	} {
		resp := do(c, "GET", "/console/actions", func(r *fasthttp.Request) { r.Header.Set("Authorization", tc.auth) })
		if resp.StatusCode() != tc.status {
			t.Errorf("%q: %d, want %d", tc.auth, resp.StatusCode(), tc.status)
		}
		if tc.status == fasthttp.StatusUnauthorized {
			if got := string(resp.Header.Peek("WWW-Authenticate")); got != `Bearer realm="shopedge admin"` {
				t.Errorf("%q: WWW-Authenticate %q", tc.auth, got)
			}
		}
	}
}

func TestBearerOK(t *testing.T) {
	for _, tc := range []struct {
		h, token    string
		present, ok bool
	}{
		{"", token, false, false},
		{"Bearer " + token, token, true, true},
		{"BEARER " + token, token, true, true},
		{"Bearer " + token + "x", token, true, false},
		{"Bearer ", "", true, false},
		{"Token " + token, token, true, false},
		{"Bear", token, true, false},
	} {
		if p, ok := BearerOK([]byte(tc.h), tc.token); p != tc.present || ok != tc.ok {
			t.Errorf("BearerOK(%q): %v %v, want %v %v", tc.h, p, ok, tc.present, tc.ok)
		}
	}
}

// TestCodes: a one-time code fails after its lifetime, and past the cap
// the oldest code is the one dropped.
func TestCodes(t *testing.T) {
	var s sessions
	old := s.code(t0)
	if s.redeem(old, t0.Add(CodeLifetime)) {
		t.Error("a code redeemed at the end of its lifetime")
	}
	first := s.code(t0)
	var rest []string
	for i := range maxCodes {
		rest = append(rest, s.code(t0.Add(time.Duration(i+1)*time.Second)))
	}
	at := t0.Add(time.Minute)
	if s.redeem(first, at) {
		t.Errorf("after %d more codes, the first still works", maxCodes)
	}
	for i, c := range rest {
		if !s.redeem(c, at) {
			t.Errorf("code %d of the newest %d gone", i+1, maxCodes)
		}
	}
}

// TestSignInEndsOldSession: signing in again ends the session the
// request's cookie named.
func TestSignInEndsOldSession(t *testing.T) {
	c, _ := newConsole()
	old, _ := signIn(t, c)
	if resp := do(c, "POST", "/login", withCookie(old, form("token="+token))); resp.StatusCode() != fasthttp.StatusSeeOther {
		t.Fatalf("second sign-in: %d", resp.StatusCode())
	}
	if _, ok := c.sessions.get(old, t0); ok {
		t.Error("the old session still holds after a new sign-in")
	}
	if resp := do(c, "GET", "/console/actions", withCookie(old, nil)); resp.StatusCode() != fasthttp.StatusSeeOther {
		t.Errorf("GET with the old cookie: %d, want 303 to /login", resp.StatusCode())
	}
}

// TestEraseErrors: input naming no visitor is a 400 (POST and the GET
// confirmation), a failed erasure a 503, and the redirect names the
// resolved id, not the cookie typed in.
func TestEraseErrors(t *testing.T) {
	c, f := newConsole()
	id, csrf := signIn(t, c)
	post := func(v string) *fasthttp.Response {
		return do(c, "POST", "/console/visitors/erase", withCookie(id, form("csrf="+csrf+"&id="+v)))
	}
	for _, v := range []string{"", "%3Cgarbage%3E"} {
		if resp := post(v); resp.StatusCode() != fasthttp.StatusBadRequest {
			t.Errorf("POST id=%q: %d, want 400", v, resp.StatusCode())
		}
		if resp := do(c, "GET", "/console/visitors/erase?id="+v, withCookie(id, nil)); resp.StatusCode() != fasthttp.StatusBadRequest {
			t.Errorf("GET id=%q: %d, want 400", v, resp.StatusCode())
		}
	}
	resp := post("cookie.v1")
	if loc := string(resp.Header.Peek("Location")); resp.StatusCode() != fasthttp.StatusSeeOther || loc != "/console/visitors?erased=1&id=v1" {
		t.Errorf("POST a cookie: %d Location %q, want 303 to the id", resp.StatusCode(), loc)
	}
	if resp := do(c, "GET", "/console/visitors/erase?id=cookie.v1", withCookie(id, nil)); !strings.Contains(string(resp.Body()), `name="id" value="v1"`) {
		t.Errorf("GET confirmation of a cookie does not carry the id:\n%s", resp.Body())
	}
	f.storeDown = errors.New("store: connection refused")
	if resp := post("v1"); resp.StatusCode() != fasthttp.StatusServiceUnavailable || !strings.Contains(string(resp.Body()), "connection refused") {
		t.Errorf("store down: %d, want 503 with the error", resp.StatusCode())
	}
}

// TestExperimentsStoreDown: a store failure is a 503 with the error, not
// "No experiment configured".
func TestExperimentsStoreDown(t *testing.T) {
	c, f := newConsole()
	id, _ := signIn(t, c)
	f.storeDown = errors.New("store: connection refused")
	resp := do(c, "GET", "/console/experiments", withCookie(id, nil))
	body := string(resp.Body())
	if resp.StatusCode() != fasthttp.StatusServiceUnavailable || !strings.Contains(body, "connection refused") || strings.Contains(body, "No experiment configured") {
		t.Errorf("store down: %d\n%s", resp.StatusCode(), body)
	}
}

// offsite is a fake whose catalog has a product with an off-site URL.
type offsite struct{ fake }

func (o *offsite) Catalog(string, int) (int, []Product) {
	return 2, []Product{{Name: "here", URL: "/p/1"}, {Name: "there", URL: "//evil.example/p"}}
}

// TestCatalogLinks: only the shop's URLs are links; another is text.
func TestCatalogLinks(t *testing.T) {
	c := New(&offsite{}, token, func() time.Time { return t0 }, quiet)
	id, _ := signIn(t, c)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(do(c, "GET", "/console/catalog", withCookie(id, nil)).Body())))
	if err != nil {
		t.Fatal(err)
	}
	var hrefs []string
	doc.Find("article.product h2 a").Each(func(_ int, s *goquery.Selection) { hrefs = append(hrefs, s.AttrOr("href", "")) })
	if len(hrefs) != 1 || hrefs[0] != "/p/1" {
		t.Errorf("links %q, want only /p/1", hrefs)
	}
	if got := doc.Find("article.product h2 code.url").Text(); got != "//evil.example/p" {
		t.Errorf("off-site URL shown as %q", got)
	}
}
