package experiment

import (
	"encoding/json"
	"math"
	"testing"
)

// TestCountsPerVisitor counts three visitors: one buys twice (10 then 30),
// one once (20), one not at all. Revenue per visitor is (40+20+0)/3 = 20;
// RevenueSq is 40² + 20² = 2000, not the sum of squared orders
// (10²+30²+20² = 1400); the per-visitor sample variance is
// (2000 - 3·20²)/2 = 400.
func TestCountsPerVisitor(t *testing.T) {
	t.Parallel()
	var c Counts
	for range 3 {
		c.AddVisitor()
	}
	c.AddOrder(0, 0, 10)
	c.AddOrder(1, 10, 30)
	c.AddOrder(0, 0, 20)
	c.AddCartAdder()
	c.AddCartAdder()
	c.AddClicker()
	want := Counts{Visitors: 3, Converters: 2, Orders: 3, Revenue: 60, RevenueSq: 2000, CartAdders: 2, Clickers: 1}
	if c != want {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"conversion rate", c.ConversionRate(), 2.0 / 3},
		{"revenue per visitor", c.RevenuePerVisitor(), 20},
		{"average order value", c.AOV(), 20},
		{"cart rate", c.CartRate(), 2.0 / 3},
		{"click rate", c.ClickRate(), 1.0 / 3},
		{"revenue variance", c.revenue().variance, 400},
		{"conversion variance", c.conversion().variance, 2.0 / 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > 1e-12 {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if sum := c.Add(c); sum.Visitors != 6 || sum.RevenueSq != 4000 || sum.Clickers != 2 {
		t.Errorf("c.Add(c) = %+v, want twice %+v", sum, c)
	}
}

func TestCountsEmpty(t *testing.T) {
	t.Parallel()
	var c Counts
	for name, got := range map[string]float64{
		"conversion rate":     c.ConversionRate(),
		"revenue per visitor": c.RevenuePerVisitor(),
		"average order value": c.AOV(),
		"revenue variance":    c.revenue().variance,
	} {
		if got != 0 {
			t.Errorf("%s of no visitors = %v, want 0", name, got)
		}
	}
}

// TestCountsBadAmount: an order whose value is NaN or infinite is counted
// with no revenue, and a report of counts already holding NaN still
// encodes as JSON (which has no NaN).
func TestCountsBadAmount(t *testing.T) {
	t.Parallel()
	var c Counts
	c.AddVisitor()
	c.AddOrder(0, 0, math.NaN())
	c.AddOrder(1, 0, math.Inf(1))
	if want := (Counts{Visitors: 1, Converters: 1, Orders: 2}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	bad := Counts{Visitors: 1000, Converters: 200, Orders: 200, Revenue: math.NaN(), RevenueSq: math.Inf(1)}
	r := Build([]ArmCounts{{"control", 1, bad}, {"b", 1, bad}}, Options{})
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("report of NaN counts does not encode: %v", err)
	}
}
