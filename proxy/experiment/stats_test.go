package experiment

import (
	"math"
	"testing"
)

// TestCompareConversionHandComputed: control 500 of 10,000 visitors
// convert, variant 550 of 10,000.
//
//	m_c = 0.05, s_c² = 0.05·0.95 = 0.0475
//	m_v = 0.055, s_v² = 0.055·0.945 = 0.051975
//	uplift = 0.055/0.05 - 1 = 0.10
//	Var = s_v²/(n_v m_c²) + m_v² s_c²/(n_c m_c⁴)
//	    = 0.051975/(10000·0.0025) + 0.003025·0.0475/(10000·0.00000625)
//	    = 0.002079 + 0.002299 = 0.004378, SE = 0.0661665
//	95 % CI = 0.10 ± 1.959964·0.0661665 = 0.10 ± 0.129684
//	        = [-0.029684, 0.229684]
//	p = 2(1 - Φ(0.10/0.0661665)) = 2(1 - Φ(1.51134)) = 0.130702
//	ρ² = (-2 ln 0.05 + ln(1 - 2 ln 0.05))/5000 = (5.991465 + 1.944691)/5000
//	   = 0.00158723
//	nρ² = 20000·0.00158723 = 31.7446
//	m = sqrt(2·32.7446/31.7446 · ln(sqrt(32.7446)/0.05)) = sqrt(2.06300·4.74006)
//	  = 3.127114
//	always valid = 0.10 ± 3.127114·0.0661665 = [-0.106910, 0.306910]
func TestCompareConversionHandComputed(t *testing.T) {
	t.Parallel()
	c := Counts{Visitors: 10000, Converters: 500}
	v := Counts{Visitors: 10000, Converters: 550}
	e, ok := CompareConversion(c, v, Options{})
	if !ok {
		t.Fatal("CompareConversion not ok")
	}
	checkEffect(t, e, Effect{
		Uplift: 0.10, SE: 0.0661665,
		CILow: -0.029684, CIHigh: 0.229684, P: 0.130702,
		SeqLow: -0.106910, SeqHigh: 0.306910,
	})
}

// TestCompareRevenueHandComputed: in each arm of 1,000 visitors every
// converter spends 50; 50 convert in control, 60 in the variant (so
// Options.MinRevenueConverters is set to 50).
//
//	control: m_c = 2500/1000 = 2.5, s_c² = (125000 - 1000·2.5²)/999 = 118.868869
//	variant: m_v = 3000/1000 = 3.0, s_v² = (150000 - 1000·3²)/999 = 141.141141
//	uplift = 3/2.5 - 1 = 0.20
//	Var = 141.141141/(1000·6.25) + 9·118.868869/(1000·39.0625)
//	    = 0.0225826 + 0.0273874 = 0.0499700, SE = 0.223540
//	95 % CI = 0.20 ± 1.959964·0.223540 = [-0.238130, 0.638130]
//	p = 2(1 - Φ(0.20/0.223540)) = 0.370950
//	m(2000) = sqrt(2·4.17446/3.17446 · ln(sqrt(4.17446)/0.05)) = 3.123779
//	always valid = 0.20 ± 3.123779·0.223540 = [-0.498288, 0.898288]
func TestCompareRevenueHandComputed(t *testing.T) {
	t.Parallel()
	c := Counts{Visitors: 1000, Converters: 50, Orders: 50, Revenue: 2500, RevenueSq: 50 * 50 * 50}
	v := Counts{Visitors: 1000, Converters: 60, Orders: 60, Revenue: 3000, RevenueSq: 60 * 50 * 50}
	e, ok := CompareRevenue(c, v, Options{MinRevenueConverters: 50})
	if !ok {
		t.Fatal("CompareRevenue not ok")
	}
	checkEffect(t, e, Effect{
		Uplift: 0.20, SE: 0.223540,
		CILow: -0.238130, CIHigh: 0.638130, P: 0.370950,
		SeqLow: -0.498288, SeqHigh: 0.898288,
	})
	if _, ok := CompareRevenue(c, v, Options{}); ok {
		t.Errorf("CompareRevenue with 50 converters ok, want not ok below the default minimum of %d", DefaultMinRevenueConv)
	}
}

func checkEffect(t *testing.T, got, want Effect) {
	t.Helper()
	fields := []struct {
		name      string
		got, want float64
	}{
		{"uplift", got.Uplift, want.Uplift},
		{"se", got.SE, want.SE},
		{"ci_low", got.CILow, want.CILow},
		{"ci_high", got.CIHigh, want.CIHigh},
		{"p", got.P, want.P},
		{"seq_low", got.SeqLow, want.SeqLow},
		{"seq_high", got.SeqHigh, want.SeqHigh},
	}
	for _, f := range fields {
		if math.Abs(f.got-f.want) > 1e-6 {
			t.Errorf("%s = %.7f, want %.6f", f.name, f.got, f.want)
		}
	}
}

