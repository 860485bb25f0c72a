package proxy

import (
	"math"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	h := Histogram{Bounds: []float64{1, 2, 4}}
	for _, tc := range []struct {
		name    string
		counts  []int64
		q, want float64
	}{
		{"empty", []int64{0, 0, 0, 0}, 0.5, 0},
		{"all in the first bucket", []int64{10, 0, 0, 0}, 0.5, 0.5},
		{"middle of the second", []int64{0, 10, 0, 0}, 0.5, 1.5},
		{"spread", []int64{5, 5, 0, 0}, 0.9, 1.8},
		{"above every bound", []int64{0, 0, 0, 4}, 0.99, 4},
		{"empty buckets skipped", []int64{5, 0, 5, 0}, 0.75, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.Counts, h.Count = tc.counts, 0
			for _, c := range tc.counts {
				h.Count += c
			}
			if got := h.Quantile(tc.q); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Quantile(%g) = %g, want %g", tc.q, got, tc.want)
			}
		})
	}
}

func TestFigures(t *testing.T) {
	m := newMetrics()
	m.requests.Add(3)
	m.passThrough("not_html")
	m.added.observe(30e-6)
	m.added.observe(30e-6)
	m.latency.observe(2) // above every bound
	m.block("b").shown.Add(4)
	m.block("b").clicks.Add(1)
	m.blockConverted("b", 12.5)
	m.blockConverted("b", 0.25)
	m.block("a").shown.Add(1)
	m.overlay("o").injected.Add(2)
	m.overlayConverted("o", 3)
	t0 := time.Unix(1000, 0)
	for i := range reloadsKept + 2 {
		m.reloads.reloaded("success", t0.Add(time.Duration(i)*time.Second), "")
	}
	m.reloads.reloaded("failure", t0.Add(time.Hour), "rules.yaml:3:1: bad")

	f := m.Figures(t0)
	if f.Requests != 3 || f.Passed["not_html"] != 1 || f.Added.Count != 2 {
		t.Errorf("requests %d, passed %v, added %d", f.Requests, f.Passed, f.Added.Count)
	}
	if p := f.Added.Quantile(0.5); p <= 20e-6 || p > 35e-6 {
		t.Errorf("added p50 %g, want within the 20-35 µs bucket", p)
	}
	// Read back from the library's buckets: both in the fourth (20-35 µs).
	if c := f.Added.Counts; len(c) != len(addedBounds)+1 || c[3] != 2 || math.Abs(f.Added.Sum-60e-6) > 1e-12 {
		t.Errorf("added counts %v, sum %g; want 2 in the fourth bucket, sum 60e-6", c, f.Added.Sum)
	}
	if r := f.Rewrite; r.Count != 1 || len(r.Bounds) != len(rewriteBounds) || r.Counts[len(rewriteBounds)] != 1 || r.Sum != 2 {
		t.Errorf("rewrite %+v, want one observation above every bound", r)
	}
	if len(f.Blocks) != 2 || f.Blocks[0].ID != "a" || f.Blocks[1].Conversions != 2 || f.Blocks[1].Revenue != 12.75 || f.Blocks[1].CTR() != 0.25 {
		t.Errorf("blocks %+v", f.Blocks)
	}
	if len(f.Overlays) != 1 || f.Overlays[0].Shown != 2 || f.Overlays[0].Revenue != 3 {
		t.Errorf("overlays %+v", f.Overlays)
	}
	if len(f.Reloads) != reloadsKept || f.Reloads[0].Result != "failure" || f.Reloads[0].Detail == "" || f.ReloadCounts["success"] != reloadsKept+2 {
		t.Errorf("reloads %+v, counts %v", f.Reloads, f.ReloadCounts)
	}
}
