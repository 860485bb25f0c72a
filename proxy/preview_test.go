package proxy

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"shopedge/configs"
	"shopedge/proxy/experiment"
	"shopedge/proxy/identity"
	"shopedge/proxy/proxytest"
	"shopedge/rules"
)

// previewConfig is the demo's configuration with a named segment,
// campaign (utm_source newsletter), and an overlay for it ahead of the
// others on product pages.
func previewConfig(c *rules.Config) {
	addSegments(c, map[string]rules.Condition{"campaign": {UTMSource: rules.StringList{"newsletter"}}})
	for _, o := range c.Overlays.Rules {
		if o.ID == "exit-offer" {
			o.ID, o.Segments, o.Priority, o.Code = "campaign-offer", []string{"campaign"}, 50, "NEWS15"
			c.Overlays.Rules = append(c.Overlays.Rules, o)
			break
		}
	}
}

// counted is what a preview must leave as it found: the figures the
// admin's /metrics shows of profiles, the catalog, the engine, visitors,
// events, blocks and overlays.
type counted struct {
	profilesHeld, profilesCreated         int64
	catalog, engineItems, engineSessions  int
	engineBytes                           int64
	events, newVisitors, badTokens        int64
	blockShown, blockClicks               int64
	overlayInjected, overlayShown, banner int64
}

func countsOf(e *env) counted {
	p := e.proxy
	p.profiles.Wait()
	ps, es := p.profiles.Stats(), p.rec.Stats()
	m := p.metrics
	c := counted{profilesHeld: ps.Held, profilesCreated: ps.Created, catalog: p.catalog.Len(),
		engineItems: es.Items, engineSessions: es.Sessions, engineBytes: es.Bytes,
		events: m.events.Load(), newVisitors: m.newVisitors.Load(), badTokens: m.badTokens.Load()}
	for _, b := range []string{"recently-viewed", "popular", "also-viewed", "also-bought", "category-popular"} {
		c.blockShown += m.block(b).shown.Load()
		c.blockClicks += m.block(b).clicks.Load()
	}
	for _, o := range []string{"exit-offer", "campaign-offer", "cart-reminder", "free-shipping", "viewers"} {
		oc := m.overlay(o)
		c.overlayInjected += oc.injected.Load()
		c.overlayShown += oc.shown.Load()
		c.banner += oc.bannerShown.Load()
	}
	return c
}

var (
	badgeRe = regexp.MustCompile(`<div class="se-preview"[^>]*>preview: <b>([^<]*)</b><a class="se-preview-close" href="([^"]*)"`)
	ovRe    = regexp.MustCompile(`data-se-overlay="([^"]*)"`)
)

// overlayOf is the overlay a page shows ("" none).
func overlayOf(body string) string {
	if m := ovRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// openPreview opens a preview link in v's browser: a 303 to next with the
// preview cookie.
func openPreview(t *testing.T, v *visitor, link string) *http.Cookie {
	t.Helper()
	pg := v.get(link)
	if pg.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("preview link: %d %s", pg.resp.StatusCode, pg.body)
	}
	c := cookieNamed(pg.resp, "se_vid_preview")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge < 3500 || c.MaxAge > 3600 {
		t.Fatalf("preview cookie = %+v", c)
	}
	return c
}

