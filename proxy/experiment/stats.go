package experiment

import "math"

// Options are the levels the statistics use. The zero value, and any field
// left at zero or set out of range, means the default.
type Options struct {
	// Alpha is the level of the two-sided tests: the fixed-horizon and
	// always-valid intervals cover with probability 1-Alpha.
	// Default: 0.05.
	Alpha float64
	// Power is the probability of detecting an uplift of MDE that the
	// sample size estimate aims for. Default: 0.8.
	Power float64
	// MDE is the minimum detectable effect, a relative uplift of the
	// conversion rate, used for the visitors still needed. Default: 0.05.
	MDE float64
	// SeqTuning is the total number of visitors (all arms of a comparison
	// together) at which the always-valid interval is tightest; it fixes
	// the mixing parameter ρ (see SeqRho). Default: 5000, GrowthBook's.
	SeqTuning float64
	// SRMAlpha is the p-value below which the sample-ratio check flags a
	// mismatch. Default: 0.001.
	SRMAlpha float64
	// MinConverters is the number of converters (and, for the conversion
	// rate, of visitors who did not convert) each arm needs before any
	// interval is computed: below it the normal approximations behind both
	// intervals are poor, and an A/A simulation that looks every 100
	// visitors from the start finds the always-valid interval excluding
	// zero in about 6 % of experiments instead of at most 5 %.
	// Default: 30.
	MinConverters int64
	// MinRevenueConverters is the number of converters each arm needs
	// before revenue per visitor is compared. Revenue per visitor is far
	// more skewed than a conversion indicator (most visitors spend
	// nothing, a few spend a lot), so its normal approximation needs more:
	// in an A/A simulation with log-normal order values (σ = 1) looked at
	// every 100 visitors, 30 converters let the always-valid interval
	// exclude zero in 8 % of experiments, 100 in under 4 %.
	// Default: 100.
	MinRevenueConverters int64
}

// Defaults of Options.
const (
	DefaultAlpha          = 0.05
	DefaultPower          = 0.8
	DefaultMDE            = 0.05
	DefaultSeqTuning      = 5000
	DefaultSRMAlpha       = 0.001
	DefaultMinConv        = 30
	DefaultMinRevenueConv = 100
)

// withDefaults replaces zero and out-of-range fields with their defaults.
func (o Options) withDefaults() Options {
	if !(o.Alpha > 0 && o.Alpha < 1) {
		o.Alpha = DefaultAlpha
	}
	if !(o.Power > 0 && o.Power < 1) {
		o.Power = DefaultPower
	}
	if !(o.MDE > 0) || math.IsInf(o.MDE, 1) {
		o.MDE = DefaultMDE
	}
	if !(o.SeqTuning >= 1) || math.IsInf(o.SeqTuning, 1) {
		o.SeqTuning = DefaultSeqTuning
	}
	if !(o.SRMAlpha > 0 && o.SRMAlpha < 1) {
		o.SRMAlpha = DefaultSRMAlpha
	}
	if o.MinConverters <= 0 {
		o.MinConverters = DefaultMinConv
	}
	if o.MinRevenueConverters <= 0 {
		o.MinRevenueConverters = DefaultMinRevenueConv
	}
	return o
}

// sample is a per-visitor metric in one arm: its number of visitors, mean
// and (per-visitor) variance.
type sample struct {
	n        int64
	mean     float64
	variance float64
}

// Effect is a variant's relative uplift over control on one metric, with
// its intervals. All numbers are fractions: 0.1 is +10 %.
type Effect struct {
	// Uplift is mean_variant / mean_control - 1.
	Uplift float64 `json:"uplift"`
	// CILow and CIHigh bound the fixed-horizon 1-Alpha interval: valid for
	// one look at a sample size fixed in advance.
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// P is the two-sided fixed-horizon p-value of "no uplift".
	P float64 `json:"p"`
	// SeqLow and SeqHigh bound the always-valid 1-Alpha interval: valid
	// however often and whenever it is looked at.
	SeqLow  float64 `json:"seq_low"`
	SeqHigh float64 `json:"seq_high"`
	// SE is the delta-method standard error of Uplift.
	SE float64 `json:"se"`
}

// CompareConversion compares the variant's conversion rate with the
// control's (see compare). ok is false when there is not enough data yet:
// an arm with fewer than Options.MinConverters converters, or fewer than
// that many visitors who did not convert.
func CompareConversion(control, variant Counts, opt Options) (e Effect, ok bool) {
	opt = opt.withDefaults()
	for _, c := range [2]Counts{control, variant} {
		if c.Converters < opt.MinConverters || c.Visitors-c.Converters < opt.MinConverters {
			return Effect{}, false
		}
	}
	return compare(control.conversion(), variant.conversion(), opt)
}

