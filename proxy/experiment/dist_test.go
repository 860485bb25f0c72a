package experiment

import (
	"math"
	"testing"
)

func near(got, want, tol float64) bool {
	if math.IsInf(want, 0) || want == 0 {
		return got == want || math.Abs(got-want) <= tol
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestNormal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		x, cdf    float64
		tolerance float64
	}{
		{"centre", 0, 0.5, 1e-15},
		{"z 0.975", 1.959963984540054, 0.975, 1e-12},
		{"minus one", -1, 0.15865525393145705, 1e-12},
		{"far left tail", -8, 6.22096057427178e-16, 1e-20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := normalCDF(tc.x); !near(got, tc.cdf, tc.tolerance) {
				t.Errorf("normalCDF(%v) = %v, want %v", tc.x, got, tc.cdf)
			}
			if got := normalQuantile(tc.cdf); !near(got, tc.x, 1e-9) {
				t.Errorf("normalQuantile(%v) = %v, want %v", tc.cdf, got, tc.x)
			}
		})
	}
	for _, p := range []float64{-0.1, 1.1, math.NaN()} {
		if got := normalQuantile(p); !math.IsNaN(got) {
			t.Errorf("normalQuantile(%v) = %v, want NaN", p, got)
		}
	}
	if got := twoSidedP(1.959963984540054); !near(got, 0.05, 1e-12) {
		t.Errorf("twoSidedP(1.96) = %v, want 0.05", got)
	}
}

// TestChiSquareSF checks the upper tail against closed forms that hold for
// one, two and three degrees of freedom (Q(1/2, x/2) = erfc(√(x/2));
// Q(1, x/2) = e^(-x/2); Q(3/2, x/2) = erfc(√(x/2)) + √(2x/π)·e^(-x/2)),
// on both sides of x = a+1 where the series gives way to the continued
// fraction, and against tabulated 5 % critical values.
func TestChiSquareSF(t *testing.T) {
	t.Parallel()
	for _, x := range []float64{1e-6, 0.01, 0.5, 1, 2.9, 3.1, 5, 10, 32, 80, 300} {
		closed := map[int]float64{
			1: math.Erfc(math.Sqrt(x / 2)),
			2: math.Exp(-x / 2),
			3: math.Erfc(math.Sqrt(x/2)) + math.Sqrt(2*x/math.Pi)*math.Exp(-x/2),
		}
		for df, want := range closed {
			if got := chiSquareSF(x, df); !near(got/want, 1, 1e-10) {
				t.Errorf("chiSquareSF(%v, %d) = %v, want %v", x, df, got, want)
			}
		}
	}
	critical := []struct {
		name string
		x    float64
		df   int
	}{
		{"df 1", 3.841458820694124, 1},
		{"df 4", 9.487729036781154, 4},
		{"df 9", 16.918977604620448, 9},
		{"df 10", 18.307038053275146, 10},
	}
	for _, tc := range critical {
		t.Run(tc.name, func(t *testing.T) {
			if got := chiSquareSF(tc.x, tc.df); !near(got, 0.05, 1e-9) {
				t.Errorf("chiSquareSF(%v, %d) = %v, want 0.05", tc.x, tc.df, got)
			}
		})
	}
	if got := chiSquareSF(0, 3); got != 1 {
		t.Errorf("chiSquareSF(0, 3) = %v, want 1", got)
	}
	if got := chiSquareSF(1, 0); !math.IsNaN(got) {
		t.Errorf("chiSquareSF(1, 0) = %v, want NaN", got)
	}
}

// TestNormalQuantileRoundTrip checks Φ(Φ⁻¹(p)) = p to 1e-13 relative over
// fifteen orders of magnitude of p, both tails and the seams of the
// approximation (0.02425 and 0.97575) included.
func TestNormalQuantileRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []float64{1e-15, 1e-10, 1e-5, 0.001, 0.02424, 0.02426, 0.2, 0.5, 0.8, 0.97574, 0.97576, 0.999, 1 - 1e-10} {
		x := normalQuantile(p)
		got := normalCDF(x)
		want := p
		if p > 0.5 { // compare the small upper tail, not 1 - tail
			got, want = normalCDF(-x), 1-p
		}
		if !near(got/want, 1, 1e-13) {
			t.Errorf("Φ(Φ⁻¹(%v)) = %v, want %v", p, got, want)
		}
	}
}
