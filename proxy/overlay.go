package proxy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/html"

	"shopedge/proxy/catalog"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// ownAssets are what the proxy serves itself, under the reserved prefix,
// for one configuration: the stylesheet (coloured by the theme) and the
// script, each at an address that changes with its content.
type ownAssets struct {
	prefix     string
	css        []byte
	cssURL     string // with ?v=, for the page
	jsURL      string
	beaconPath string
	cssVersion string
	jsVersion  string
	// overlays in the order they are tried: by priority, highest first,
	// then as in the file; with their profile keys and strategy chains.
	overlays []*rules.Overlay
	keys     map[string]uint32
	chains   map[string][]recommend.Strategy
	banners  map[string]*rules.Banner

	// Rendered markup that does not depend on the visitor, kept for this
	// configuration: the tags without a nonce, overlays without products
	// (by id and deadline text), banners by id and text (up to
	// maxRendered of them: counts and amounts vary).
	cssTag, jsTag []byte
	rendered      sync.Map // string -> []byte
	nRendered     atomic.Int64
}

// maxRendered bounds the banners and overlays kept rendered.
const maxRendered = 4096

// cached returns the markup kept under key, or renders it with render and
// keeps it (while there is room). ok is false when render has nothing.
func (a *ownAssets) cached(dst []byte, key string, render func([]byte) ([]byte, bool)) ([]byte, bool) {
	if b, ok := a.rendered.Load(key); ok {
		return append(dst, b.([]byte)...), true
	}
	start := len(dst)
	out, ok := render(dst)
	if ok && a.nRendered.Load() < maxRendered {
		if _, loaded := a.rendered.LoadOrStore(key, append([]byte(nil), out[start:]...)); !loaded {
			a.nRendered.Add(1)
		}
	}
	return out, ok
}

func newOwnAssets(cfg *rules.Config) *ownAssets {
	o := &cfg.Overlays
	th := o.Theme
	css, err := markup.Stylesheet(markup.Theme{Accent: th.Accent, AccentText: th.AccentText, Background: th.Background, Text: th.Text})
	if err != nil {
		// The theme was validated as hex colours: this cannot fail.
		panic(err)
	}
	a := &ownAssets{
		prefix:     o.Prefix,
		css:        css,
		cssVersion: markup.Version(css),
		jsVersion:  markup.Version(markup.Script()),
		beaconPath: o.Prefix + "beacon",
		keys:       map[string]uint32{},
		chains:     map[string][]recommend.Strategy{},
		banners:    map[string]*rules.Banner{},
	}
	a.cssURL = o.Prefix + "shopedge.css?v=" + a.cssVersion
	a.jsURL = o.Prefix + "shopedge.js?v=" + a.jsVersion
	tags := markup.Assets{CSS: a.cssURL, JS: a.jsURL, Beacon: a.beaconPath}
	a.cssTag = markup.AppendStylesheet(nil, tags)
	a.jsTag = markup.AppendScript(nil, tags)
	for i := range o.Rules {
		r := &o.Rules[i]
		a.overlays = append(a.overlays, r)
		a.keys[r.ID] = profile.OverlayKey(r.ID)
		chain := []recommend.Strategy{recommend.Strategy(r.Strategy)}
		for _, f := range r.Fallback {
			chain = append(chain, recommend.Strategy(f))
		}
		a.chains[r.ID] = chain
	}
	slices.SortStableFunc(a.overlays, func(x, y *rules.Overlay) int { return cmp.Compare(y.Priority, x.Priority) })
	for i := range o.Banners {
		a.banners[o.Banners[i].ID] = &o.Banners[i]
	}
	return a
}

// overlayOn reports whether some overlay rule may show on a page type.
func (a *ownAssets) overlayOn(page rules.PageType) bool {
	for _, r := range a.overlays {
		if slices.Contains(r.Pages, page) {
			return true
		}
	}
	return false
}

