package recommend

import (
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