// TestPreview (issue 11): a link from POST /preview on the admin listener
// opens a preview of prospect: a 303 home with the preview cookie; pages
// then show the prospect's overlay, the badge, a Shopedge-Explain header,
// private and never stored, and no visitor cookie; nothing is recorded or
// counted through page views, a cart add, a click on a recommendation and
// a beacon; a visitor's own profile is read (its recently viewed block
// shows) and not written. The badge's close link ends the preview: the
// cookie is cleared and pages are as anyone's again.
func TestPreview(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, previewConfig)
	admin := startAdmin(t, e, "sesame")

	// A visitor with a history of their own.
	v := e.visitor()
	seen := e.productsIn("shoes/boots", 2)
	for _, p := range seen {
		v.get(e.url + p)
	}
	before := e.visitorProfile(t, v)

	req, _ := http.NewRequest("POST", admin+"/preview", strings.NewReader(url.Values{"segment": {"prospect"}, "base": {e.url}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer sesame")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var link PreviewLink
	if err := json.Unmarshal(body, &link); resp.StatusCode != 200 || err != nil || link.Segment != "prospect" || !strings.HasPrefix(link.Link, e.url+"/_shopedge/preview?t=") {
		t.Fatalf("POST /preview: %d %v %s", resp.StatusCode, err, body)
	}
	if left := time.Until(link.Expires); left < 59*time.Minute || left > time.Hour {
		t.Errorf("link expires in %v, want an hour", left)
	}
	if code, _ := adminCall(t, "POST", admin+"/preview?segment=prospect", ""); code.StatusCode != 401 {
		t.Errorf("POST /preview without the token: %d", code.StatusCode)
	}
	if code, b := adminCall(t, "POST", admin+"/preview?segment=nobody", "sesame"); code.StatusCode != 400 || !strings.Contains(string(b), "known: new, returning, customer, prospect, campaign") {
		t.Errorf("POST /preview of an unknown segment: %d %s", code.StatusCode, b)
	}

	start := countsOf(e)
	openPreview(t, v, link.Link)
	fresh := e.productsIn("kids", 3) // never viewed: a view would teach the engine and the catalog
	var closeURL string
	// The search page has no overlay or banner of its own: the badge has
	// its place all the same (found in review).
	for i, path := range append([]string{"/", "/c/kids"}, append(fresh, "/search?q=grey")...) {
		if i == 3 {
			path += "?se_rec=popular" // a click on a recommendation
		}
		pg := v.get(e.url + path)
		if pg.resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, pg.resp.StatusCode)
		}
		m := badgeRe.FindStringSubmatch(pg.body)
		if m == nil || m[1] != "prospect" {
			t.Errorf("%s: no badge for prospect:\n%s", path, pg.body[max(0, len(pg.body)-600):])
		} else {
			closeURL = html.UnescapeString(m[2])
		}
		explain := pg.resp.Header.Get("Shopedge-Explain")
		if explain == "" || strings.ContainsAny(explain, "\r\n") || len(explain) > 1024 {
			t.Errorf("%s: Shopedge-Explain %q", path, explain)
		}
		if cc := pg.resp.Header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		if c := cookieNamed(pg.resp, "se_vid"); c != nil {
			t.Errorf("%s: a visitor cookie under preview: %v", path, c)
		}
		switch {
		case path == "/":
			if !strings.Contains(pg.body, `data-se-block="recently-viewed"`) || !strings.Contains(explain, "block:recently-viewed=shown") {
				t.Errorf("home: the visitor's recently viewed block is not shown; explain %q", explain)
			}
		case strings.HasPrefix(path, "/p/"):
			if ov := overlayOf(pg.body); ov != "exit-offer" || !strings.HasPrefix(explain, "overlay=exit-offer; ") || !strings.Contains(explain, "overlay:campaign-offer=segment") {
				t.Errorf("%s: overlay %q, explain %q; want exit-offer", path, ov, explain)
			}
		}
	}
	v.addToCart(e.url, e.shop.Catalog.Products[0].SKU, 1)
	if code := v.beacon(e.url, `{"e":"shown","id":"exit-offer"}`, nil); code != 204 {
		t.Errorf("beacon under preview: %d", code)
	}
	got := countsOf(e)
	// The catalog is the shop's: products first read in a preview are
	// learned as from any view (review: else a new price seen first in a
	// preview stayed unlearned). Nothing else moves.
	if got.catalog < start.catalog {
		t.Errorf("the catalog shrank under preview: %d → %d", start.catalog, got.catalog)
	}
	got.catalog = start.catalog
	if got != start {
		t.Errorf("a preview changed the figures:\n got %+v\nwant %+v", got, start)
	}
	if after := e.visitorProfile(t, v); after.PageViews != before.PageViews || after.Visits != before.Visits || after.CartItems() != before.CartItems() || after.OverlayAt != before.OverlayAt {
		t.Errorf("the visitor's profile changed under preview: page views %d → %d, visits %d → %d, cart %d → %d",
			before.PageViews, after.PageViews, before.Visits, after.Visits, before.CartItems(), after.CartItems())
	}

	// The badge's × ends the preview, back on the page it was on.
	if !strings.HasPrefix(closeURL, "/_shopedge/preview/end?next=") {
		t.Fatalf("close link %q", closeURL)
	}
	pg := v.get(e.url + closeURL)
	if c := cookieNamed(pg.resp, "se_vid_preview"); pg.resp.StatusCode != 303 || c == nil || c.MaxAge >= 0 && c.Expires.After(time.Now()) {
		t.Fatalf("close: %d, cookie %+v", pg.resp.StatusCode, c)
	}
	if loc := pg.resp.Header.Get("Location"); loc != "/search?q=grey" {
		t.Errorf("close goes to %q, want the page it was on, /search?q=grey", loc)
	}
	if _, ok := v.v.Cookie("se_vid_preview"); ok {
		t.Errorf("the preview cookie is still in the jar")
	}
	pg = v.get(e.url + fresh[0])
	if badgeRe.MatchString(pg.body) || pg.resp.Header.Get("Shopedge-Explain") != "" {
		t.Errorf("after the preview ended: badge or explain header on the page")
	}
	if after := e.visitorProfile(t, v); after.PageViews != before.PageViews+1 {
		t.Errorf("after the preview, views are recorded again: %d, want %d", after.PageViews, before.PageViews+1)
	}
}