// serveOwn answers a request under the reserved prefix: the stylesheet,
// the script, or a beacon. Nothing under the prefix reaches the shop.
func (p *Proxy) serveOwn(ctx *fasthttp.RequestCtx, st *state) {
	a := st.own
	name := ""
	if path := ctx.Path(); bytes.HasPrefix(path, []byte(a.prefix)) {
		name = string(path[len(a.prefix):])
	}
	switch name {
	case "shopedge.css", "shopedge.js":
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return
		}
		body, ctype, version := a.css, "text/css; charset=utf-8", a.cssVersion
		if name == "shopedge.js" {
			body, ctype, version = markup.Script(), "text/javascript; charset=utf-8", a.jsVersion
		}
		ctx.SetContentType(ctype)
		ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
		if string(ctx.QueryArgs().Peek("v")) == version {
			ctx.Response.Header.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			ctx.Response.Header.Set("Cache-Control", "public, max-age=300")
		}
		if ctx.IsHead() {
			ctx.Response.Header.SetContentLength(len(body))
			ctx.Response.SkipBody = true
			return
		}
		ctx.SetBody(body)
	case "beacon":
		p.beacon(ctx, st)
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("not found\n")
	}
}

// chooseOverlay returns the overlay to put on this page view, or nil:
// the first rule by priority whose page, visitors, schedule, caps and
// conditions all allow it, and for which render (nil: any) has something
// to show. At most one per page view, and none within min_gap of the last
// one shown.
func (p *Proxy) chooseOverlay(ctx *fasthttp.RequestCtx, st *state, v *visit, d *profile.Data, now time.Time, render func(*rules.Overlay) bool) *rules.Overlay {
	a := st.own
	if len(a.overlays) == 0 || !v.tracked || v.id == "" {
		return nil
	}
	if d.OverlayAt != 0 && now.Sub(time.Unix(int64(d.OverlayAt), 0)) < st.cfg.Overlays.MinGap.D() {
		return nil
	}
	for _, r := range a.overlays {
		if !slices.Contains(r.Pages, v.page) || !r.Active(now) || !inSegments(r.Segments, d) || !onDevices(r.Devices, d) {
			continue
		}
		if len(ctx.Request.Header.Cookie("se_dis_"+r.ID)) > 0 {
			continue // dismissed in this browser
		}
		seen := d.Overlay(a.keys[r.ID], now)
		if !seen.DismissedUntil.IsZero() || seen.ShownThisVisit >= r.Cap.PerVisit || seen.ShownToday >= r.Cap.PerDay {
			continue
		}
		if d.JustBought() && r.Kind != rules.OverlayUpsell {
			continue // no offers to someone who just bought
		}
		ok := true
		switch r.Kind {
		case rules.OverlayAbandonedCart:
			ok = d.CartFromEarlierVisit()
		case rules.OverlayHesitant:
			ok = int(d.CartsLeft) >= r.MinCartsLeft
		case rules.OverlayUpsell:
			ok = d.CartAt != 0 && d.CartAt >= d.VisitStart && now.Sub(time.Unix(int64(d.CartAt), 0)) <= r.Within.D()
		}
		if ok && (render == nil || render(r)) {
			return r
		}
	}
	return nil
}

func inSegments(segs []string, d *profile.Data) bool {
	if len(segs) == 0 {
		return true
	}
	for _, s := range segs {
		switch {
		case s == "new" && !d.Returning(),
			s == "returning" && d.Returning(),
			s == "customer" && (d.Customer || d.Orders > 0),
			s == "prospect" && !d.Customer && d.Orders == 0:
			return true
		}
	}
	return false
}

func onDevices(devs []string, d *profile.Data) bool {
	if len(devs) == 0 {
		return true
	}
	return slices.Contains(devs, d.Device.Class.String())
}

