package experiment

import (
	"math"
	"math/rand/v2"
	"testing"
)

// binomial draws the number of successes in n Bernoulli(p) trials, exactly,
// by jumping from one success to the next: the failures before a success
// are geometric, floor(ln U / ln(1-p)) for U uniform on (0, 1]. It costs
// about n·p draws instead of n.
func binomial(r *rand.Rand, n int64, p float64) int64 {
	if p <= 0 {
		return 0
	}
	lq := math.Log1p(-p)
	var k, i int64
	for {
		i += int64(math.Log(1-r.Float64())/lq) + 1
		if i > n {
			return k
		}
		k++
	}
}

// addVisitors adds n visitors to c, each converting with probability p
// and then placing one order of a log-normal value (median 40, σ = 1: a
// long right tail, as order values have).
func addVisitors(r *rand.Rand, c *Counts, n int64, p float64) {
	k := binomial(r, n, p)
	c.Visitors += n
	for range k {
		c.AddOrder(0, 0, 40*math.Exp(r.NormFloat64()))
	}
}

func excludesZero(lo, hi float64) bool { return lo > 0 || hi < 0 }

// TestAAFalsePositives runs 500 A/A experiments (both arms convert at 5 %,
// 5,000 visitors per arm) and checks, for the conversion rate and for
// revenue per visitor, that the fixed-horizon 95 % interval at the end
// excludes zero in 5 % ± 2 % of them, and that the always-valid interval,
// looked at every 100 visitors per arm from the start, ever excludes zero
// in at most 5 %.
func TestAAFalsePositives(t *testing.T) {
	t.Parallel()
	const (
		experiments = 500
		perArm      = 5000
		look        = 100
		rate        = 0.05
	)
	r := rand.New(rand.NewPCG(12, 2026))
	var fixedConv, fixedRev, seqConv, seqRev int
	for range experiments {
		var c, v Counts
		var seqHitConv, seqHitRev bool
		for c.Visitors < perArm {
			addVisitors(r, &c, look, rate)
			addVisitors(r, &v, look, rate)
			if e, ok := CompareConversion(c, v, Options{}); ok && excludesZero(e.SeqLow, e.SeqHigh) {
				seqHitConv = true
			}
			if e, ok := CompareRevenue(c, v, Options{}); ok && excludesZero(e.SeqLow, e.SeqHigh) {
				seqHitRev = true
			}
		}
		e, ok := CompareConversion(c, v, Options{})
		if !ok {
			t.Fatalf("no conversion comparison at %d visitors per arm: %+v %+v", perArm, c, v)
		}
		if excludesZero(e.CILow, e.CIHigh) {
			fixedConv++
		}
		e, ok = CompareRevenue(c, v, Options{})
		if !ok {
			t.Fatalf("no revenue comparison at %d visitors per arm: %+v %+v", perArm, c, v)
		}
		if excludesZero(e.CILow, e.CIHigh) {
			fixedRev++
		}
		if seqHitConv {
			seqConv++
		}
		if seqHitRev {
			seqRev++
		}
	}
	rates := []struct {
		name     string
		hits     int
		low, top float64
	}{
		{"fixed horizon, conversion", fixedConv, 0.03, 0.07},
		{"fixed horizon, revenue per visitor", fixedRev, 0.03, 0.07},
		{"always valid every 100 visitors, conversion", seqConv, 0, 0.05},
		{"always valid every 100 visitors, revenue per visitor", seqRev, 0, 0.05},
	}
	for _, x := range rates {
		got := float64(x.hits) / experiments
		t.Logf("A/A %s: %.1f %% of %d experiments exclude zero", x.name, 100*got, experiments)
		if got < x.low || got > x.top {
			t.Errorf("A/A %s: %.3f exclude zero, want within [%.2f, %.2f]", x.name, got, x.low, x.top)
		}
	}
}

// TestPowerAtReportedSampleSize plants a 10 % relative uplift in conversion
// (5 % → 5.5 %), asks the report how many visitors per arm a 10 % MDE
// needs, runs 4,000 experiments of that size (so that the measured power is within about ±0.6 % of the true one) and checks that the
// fixed-horizon 95 % interval is above zero in at least 80 % of them.
func TestPowerAtReportedSampleSize(t *testing.T) {
	t.Parallel()
	const experiments = 4000
	opt := Options{MDE: 0.10}
	const pilotVisitors = 2000
	pilot := Build([]ArmCounts{
		{Name: "control", Weight: 1, Counts: Counts{Visitors: pilotVisitors, Converters: pilotVisitors / 20}},
		{Name: "variant", Weight: 1, Counts: Counts{Visitors: pilotVisitors, Converters: pilotVisitors / 20}},
	}, opt)
	if pilot.Arms[1].Outcome != OutcomeNotEnoughData {
		t.Fatalf("pilot outcome %q, want %q", pilot.Arms[1].Outcome, OutcomeNotEnoughData)
	}
	n := pilotVisitors + pilot.Arms[1].MoreVisitors
	o := opt.withDefaults()
	if want, _ := SampleSizeSequential(0.05, 0.10, 0.05, 0.8, SeqRho(o.SeqTuning, o.Alpha)); n != want || n == 0 {
		t.Fatalf("report says %d visitors per arm in all, want SampleSizeSequential's %d", n, want)
	}
	r := rand.New(rand.NewPCG(5, 2026))
	detected, seqDetected := 0, 0
	for range experiments {
		c := Counts{Visitors: n, Converters: binomial(r, n, 0.05)}
		v := Counts{Visitors: n, Converters: binomial(r, n, 0.055)}
		e, ok := CompareConversion(c, v, Options{})
		if !ok {
			t.Fatalf("no comparison at %d visitors per arm", n)
		}
		if e.CILow > 0 {
			detected++
		}
		if e.SeqLow > 0 {
			seqDetected++
		}
	}
	// The verdict comes from the always-valid interval: it is the one
	// that must detect the effect at the size the report asks for.
	power := float64(seqDetected) / experiments
	t.Logf("%d visitors per arm: always-valid power %.1f %% (the verdict's), fixed-horizon %.1f %% (%d experiments)",
		n, 100*power, 100*float64(detected)/experiments, experiments)
	if power < 0.80 {
		t.Errorf("always-valid power %.3f at %d visitors per arm, want at least 0.80", power, n)
	}
}

// TestBinomial checks the simulation's own sampler: mean and variance of
// 20,000 draws within 4 standard errors of n·p and n·p(1-p).
func TestBinomial(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	const draws, n, p = 20000, 1000, 0.05
	sum, sumSq := 0.0, 0.0
	for range draws {
		k := float64(binomial(r, n, p))
		sum += k
		sumSq += k * k
	}
	mean := sum / draws
	variance := sumSq/draws - mean*mean
	wantMean, wantVar := n*p, n*p*(1-p)
	if se := math.Sqrt(wantVar / draws); math.Abs(mean-wantMean) > 4*se {
		t.Errorf("binomial mean %.3f, want %.3f ± %.3f", mean, wantMean, 4*se)
	}
	if math.Abs(variance/wantVar-1) > 0.05 {
		t.Errorf("binomial variance %.3f, want %.3f ± 5 %%", variance, wantVar)
	}
}
