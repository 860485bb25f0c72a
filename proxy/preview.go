package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/identity"
	"shopedge/proxy/learn"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/profile"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// Preview mode: an operator opens a signed link (shopedge preview, POST
// /preview on the operations listener, or the console's Preview page)
// and, while its cookie lasts, sees the shop as a member of one segment
// would, or as a visitor in one arm of an experiment, or both (plan.Preview
// and plan.PreviewArm say what that forces; every other experiment's
// action shows as written), with a "preview: NAME" badge and a
// Shopedge-Explain header, and nothing recorded: no profile written or made, no visitor
// cookie, no view, cart add, live count, engine event, beacon or click
// counted. Under the reserved prefix:
//
//	GET {prefix}preview?t=TOKEN[&next=/path]  sets the preview cookie, 303 to next (default /)
//	GET {prefix}preview/end[?next=/path]      clears it, 303 to next
//
// The cookie is the visitor cookie's name with "_preview" after it, and
// holds the token itself (identity.IssuePreview): HttpOnly, SameSite=Lax,
// Secure over HTTPS, for the time the token has left. A cookie that does
// not verify (expired, forged, another key, too long, a segment,
// experiment or arm the configuration no longer has) is ignored: the
// visitor is served as anyone.
//
// A preview applies where the proxy would personalize for the browser at
// all: a page request from a browser it may track (no Sec-GPC, consent
// given where identity.consent asks for it, not a bot's user agent); the
// cookie is looked for on those requests only. Operational metrics
// (requests, latency, pass-through reasons, CSP skips) still count; what
// visitors do (views, visitors, blocks and overlays shown, clicks,
// beacons) does not.

// The paths under the reserved prefix.
const (
	previewStart = "preview"
	previewEnd   = "preview/end"
)

// DefaultPreviewTTL is how long a preview link lasts when not told.
const DefaultPreviewTTL = time.Hour

// maxNext bounds the next parameter of the preview paths.
const maxNext = 2048

// previewCookie is the preview cookie's name for a configuration.
func previewCookie(cfg *rules.Compiled) string { return cfg.CookieName + previewSuffix }

// previewSuffix follows the visitor cookie's name in the preview cookie's.
const previewSuffix = "_preview"

// previewCookieOf reads the preview cookie of a request without
// allocating: every page request asks.
func previewCookieOf(h *fasthttp.RequestHeader, cfg *rules.Compiled) []byte {
	var buf [96]byte
	name := append(append(buf[:0], cfg.CookieName...), previewSuffix...)
	return requestCookie(h, name)
}

// preview is a request's valid preview.
type preview struct {
	forced
	name    string // what the badge says: the segment, "EXPERIMENT: ARM", or both
	token   []byte // the cookie's value (aliases the request)
	explain []byte // the Shopedge-Explain header, once decided
}

// forced is what a preview token forces, found in a configuration.
type forced struct {
	segment    int // index in Compiled.Segments; -1: none
	experiment int // index in Compiled.Experiments; -1: none
	arm        int // index in the experiment's Arms
}

// apply makes a decision's input a preview of f.
func (f *forced) apply(in *plan.Input) {
	plan.Preview(in, f.segment)
	plan.PreviewArm(in, f.experiment, f.arm)
}

// readPreview reads the request's preview cookie; a valid one puts the
// exchange in preview (x.preview).
func (p *Proxy) readPreview(x *exchange) {
	raw := previewCookieOf(&x.ctx.Request.Header, x.conf.cfg)
	if len(raw) == 0 {
		return
	}
	f, pv, ok := p.verifyPreview(x.conf.cfg, raw)
	if !ok {
		return
	}
	x.preview = &preview{forced: f, name: previewLabel(pv.Previewed), token: raw}
}

// previewLabel is what the badge says of a preview.
func previewLabel(v identity.Previewed) string {
	arm := ""
	if v.Experiment != "" {
		arm = v.Experiment + ": " + v.Arm
	}
	switch {
	case v.Segment == "":
		return arm
	case arm == "":
		return v.Segment
	}
	return v.Segment + ", " + arm
}

// verifyPreview checks a preview token and finds what it forces in cfg:
// every name it holds must be there.
func (p *Proxy) verifyPreview(cfg *rules.Compiled, token []byte) (f forced, pv identity.Preview, ok bool) {
	pv, ok = p.ids.VerifyPreview(token)
	if !ok {
		return forced{segment: -1, experiment: -1}, pv, false
	}
	f, err := findForced(cfg, pv.Previewed)
	return f, pv, err == nil
}