// renderOverlay appends the overlay's dialog. ok is false when it has
// nothing to show (an abandoned cart whose products the catalog no longer
// knows, an upsell with no products). origin, when not "", goes in front
// of the dialog's root-relative URLs (its link, its products' links and
// images), for a page whose <base href> points elsewhere; such a dialog
// is not kept.
func (p *Proxy) renderOverlay(dst []byte, st *state, r *rules.Overlay, d *profile.Data, rctx func() *recommend.Context, now time.Time, origin string) (_ []byte, ok bool) {
	data := markup.OverlayData{
		ID: r.ID, Kind: r.Kind, Trigger: "load",
		DismissFor: int64(r.Cap.DismissFor.D() / time.Second),
		Title:      r.Title, Text: r.Text, Code: r.Code, Button: r.Button, Link: onOrigin(origin, r.Link),
	}
	switch r.Kind {
	case rules.OverlayExitIntent:
		data.Trigger, data.Ms = "exit", r.Dwell.D().Milliseconds()
	case rules.OverlayTimed:
		data.Trigger, data.Ms = "timer", r.Delay.D().Milliseconds()
	case rules.OverlayScrollDepth:
		data.Trigger, data.Depth = "scroll", r.Depth
	case rules.OverlayAbandonedCart:
		for _, line := range d.Cart() {
			if len(data.Items) == r.Count {
				break
			}
			if it, ok := p.overlayItem(line.Product, int(line.Qty), origin); ok {
				data.Items = append(data.Items, it)
			}
		}
		if len(data.Items) == 0 {
			return dst, false
		}
	case rules.OverlayUpsell:
		// What goes with the cart; popular products fall back to the
		// category of the product added last.
		c := *rctx()
		if lines := d.Cart(); len(lines) > 0 {
			if prod, ok := p.catalog.Get(lines[len(lines)-1].Product); ok && len(prod.Categories) > 0 {
				c.Category = prod.Categories[len(prod.Categories)-1].ID
			}
		}
		ids := p.rec.Recommend(c, recommend.Request{Strategies: st.own.chains[r.ID], N: r.Count}, &recCatalog{c: p.catalog})
		for _, id := range ids {
			if it, ok := p.overlayItem(id, 0, origin); ok {
				data.Items = append(data.Items, it)
			}
		}
		if len(data.Items) == 0 {
			return dst, false
		}
	}
	if end := r.EndsAt(); !end.IsZero() {
		data.Ends = "Ends in " + humanDuration(end.Sub(now))
	}
	render := func(dst []byte) ([]byte, bool) {
		out, err := markup.RenderOverlay(dst, r.Tmpl(), data)
		if err != nil {
			p.log.Error("overlay not rendered", "overlay", r.ID, "err", err)
			return dst, false
		}
		return out, true
	}
	if data.Items != nil || origin != "" {
		return render(dst) // the visitor's products, or this Host's links
	}
	return st.own.cached(dst, "o\x00"+r.ID+"\x00"+data.Ends, render)
}

// overlayItem is a product as an overlay lists it, from the catalog, its
// root-relative URLs on origin when it is not "".
func (p *Proxy) overlayItem(id catalog.ID, qty int, origin string) (markup.OverlayItem, bool) {
	prod, ok := p.catalog.Get(id)
	if !ok || prod.Name == "" || prod.URL == "" {
		return markup.OverlayItem{}, false
	}
	return markup.OverlayItem{Name: prod.Name, URL: onOrigin(origin, prod.URL), Image: onOrigin(origin, prod.Image), Price: formatPrice(prod.Price, prod.Currency), Qty: qty}, true
}

// humanDuration says how long is left, rounded down: "2 days", "3 hours",
// "12 minutes", "less than a minute".
func humanDuration(d time.Duration) string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + one + "s"
	}
	switch {
	case d >= 48*time.Hour:
		return unit(int(d/(24*time.Hour)), "day")
	case d >= time.Hour:
		return unit(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return unit(int(d/time.Minute), "minute")
	}
	return "less than a minute"
}

