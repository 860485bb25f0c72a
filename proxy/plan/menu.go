package plan

import (
	"sort"
	"time"

	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// navOrder returns the new order of a menu's entries given the visitor's
// interest in each: entries with at least nav.MinInterest come first, most
// interesting first (ties keep the shop's order), at most nav.MaxPromoted
// of them; the others follow in the shop's order. Slot k of the menu
// receives entry order[k]. changed is false when the order is the shop's
// own.
func navOrder(n *rules.Navigation, interest []float64) (order []int, changed bool) {
	order = make([]int, 0, len(interest))
	for i, v := range interest {
		if v >= n.MinInterest && v > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return interest[order[a]] > interest[order[b]] })
	if n.MaxPromoted > 0 && len(order) > n.MaxPromoted {
		order = order[:n.MaxPromoted]
	}
	promoted := make([]bool, len(interest))
	for _, i := range order {
		promoted[i] = true
	}
	for i := range interest {
		if !promoted[i] {
			order = append(order, i)
		}
	}
	for k, i := range order {
		if k != i {
			changed = true
			break
		}
	}
	return order, changed
}

// menuOrder returns the order of a menu's entries for this visitor. An
// entry's interest is the highest interest in any category it links to,
// its submenu included.
func menuOrder(nav *rules.Navigation, s *page.Region, d *profile.Data, now time.Time, half time.Duration) ([]int, bool) {
	var buf [32]float64
	interest := buf[:0]
	for _, cats := range s.Cats {
		best := 0.0
		for _, c := range cats {
			best = max(best, d.Interest(c, now, half))
		}
		interest = append(interest, best)
	}
	return navOrder(nav, interest)
}
