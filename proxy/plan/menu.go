package plan

import (
	"cmp"
	"slices"

	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// navOrder appends to dst the new order of a menu's entries given the
// visitor's interest in each: entries with at least nav.MinInterest come
// first, most interesting first (ties keep the shop's order), at most
// nav.MaxPromoted of them; the others follow in the shop's order. Slot k
// of the menu receives entry order[k] (order is what was appended).
// changed is false when the order is the shop's own.
func navOrder(dst []int, n *rules.Navigation, interest []float64) (_ []int, changed bool) {
	start := len(dst)
	for i, v := range interest {
		if v >= n.MinInterest && v > 0 {
			dst = append(dst, i)
		}
	}
	slices.SortStableFunc(dst[start:], func(a, b int) int { return cmp.Compare(interest[b], interest[a]) })
	if n.MaxPromoted > 0 && len(dst)-start > n.MaxPromoted {
		dst = dst[:start+n.MaxPromoted]
	}
	promoted := dst[start:]
	for i := range interest {
		if !slices.Contains(promoted, i) { // menus are short
			dst = append(dst, i)
		}
	}
	for k, i := range dst[start:] {
		if k != i {
			changed = true
			break
		}
	}
	return dst, changed
}

// menuOrder appends to dst the order of a menu's entries for this
// visitor (their interests, decayed to now). An entry's interest is the
// highest interest in any category it links to, its submenu included.
func menuOrder(dst []int, nav *rules.Navigation, s *page.Region, t *profile.Decayed) ([]int, bool) {
	var buf [32]float64
	interest := buf[:0]
	for _, cats := range s.Cats {
		best := 0.0
		if t.Any() {
			for _, c := range cats {
				best = max(best, t.Interest(c))
			}
		}
		interest = append(interest, best)
	}
	return navOrder(dst, nav, interest)
}