// renderBanner appends a banner. ok is false when it has nothing true to
// say: a count under its minimum, a cart whose value is unknown.
func (p *Proxy) renderBanner(dst []byte, a *ownAssets, b *rules.Banner, ev *pageEvent, d *profile.Data, now time.Time) (_ []byte, ok bool) {
	data := markup.BannerData{ID: b.ID, Kind: b.Kind}
	switch b.Kind {
	case rules.BannerSocialProof:
		if ev.product == 0 {
			return dst, false
		}
		var n int
		switch b.Count {
		case "viewers_hour":
			n = p.views.Get(ev.product, now).Hour
		case "viewers_day":
			n = p.views.Get(ev.product, now).Day
		case "carts_day":
			n = p.carts.Get(ev.product, now).Day
		}
		if n < b.Min {
			return dst, false
		}
		data.Text = strings.ReplaceAll(b.Text, "{count}", strconv.Itoa(n))
	case rules.BannerFreeShipping:
		var lines [profile.MaxCart]catalog.ID
		if len(d.CartProducts(lines[:0])) == 0 {
			// Nothing chosen yet: the banner's empty text, if it has one.
			if b.Empty == "" {
				return dst, false
			}
			data.Text = strings.ReplaceAll(b.Empty, "{amount}", formatPrice(b.Threshold, b.Currency))
			break
		}
		total, currency, known := p.cartValue(d)
		if !known {
			return dst, false
		}
		if currency == "" {
			currency = b.Currency // products whose pages name no currency
		}
		if currency == "" || b.Currency != "" && currency != b.Currency {
			return dst, false
		}
		if missing := b.Threshold - total; missing > 0.005 {
			data.Text = strings.ReplaceAll(b.Text, "{amount}", formatPrice(missing, currency))
		} else {
			data.Text, data.Reached = b.Reached, true
		}
	default:
		return dst, false
	}
	return a.cached(dst, "b\x00"+b.ID+"\x00"+data.Text, func(dst []byte) ([]byte, bool) {
		out, err := markup.RenderBanner(dst, data)
		if err != nil {
			p.log.Error("banner not rendered", "banner", b.ID, "err", err)
			return dst, false
		}
		return out, true
	})
}

// cartValue adds up the cart from the catalog's prices. known is false
// when a product's price is unknown or the cart mixes currencies: then no
// amount would be true.
func (p *Proxy) cartValue(d *profile.Data) (total float64, currency string, known bool) {
	for _, line := range d.Cart() {
		prod, ok := p.catalog.Get(line.Product)
		if !ok || prod.Price <= 0 {
			return 0, "", false
		}
		if currency != "" && prod.Currency != currency {
			return 0, "", false
		}
		currency = prod.Currency
		total += prod.Price * float64(line.Qty)
	}
	return total, currency, true
}

// pageCSP returns the verdict of the response's and the page's policies.
func pageCSP(ctx *fasthttp.RequestCtx, resp *fasthttp.Response, info *pageInfo, https bool) cspVerdict {
	if len(info.csp) == 0 && resp.Header.Peek("Content-Security-Policy") == nil {
		return cspVerdict{style: true, script: true, connect: true} // most pages: no policy
	}
	var policies []string
	for _, v := range resp.Header.PeekAll("Content-Security-Policy") {
		policies = append(policies, string(v))
	}
	policies = append(policies, info.csp...)
	return checkCSP(policies, string(ctx.Request.Header.Host()), https)
}

// metaCSP selects <meta http-equiv="Content-Security-Policy">.
type metaCSP struct{}

func (metaCSP) Match(n *html.Node) bool {
	if n.Data != "meta" {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "http-equiv" && strings.EqualFold(strings.TrimSpace(a.Val), "content-security-policy") {
			return true
		}
	}
	return false
}

// beaconEvents are what a beacon may say.
var beaconEvents = []string{"shown", "dismissed", "clicked", "banner"}

// maxBeacon bounds a beacon's body.
const maxBeacon = 512

