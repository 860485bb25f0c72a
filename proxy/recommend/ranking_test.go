package recommend

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// topIDsRef is topIDs as it was: every product sorted.
func topIDsRef(r []ranked, n int) []ID {
	sort.Slice(r, func(i, j int) bool {
		if r[i].s != r[j].s {
			return r[i].s > r[j].s
		}
		return r[i].id < r[j].id
	})
	if len(r) > n {
		r = r[:n]
	}
	out := make([]ID, len(r))
	for i, x := range r {
		out[i] = x.id
	}
	return out
}

// TestTopIDsMatchesSort: the top-n selection gives the sort's head, in its
// order, on random lists: scores with many ties (and zeros), lists shorter
// and longer than n, in every order.
func TestTopIDsMatchesSort(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 8))
	for round := range 3000 {
		size := r.IntN(600)
		list := make([]ranked, size)
		perm := r.Perm(size + 1)
		for i := range list {
			list[i] = ranked{id: ID(perm[i] + 1), s: float64(r.IntN(1 + round%40))}
			if round%3 == 0 {
				list[i].s = r.Float64() * 100
			}
		}
		if round%7 == 0 {
			slices.SortFunc(list, func(a, b ranked) int { return int(b.s - a.s) }) // already near the order
		}
		n := []int{1, 5, catTopLen, topLen, size, size + 1}[r.IntN(6)]
		if n <= 0 {
			n = 1
		}
		got := topIDs(slices.Clone(list), n)
		want := topIDsRef(slices.Clone(list), n)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%d products, top %d): %v, want %v", round, size, n, got, want)
		}
	}
}

// TestSortByScoreStable: the insertion sort of a re-ranking gives the
// stable sort's order on random candidates: scores tied, zeros of both
// signs, infinities and NaN, nearly in order or not, of every length up
// to past the insertion sort's.
func TestSortByScoreStable(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(6, 1))
	odd := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN()}
	for round := range 5000 {
		cands := make([]Scored, r.IntN(80))
		for i := range cands {
			cands[i] = Scored{ID: ID(i + 1), Score: 1 / float64(i+1) * (1 + 0.5*float64(r.IntN(3)))}
			switch r.IntN(10) {
			case 0:
				cands[i].Score = odd[r.IntN(len(odd))]
			case 1:
				cands[i].Score = float64(r.IntN(3))
			}
		}
		if round%2 == 0 {
			r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		}
		got, want := slices.Clone(cands), slices.Clone(cands)
		sortByScoreStable(got)
		slices.SortStableFunc(want, func(a, b Scored) int { return cmp.Compare(b.Score, a.Score) })
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("round %d: %v, want %v", round, got, want)
			}
		}
	}
}