// findForced finds the segment and the experiment's arm v names in cfg;
// a name cfg lacks is an error naming the known ones. The global control
// is no experiment a preview forces: its control arm is the shop as it
// is, and its treatment is every preview.
func findForced(cfg *rules.Compiled, v identity.Previewed) (forced, error) {
	f := forced{segment: -1, experiment: -1}
	if v.Segment == "" && v.Experiment == "" && v.Arm == "" {
		return f, errors.New("preview: nothing to preview: give a segment, or an experiment and its arm, or both")
	}
	if v.Segment != "" {
		for i := range cfg.Segments {
			if cfg.Segments[i].Name == v.Segment {
				f.segment = i
			}
		}
		if f.segment < 0 {
			known := make([]string, 0, len(cfg.Segments))
			for i := range cfg.Segments {
				known = append(known, cfg.Segments[i].Name)
			}
			return f, fmt.Errorf("preview: unknown segment %q; known: %s", v.Segment, strings.Join(known, ", "))
		}
	}
	if v.Experiment == "" && v.Arm == "" {
		return f, nil
	}
	var known []string
	for i := range cfg.Experiments {
		if i == cfg.GlobalControl-1 {
			continue
		}
		known = append(known, cfg.Experiments[i].Name)
		if cfg.Experiments[i].Name == v.Experiment {
			f.experiment = i
		}
	}
	switch {
	case v.Experiment == "" && len(known) == 0:
		return f, fmt.Errorf("preview: arm %q needs its experiment, and the configuration has none to preview", v.Arm)
	case v.Experiment == "":
		return f, fmt.Errorf("preview: arm %q needs its experiment; known: %s", v.Arm, strings.Join(known, ", "))
	case f.experiment < 0 && len(known) == 0:
		return f, fmt.Errorf("preview: unknown experiment %q; the configuration has none to preview", v.Experiment)
	case f.experiment < 0:
		return f, fmt.Errorf("preview: unknown experiment %q; known: %s", v.Experiment, strings.Join(known, ", "))
	}
	arms := cfg.Experiments[f.experiment].Arms
	f.arm = slices.Index(arms, v.Arm)
	if f.arm < 0 {
		if v.Arm == "" {
			return f, fmt.Errorf("preview: experiment %q needs an arm; arms: %s", v.Experiment, strings.Join(arms, ", "))
		}
		return f, fmt.Errorf("preview: experiment %q has no arm %q; arms: %s", v.Experiment, v.Arm, strings.Join(arms, ", "))
	}
	return f, nil
}

// identifyPreview is identify under a preview: the visitor cookie read,
// never issued nor refreshed; without a valid one, an id of the preview
// link's own (stable for the link, never stored), so that the plan treats
// the browser as a visitor.
func (p *Proxy) identifyPreview(x *exchange) {
	raw := requestCookie(&x.ctx.Request.Header, x.conf.cfg.CookieName)
	if who, ok := p.ids.VerifyBytes(raw); ok {
		x.visitorID, x.returning = who.ID, true
		return
	}
	sum := sha256.Sum256(x.preview.token)
	x.visitorID = base64.RawURLEncoding.EncodeToString(sum[:16])
}

// previewProfile is what a preview decides on: a copy of the visitor's
// profile, read and never written; without one, a first visit's, made
// from this request (device, source) in the copy alone. It also returns
// what the page is about; of the page itself it learns the product, as
// any view does (the catalog is the shop's), and nothing of the visitor.
func (p *Proxy) previewProfile(x *exchange, v *learn.Facts, a *page.Analysis, fresh bool, now time.Time) (learn.Event, profile.Data) {
	// The catalog is the shop's, not the visitor's: a page read for the
	// first time (fresh) teaches it as any view would, or a new price or
	// stock seen first in a preview would stay unlearned while the page's
	// analysis is cached.
	ev := p.learner.Page(v, a, fresh, now)
	if x.returning {
		if prof, ok := p.profiles.Get(x.visitorID); ok {
			return ev, prof.Snapshot()
		}
	}
	var d profile.Data
	d.Touch(now, v.VisitGap)
	d.Device = v.Device
	d.SetSource(v.Source)
	d.Customer = v.Customer
	return ev, d
}

