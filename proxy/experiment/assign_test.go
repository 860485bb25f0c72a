package experiment

import (
	"fmt"
	"math"
	"testing"
)

func TestArm(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name    string
		bucket  float64
		weights []float64
		want    int
	}{
		{"first of two", 0.2, []float64{1, 1}, 0},
		{"boundary belongs to the next arm", 0.5, []float64{1, 1}, 1},
		{"weights need not sum to one", 0.7, []float64{50, 50}, 1},
		{"holdout of 10 %", 0.05, []float64{10, 90}, 0},
		{"holdout of 10 %, treated", 0.1, []float64{10, 90}, 1},
		{"three uneven arms", 0.75, []float64{0.2, 0.5, 0.3}, 2},
		{"zero weight gets nobody", 0.5, []float64{1, 0, 1}, 2},
		{"negative weight reads as zero", 0.1, []float64{-1, 1}, 1},
		{"NaN weight reads as zero", 0.1, []float64{nan, 1}, 1},
		{"infinite weight reads as zero", 0.1, []float64{math.Inf(1), 1}, 1},
		{"top of the range", math.Nextafter(1, 0), []float64{1, 1, 0}, 1},
		{"no positive weight", 0.3, []float64{0, 0}, -1},
		{"no weights", 0.3, nil, -1},
		{"bucket 1 is out of range", 1, []float64{1, 1}, -1},
		{"negative bucket", -0.1, []float64{1, 1}, -1},
		{"NaN bucket", nan, []float64{1, 1}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Arm(tc.bucket, tc.weights); got != tc.want {
				t.Errorf("Arm(%v, %v) = %d, want %d", tc.bucket, tc.weights, got, tc.want)
			}
		})
	}
}

// TestBucketStable pins the hash: a change here would move every visitor
// of every running experiment to another arm.
func TestBucketStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		visitor, exp, seed string
		want               float64
	}{
		{"plain", "v-123", "home-blocks", "", 0.6529442016234841},
		{"seeded", "v-123", "home-blocks", "2026-12", 0.0815011045309747},
		{"other experiment", "v-123", "exit-offer", "", 0.7100696921667984},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Bucket(tc.visitor, tc.exp, tc.seed)
			if again := Bucket(tc.visitor, tc.exp, tc.seed); again != got {
				t.Errorf("Bucket is not deterministic: %v then %v", got, again)
			}
			if got != tc.want {
				t.Errorf("Bucket(%q, %q, %q) = %v, want %v", tc.visitor, tc.exp, tc.seed, got, tc.want)
			}
		})
	}
	if a, b := Bucket("ab", "c", ""), Bucket("a", "bc", ""); a == b {
		t.Errorf("fields run together: Bucket(ab, c) = Bucket(a, bc) = %v", a)
	}
	if a, b := Bucket("v", "e", "s"), Bucket("s", "e", "v"); a == b {
		t.Errorf("seed and visitor are interchangeable: %v", a)
	}
}

func visitorID(i int) string { return fmt.Sprintf("visitor-%07d", i) }

// TestAssignmentUniform assigns 100,000 visitors to 2, 3 and 10 equal arms
// and to a 10 % holdout, and checks with the same chi-square goodness of
// fit as the SRM check that the split matches the weights (p > 0.001).
func TestAssignmentUniform(t *testing.T) {
	t.Parallel()
	const visitors = 100_000
	tests := []struct {
		name    string
		weights []float64
	}{
		{"2 arms", []float64{1, 1}},
		{"3 arms", []float64{1, 1, 1}},
		{"10 arms", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"10 % holdout", []float64{10, 90}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			counts := make([]int64, len(tc.weights))
			for i := range visitors {
				arm := Arm(Bucket(visitorID(i), "uniform-"+tc.name, ""), tc.weights)
				if arm < 0 {
					t.Fatalf("visitor %d in no arm", i)
				}
				counts[arm]++
			}
			p, ok := SRM(counts, tc.weights)
			if !ok || p <= 0.001 {
				t.Errorf("split %v of %d visitors over weights %v: chi-square p = %.3g, want > 0.001", counts, visitors, tc.weights, p)
			}
		})
	}
}