// TestPreviewSegments: the overlay a product page shows a first-time
// visitor under a preview of each segment, and the explanation says why.
func TestPreviewSegments(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, previewConfig)
	cfg := e.proxy.conf.Load().cfg
	product := e.productsIn("shoes/boots", 1)[0]
	for _, tt := range []struct {
		segment, overlay, explains string
	}{
		{"", "exit-offer", ""},
		{"prospect", "exit-offer", "overlay:campaign-offer=segment"},
		{"customer", "", "overlay:exit-offer=segment"},
		{"campaign", "campaign-offer", "overlay:exit-offer=lower-priority"},
		{"returning", "exit-offer", "overlay:campaign-offer=segment"},
	} {
		t.Run("preview "+tt.segment, func(t *testing.T) {
			v := e.visitor()
			if tt.segment != "" {
				link, err := NewPreviewLink(cfg, proxytest.Keys(), identity.Previewed{Segment: tt.segment}, time.Hour, e.url, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				openPreview(t, v, link.Link)
			}
			pg := v.get(e.url + product)
			if got := overlayOf(pg.body); got != tt.overlay {
				t.Errorf("overlay %q, want %q", got, tt.overlay)
			}
			explain := pg.resp.Header.Get("Shopedge-Explain")
			if tt.segment == "" {
				if explain != "" {
					t.Errorf("Shopedge-Explain %q outside a preview", explain)
				}
				return
			}
			if !strings.Contains(explain, tt.explains) {
				t.Errorf("Shopedge-Explain %q, want it to say %q", explain, tt.explains)
			}
		})
	}
}

