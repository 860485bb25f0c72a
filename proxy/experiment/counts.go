package experiment

import "math"

// Counts are one arm's totals, counted per visitor: each exposed visitor is
// one unit, so the variance of every per-visitor metric comes from the
// spread between visitors (the unit that was randomized), not between page
// views or orders. Only what happens after a visitor's first exposure is
// counted. The zero value is an arm nobody has reached yet.
//
// The caller keeps, for each exposed visitor, their arm, their number of
// orders and their revenue so far, and updates Counts with AddVisitor,
// AddOrder, AddCartAdder and AddClicker. Counts are plain numbers: they can
// be saved (JSON) and summed.
type Counts struct {
	// Visitors is the number of distinct visitors exposed to the arm.
	Visitors int64 `json:"visitors"`
	// Converters is the number of those visitors who bought at least once.
	Converters int64 `json:"converters"`
	// Orders is the number of orders those visitors placed.
	Orders int64 `json:"orders"`
	// Revenue is the sum over visitors of their revenue (all their orders'
	// values, in the shop's currency).
	Revenue float64 `json:"revenue"`
	// RevenueSq is the sum over visitors of the square of each visitor's
	// revenue, not the sum of squared order values: a visitor with two
	// orders of 10 adds 400, not 200.
	RevenueSq float64 `json:"revenue_sq"`
	// CartAdders is the number of visitors who added to cart at least once.
	CartAdders int64 `json:"cart_adders"`
	// Clickers is the number of visitors who clicked the action's block or
	// overlay at least once.
	Clickers int64 `json:"clickers"`
}

// AddVisitor counts one newly exposed visitor.
func (c *Counts) AddVisitor() { c.Visitors++ }

// AddOrder counts one order of amount by a visitor who had placed
// priorOrders orders worth priorRevenue in total before it (both zero for a
// first order). It keeps RevenueSq a sum of squares of per-visitor revenue:
// the visitor's square grows from priorRevenue² to (priorRevenue+amount)².
// An amount or prior revenue that is NaN or infinite (a value the page did
// not give) counts the order with no revenue, so that one bad page cannot
// poison the arm's sums.
func (c *Counts) AddOrder(priorOrders int64, priorRevenue, amount float64) {
	if !finite(amount) || !finite(priorRevenue) {
		amount, priorRevenue = 0, 0
	}
	if priorOrders == 0 {
		c.Converters++
	}
	c.Orders++
	c.Revenue += amount
	c.RevenueSq += amount * (2*priorRevenue + amount)
}

// AddCartAdder counts a visitor's first add to cart.
func (c *Counts) AddCartAdder() { c.CartAdders++ }

// AddClicker counts a visitor's first click on the action.
func (c *Counts) AddClicker() { c.Clickers++ }

// Add returns the sum of c and o (for merging counts kept apart).
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Visitors:   c.Visitors + o.Visitors,
		Converters: c.Converters + o.Converters,
		Orders:     c.Orders + o.Orders,
		Revenue:    c.Revenue + o.Revenue,
		RevenueSq:  c.RevenueSq + o.RevenueSq,
		CartAdders: c.CartAdders + o.CartAdders,
		Clickers:   c.Clickers + o.Clickers,
	}
}

// Sub returns c less o: what was counted between two readings of an arm.
func (c Counts) Sub(o Counts) Counts {
	return Counts{
		Visitors:   c.Visitors - o.Visitors,
		Converters: c.Converters - o.Converters,
		Orders:     c.Orders - o.Orders,
		Revenue:    c.Revenue - o.Revenue,
		RevenueSq:  c.RevenueSq - o.RevenueSq,
		CartAdders: c.CartAdders - o.CartAdders,
		Clickers:   c.Clickers - o.Clickers,
	}
}

// ConversionRate is Converters / Visitors: the share of exposed visitors
// who bought. It is 0 when there are no visitors.
func (c Counts) ConversionRate() float64 { return ratio(float64(c.Converters), c.Visitors) }

// RevenuePerVisitor is Revenue / Visitors, visitors who bought nothing
// included. It is 0 when there are no visitors.
func (c Counts) RevenuePerVisitor() float64 { return ratio(c.Revenue, c.Visitors) }

// AOV, the average order value, is Revenue / Orders. It is 0 when there are
// no orders.
func (c Counts) AOV() float64 { return ratio(c.Revenue, c.Orders) }

// CartRate is CartAdders / Visitors (0 without visitors).
func (c Counts) CartRate() float64 { return ratio(float64(c.CartAdders), c.Visitors) }

// ClickRate is Clickers / Visitors (0 without visitors).
func (c Counts) ClickRate() float64 { return ratio(float64(c.Clickers), c.Visitors) }

// conversion is the per-visitor conversion indicator as a sample: mean p
// and variance p(1-p) (the Bernoulli variance at the estimated rate).
func (c Counts) conversion() sample {
	p := c.ConversionRate()
	return sample{n: c.Visitors, mean: p, variance: p * (1 - p)}
}

// revenue is per-visitor revenue as a sample: its mean and its unbiased
// sample variance (RevenueSq - n·mean²) / (n-1), clamped at 0 against
// rounding.
func (c Counts) revenue() sample {
	s := sample{n: c.Visitors, mean: c.RevenuePerVisitor()}
	if c.Visitors > 1 {
		v := (c.RevenueSq - float64(c.Visitors)*s.mean*s.mean) / float64(c.Visitors-1)
		s.variance = max(v, 0)
	}
	return s
}

// ratio is num/den, 0 when den is not positive or the result is not
// finite (JSON has no NaN).
func ratio(num float64, den int64) float64 {
	if den <= 0 {
		return 0
	}
	if r := num / float64(den); finite(r) {
		return r
	}
	return 0
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