// TestAssignmentIndependent checks that a visitor's arm in one experiment
// says nothing of their arm in another (or in the same one reshuffled with
// a new seed): a 3×3 contingency table of 100,000 visitors' arms, whose
// chi-square test of independence (4 degrees of freedom) has p > 0.001.
func TestAssignmentIndependent(t *testing.T) {
	t.Parallel()
	const visitors = 100_000
	weights := []float64{1, 1, 1}
	tests := []struct {
		name        string
		expA, seedA string
		expB, seedB string
	}{
		{"two experiments", "home-blocks", "", "exit-offer", ""},
		{"names one letter apart", "test-a", "", "test-b", ""},
		{"reshuffled by a seed", "home-blocks", "", "home-blocks", "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var table [3][3]float64
			for i := range visitors {
				id := visitorID(i)
				a := Arm(Bucket(id, tc.expA, tc.seedA), weights)
				b := Arm(Bucket(id, tc.expB, tc.seedB), weights)
				table[a][b]++
			}
			if p := independence(table); p <= 0.001 {
				t.Errorf("arms in %s/%q and %s/%q are dependent: %v, p = %.3g", tc.expA, tc.seedA, tc.expB, tc.seedB, table, p)
			}
		})
	}
	// The test can fail: the same experiment twice is as dependent as can be.
	var same [3][3]float64
	for i := range 3000 {
		a := Arm(Bucket(visitorID(i), "home-blocks", ""), weights)
		same[a][a]++
	}
	if p := independence(same); p > 0.001 {
		t.Errorf("independence test misses total dependence: p = %.3g", p)
	}
}

// independence is the chi-square test of independence of a 3×3
// contingency table: expected cell count row·column/total, 4 degrees of
// freedom.
func independence(table [3][3]float64) float64 {
	var rows, cols [3]float64
	total := 0.0
	for i := range 3 {
		for j := range 3 {
			rows[i] += table[i][j]
			cols[j] += table[i][j]
			total += table[i][j]
		}
	}
	chi := 0.0
	for i := range 3 {
		for j := range 3 {
			e := rows[i] * cols[j] / total
			chi += (table[i][j] - e) * (table[i][j] - e) / e
		}
	}
	return chiSquareSF(chi, 4)
}

// TestWeightsChange shows what the package documentation promises: Arm
// partitions [0, 1) in order, so when a 50/50 split becomes 20/80 only the
// visitors with buckets in [0.2, 0.5) would move, all from the first arm to
// the second (the caller keeps a visitor's first arm, so they do not);
// a new seed moves about half of everybody.
func TestWeightsChange(t *testing.T) {
	t.Parallel()
	const visitors = 20_000
	before, after := []float64{50, 50}, []float64{20, 80}
	moved, wrongWay, reshuffled := 0, 0, 0
	for i := range visitors {
		id := visitorID(i)
		b := Bucket(id, "home-blocks", "")
		was, is := Arm(b, before), Arm(b, after)
		if was != is {
			moved++
			if was != 0 || !(b >= 0.2 && b < 0.5) {
				wrongWay++
			}
		}
		if Arm(Bucket(id, "home-blocks", "new-seed"), before) != was {
			reshuffled++
		}
	}
	if wrongWay > 0 {
		t.Errorf("%d visitors moved other than from the first arm with a bucket in [0.2, 0.5)", wrongWay)
	}
	if share := float64(moved) / visitors; math.Abs(share-0.3) > 0.015 {
		t.Errorf("%.3f of visitors would move, want 0.30 ± 0.015", share)
	}
	if share := float64(reshuffled) / visitors; math.Abs(share-0.5) > 0.015 {
		t.Errorf("a new seed moved %.3f of visitors, want 0.50 ± 0.015", share)
	}
}

func BenchmarkBucketArm(b *testing.B) {
	weights := []float64{10, 45, 45}
	b.ReportAllocs()
	for b.Loop() {
		_ = Arm(Bucket("0123456789abcdef0123456789abcdef", "home-blocks", "2026"), weights)
	}
}
