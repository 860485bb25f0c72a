package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"shopedge/proxy/profile"
	"shopedge/rules"
	"slices"

	"github.com/valyala/fasthttp"
)

// What the proxy serves itself, under the reserved prefix: its stylesheet
// and script, and the beacon its script sends.

// serveOwn answers a request under the reserved prefix: the stylesheet,
// the script, a beacon, or the start or end of a preview (preview.go). Nothing under the prefix reaches the shop.
func (p *Proxy) serveOwn(ctx *fasthttp.RequestCtx, conf *config) {
	a := &conf.cfg.Assets
	name := ""
	if path := ctx.Path(); bytes.HasPrefix(path, []byte(a.Prefix)) {
		name = string(path[len(a.Prefix):])
	}
	switch name {
	case "shopedge.css", "shopedge.js":
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return
		}
		body, ctype, version := a.CSS, "text/css; charset=utf-8", a.CSSVersion
		if name == "shopedge.js" {
			body, ctype, version = a.JS, "text/javascript; charset=utf-8", a.JSVersion
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
		p.beacon(ctx, conf)
	case previewStart:
		p.startPreview(ctx, conf)
	case previewEnd:
		p.endPreview(ctx, conf)
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("not found\n")
	}
}

// beaconEvents are what a beacon may say.
var beaconEvents = []string{"shown", "dismissed", "clicked", "banner"}

// maxBeacon bounds a beacon's body.
const maxBeacon = 512

// beacon takes an event the overlay script sends with navigator.sendBeacon:
// a small JSON object {"e": event, "id": overlay or banner id} from a page
// of this shop, by a visitor with a valid cookie. Anything else is refused
// with a 4xx and touches no profile. From a browser in preview, a valid
// beacon is answered 204 and neither recorded nor counted.
func (p *Proxy) beacon(ctx *fasthttp.RequestCtx, conf *config) {
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
	var overlay *rules.CompiledOverlay
	if ev.Event == "banner" {
		if conf.cfg.Banner(ev.ID) == nil {
			reject(fasthttp.StatusBadRequest, "unknown_id")
			return
		}
	} else {
		for i := range conf.cfg.OverlayRules {
			if o := &conf.cfg.OverlayRules[i]; o.ID == ev.ID {
				overlay = o
			}
		}
		if overlay == nil {
			reject(fasthttp.StatusBadRequest, "unknown_id")
			return
		}
	}
	if p.previewing(ctx, conf.cfg) {
		ctx.SetStatusCode(fasthttp.StatusNoContent) // taken, and not counted
		return
	}
	raw := requestCookie(&ctx.Request.Header, conf.cfg.CookieName)
	who, ok := p.ids.VerifyBytes(raw)
	if len(raw) == 0 || !ok {
		reject(fasthttp.StatusForbidden, "visitor")
		return
	}
	now := p.now()
	if overlay != nil {
		p.readThrough(who.ID)
		defer p.changed(who.ID)
		prof, _ := p.profiles.Load(who.ID)
		key := profile.OverlayKey(overlay.ID)
		prof.Update(func(d *profile.Data) {
			switch ev.Event {
			case "shown":
				d.OverlayShown(key, now)
			case "dismissed", "clicked":
				d.OverlayDismissed(key, now.Add(overlay.Cap.DismissFor.D()))
			}
			if ev.Event == "clicked" {
				// The visitor's last click: the orders after it are the
				// overlay's conversions (conversions.go).
				d.Clicked(profile.ClickKey(profile.ClickOverlay, overlay.ID), now)
			}
		})
		if ev.Event == "clicked" {
			p.experiments.click(conf.cfg, prof, "overlay:"+overlay.ID) // the experiment on it, if any
		}
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
	if !rules.ValidID(*m.ID) {
		return beaconEvent{}, fmt.Errorf("beacon: bad id")
	}
	return beaconEvent{Event: *m.E, ID: *m.ID}, nil
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
