package experiment

import "math"

// normalCDF is Φ(x), the standard normal distribution function, from the
// complementary error function: Φ(x) = erfc(-x/√2)/2, accurate in both
// tails (no 1 - small cancellation).
func normalCDF(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}

// normalQuantile is Φ⁻¹(p) for p in (0, 1): P. J. Acklam's rational
// approximation (relative error below 1.2e-9; "An algorithm for computing
// the inverse normal cumulative distribution function", 2003), refined by
// one step of Halley's method on Φ(x) - p, which brings it to about machine
// precision. It works on the lower half and mirrors the upper
// (Φ⁻¹(p) = -Φ⁻¹(1-p), 1-p being exact there), so both tails keep their
// precision; math.Erfcinv would not, as it computes Erfinv(1-x). It returns
// -Inf at 0, +Inf at 1 and NaN outside [0, 1].
func normalQuantile(p float64) float64 {
	switch {
	case !(p >= 0 && p <= 1):
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p > 0.5:
		return -normalQuantile(1 - p)
	}
	var x float64
	if p < 0.02425 {
		q := math.Sqrt(-2 * math.Log(p))
		x = (((((-7.784894002430293e-03*q-3.223964580411365e-01)*q-2.400758277161838e+00)*q-2.549732539343734e+00)*q+4.374664141464968e+00)*q + 2.938163982698783e+00) /
			((((7.784695709041462e-03*q+3.224671290700398e-01)*q+2.445134137142996e+00)*q+3.754408661907416e+00)*q + 1)
	} else {
		q := p - 0.5
		r := q * q
		x = (((((-3.969683028665376e+01*r+2.209460984245205e+02)*r-2.759285104469687e+02)*r+1.383577518672690e+02)*r-3.066479806614716e+01)*r + 2.506628277459239e+00) * q /
			(((((-5.447609879822406e+01*r+1.615858368580409e+02)*r-1.556989798598866e+02)*r+6.680131188771972e+01)*r-1.328068155288572e+01)*r + 1)
	}
	// Halley: x -= f/(f' - f·f''/(2f')) with f = Φ(x) - p, f' = φ(x),
	// f''/f' = -x.
	u := (normalCDF(x) - p) * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
	return x - u/(1+x*u/2)
}

// twoSidedP is the two-sided p-value of a standard normal statistic z:
// 2·(1 - Φ(|z|)).
func twoSidedP(z float64) float64 {
	if math.IsNaN(z) {
		return math.NaN()
	}
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// chiSquareSF is the upper tail P(X ≥ x) of a chi-square distribution with
// df degrees of freedom: the regularized upper incomplete gamma function
// Q(df/2, x/2).
func chiSquareSF(x float64, df int) float64 {
	if df <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	return gammaQ(float64(df)/2, x/2)
}

// gammaQ is the regularized upper incomplete gamma function
// Q(a, x) = Γ(a, x)/Γ(a) for a > 0, x ≥ 0, computed as in Numerical Recipes
// (Press, Teukolsky, Vetterling, Flannery, 3rd ed., 2007, §6.2): by the
// series for P(a, x) = 1 - Q when x < a+1, where it converges fast, and by
// the continued fraction for Q (evaluated with the modified Lentz method)
// otherwise, where the series would lose precision in 1 - P.
func gammaQ(a, x float64) float64 {
	switch {
	case !(a > 0) || !(x >= 0):
		return math.NaN()
	case x == 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	case x < a+1:
		return 1 - gammaPSeries(a, x)
	default:
		return gammaQFraction(a, x)
	}
}

const (
	gammaEps     = 1e-15
	gammaMaxIter = 1000
	gammaTiny    = 1e-300
)

// gammaPrefix is e^-x · x^a / Γ(a), the factor both expansions share,
// computed in logarithms so that large a and x do not overflow.
func gammaPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return math.Exp(-x + a*math.Log(x) - lg)
}

// gammaPSeries is P(a, x) = e^-x x^a / Γ(a) · Σ_n x^n / (a(a+1)…(a+n)).
func gammaPSeries(a, x float64) float64 {
	ap := a
	term := 1 / a
	sum := term
	for range gammaMaxIter {
		ap++
		term *= x / ap
		sum += term
		if math.Abs(term) < math.Abs(sum)*gammaEps {
			break
		}
	}
	return sum * gammaPrefix(a, x)
}

// gammaQFraction is Q(a, x) by its continued fraction
// e^-x x^a / Γ(a) · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- …))).
func gammaQFraction(a, x float64) float64 {
	b := x + 1 - a
	c := 1 / gammaTiny
	d := 1 / b
	h := d
	for i := 1; i <= gammaMaxIter; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < gammaTiny {
			d = gammaTiny
		}
		c = b + an/c
		if math.Abs(c) < gammaTiny {
			c = gammaTiny
		}
		d = 1 / d
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < gammaEps {
			break
		}
	}
	return gammaPrefix(a, x) * h
}
