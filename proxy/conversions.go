package proxy

import (
	"time"

	"shopedge/proxy/profile"
	"shopedge/rules"
)

// Conversions after a click (last-click attribution): a visitor's last
// click on a block's product (attribution.go) or an overlay's link (the
// beacon, own.go) is kept in their profile; every order they place within
// attribution.window after it counts once for that block or overlay, with
// the order's value (shopedge_block_conversions_total and _revenue_total,
// shopedge_overlay_conversions_total and _revenue_total, Figures).

// attributes reports whether the configuration has anything an order may
// be credited to: a block or an overlay.
func attributes(cfg *rules.Compiled) bool {
	return len(cfg.Recommendations.Blocks) > 0 || len(cfg.OverlayRules) > 0
}

// ordered counts an order a purchase page shows (number, "" when the page
// shows none; amount, its value) at now: in the experiments the visitor
// takes part in, and for the block or overlay they last clicked.
func (p *Proxy) ordered(cfg *rules.Compiled, prof *profile.Profile, number string, amount float64, now time.Time) {
	if len(cfg.Experiments) > 0 {
		p.experiments.order(cfg, prof, number, amount)
	}
	if prof != nil && attributes(cfg) {
		p.attribute(cfg, prof, number, amount, now)
	}
}

// attribute credits an order to the visitor's last click, when it was
// within attribution.window before now, on a block or an overlay the
// configuration has, and the order is not the one the profile saw last
// (its confirmation page reloaded): one conversion, and amount as its
// revenue (none for an amount no one would believe, as the experiments
// count it).
func (p *Proxy) attribute(cfg *rules.Compiled, prof *profile.Profile, number string, amount float64, now time.Time) {
	var c profile.Click
	var credited bool
	tag, window := orderTag(number), cfg.Attribution.Window.D()
	prof.Update(func(d *profile.Data) { c, credited = d.Ordered(tag, now, window) })
	if !credited {
		return
	}
	if !(amount >= 0 && amount <= maxOrder) {
		amount = 0
	}
	switch c.Kind {
	case profile.ClickBlock:
		for i := range cfg.Recommendations.Blocks {
			if id := cfg.Recommendations.Blocks[i].ID; profile.ClickKey(profile.ClickBlock, id) == c.Key {
				p.metrics.blockConverted(id, amount)
				return
			}
		}
	case profile.ClickOverlay:
		for i := range cfg.OverlayRules {
			if id := cfg.OverlayRules[i].ID; profile.ClickKey(profile.ClickOverlay, id) == c.Key {
				p.metrics.overlayConverted(id, amount)
				return
			}
		}
	}
}
