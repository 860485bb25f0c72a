package rules

import (
	"slices"
	"testing"
)

func TestNavigationOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		nav      Navigation
		interest []float64
		want     []int
		changed  bool
	}{
		{name: "no interest keeps the shop's order", nav: Navigation{MinInterest: 1}, interest: []float64{0, 0, 0}, want: []int{0, 1, 2}},
		{name: "interest below the bar", nav: Navigation{MinInterest: 1}, interest: []float64{0, 0.5, 0}, want: []int{0, 1, 2}},
		{name: "one category leads", nav: Navigation{MinInterest: 1}, interest: []float64{0, 0, 3, 0}, want: []int{2, 0, 1, 3}, changed: true},
		{name: "most interesting first", nav: Navigation{MinInterest: 1}, interest: []float64{0, 2, 5, 0, 1}, want: []int{2, 1, 4, 0, 3}, changed: true},
		{name: "ties keep the shop's order", nav: Navigation{MinInterest: 1}, interest: []float64{0, 2, 0, 2}, want: []int{1, 3, 0, 2}, changed: true},
		{name: "max promoted", nav: Navigation{MinInterest: 1, MaxPromoted: 1}, interest: []float64{0, 2, 5}, want: []int{2, 0, 1}, changed: true},
		{name: "already first", nav: Navigation{MinInterest: 1}, interest: []float64{4, 0, 0}, want: []int{0, 1, 2}},
		{name: "empty", nav: Navigation{MinInterest: 1}, interest: nil, want: []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, changed := tt.nav.Order(tt.interest)
			if !slices.Equal(got, tt.want) || changed != tt.changed {
				t.Errorf("Order(%v) = %v, %v; want %v, %v", tt.interest, got, changed, tt.want, tt.changed)
			}
		})
	}
}
