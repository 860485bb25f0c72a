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
//
// Only the visitor's interests of at least nav.MinInterest (and above 0)
// are looked up: an entry promoted has its highest interest from one of
// them, and an entry with none of them is not promoted, whatever its
// smaller interest (navOrder reads no more of it); a visitor with none
// keeps the shop's order, with no entry looked at.
func menuOrder(dst []int, nav *rules.Navigation, s *page.Region, t *profile.Decayed) ([]int, bool) {
	strong := t.AtLeast(nav.MinInterest)
	if !strong.Any() {
		for i := range s.Cats {
			dst = append(dst, i)
		}
		return dst, false
	}
	var buf [32]float64
	interest := buf[:0]
	for _, cats := range s.Cats {
		best := 0.0
		for _, c := range cats {
			if v := strong.Interest(c); v != 0 { // most are none of them: max(best, 0) is best
				best = max(best, v)
			}
		}
		interest = append(interest, best)
	}
	return navOrder(dst, nav, interest)
}