func TestCompareNotEnoughData(t *testing.T) {
	t.Parallel()
	enough := Counts{Visitors: 1000, Converters: 100}
	tests := []struct {
		name             string
		control, variant Counts
	}{
		{"no visitors", Counts{}, Counts{}},
		{"control without converters", Counts{Visitors: 1000}, enough},
		{"variant without converters", enough, Counts{Visitors: 1000}},
		{"fewer converters than the minimum", Counts{Visitors: 1000, Converters: 29}, enough},
		{"everybody converts", Counts{Visitors: 1000, Converters: 1000}, enough},
		{"more converters than visitors", Counts{Visitors: 10, Converters: 40}, enough},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if e, ok := CompareConversion(tc.control, tc.variant, Options{}); ok {
				t.Errorf("CompareConversion(%+v, %+v) = %+v, want not ok", tc.control, tc.variant, e)
			}
			if e, ok := CompareRevenue(tc.control, tc.variant, Options{}); ok {
				t.Errorf("CompareRevenue(%+v, %+v) = %+v, want not ok", tc.control, tc.variant, e)
			}
		})
	}
}

// TestSeqMultiplier: the always-valid interval is wider than the
// fixed-horizon one at every sample size, tightest relative to it near the
// tuning size, and grows without bound (slowly) long after it.
func TestSeqMultiplier(t *testing.T) {
	t.Parallel()
	rho := SeqRho(DefaultSeqTuning, 0.05)
	z := normalQuantile(0.975)
	prev := 0.0
	for _, n := range []float64{10, 100, 1000, 5000, 20000, 1e5, 1e6, 1e8} {
		m := SeqMultiplier(n, 0.05, rho)
		if !(m > z) {
			t.Errorf("SeqMultiplier(%v) = %v, want above z = %v", n, m, z)
		}
		if n >= 20000 && !(m > prev) {
			t.Errorf("SeqMultiplier(%v) = %v, want it to grow past the tuning size (was %v)", n, m, prev)
		}
		prev = m
	}
	if m := SeqMultiplier(20000, 0.05, rho); math.Abs(m-3.127114) > 1e-6 {
		t.Errorf("SeqMultiplier(20000) = %v, want 3.127114 (computed by hand in TestCompareConversionHandComputed)", m)
	}
}

// TestSampleSize: at a 5 % conversion rate, a 5 % relative MDE, α = 0.05
// and 80 % power,
//
//	(z_0.975 + z_0.8)² = (1.959964 + 0.841621)² = 7.848879
//	m_v = 0.0525, s_v² = 0.0525·0.9475 = 0.04974375, (1.05)²·0.0475 = 0.05236875
//	n = 7.848879·(0.04974375 + 0.05236875)/(0.05²·0.05²) = 128,234.997 → 128,235
func TestSampleSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		got    func() (int64, bool)
		want   int64
		wantOK bool
	}{
		{"conversion 5 %, MDE 5 %", func() (int64, bool) { return SampleSizeConversion(0.05, 0.05, 0.05, 0.8) }, 128235, true},
		{"conversion 5 %, MDE 10 %", func() (int64, bool) { return SampleSizeConversion(0.05, 0.10, 0.05, 0.8) }, 34363, true},
		{"no conversions yet", func() (int64, bool) { return SampleSizeConversion(0, 0.05, 0.05, 0.8) }, 0, false},
		{"uplift beyond 100 %", func() (int64, bool) { return SampleSizeConversion(0.6, 1, 0.05, 0.8) }, 0, false},
		{"bad power", func() (int64, bool) { return SampleSizeConversion(0.05, 0.05, 0.05, 1) }, 0, false},
		// mean 2.5, variance 118.868869: 7.848880·(1.1025+1.1025)·118.868869/(0.05²·2.5²) = 131,663.19
		{"revenue per visitor", func() (int64, bool) { return SampleSizeMean(2.5, 118.868869, 0.05, 0.05, 0.8) }, 131664, true},
		{"revenue without spread", func() (int64, bool) { return SampleSizeMean(2.5, 0, 0.05, 0.05, 0.8) }, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.got()
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %d, %v, want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestSRM: 9,600 and 10,400 visitors where 50/50 was configured give
// χ² = 2·400²/10000 = 32 with one degree of freedom, p = erfc(4) =
// 1.5417e-8: flagged. The same split against 48/52 weights, or 10,000
// each against 50/50, is not.
func TestSRM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		visitors []int64
		weights  []float64
		wantP    float64 // negative: only check the flag
		flagged  bool
		wantOK   bool
	}{
		{"planted 48/52 of 20,000", []int64{9600, 10400}, []float64{1, 1}, 1.541725790028002e-08, true, true},
		{"50/50 of 20,000", []int64{10000, 10000}, []float64{1, 1}, 1, false, true},
		{"48/52 configured", []int64{9600, 10400}, []float64{48, 52}, 1, false, true},
		{"10 % holdout, slightly off", []int64{1030, 8970}, []float64{10, 90}, -1, false, true},
		{"three arms, one starved", []int64{1000, 1000, 800}, []float64{1, 1, 1}, -1, true, true},
		{"visitors in a closed arm", []int64{500, 500, 1}, []float64{1, 1, 0}, 0, true, true},
		{"one arm only", []int64{500}, []float64{1}, 1, false, false},
		{"no visitors", []int64{0, 0}, []float64{1, 1}, 1, false, false},
		{"lengths differ", []int64{1, 2}, []float64{1}, 1, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := SRM(tc.visitors, tc.weights)
			if ok != tc.wantOK {
				t.Errorf("SRM ok = %v, want %v", ok, tc.wantOK)
			}
			if tc.wantP >= 0 && !near(p, tc.wantP, 1e-9) {
				t.Errorf("SRM p = %v, want %v", p, tc.wantP)
			}
			if flagged := p < DefaultSRMAlpha; flagged != tc.flagged {
				t.Errorf("SRM p = %v flagged %v, want %v", p, flagged, tc.flagged)
			}
		})
	}
}
