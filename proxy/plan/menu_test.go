package plan

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

func TestNavOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		nav      rules.Navigation
		interest []float64
		want     []int
		changed  bool
	}{
		{name: "no interest keeps the shop's order", nav: rules.Navigation{MinInterest: 1}, interest: []float64{0, 0, 0}, want: []int{0, 1, 2}},
		{name: "interest below the bar", nav: rules.Navigation{MinInterest: 1}, interest: []float64{0, 0.5, 0}, want: []int{0, 1, 2}},
		{name: "one category leads", nav: rules.Navigation{MinInterest: 1}, interest: []float64{0, 0, 3, 0}, want: []int{2, 0, 1, 3}, changed: true},
		{name: "most interesting first", nav: rules.Navigation{MinInterest: 1}, interest: []float64{0, 2, 5, 0, 1}, want: []int{2, 1, 4, 0, 3}, changed: true},
		{name: "ties keep the shop's order", nav: rules.Navigation{MinInterest: 1}, interest: []float64{0, 2, 0, 2}, want: []int{1, 3, 0, 2}, changed: true},
		{name: "max promoted", nav: rules.Navigation{MinInterest: 1, MaxPromoted: 1}, interest: []float64{0, 2, 5}, want: []int{2, 0, 1}, changed: true},
		{name: "already first", nav: rules.Navigation{MinInterest: 1}, interest: []float64{4, 0, 0}, want: []int{0, 1, 2}},
		{name: "empty", nav: rules.Navigation{MinInterest: 1}, interest: nil, want: []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, changed := navOrder(nil, &tt.nav, tt.interest)
			if !slices.Equal(got, tt.want) || changed != tt.changed {
				t.Errorf("navOrder(%v) = %v, %v; want %v, %v", tt.interest, got, changed, tt.want, tt.changed)
			}
		})
	}
}

// BenchmarkNavOrder orders a ten-entry menu by interest.
func BenchmarkNavOrder(b *testing.B) {
	nav := &rules.Navigation{MinInterest: 1}
	interest := []float64{0, 0, 0, 2.7, 0, 0, 1.2, 0, 0, 0}
	var buf [16]int // as the plan's buffer of orders
	b.ReportAllocs()
	for b.Loop() {
		if _, changed := navOrder(buf[:0], nav, interest); !changed {
			b.Fatal("unchanged")
		}
	}
}

// BenchmarkMenuOrder orders the demo shop's menu (ten entries, their
// submenus' categories and each "All" link, 27 in all) for a visitor with
// interest in a dozen categories, five of them in the menu.
func BenchmarkMenuOrder(b *testing.B) {
	nav := &rules.Navigation{MinInterest: 1}
	subs := []int{4, 3, 0, 3, 0, 3, 0, 0, 0, 0}
	var s page.Region
	next := catalog.ID(1000)
	for _, n := range subs {
		top := next
		next++
		cats := []catalog.ID{top}
		for range n {
			cats = append(cats, next)
			next++
		}
		if n > 0 {
			cats = append(cats, top) // "All …"
		}
		s.Cats = append(s.Cats, cats)
	}
	week := 7 * 24 * time.Hour
	var d profile.Data
	d.Touch(now.Add(-time.Hour), 30*time.Minute)
	for i, c := range []catalog.ID{1010, 1011, 1013, 5, 6, 7, 8, 9, 1004, 10, 1001, 11} {
		for range 1 + 12/(i+1) { // the first the strongest
			d.ViewCategory([]catalog.ID{c}, now.Add(-time.Duration(i)*time.Minute), week)
		}
	}
	var buf [16]int
	b.ReportAllocs()
	for b.Loop() {
		t := d.Decay(now, week) // a decision decays the interests once, for every menu
		if _, changed := menuOrder(buf[:0], nav, &s, &t); !changed {
			b.Fatal("unchanged")
		}
	}
}

// menuOrderRef is menuOrder as it was: every category of every entry
// looked up in the profile, and navOrder on all of them.
func menuOrderRef(dst []int, nav *rules.Navigation, s *page.Region, d *profile.Data, now time.Time, half time.Duration) ([]int, bool) {
	var interest []float64
	for _, cats := range s.Cats {
		best := 0.0
		for _, c := range cats {
			best = max(best, d.Interest(c, now, half))
		}
		interest = append(interest, best)
	}
	return navOrder(dst, nav, interest)
}

// TestMenuOrderMatchesReference: on random menus and visitors (interests
// above, at and below the bar, the bar at 0 and above, a cap on the
// promoted or none), menuOrder gives the order and the verdict the
// straightforward computation gives.
func TestMenuOrderMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 4))
	week := 7 * 24 * time.Hour
	nChanged := 0
	for round := range 3000 {
		var d profile.Data
		d.Touch(now.Add(-time.Hour), 30*time.Minute)
		for range r.IntN(30) {
			c := catalog.ID(1 + r.IntN(25))
			at := now.Add(-time.Duration(r.IntN(20*24)) * time.Hour)
			switch r.IntN(3) {
			case 0:
				d.ViewCategory([]catalog.ID{c}, at, week)
			case 1:
				d.ViewProduct(c, []catalog.ID{c / 2, c}, at, week)
			default:
				d.ProductInterest([]catalog.ID{c}, profile.CartWeight, at, week)
			}
		}
		var s page.Region
		for range r.IntN(12) {
			var cats []catalog.ID
			for range r.IntN(6) {
				cats = append(cats, catalog.ID(1+r.IntN(30)))
			}
			s.Cats = append(s.Cats, cats)
		}
		nav := rules.Navigation{MinInterest: []float64{0, 0.3, 0.5, 1, 1.5, 3}[r.IntN(6)], MaxPromoted: r.IntN(4)}
		dec := d.Decay(now, week)
		got, changed := menuOrder(nil, &nav, &s, &dec)
		want, wantChanged := menuOrderRef(nil, &nav, &s, &d, now, week)
		if changed {
			nChanged++
		}
		if !slices.Equal(got, want) || changed != wantChanged {
			t.Fatalf("round %d (%+v): %v, %v; want %v, %v", round, nav, got, changed, want, wantChanged)
		}
	}
	// Both verdicts are common, so that the comparison above compares.
	if nChanged < 300 || nChanged > 2700 {
		t.Errorf("%d of 3000 menus reordered", nChanged)
	}
}
