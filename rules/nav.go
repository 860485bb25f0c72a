package rules

import "sort"

// Order returns the new order of a menu's entries given the visitor's
// interest in each: entries with at least MinInterest come first, most
// interesting first (ties keep the shop's order), at most MaxPromoted of
// them; the others follow in the shop's order. Slot k of the menu receives
// entry order[k]. changed is false when the order is the shop's own.
func (n *Navigation) Order(interest []float64) (order []int, changed bool) {
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