// CompareRevenue compares the variant's revenue per visitor with the
// control's (see compare); ok is false when an arm has fewer than
// Options.MinRevenueConverters converters, or no revenue, or no spread in
// revenue.
func CompareRevenue(control, variant Counts, opt Options) (e Effect, ok bool) {
	opt = opt.withDefaults()
	if control.Converters < opt.MinRevenueConverters || variant.Converters < opt.MinRevenueConverters {
		return Effect{}, false
	}
	return compare(control.revenue(), variant.revenue(), opt)
}

// compare estimates the relative uplift r = m_v/m_c - 1 of two independent
// means and its standard error by the delta method for a ratio of
// independent means (Deng, Knoblich, Lu, "Applying the Delta Method in
// Metric Analytics", KDD 2018, §3; the relative effect of GrowthBook's
// frequentist engine):
//
//	Var(m_v/m_c) ≈ s_v²/(n_v m_c²) + m_v² s_c²/(n_c m_c⁴)
//
// The fixed-horizon interval is r ± z_{1-α/2}·SE and the p-value is
// 2(1 - Φ(|r|/SE)), so the interval excludes 0 exactly when p < α. The
// always-valid interval is r ± SeqMultiplier(n_c+n_v)·SE (see
// SeqMultiplier).
//
// Both arms need a positive mean and variance: with a zero variance in one
// arm the delta-method standard error only measures the other arm, and an
// arm with no conversions at all says nothing about its rate yet.
func compare(c, v sample, opt Options) (Effect, bool) {
	if c.n < 2 || v.n < 2 || !(c.mean > 0) || !(v.mean > 0) || !(c.variance > 0) || !(v.variance > 0) {
		return Effect{}, false
	}
	nc, nv := float64(c.n), float64(v.n)
	mc2 := c.mean * c.mean
	variance := v.variance/(nv*mc2) + v.mean*v.mean*c.variance/(nc*mc2*mc2)
	se := math.Sqrt(variance)
	if !(se > 0) || math.IsInf(se, 0) {
		return Effect{}, false
	}
	r := v.mean/c.mean - 1
	z := normalQuantile(1 - opt.Alpha/2)
	seq := SeqMultiplier(float64(c.n+v.n), opt.Alpha, SeqRho(opt.SeqTuning, opt.Alpha))
	return Effect{
		Uplift:  r,
		CILow:   r - z*se,
		CIHigh:  r + z*se,
		P:       twoSidedP(r / se),
		SeqLow:  r - seq*se,
		SeqHigh: r + seq*se,
		SE:      se,
	}, true
}

// SeqRho is the mixing parameter ρ of the normal-mixture boundary that
// makes the always-valid interval tightest after tuning observations:
//
//	ρ² = (-2 ln α + ln(1 - 2 ln α)) / tuning
//
// (the approximately optimal ρ for a boundary tight at one sample size of
// Howard, Ramdas, McAuliffe, Sekhon, "Time-uniform, nonparametric,
// nonasymptotic confidence sequences", Annals of Statistics 49(2), 2021,
// as restated by Waudby-Smith et al. 2024, arXiv:2103.06476; the rule
// GrowthBook applies to its "sequential tuning parameter").
func SeqRho(tuning, alpha float64) float64 {
	l := -2 * math.Log(alpha)
	return math.Sqrt((l + math.Log(l+1)) / tuning)
}

// SeqMultiplier is the factor by which the standard error of an estimate
// from n observations is multiplied to give the half-width of the two-sided
// 1-α asymptotic confidence sequence with the normal-mixture boundary
// (Waudby-Smith, Arbour, Sinha, Kennedy, Ramdas, "Time-uniform central
// limit theory and asymptotic confidence sequences", Annals of Statistics,
// 2024, arXiv:2103.06476, the asymptotic confidence sequence with the
// two-sided normal-mixture boundary of Howard et al. 2021; GrowthBook's
// sequential intervals):
//
//	m(n) = sqrt( 2(nρ²+1)/(nρ²) · ln( sqrt(nρ²+1)/α ) )
//
// The interval covers the true value at every n simultaneously with
// probability at least 1-α (asymptotically), so it may be looked at any
// number of times. It is wider than z_{1-α/2} at every n: the price of
// looking often.
func SeqMultiplier(n, alpha, rho float64) float64 {
	v := n * rho * rho
	return math.Sqrt(2 * (v + 1) / v * math.Log(math.Sqrt(v+1)/alpha))
}