// previewBadge puts the badge at the end of the body, in the region's
// rendered contents (a preview's analysis has that place on every page:
// page.Input.Badge), where the page's policy allows the stylesheet (which the badge brings, with the
// page's nonce); otherwise no badge, and the preview applies all the
// same. It returns whether it put the badge in.
func (p *Proxy) previewBadge(x *exchange, pl *plan.Plan, a *page.Analysis, style bool, styleNonce string, contents [][]byte) bool {
	cfg := x.conf.cfg
	body := -1
	for i := range a.Regions {
		if a.Regions[i].Kind == page.Body {
			body = i
		}
	}
	if body < 0 || !style || body >= len(contents) {
		return false
	}
	assets := cfg.Assets.Tags(styleNonce)
	if pl.Origin != "" {
		assets.CSS = pl.Origin + assets.CSS
	}
	next := string(x.ctx.Request.Header.RequestURI())
	closeURL := pl.Origin + cfg.Assets.Prefix + previewEnd + "?next=" + url.QueryEscape(next)
	badge := append([]byte(nil), contents[body]...)
	badge = markup.AppendStylesheet(badge, assets)
	badge, err := markup.RenderPreviewBadge(badge, markup.PreviewBadge{Segment: x.preview.name, Close: closeURL})
	if err != nil {
		p.log.Error("preview badge not rendered", "err", err)
		return false
	}
	contents[body] = badge
	return true
}

// notDecided is the explanation of a response under preview for which
// nothing was decided: a page with no place the proxy changes, or one it
// passed through (too large, not UTF-8, not decodable).
const notDecided = "overlay=none(not-decided)"

// previewHeaders finishes a response under preview: private, never
// stored, with the explanation (plan.AppendExplain) in Shopedge-Explain.
func previewHeaders(x *exchange) {
	makePrivate(x.ctx)
	if len(x.preview.explain) > 0 {
		x.ctx.Response.Header.SetBytesV("Shopedge-Explain", x.preview.explain)
	} else {
		x.ctx.Response.Header.Set("Shopedge-Explain", notDecided)
	}
}

// previewing reports whether a request under the prefix (a beacon) comes
// from a browser in preview.
func (p *Proxy) previewing(ctx *fasthttp.RequestCtx, cfg *rules.Compiled) bool {
	raw := previewCookieOf(&ctx.Request.Header, cfg)
	if len(raw) == 0 {
		return false
	}
	_, _, ok := p.verifyPreview(cfg, raw)
	return ok
}

