package profile

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"shopedge/proxy/catalog"
)

// addInterestRef is addInterest as it was before the weakest interest was
// decayed once each: the reference the faster one must match.
func (d *Data) addInterestRef(cat catalog.ID, w float64, now time.Time, halfLife time.Duration) {
	t := uint32(now.Unix())
	c := uint32(cat)
	for i := range int(d.nInterest) {
		if d.interests[i].cat == c {
			d.interests[i].score = float32(decay(d.interests[i], now, halfLife) + w)
			d.interests[i].at = t
			return
		}
	}
	in := interest{cat: c, score: float32(w), at: t}
	if int(d.nInterest) < MaxInterests {
		d.interests[d.nInterest] = in
		d.nInterest++
		return
	}
	weakest := 0
	for i := 1; i < MaxInterests; i++ {
		if decay(d.interests[i], now, halfLife) < decay(d.interests[weakest], now, halfLife) {
			weakest = i
		}
	}
	d.interests[weakest] = in
}

// TestDecayedMatchesInterest: on random profiles (more categories than a
// profile holds, weights and times at random, ties included), Decayed
// answers what Interest answers at its time, to the bit, for categories
// held and not; and addInterest leaves the profile the reference leaves.
func TestDecayedMatchesInterest(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for round := range 2000 {
		var d, ref Data
		half := time.Duration(1+r.IntN(200)) * time.Hour
		if round%50 == 0 {
			half = 0 // no decay
		}
		at := t0
		for range r.IntN(60) {
			at = at.Add(time.Duration(r.IntN(3)) * time.Duration(r.IntN(7200)) * time.Second) // often the same second
			c := catalog.ID(1 + r.IntN(20))
			if r.IntN(4) == 0 {
				c |= 1 << 40 // the same low half: the same category to a profile
			}
			w := []float64{ViewWeight, CategoryWeight, CartWeight, PurchaseWeight, 0.9, 0.8}[r.IntN(6)]
			d.addInterest(c, w, at, half)
			ref.addInterestRef(c, w, at, half)
		}
		if d != ref {
			t.Fatalf("round %d: addInterest left %+v, the reference %+v", round, d.interests, ref.interests)
		}
		if round%100 == 1 && d.nInterest > 0 {
			// Scores no event makes: NaN, and infinities (which a decay to
			// nothing makes NaN).
			d.interests[r.IntN(int(d.nInterest))].score = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(3)]
		}
		now := at.Add(time.Duration(r.IntN(100000)-1000) * time.Second) // sometimes before the last
		if round%100 == 1 {
			now = now.Add(2000 * half) // decayed to nothing
		}
		dec := d.Decay(now, half)
		if dec.Any() != (d.nInterest > 0) {
			t.Fatalf("round %d: Any %v with %d interests", round, dec.Any(), d.nInterest)
		}
		// The strong ones at a bar: among the scores, at 0, below 0, or
		// none's.
		bar := []float64{0, -1, 0.5, 1, 2.5, 4}[r.IntN(6)]
		if d.nInterest > 0 && r.IntN(3) == 0 {
			bar = d.Interest(catalog.ID(d.interests[0].cat), now, half)
		}
		strong := dec.AtLeast(bar)
		nan := false
		for i := range int(d.nInterest) {
			if v := d.Interest(catalog.ID(d.interests[i].cat), now, half); v != v {
				nan = true
			}
		}
		for c := catalog.ID(0); c <= 22; c++ {
			for _, id := range []catalog.ID{c, c | 1<<40} {
				want := d.Interest(id, now, half)
				if got := dec.Interest(id); math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("round %d: Decayed.Interest(%d) = %v, Interest %v", round, id, got, want)
				}
				if !nan && !(want >= bar && want > 0) {
					want = 0
				}
				if got := strong.Interest(id); math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("round %d: AtLeast(%v).Interest(%d) = %v, want %v", round, bar, id, got, want)
				}
			}
		}
	}
}