// SampleSizeConversion is the number of visitors per arm a fixed-horizon,
// two-sided test at level alpha needs to detect a relative uplift of mde on
// a conversion rate rate with probability power, for the delta-method test
// of compare:
//
//	n = (z_{1-α/2} + z_power)² · (s_v² + (1+mde)² s_c²) / (mde² m_c²)
//
// with m_c = rate, s_c² = rate(1-rate), m_v = rate(1+mde) and
// s_v² = m_v(1-m_v) (the usual normal-approximation sample size, e.g.
// Kohavi, Tang, Xu, "Trustworthy Online Controlled Experiments", 2020,
// ch. 17, written for the relative effect's standard error). ok is false
// when rate is not in (0, 1) or rate(1+mde) ≥ 1.
func SampleSizeConversion(rate, mde, alpha, power float64) (n int64, ok bool) {
	mv := rate * (1 + mde)
	if !(rate > 0 && rate < 1) || !(mv < 1) {
		return 0, false
	}
	return sampleSize(rate, rate*(1-rate), mv*(1-mv), mde, alpha, power)
}

// SampleSizeSequential is the number of visitors per arm at which the
// always-valid interval of the conversion uplift (the one verdicts come
// from: SeqMultiplier, with mixing parameter rho) excludes zero with
// probability power when the true relative uplift is mde: the least n
// with
//
//	(m(2n) + z_power) · se(n) ≤ mde
//
// where se(n) is the relative uplift's standard error at n visitors per
// arm (as in SampleSizeConversion) and m(2n) the multiplier at both arms'
// visitors. It is larger than the fixed-horizon size: the price of an
// interval that may be looked at every day. ok is false as for
// SampleSizeConversion.
func SampleSizeSequential(rate, mde, alpha, power, rho float64) (n int64, ok bool) {
	mv := rate * (1 + mde)
	if !(rate > 0 && rate < 1) || !(mv < 1) || !(mde > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) || !(rho > 0) {
		return 0, false
	}
	v := (mv*(1-mv) + (1+mde)*(1+mde)*rate*(1-rate)) / (rate * rate) // n · se(n)²
	zp := normalQuantile(power)
	enough := func(n float64) bool {
		return (SeqMultiplier(2*n, alpha, rho)+zp)*math.Sqrt(v/n) <= mde
	}
	lo, hi := 1.0, 2.0
	for !enough(hi) {
		lo, hi = hi, 2*hi
		if hi > 1e15 {
			return 0, false
		}
	}
	for hi-lo > 1 {
		if mid := math.Floor((lo + hi) / 2); enough(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return int64(hi), true
}

// SampleSizeMean is SampleSizeConversion for a metric of control mean mean
// and per-visitor variance variance, such as revenue per visitor, assuming
// the uplift scales every visitor's value (the variant's variance is
// (1+mde)² times the control's). ok is false unless mean and variance are
// positive.
func SampleSizeMean(mean, variance, mde, alpha, power float64) (n int64, ok bool) {
	if !(mean > 0) || !(variance > 0) {
		return 0, false
	}
	return sampleSize(mean, variance, (1+mde)*(1+mde)*variance, mde, alpha, power)
}

func sampleSize(mc, varC, varV, mde, alpha, power float64) (int64, bool) {
	if !(mde > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) {
		return 0, false
	}
	z := normalQuantile(1-alpha/2) + normalQuantile(power)
	n := z * z * (varV + (1+mde)*(1+mde)*varC) / (mde * mde * mc * mc)
	if !(n < math.MaxInt64/2) {
		return 0, false
	}
	return int64(math.Ceil(n)), true
}

// SRM is the sample-ratio-mismatch test: Pearson's chi-square goodness of
// fit of the arms' visitor counts to their configured weights (expected
// count of arm i: total · w_i / Σw), with one degree of freedom fewer than
// the arms of positive weight; p is its upper-tail probability
// (Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online Controlled
// Experiments", KDD 2019; Kohavi, Tang, Xu 2020, ch. 21). A small p means
// the split is not what the assignment should give: a bug in assignment,
// exposure or counting (bots, redirects, caching) biases every other
// number, so none of them can be trusted.
//
// An arm of zero weight that has visitors gives p = 0 (it should have
// none). ok is false, with p = 1, when there is nothing to test: fewer than
// two arms of positive weight, no visitors, or lengths that differ.
func SRM(visitors []int64, weights []float64) (p float64, ok bool) {
	if len(visitors) != len(weights) {
		return 1, false
	}
	var total int64
	sumW := 0.0
	arms := 0
	for i, w := range weights {
		if w > 0 && !math.IsInf(w, 1) {
			sumW += w
			arms++
		}
		total += visitors[i]
	}
	if arms < 2 || total <= 0 {
		return 1, false
	}
	chi := 0.0
	for i, w := range weights {
		if !(w > 0) || math.IsInf(w, 1) {
			if visitors[i] > 0 {
				return 0, true
			}
			continue
		}
		expected := float64(total) * w / sumW
		d := float64(visitors[i]) - expected
		chi += d * d / expected
	}
	return chiSquareSF(chi, arms-1), true
}