// beacon takes an event the overlay script sends with navigator.sendBeacon:
// a small JSON object {"e": event, "id": overlay or banner id} from a page
// of this shop, by a visitor with a valid cookie. Anything else is refused
// with a 4xx and touches no profile.
func (p *Proxy) beacon(ctx *fasthttp.RequestCtx, st *state) {
	reject := func(status int, reason string) {
		p.metrics.beaconRejected(reason)
		ctx.SetStatusCode(status)
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		reject(fasthttp.StatusMethodNotAllowed, "method")
		return
	}
	if len(ctx.Request.Body()) > maxBeacon {
		reject(fasthttp.StatusRequestEntityTooLarge, "too_large")
		return
	}
	if !sameOrigin(ctx) {
		reject(fasthttp.StatusForbidden, "origin")
		return
	}
	ev, err := decodeBeacon(ctx.Request.Body())
	if err != nil {
		reject(fasthttp.StatusBadRequest, "malformed")
		return
	}
	a := st.own
	var overlay *rules.Overlay
	if ev.Event == "banner" {
		if a.banners[ev.ID] == nil {
			reject(fasthttp.StatusBadRequest, "unknown_id")
			return
		}
	} else {
		for _, r := range a.overlays {
			if r.ID == ev.ID {
				overlay = r
			}
		}
		if overlay == nil {
			reject(fasthttp.StatusBadRequest, "unknown_id")
			return
		}
	}
	raw := ctx.Request.Header.Cookie(cookieName(st.cfg))
	who, ok := p.ids.VerifyBytes(raw)
	if len(raw) == 0 || !ok {
		reject(fasthttp.StatusForbidden, "visitor")
		return
	}
	now := p.now()
	if overlay != nil {
		prof, _ := p.profiles.Load(who.ID)
		key := a.keys[overlay.ID]
		prof.Update(func(d *profile.Data) {
			switch ev.Event {
			case "shown":
				d.OverlayShown(key, now)
			case "dismissed", "clicked":
				d.OverlayDismissed(key, now.Add(overlay.Cap.DismissFor.D()))
			}
		})
	}
	p.metrics.overlayEvent(ev.ID, ev.Event)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// sameOrigin reports whether a beacon comes from a page of this host: its
// Origin names the Host (browsers send Origin with every POST), and
// Sec-Fetch-Site, where sent, says same-origin.
func sameOrigin(ctx *fasthttp.RequestCtx) bool {
	origin := ctx.Request.Header.Peek("Origin")
	_, host, ok := bytes.Cut(origin, []byte("://"))
	if !ok || !bytes.EqualFold(host, ctx.Request.Header.Host()) {
		return false
	}
	site := ctx.Request.Header.Peek("Sec-Fetch-Site")
	return len(site) == 0 || string(site) == "same-origin"
}

// beaconEvent is a decoded beacon.
type beaconEvent struct {
	Event string
	ID    string
}

// decodeBeacon reads a beacon's body: exactly {"e": "...", "id": "..."},
// with a known event and an id of the configuration's form.
func decodeBeacon(body []byte) (beaconEvent, error) {
	var m struct {
		E  *string `json:"e"`
		ID *string `json:"id"`
	}
	if err := strictJSON(body, &m); err != nil {
		return beaconEvent{}, err
	}
	if m.E == nil || m.ID == nil {
		return beaconEvent{}, fmt.Errorf("beacon: want e and id")
	}
	if !slices.Contains(beaconEvents, *m.E) {
		return beaconEvent{}, fmt.Errorf("beacon: unknown event %q", *m.E)
	}
	if !validID(*m.ID) {
		return beaconEvent{}, fmt.Errorf("beacon: bad id")
	}
	return beaconEvent{Event: *m.E, ID: *m.ID}, nil
}

// validID reports whether s has the form of an overlay or banner id.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// strictJSON decodes exactly one JSON object into v: unknown fields and
// anything after the object are errors.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("beacon: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("beacon: data after the object")
	}
	return nil
}
