package plan

import (
	"slices"
	"time"

	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// overlayOn reports whether some overlay rule may show on a page type.
func overlayOn(overlays []rules.CompiledOverlay, t rules.PageType) bool {
	for i := range overlays {
		if overlays[i].Action.Enabled && slices.Contains(overlays[i].Pages, t) {
			return true
		}
	}
	return false
}

// chooseOverlay returns the overlay to put on this page view, or nil: the
// first rule by priority whose page, visitors, schedule, caps and
// conditions all allow it, and that has something to show. At most one
// per page view, and none within min_gap of the last one shown.
func chooseOverlay(in *Input, pl *Plan, m *members, recCtx func() *recommend.Context) *Chosen {
	d, now := in.Profile, in.Now
	pass := func(id, why string) {
		if in.Explain {
			pl.Passed = append(pl.Passed, Passed{ID: id, Why: why})
		}
	}
	overlays := in.Config.OverlayRules
	if len(overlays) == 0 {
		return nil
	}
	if in.Request.VisitorID == "" {
		pass("", WhyNotTracked)
		return nil
	}
	if d.OverlayAt != 0 {
		if since := now.Sub(time.Unix(int64(d.OverlayAt), 0)); since < in.Config.Overlays.MinGap.D() {
			if in.Explain {
				left := (in.Config.Overlays.MinGap.D() - since).Round(time.Second)
				pl.Passed = append(pl.Passed, Passed{Why: WhyMinGap, Detail: left.String() + " left"})
			}
			return nil
		}
	}
	var chosen *Chosen
	for i := range overlays {
		o := &overlays[i]
		r := o.Overlay
		if chosen != nil {
			if in.Explain {
				// Its own reason first, when it has one the page and
				// visitor give: "a higher priority was chosen" only for
				// a rule that would otherwise have had its chance.
				why := staticWhy(in, m, o)
				if why == "" {
					why = WhyLowerFirst
				}
				explainPass(in, pl, o, why)
			}
			continue
		}
		why := staticWhy(in, m, o)
		if why == "" {
			seen := d.Overlay(profile.OverlayKey(r.ID), now)
			switch {
			case !seen.DismissedUntil.IsZero():
				why = WhyDismissedFor
			case seen.ShownThisVisit >= r.Cap.PerVisit || seen.ShownToday >= r.Cap.PerDay:
				why = WhyCap
			case d.JustBought() && r.Kind != rules.OverlayUpsell:
				why = WhyJustBought // no offers to someone who just bought
			}
		}
		if why == "" {
			ok := true
			switch r.Kind {
			case rules.OverlayAbandonedCart:
				ok = d.CartFromEarlierVisit()
			case rules.OverlayHesitant:
				ok = int(d.CartsLeft) >= r.MinCartsLeft
			case rules.OverlayUpsell:
				ok = d.CartAt != 0 && d.CartAt >= d.VisitStart && now.Sub(time.Unix(int64(d.CartAt), 0)) <= r.Within.D()
			}
			if !ok {
				why = WhyCondition
			}
		}
		if why == "" {
			arm, variant, held := pl.choose(in, o.Action.Experiment)
			if items, ok := overlayItems(in, pl, r, o, recCtx); !ok {
				why = WhyNothingShow // gives way to the next rule
			} else if pl.expose(o.Action.Experiment, arm); held {
				why = WhyHeldOut // the next rule may show, as without this one
			} else {
				pl.chosen = Chosen{CompiledOverlay: o, Items: items, Variant: variant + 1}
				chosen = &pl.chosen
				continue
			}
		}
		if in.Explain {
			explainPass(in, pl, o, why)
		}
	}
	return chosen
}

// staticWhy is why an overlay rule may not show by what the page, the
// schedule and the visitor's segments, device and dismissals say; "" when
// they allow it.
func staticWhy(in *Input, m *members, o *rules.CompiledOverlay) string {
	r := o.Overlay
	switch {
	case !o.Action.Enabled:
		return WhyDisabled
	case !slices.Contains(r.Pages, in.Request.Type):
		return WhyPage
	case !o.Active(in.Now):
		return WhySchedule
	case !m.targets(&o.Target):
		return WhySegment
	case !onDevices(r.Devices, in.Profile.Device.Class.String()):
		return WhyDevice
	case in.Request.Dismissed != nil && in.Request.Dismissed.Dismissed(r.ID):
		return WhyDismissed
	}
	return ""
}

// explainPass records an overlay rule passed over, with the segment
// condition that failed when that is why.
func explainPass(in *Input, pl *Plan, o *rules.CompiledOverlay, why string) {
	p := Passed{ID: o.Overlay.ID, Why: why}
	if why == WhySegment {
		p.Detail = SegmentDetail(in, o.Target)
	}
	pl.Passed = append(pl.Passed, p)
}

// overlayItems are the products an overlay lists: an abandoned cart's
// (those the catalog can still show), an upsell's suggestions. ok is false
// when such an overlay has nothing to show; overlays that list no products
// always have.
func overlayItems(in *Input, pl *Plan, r *rules.Overlay, o *rules.CompiledOverlay, recCtx func() *recommend.Context) (items []Item, ok bool) {
	d := in.Profile
	items = pl.items[:0]
	switch r.Kind {
	case rules.OverlayAbandonedCart:
		var lines [profile.MaxCart]profile.CartLine
		for _, line := range d.AppendCart(lines[:0]) {
			if len(items) == r.Count {
				break
			}
			if showable(in.Catalog, line.Product) {
				items = append(items, Item{ID: line.Product, Qty: int(line.Qty)})
			}
		}
		return items, len(items) > 0
	case rules.OverlayUpsell:
		// What goes with the cart; popular products fall back to the
		// category of the product added last.
		c := &pl.octx
		*c = *recCtx()
		var buf [profile.MaxCart]profile.CartLine
		if lines := d.AppendCart(buf[:0]); len(lines) > 0 {
			if path, _, ok := in.Catalog.CardPath(lines[len(lines)-1].Product, pl.cats[:0]); ok && len(path) > 0 {
				c.Category = path[len(path)-1]
			}
		}
		for _, id := range pl.recommend(in, c, recommend.Request{Strategies: o.Chain, N: r.Count}) {
			items = append(items, Item{ID: id})
		}
		return items, len(items) > 0
	}
	return nil, true
}

// onDevices reports whether a device class is among devs (any, when there
// are none).
func onDevices(devs []string, class string) bool {
	return len(devs) == 0 || slices.Contains(devs, class)
}
