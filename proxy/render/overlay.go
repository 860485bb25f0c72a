package render

import (
	"encoding/binary"
	"strconv"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/plan"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// overlay appends the chosen overlay's dialog. ok is false when none of
// its products can be shown any more, or its template failed (logged).
// origin, when not "", goes in front of the dialog's root-relative URLs
// (its link, its products' links and images), for a page whose <base
// href> points elsewhere; such a dialog is not kept.
func (r *Renderer) overlay(dst []byte, c *plan.Chosen, now time.Time, origin string) (_ []byte, ok bool) {
	o := c.Overlay
	data := markup.OverlayData{
		ID: o.ID, Kind: o.Kind, Trigger: "load",
		DismissFor: int64(o.Cap.DismissFor.D() / time.Second),
		Title:      o.Title, Text: o.Text, Code: o.Code, Button: o.Button, Link: onOrigin(origin, o.Link),
	}
	variant := ""
	if k := c.Variant - 1; k >= 0 && k < len(c.Variants) {
		// The copy of the visitor's arm in the overlay's experiment.
		vr := c.Variants[k]
		variant = vr.Name
		if vr.Title != "" {
			data.Title = vr.Title
		}
		if vr.Text != "" {
			data.Text = vr.Text
		}
		if vr.Code != "" {
			data.Code = vr.Code
		}
	}
	switch o.Kind {
	case rules.OverlayExitIntent:
		data.Trigger, data.Ms = "exit", o.Dwell.D().Milliseconds()
	case rules.OverlayTimed:
		data.Trigger, data.Ms = "timer", o.Delay.D().Milliseconds()
	case rules.OverlayScrollDepth:
		data.Trigger, data.Depth = "scroll", o.Depth
	}
	if end := c.End; !end.IsZero() {
		data.Ends = "Ends in " + humanDuration(end.Sub(now))
	}
	render := func(dst []byte) ([]byte, bool) {
		for _, it := range c.Items {
			if item, ok := r.overlayItem(it.ID, it.Qty, origin); ok {
				data.Items = append(data.Items, item)
			}
		}
		if len(c.Items) > 0 && len(data.Items) == 0 {
			return dst, false // none of its products can be shown
		}
		out, err := markup.RenderOverlay(dst, c.Parsed, data)
		if err != nil {
			r.log.Error("overlay not rendered", "overlay", o.ID, "err", err)
			return dst, false
		}
		return out, true
	}
	if origin != "" {
		return render(dst) // this Host's links
	}
	if len(c.Items) > 0 {
		// The visitor's products: kept by product and quantity for
		// blockTTL, as blocks are (a product's new name or price shows
		// within it), so that a visitor's every page with their cart's
		// reminder costs a copy, not a template run.
		var buf [256]byte
		key := append(buf[:0], "o\x00"...)
		key = append(key, o.ID...)
		key = append(key, 0)
		key = append(key, variant...)
		key = append(key, 0)
		key = append(key, data.Ends...)
		for _, it := range c.Items {
			key = binary.LittleEndian.AppendUint64(key, uint64(it.ID))
			key = binary.LittleEndian.AppendUint32(key, uint32(it.Qty))
		}
		return r.items.cached(dst, key, now.Unix(), render)
	}
	return r.cached(dst, [4]string{"o", o.ID, variant, data.Ends}, render)
}

// overlayItem is a product as an overlay lists it, from the catalog, its
// root-relative URLs on origin when it is not "".
func (r *Renderer) overlayItem(id catalog.ID, qty int, origin string) (markup.OverlayItem, bool) {
	prod, ok := r.catalog.Get(id)
	if !ok || prod.Name == "" || prod.URL == "" {
		return markup.OverlayItem{}, false
	}
	return markup.OverlayItem{Name: prod.Name, URL: onOrigin(origin, prod.URL), Image: onOrigin(origin, prod.Image), Price: plan.FormatPrice(prod.Price, prod.Currency), Qty: qty}, true
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