// TestPreviewIgnored: a preview cookie that does not verify (expired,
// forged, another key, a visitor token, too long, a segment the
// configuration lacks) is ignored: the page is anyone's, with a visitor
// cookie and no badge nor explanation; a link of such a token is refused
// and sets nothing.
func TestPreviewIgnored(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, previewConfig)
	cfg := e.proxy.conf.Load().cfg
	product := e.productsIn("shoes/boots", 1)[0]
	expired, err := NewPreviewLink(cfg, proxytest.Keys(), identity.Previewed{Segment: "customer"}, time.Hour, e.url, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := NewPreviewLink(cfg, []identity.Key{{ID: proxytest.Keys()[0].ID, Secret: []byte("another secret of 32 bytes or more")}}, identity.Previewed{Segment: "customer"}, time.Hour, e.url, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	unknownKid, err := NewPreviewLink(cfg, []identity.Key{{ID: "zz", Secret: proxytest.Keys()[0].Secret}}, identity.Previewed{Segment: "customer"}, time.Hour, e.url, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	good, err := NewPreviewLink(cfg, proxytest.Keys(), identity.Previewed{Segment: "customer"}, time.Hour, e.url, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := identity.New(identity.Options{Keys: proxytest.Keys(), TTL: time.Hour})
	gone, _ := ids.IssuePreview(identity.Previewed{Segment: "gone-segment"}, time.Hour)
	visitorTok, _ := ids.Issue(identity.NewVisitorID())
	tokenOf := func(l PreviewLink) string {
		u, _ := url.Parse(l.Link)
		return u.Query().Get("t")
	}
	for _, tt := range []struct{ name, token string }{
		{"expired", tokenOf(expired)},
		{"forged", tokenOf(foreign)},
		{"unknown kid", tokenOf(unknownKid)},
		{"tampered", tokenOf(good)[:len(tokenOf(good))-3] + "AAA"},
		{"a visitor token", visitorTok},
		{"oversize", tokenOf(good) + strings.Repeat("A", identity.MaxTokenLen)},
		{"unknown segment", gone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := e.visitor()
			v.header.Set("Cookie", "se_vid_preview="+tt.token)
			pg := v.get(e.url + product)
			if badgeRe.MatchString(pg.body) || pg.resp.Header.Get("Shopedge-Explain") != "" || overlayOf(pg.body) != "exit-offer" {
				t.Errorf("served as a preview: overlay %q, explain %q", overlayOf(pg.body), pg.resp.Header.Get("Shopedge-Explain"))
			}
			if cookieNamed(pg.resp, "se_vid") == nil {
				t.Errorf("no visitor cookie: not served as anyone")
			}
			v = e.visitor()
			pg = v.get(e.url + "/_shopedge/preview?t=" + url.QueryEscape(tt.token))
			if pg.resp.StatusCode != 403 || cookieNamed(pg.resp, "se_vid_preview") != nil {
				t.Errorf("link: %d, cookie %v", pg.resp.StatusCode, cookieNamed(pg.resp, "se_vid_preview"))
			}
		})
	}
}

// TestPreviewNext: the preview paths redirect only to a path of the shop.
func TestPreviewNext(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ next, want string }{
		{"", "/"},
		{"/c/shoes?page=2", "/c/shoes?page=2"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{`/\evil.example/`, "/"},
		{"/a\\b", "/"},
		{"/a b", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
		{"/_shopedge/preview?t=x", "/"},
		{"/_SHOPEDGE/preview/end", "/"},
		{"javascript:alert(1)", "/"},
		{"/" + strings.Repeat("a", maxNext), "/"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			if got := localNext([]byte(tt.next), "/_shopedge/"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPreviewLink: the link's base, given or from the configuration, and
// what is refused.
func TestPreviewLink(t *testing.T) {
	t.Parallel()
	base := func(listen string, hosts []string, https bool) *rules.Compiled {
		c := &rules.Compiled{Config: &rules.Config{}}
		c.Server.Listen, c.Server.Hosts, c.Identity.HTTPSOnly = listen, hosts, https
		return c
	}
	for _, tt := range []struct {
		name string
		cfg  *rules.Compiled
		want string
	}{
		{"listen", base("127.0.0.1:8080", nil, false), "http://127.0.0.1:8080"},
		{"any address", base("0.0.0.0:9000", nil, false), "http://127.0.0.1:9000"},
		{"no host", base(":8080", nil, false), "http://127.0.0.1:8080"},
		{"ipv6 any", base("[::]:8080", nil, false), "http://127.0.0.1:8080"},
		{"default", base("", nil, false), "http://127.0.0.1:8080"},
		{"hosts", base(":8080", []string{"shop.example", "www.shop.example"}, false), "http://shop.example"},
		{"hosts over https", base(":8080", []string{"shop.example"}, true), "https://shop.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultPreviewBase(tt.cfg); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	e := newShopEnv(t, nil)
	cfg := e.proxy.conf.Load().cfg
	for _, bad := range []string{"ftp://x", "http://", "http://x/shop", "http://u@x", "http://x?q=1", "not a url"} {
		if _, err := NewPreviewLink(cfg, proxytest.Keys(), identity.Previewed{Segment: "new"}, time.Hour, bad, time.Now()); err == nil {
			t.Errorf("base %q: no error", bad)
		}
	}
	if _, err := NewPreviewLink(cfg, proxytest.Keys(), identity.Previewed{Segment: "new"}, 30*24*time.Hour, "", time.Now()); err == nil {
		t.Errorf("a 30-day link: no error")
	}
	l, err := NewPreviewLink(cfg, proxytest.Keys(), identity.Previewed{Segment: "new"}, 0, "http://shop.example:8080/", time.Now())
	if err != nil || !strings.HasPrefix(l.Link, "http://shop.example:8080/_shopedge/preview?t=") || time.Until(l.Expires) < 59*time.Minute {
		t.Errorf("link %+v, %v", l, err)
	}
}

// TestPreviewCSP: the badge obeys the page's policy as overlays do (with
// the page's nonce, or not at all); without it the preview applies all
// the same.
func TestPreviewCSP(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, policy string
		badge        bool
		nonce        string
	}{
		{"no policy", "", true, ""},
		{"style nonce", "script-src 'nonce-abc123'; style-src 'nonce-abc123'", true, "abc123"},
		{"no style", "style-src 'none'", false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startProxy(t, demoConfig(t, cspShop(t, tt.policy, ""), nil))
			link, err := NewPreviewLink(e.proxy.conf.Load().cfg, proxytest.Keys(), identity.Previewed{Segment: "customer"}, time.Hour, e.url, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			v := e.visitor()
			openPreview(t, v, link.Link)
			pg := v.get(e.url + "/p/boots")
			if got := badgeRe.MatchString(pg.body); got != tt.badge {
				t.Errorf("badge: %v, want %v", got, tt.badge)
			}
			if pg.resp.Header.Get("Shopedge-Explain") == "" || cookieNamed(pg.resp, "se_vid") != nil {
				t.Errorf("not served as a preview: explain %q", pg.resp.Header.Get("Shopedge-Explain"))
			}
			if tt.nonce != "" {
				i := strings.Index(pg.body, `<div class="se-preview"`)
				j := strings.LastIndex(pg.body[:max(i, 0)], `<link rel="stylesheet"`)
				if i < 0 || j < 0 || !strings.Contains(pg.body[j:i], `nonce="`+tt.nonce+`"`) {
					t.Errorf("the badge's stylesheet lacks the page's nonce")
				}
			}
		})
	}
}

// armsConfig is the demo's configuration with its experiments (the
// harness leaves them out: an A/B of the popular block's strategy and
// title, a 10% holdout on the exit offer) and a global control of 10%.
func armsConfig(t *testing.T) func(c *rules.Config) {
	demo, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *rules.Config) {
		c.Experiments.GlobalControl = 10
		for i := range c.Overlays.Rules {
			c.Overlays.Rules[i].Experiment = demo.Overlays.Rules[i].Experiment
		}
		for i := range c.Recommendations.Blocks {
			c.Recommendations.Blocks[i].Experiment = demo.Recommendations.Blocks[i].Experiment
		}
	}
}

// adminPreviewCall posts form to the admin's /preview.
func adminPreviewCall(t *testing.T, admin string, form url.Values) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", admin+"/preview", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer sesame")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// armCounts are the visitors, converters and clickers of every arm of
// every experiment, from GET /experiments.
func armCounts(t *testing.T, admin string) string {
	t.Helper()
	_, body := adminCall(t, "GET", admin+"/experiments", "sesame")
	var report struct {
		Experiments []experiment.Report `json:"experiments"`
	}
	if err := json.Unmarshal(body, &report); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var b strings.Builder
	for _, r := range report.Experiments {
		for _, a := range r.Arms {
			fmt.Fprintf(&b, "%s/%s: %d visitors, %d converters, %d clickers; ", r.Name, a.Name, a.Visitors, a.Converters, a.Clickers)
		}
	}
	return b.String()
}

// TestPreviewArm: a link from POST /preview with experiment and arm shows
// that arm to whoever opens it, whatever their id hashes to: the popular
// block's variant (its title, "Trending now") or the block as written
// (default); the exit offer's control arm has none of the offer on a
// product page (no overlay, no code, no title), its treatment the offer.
// The badge names the arm, the explanation says held out. Nothing is
// counted: no exposure in any arm, no figure moved. Names the
// configuration lacks are 400s naming the choices (the global control is
// not among them).
func TestPreviewArm(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, armsConfig(t))
	admin := startAdmin(t, e, "sesame")
	// Shoppers before, so that popular has products to show.
	product := e.productsIn("shoes/boots", 1)[0]
	for _, p := range e.productsIn("women", 6) {
		e.visitor().get(e.url + p)
	}
	start, startReport := countsOf(e), armCounts(t, admin)

	const trending, popular = "Trending now", "Popular right now"
	for _, tt := range []struct {
		name, segment, experiment, arm string
		path                           string
		badge                          string
		want, wantNot                  []string
		explains                       string
	}{
		{"variant", "", "popular-vs-trending", "trending", "/", "popular-vs-trending: trending",
			[]string{`data-se-block="popular"`, trending}, []string{popular}, "block:popular=shown"},
		{"default", "", "popular-vs-trending", "default", "/", "popular-vs-trending: default",
			[]string{`data-se-block="popular"`, popular}, []string{trending}, "block:popular=shown"},
		{"holdout's control", "", "exit-offer-holdout", "control", product, "exit-offer-holdout: control",
			nil, []string{`data-se-overlay="exit-offer"`, "WELCOME10", "Before you go"}, "overlay:exit-offer=held-out"},
		{"holdout's treatment", "", "exit-offer-holdout", "treatment", product, "exit-offer-holdout: treatment",
			[]string{`data-se-overlay="exit-offer"`, "WELCOME10"}, nil, "overlay=exit-offer"},
		{"a segment and an arm", "customer", "popular-vs-trending", "trending", "/", "customer, popular-vs-trending: trending",
			[]string{trending}, []string{popular}, "block:popular=shown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"experiment": {tt.experiment}, "arm": {tt.arm}, "base": {e.url}}
			if tt.segment != "" {
				form.Set("segment", tt.segment)
			}
			code, body := adminPreviewCall(t, admin, form)
			var link PreviewLink
			if err := json.Unmarshal(body, &link); code != 200 || err != nil || link.Experiment != tt.experiment || link.Arm != tt.arm || link.Segment != tt.segment {
				t.Fatalf("POST /preview: %d %v %s", code, err, body)
			}
			// Visitors whose ids hash to either arm: the link decides.
			for i := range 4 {
				v := e.visitor()
				openPreview(t, v, link.Link)
				pg := v.get(e.url + tt.path)
				if m := badgeRe.FindStringSubmatch(pg.body); m == nil || m[1] != tt.badge {
					t.Errorf("visitor %d: badge %v, want %q", i, m, tt.badge)
				}
				for _, w := range tt.want {
					if !strings.Contains(pg.body, w) {
						t.Errorf("visitor %d: %s lacks %q", i, tt.path, w)
					}
				}
				for _, w := range tt.wantNot {
					if strings.Contains(pg.body, w) {
						t.Errorf("visitor %d: %s has %q", i, tt.path, w)
					}
				}
				if explain := pg.resp.Header.Get("Shopedge-Explain"); !strings.Contains(explain, tt.explains) {
					t.Errorf("visitor %d: Shopedge-Explain %q, want it to say %q", i, explain, tt.explains)
				}
			}
		})
	}
	got := countsOf(e)
	got.catalog = start.catalog // the catalog is the shop's: previews learn it
	if got != start {
		t.Errorf("previews of arms changed the figures:\n got %+v\nwant %+v", got, start)
	}
	if got := armCounts(t, admin); got != startReport {
		t.Errorf("previews of arms changed the experiments' counts:\n got %s\nwant %s", got, startReport)
	}

	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown experiment", url.Values{"experiment": {"nope"}, "arm": {"control"}}, `unknown experiment "nope"; known: popular-vs-trending, exit-offer-holdout`},
		{"the global control", url.Values{"experiment": {rules.GlobalExperiment}, "arm": {"control"}}, `unknown experiment "global"; known: popular-vs-trending, exit-offer-holdout`},
		{"unknown arm", url.Values{"experiment": {"popular-vs-trending"}, "arm": {"control"}}, `experiment "popular-vs-trending" has no arm "control"; arms: default, trending`},
		{"no arm", url.Values{"experiment": {"exit-offer-holdout"}}, `experiment "exit-offer-holdout" needs an arm; arms: control, treatment`},
		{"an arm alone", url.Values{"arm": {"control"}}, `arm "control" needs its experiment; known: popular-vs-trending, exit-offer-holdout`},
		{"an unknown segment with an arm", url.Values{"segment": {"vip"}, "experiment": {"exit-offer-holdout"}, "arm": {"control"}}, `unknown segment "vip"; known: new, returning`},
		{"nothing", url.Values{"ttl": {"1h"}}, "POST segment=NAME and/or experiment=NAME&arm=ARM"},
		{"a bad ttl", url.Values{"experiment": {"exit-offer-holdout"}, "arm": {"control"}, "ttl": {"9999h"}}, `ttl "9999h": want a duration above 0 and at most 168h0m0s`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := adminPreviewCall(t, admin, tt.form); code != 400 || !strings.Contains(string(body), tt.want) {
				t.Errorf("POST /preview %s: %d %q; want 400 saying %q", tt.form.Encode(), code, body, tt.want)
			}
		})
	}
}

// TestPreviewArmIgnored: a preview cookie of an experiment or an arm the
// configuration does not have (a reload removed it) is ignored, as one of
// a segment it lacks is.
func TestPreviewArmIgnored(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, armsConfig(t))
	ids, _ := identity.New(identity.Options{Keys: proxytest.Keys(), TTL: time.Hour})
	for _, v := range []identity.Previewed{
		{Experiment: "gone", Arm: "control"},
		{Experiment: "exit-offer-holdout", Arm: "gone"},
		{Experiment: rules.GlobalExperiment, Arm: "control"},
	} {
		tok, err := ids.IssuePreview(v, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pv := e.visitor()
		pv.header.Set("Cookie", "se_vid_preview="+tok)
		pg := pv.get(e.url + "/")
		if badgeRe.MatchString(pg.body) || pg.resp.Header.Get("Shopedge-Explain") != "" || cookieNamed(pg.resp, "se_vid") == nil {
			t.Errorf("%+v: served as a preview (explain %q)", v, pg.resp.Header.Get("Shopedge-Explain"))
		}
	}
}

// TestConsolePreview: the console's Preview page, signed in through its
// form, offers the running configuration's segments and arms (not the
// global control), and its POST makes a link through the same code as
// POST /preview: opened, it previews the arm.
func TestConsolePreview(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, armsConfig(t))
	admin := startAdmin(t, e, "sesame")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := client.PostForm(admin+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/login", url.Values{"token": {"sesame"}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	resp, err := client.Get(admin + "/console/preview")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, w := range []string{`<option>customer</option>`, `value="popular-vs-trending:trending"`, `value="exit-offer-holdout:control"`, `placeholder="http://127.0.0.1:`} {
		if !strings.Contains(page, w) {
			t.Errorf("the Preview page lacks %q", w)
		}
	}
	if strings.Contains(page, `value="global:`) {
		t.Errorf("the Preview page offers the global control")
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token on the Preview page")
	}
	code, page := post("/console/preview", url.Values{"csrf": {csrf[1]}, "experiment_arm": {"popular-vs-trending:trending"}, "ttl": {"8h"}, "base": {e.url}})
	m := regexp.MustCompile(`id="preview-link" value="([^"]+)" readonly`).FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("POST /console/preview: %d\n%s", code, page)
	}
	link := html.UnescapeString(m[1])
	v := e.visitor()
	pg := v.get(link)
	if c := cookieNamed(pg.resp, "se_vid_preview"); pg.resp.StatusCode != http.StatusSeeOther || c == nil || c.MaxAge < 8*3600-60 || c.MaxAge > 8*3600 {
		t.Fatalf("the console's link: %d, cookie %+v; want a preview of 8h", pg.resp.StatusCode, c)
	}
	pg = v.get(e.url + "/")
	if m := badgeRe.FindStringSubmatch(pg.body); m == nil || m[1] != "popular-vs-trending: trending" {
		t.Errorf("home under the console's preview: badge %v", m)
	}
}
