package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/console.css
var stylesheet []byte

// CSP is the Content-Security-Policy of every console response.
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "overview", "actions", "visitors", "erase", "catalog", "experiments", "preview"} {
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

// Console serves the console's pages.
type Console struct {
	src      Source
	token    string
	now      func() time.Time
	sessions sessions
	throttle throttle
	log      *slog.Logger
	// Timeout bounds what a page waits for the shared store.
	Timeout time.Duration
}

// New is a console reading src, for people who know token (an empty token
// lets nobody in), logging sign-ins to log (nil: slog.Default()).
func New(src Source, token string, now func() time.Time, log *slog.Logger) *Console {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Console{src: src, token: token, now: now, log: log, Timeout: 2 * time.Second}
}

// Handles reports whether path is the console's.
func Handles(path string) bool {
	return path == "/" || path == "/login" || path == "/logout" || path == "/console" || strings.HasPrefix(path, "/console/")
}

// OnceCode is a one-time sign-in code for /login?once=CODE.
func (c *Console) OnceCode() string { return c.sessions.code(c.now()) }

// page is what every template gets.
type page struct {
	Title, Nav string
	CSRF       string
	Data       any
	Error      string
}

// Serve answers a request for one of the console's paths.
func (c *Console) Serve(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	path := string(ctx.Path())
	if strings.HasPrefix(path, "/console/static/") {
		if path != "/console/static/console.css" {
			fail(ctx, "not found\n", fasthttp.StatusNotFound)
			return
		}
		ctx.SetContentType("text/css; charset=utf-8")
		ctx.SetBody(stylesheet)
		return
	}
	if path == "/login" {
		c.login(ctx)
		return
	}
	if present, ok := BearerOK(ctx.Request.Header.Peek("Authorization"), c.token); present && !ok {
		// A tool sent a wrong token: tell it so, rather than send it to a form.
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="shopedge admin"`)
		fail(ctx, "unauthorized: send Authorization: Bearer <admin token>\n", fasthttp.StatusUnauthorized)
		return
	}
	sid, sess, ok := c.who(ctx)
	if !ok {
		if ctx.IsGet() || ctx.IsHead() {
			seeOther(ctx, "/login")
			return
		}
		fail(ctx, "unauthorized: sign in on /login\n", fasthttp.StatusUnauthorized)
		return
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "GET, POST")
			fail(ctx, "method not allowed\n", fasthttp.StatusMethodNotAllowed)
			return
		}
		if !sameSite(ctx) || sess.csrf == "" || subtle.ConstantTimeCompare(ctx.PostArgs().Peek("csrf"), []byte(sess.csrf)) != 1 {
			fail(ctx, "refused: not sent from this console's own form\n", fasthttp.StatusForbidden)
			return
		}
	}
	p := page{CSRF: sess.csrf}
	args := ctx.QueryArgs()
	now := c.now()
	switch {
	case path == "/logout" && ctx.IsPost():
		c.sessions.end(sid)
		c.setCookie(ctx, "", -1)
		seeOther(ctx, "/login")
		return
	case path == "/" || path == "/console" || path == "/console/":
		p.Title, p.Nav, p.Data = "Overview", "overview", c.src.Overview(now)
		c.render(ctx, "overview", p)
	case path == "/console/actions":
		b, o := c.src.Actions(now)
		p.Title, p.Nav, p.Data = "Blocks and overlays", "actions", struct{ Blocks, Overlays []Action }{b, o}
		c.render(ctx, "actions", p)
	case path == "/console/visitors":
		c.visitors(ctx, p, string(args.Peek("id")), string(args.Peek("path")), args.Has("erased"))
	case path == "/console/visitors/erase":
		c.erase(ctx, p)
	case path == "/console/catalog":
		q := string(args.Peek("q"))
		total, prods := c.src.Catalog(q, 200)
		p.Title, p.Nav = "Catalog", "catalog"
		p.Data = struct {
			Q        string
			Total    int
			Products []Product
			Origin   string // the shop's: only its URLs are links
		}{q, total, prods, c.src.PreviewChoices().Base}
		c.render(ctx, "catalog", p)
	case path == "/console/experiments":
		wait, cancel := context.WithTimeout(context.Background(), c.Timeout)
		defer cancel()
		exps, err := c.src.Experiments(wait)
		p.Title, p.Nav, p.Data = "Experiments", "experiments", exps
		if err != nil {
			// The store did not answer: say so, not "No experiment configured".
			p.Error = err.Error()
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		}
		c.render(ctx, "experiments", p)
	case path == "/console/preview":
		c.preview(ctx, p)
	default:
		fail(ctx, "not found\n", fasthttp.StatusNotFound)
	}
}

// previewPage is what the Preview page shows: the choices, what the form
// asked for (kept when it is shown again), and the link made, if any.
type previewPage struct {
	Choices PreviewChoices
	Asked   PreviewRequest
	Link    *PreviewLink
}

// Choice is the form's value of an experiment's arm: "EXPERIMENT:ARM"
// (names are lowercase letters, digits and dashes, never a colon).
func (r PreviewRequest) Choice() string {
	if r.Experiment == "" {
		return ""
	}
	return r.Experiment + ":" + r.Arm
}

// preview shows the Preview page's form (GET, preselected from the query's
// segment, experiment and arm) and makes a link (POST): the same code as
// POST /preview on the admin API, the link shown in a read-only field.
func (c *Console) preview(ctx *fasthttp.RequestCtx, p page) {
	p.Title, p.Nav = "Preview", "preview"
	d := previewPage{Choices: c.src.PreviewChoices()}
	args := ctx.QueryArgs()
	if ctx.IsPost() {
		args = ctx.PostArgs()
	}
	d.Asked = PreviewRequest{Segment: string(args.Peek("segment")), Experiment: string(args.Peek("experiment")), Arm: string(args.Peek("arm")),
		Lifetime: string(args.Peek("ttl")), Base: strings.TrimSpace(string(args.Peek("base")))}
	if exp, arm, ok := strings.Cut(string(args.Peek("experiment_arm")), ":"); ok {
		d.Asked.Experiment, d.Asked.Arm = exp, arm
	}
	if d.Asked.Lifetime == "" {
		d.Asked.Lifetime = d.Choices.Lifetime
	}
	if ctx.IsPost() {
		link, err := c.src.PreviewLink(d.Asked)
		if err != nil {
			p.Error = err.Error()
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
		} else {
			d.Link = &link
		}
	}
	p.Data = d
	c.render(ctx, "preview", p)
}

func (c *Console) visitors(ctx *fasthttp.RequestCtx, p page, id, path string, erased bool) {
	p.Title, p.Nav = "Visitors", "visitors"
	d := struct {
		ID, Path       string
		Erased, Looked bool
		Found          bool
		Profile        []Section
		Explain        []Section
		ExplainError   string
	}{ID: id, Path: path, Erased: erased}
	if id != "" && !erased {
		d.Looked = true
		secs, ok, err := c.src.Profile(id)
		if err != nil {
			p.Error = err.Error()
		}
		d.Found, d.Profile = ok, secs
		if path != "" {
			ex, err := c.src.Explain(id, path)
			if err != nil {
				d.ExplainError = err.Error()
			}
			d.Explain = ex
		}
	}
	p.Data = d
	c.render(ctx, "visitors", p)
}

// erase asks to confirm (GET) and erases (POST) the visitor that the id
// field names: input naming no visitor is a 400, a failed erasure a 503,
// and the redirect after it names the visitor by its id, never by the
// cookie that may have been pasted.
func (c *Console) erase(ctx *fasthttp.RequestCtx, p page) {
	p.Title, p.Nav = "Erase a visitor", "visitors"
	raw := string(ctx.QueryArgs().Peek("id"))
	if ctx.IsPost() {
		raw = string(ctx.PostArgs().Peek("id"))
	}
	id, err := c.src.VisitorID(raw)
	if err == nil && ctx.IsPost() {
		if err = c.src.Erase(id); err == nil {
			seeOther(ctx, "/console/visitors?erased=1&id="+url.QueryEscape(id))
			return
		}
	}
	p.Data = id
	if err != nil {
		p.Error, p.Data = err.Error(), raw
		status := fasthttp.StatusServiceUnavailable
		if errors.Is(err, ErrBadID) {
			status = fasthttp.StatusBadRequest
		}
		ctx.SetStatusCode(status)
	}
	c.render(ctx, "erase", p)
}

// login shows the form (GET), checks the token (POST) or redeems a
// one-time code (GET ?once=CODE), and starts a session.
func (c *Console) login(ctx *fasthttp.RequestCtx) {
	now := c.now()
	p := page{Title: "Sign in", Nav: "login"}
	switch {
	case ctx.IsPost():
		if !sameSite(ctx) {
			fail(ctx, "refused: not sent from this console's own form\n", fasthttp.StatusForbidden)
			return
		}
		ip := ctx.RemoteIP().String()
		if d := c.throttle.wait(ip, now); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			c.log.Warn("console sign-in refused: too many failures", "ip", ip, "retry_after_s", secs)
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(secs))
			fail(ctx, "too many failed sign-ins: try again later\n", fasthttp.StatusTooManyRequests)
			return
		}
		got := ctx.PostArgs().Peek("token")
		if !TokenOK(got, c.token) {
			c.throttle.fail(ip, now)
			c.log.Warn("console sign-in failed: wrong token", "ip", ip)
			p.Error = "That is not the admin token."
			ctx.SetStatusCode(fasthttp.StatusUnauthorized)
			c.render(ctx, "login", p)
			return
		}
	case ctx.IsGet() && ctx.QueryArgs().Has("once"):
		if c.token == "" || !c.sessions.redeem(string(ctx.QueryArgs().Peek("once")), now) {
			c.log.Warn("console sign-in failed: one-time code unknown, used or old", "ip", ctx.RemoteIP().String())
			p.Error = "That sign-in link was used already or is too old: sign in with the admin token."
			ctx.SetStatusCode(fasthttp.StatusUnauthorized)
			c.render(ctx, "login", p)
			return
		}
	default:
		c.render(ctx, "login", p)
		return
	}
	c.log.Info("console sign-in", "ip", ctx.RemoteIP().String())
	// The session the browser held before, if any, ends: a sign-in never
	// leaves an older session (perhaps planted, perhaps stolen) running.
	if old := ctx.Request.Header.Cookie(CookieName); len(old) > 0 {
		c.sessions.end(string(old))
	}
	id, _ := c.sessions.start(now)
	c.setCookie(ctx, id, int(sessionTTL/time.Second))
	seeOther(ctx, "/")
}

func (c *Console) setCookie(ctx *fasthttp.RequestCtx, value string, maxAge int) {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(CookieName)
	ck.SetValue(value)
	ck.SetPath("/")
	ck.SetHTTPOnly(true)
	ck.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	if maxAge < 0 {
		ck.SetExpire(fasthttp.CookieExpireDelete)
	} else {
		ck.SetMaxAge(maxAge)
	}
	if ctx.IsTLS() {
		ck.SetSecure(true)
	}
	ctx.Response.Header.SetCookie(ck)
}

// who is the request's session, or a tool's Bearer token (no session, no
// CSRF token: a tool cannot POST to the console).
func (c *Console) who(ctx *fasthttp.RequestCtx) (string, session, bool) {
	if c.token == "" {
		return "", session{}, false
	}
	if present, ok := BearerOK(ctx.Request.Header.Peek("Authorization"), c.token); present {
		return "", session{}, ok
	}
	id := string(ctx.Request.Header.Cookie(CookieName))
	s, ok := c.sessions.get(id, c.now())
	return id, s, ok
}

// sameSite is false when the browser says the request comes from another
// site: Sec-Fetch-Site, when sent, other than same-origin or none; without
// it, an Origin other than this host. (Under Referrer-Policy no-referrer a
// browser sends "Origin: null" with the console's own forms, so Origin is
// read only when Sec-Fetch-Site is absent, and "null" is no answer; the
// CSRF token decides then.)
func sameSite(ctx *fasthttp.RequestCtx) bool {
	if s := string(ctx.Request.Header.Peek("Sec-Fetch-Site")); s != "" {
		return s == "same-origin" || s == "none"
	}
	origin := string(ctx.Request.Header.Peek("Origin"))
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, string(ctx.Host()))
}

// fail answers status with msg as plain text. Unlike ctx.Error, which
// resets the response, it keeps the headers already set (CSP, nosniff,
// X-Frame-Options, Referrer-Policy, no-store, Allow, Retry-After).
func fail(ctx *fasthttp.RequestCtx, msg string, status int) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg)
}

// seeOther answers 303 to loc, a root-relative path set as it is (ctx.Redirect
// would make it absolute from the request's Host, which the client chose).
func seeOther(ctx *fasthttp.RequestCtx, loc string) {
	ctx.Response.Header.Set("Location", loc)
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}

func (c *Console) render(ctx *fasthttp.RequestCtx, name string, p page) {
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, p); err != nil {
		fail(ctx, "the page could not be drawn: "+err.Error()+"\n", fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBody(buf.Bytes())
}
