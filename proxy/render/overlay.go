package render

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/plan"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// dialogParts are an overlay's dialog of the built-in content, in one
// variant, without what changes between visitors: its opening, title,
// text and code (head), its button and end (tail). Made once per
// configuration: the deadline's line is escaped into place and each
// product's line kept with the cards (partCache), so that a dialog costs
// copies, not a template run.
type dialogParts struct {
	head, tail []byte
}

// newDialogs renders the parts of each overlay rule of the built-in
// content, per variant (0: as written); nil for a rule of its own
// template, or whose parts failed (then its dialog is rendered whole).
func newDialogs(cfg *rules.Compiled) [][]dialogParts {
	out := make([][]dialogParts, len(cfg.OverlayRules))
	for i := range cfg.OverlayRules {
		o := &cfg.OverlayRules[i]
		if o.Parsed != nil {
			continue
		}
		parts := make([]dialogParts, 0, 1+len(o.Variants))
		for v := range 1 + len(o.Variants) {
			data, _ := overlayData(o, v, "")
			head, err := markup.AppendOverlayHead(nil, data)
			if err != nil {
				parts = nil
				break
			}
			tail, err := markup.AppendOverlayTail(nil, data)
			if err != nil {
				parts = nil
				break
			}
			parts = append(parts, dialogParts{head: head, tail: tail})
		}
		out[i] = parts
	}
	return out
}

// overlayData is what an overlay's template reads of it in a variant (1 +
// the index of its experiment's arm; 0: as written), and the variant's
// name ("" for none); its links on origin when that is not "". Ends and
// Items are the caller's.
func overlayData(o *rules.CompiledOverlay, variant int, origin string) (markup.OverlayData, string) {
	data := markup.OverlayData{
		ID: o.ID, Kind: o.Kind, Trigger: "load",
		DismissFor: int64(o.Cap.DismissFor.D() / time.Second),
		Title:      o.Title, Text: o.Text, Code: o.Code, Button: o.Button, Link: onOrigin(origin, o.Link),
	}
	name := ""
	if k := variant - 1; k >= 0 && k < len(o.Variants) {
		// The copy of the visitor's arm in the overlay's experiment.
		vr := o.Variants[k]
		name = vr.Name
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
	return data, name
}

// overlay appends the chosen overlay's dialog. ok is false when none of
// its products can be shown any more, or its template failed (logged).
// origin, when not "", goes in front of the dialog's root-relative URLs
// (its link, its products' links and images), for a page whose <base
// href> points elsewhere; such a dialog is rendered for the request and
// not kept.
func (r *Renderer) overlay(dst []byte, c *plan.Chosen, now time.Time, origin string) (_ []byte, ok bool) {
	ends := ""
	if end := c.End; !end.IsZero() {
		ends = "Ends in " + humanDuration(end.Sub(now))
	}
	if origin == "" {
		if p := r.dialog(c); p != nil {
			return r.assembleDialog(dst, p, c, ends, now.Unix())
		}
	}
	o := c.Overlay
	data, variant := overlayData(c.CompiledOverlay, c.Variant, origin)
	data.Ends = ends
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

// dialog returns the parts of the chosen overlay's dialog in its variant,
// or nil when it has none (its own template).
func (r *Renderer) dialog(c *plan.Chosen) *dialogParts {
	for i := range r.cfg.OverlayRules {
		if &r.cfg.OverlayRules[i] != c.CompiledOverlay {
			continue
		}
		parts := r.dialogs[i]
		if len(parts) == 0 {
			return nil
		}
		v := c.Variant
		if v < 0 || v >= len(parts) {
			v = 0 // no such arm: the overlay as written, as overlayData has it
		}
		return &parts[v]
	}
	return nil // a plan of another configuration
}

// assembleDialog appends a dialog of the built-in content from its
// parts: its head, the deadline's line, each product's line (kept, like a
// block's cards, for blockTTL) and its tail. ok is false, and dst as it
// came, when it lists products and none of them can be shown.
func (r *Renderer) assembleDialog(dst []byte, p *dialogParts, c *plan.Chosen, ends string, now int64) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, p.head...)
	if ends != "" {
		dst = markup.AppendOverlayEnds(dst, ends)
	}
	if len(c.Items) > 0 {
		dst = markup.AppendOverlayItemsOpen(dst)
		n := 0
		for _, it := range c.Items {
			key := partKey{block: dialogItem, variant: int32(it.Qty), id: it.ID}
			keep := it.Qty >= 0 && it.Qty <= math.MaxInt32 // the key holds the quantity
			line, ok := []byte(nil), false
			if keep {
				line, ok = r.cards.get(key, now)
			}
			if !ok {
				item, found := r.overlayItem(it.ID, it.Qty, "")
				if !found {
					continue
				}
				var err error
				if line, err = markup.AppendOverlayItem(nil, item); err != nil {
					r.log.Error("overlay item not rendered", "overlay", c.ID, "err", err)
					continue
				}
				if keep {
					r.cards.put(key, line, now)
				}
			}
			dst = append(dst, line...)
			n++
		}
		if n == 0 {
			return dst[:start], false // none of its products can be shown
		}
		dst = markup.AppendOverlayItemsClose(dst)
	}
	return append(dst, p.tail...), true
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