// startPreview answers GET {prefix}preview?t=TOKEN&next=/path: with a
// valid token, the preview cookie and a 303 to next; otherwise 403 and no
// cookie.
func (p *Proxy) startPreview(ctx *fasthttp.RequestCtx, conf *config) {
	if !ctx.IsGet() {
		ctx.Response.Header.Set("Allow", "GET")
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	cfg := conf.cfg
	ctx.Response.Header.Set("Cache-Control", "no-store")
	token := ctx.QueryArgs().Peek("t")
	_, pv, ok := p.verifyPreview(cfg, token)
	left := pv.Expires.Sub(p.now())
	if !ok || left < time.Second {
		ctx.SetStatusCode(fasthttp.StatusForbidden)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("This preview link is not valid: it has expired, or was not made for this shop.\n")
		return
	}
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(previewCookie(cfg))
	c.SetValueBytes(token)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	c.SetSecure(requestHTTPS(ctx, conf) || cfg.Identity.HTTPSOnly)
	c.SetMaxAge(int(left / time.Second))
	ctx.Response.Header.SetCookie(c)
	seeOther(ctx, localNext(ctx.QueryArgs().Peek("next"), cfg.Assets.Prefix))
}

// endPreview answers GET {prefix}preview/end?next=/path: the preview
// cookie cleared, and a 303 to next.
func (p *Proxy) endPreview(ctx *fasthttp.RequestCtx, conf *config) {
	if !ctx.IsGet() {
		ctx.Response.Header.Set("Allow", "GET")
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	cfg := conf.cfg
	ctx.Response.Header.Set("Cache-Control", "no-store")
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(previewCookie(cfg))
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	c.SetSecure(requestHTTPS(ctx, conf) || cfg.Identity.HTTPSOnly)
	c.SetExpire(fasthttp.CookieExpireDelete)
	ctx.Response.Header.SetCookie(c)
	seeOther(ctx, localNext(ctx.QueryArgs().Peek("next"), cfg.Assets.Prefix))
}

// seeOther answers 303 to a path of this shop, kept relative (fasthttp's
// Redirect would make it absolute on the request's Host).
func seeOther(ctx *fasthttp.RequestCtx, path string) {
	ctx.Response.Header.Set("Location", path)
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}

// requestHTTPS reports whether the visitor's request came over HTTPS, as
// classify reads it.
func requestHTTPS(ctx *fasthttp.RequestCtx, conf *config) bool {
	return viaHTTPS(ctx, conf.trusted(ctx.RemoteIP()))
}

// localNext is where a preview path sends the browser: next when it is a
// path of this shop ("/…", not "//…" nor "/\…", printable ASCII without
// a backslash, not under the reserved prefix, bounded), else "/". Never
// an absolute URL: no open redirect.
func localNext(next []byte, prefix string) string {
	s := string(next)
	if len(s) == 0 || len(s) > maxNext || s[0] != '/' || len(s) > 1 && (s[1] == '/' || s[1] == '\\') || hasPrefixFold(next, prefix) {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	return s
}

// PreviewLink is a signed preview link: what it previews (a segment, an
// experiment's arm, or both), until when, and the link.
type PreviewLink struct {
	Segment    string    `json:"segment,omitempty"`
	Experiment string    `json:"experiment,omitempty"`
	Arm        string    `json:"arm,omitempty"`
	Expires    time.Time `json:"expires"`
	Link       string    `json:"link"`
}

// NewPreviewLink signs a link that previews what v names for ttl (0:
// DefaultPreviewTTL), with the identity keys (the first signs, as for
// visitor tokens), on base (the shop as visitors reach it through the
// proxy; "": DefaultPreviewBase). An unknown segment, experiment or arm
// is an error naming the known ones.
func NewPreviewLink(cfg *rules.Compiled, keys []identity.Key, v identity.Previewed, ttl time.Duration, base string, now time.Time) (PreviewLink, error) {
	ids, err := identity.New(identity.Options{Keys: keys, TTL: cfg.Identity.TTL.D(), Now: func() time.Time { return now }})
	if err != nil {
		return PreviewLink{}, fmt.Errorf("preview: %w", err)
	}
	return previewLink(cfg, ids, v, ttl, base, now)
}

// previewLink is NewPreviewLink with an Issuer: the admin API and the
// console make their links with the proxy's.
func previewLink(cfg *rules.Compiled, ids *identity.Issuer, v identity.Previewed, ttl time.Duration, base string, now time.Time) (PreviewLink, error) {
	if _, err := findForced(cfg, v); err != nil {
		return PreviewLink{}, err
	}
	if ttl == 0 {
		ttl = DefaultPreviewTTL
	}
	if base == "" {
		base = DefaultPreviewBase(cfg)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return PreviewLink{}, fmt.Errorf("preview: base %q: want http(s)://host[:port]", base)
	}
	tok, err := ids.IssuePreview(v, ttl)
	if err != nil {
		return PreviewLink{}, fmt.Errorf("preview: %w", err)
	}
	return PreviewLink{
		Segment: v.Segment, Experiment: v.Experiment, Arm: v.Arm,
		Expires: now.Add(ttl).UTC().Truncate(time.Second),
		Link:    u.Scheme + "://" + u.Host + cfg.Assets.Prefix + previewStart + "?t=" + url.QueryEscape(tok),
	}, nil
}

// DefaultPreviewBase is where a preview link points when not told: the
// first of server.hosts (https when identity.https_only, else http), or
// else the proxy's own listen address (an unspecified host, such as
// 0.0.0.0 or none, as 127.0.0.1).
func DefaultPreviewBase(cfg *rules.Compiled) string {
	if len(cfg.Server.Hosts) > 0 {
		return scheme(cfg.Identity.HTTPSOnly) + "://" + cfg.Server.Hosts[0]
	}
	listen := cfg.Server.Listen
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// previewUsage is what POST /preview takes.
const previewUsage = "POST segment=NAME and/or experiment=NAME&arm=ARM [ttl=1h] [base=URL]\n"

// adminPreview answers POST /preview (segment, experiment and arm, ttl and
// base as form or query fields) with a signed link, as JSON.
func (p *Proxy) adminPreview(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		ctx.Error(previewUsage, fasthttp.StatusMethodNotAllowed)
		return
	}
	arg := func(name string) string {
		if v := ctx.PostArgs().Peek(name); len(v) > 0 {
			return string(v)
		}
		return string(ctx.QueryArgs().Peek(name))
	}
	ttl, err := parsePreviewTTL(arg("ttl"))
	if err != nil {
		ctx.Error(err.Error()+"\n", fasthttp.StatusBadRequest)
		return
	}
	v := identity.Previewed{Segment: arg("segment"), Experiment: arg("experiment"), Arm: arg("arm")}
	if v == (identity.Previewed{}) {
		ctx.Error(previewUsage, fasthttp.StatusBadRequest)
		return
	}
	link, err := previewLink(p.conf.Load().cfg, p.ids, v, ttl, arg("base"), p.now())
	if err != nil {
		ctx.Error(err.Error()+"\n", fasthttp.StatusBadRequest)
		return
	}
	b, _ := json.MarshalIndent(link, "", "  ")
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// parsePreviewTTL reads a preview link's lifetime: "" is the default (0),
// else a duration above 0 and at most identity.MaxPreviewTTL.
func parsePreviewTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > identity.MaxPreviewTTL {
		return 0, fmt.Errorf("ttl %q: want a duration above 0 and at most %v", s, identity.MaxPreviewTTL)
	}
	return d, nil
}
