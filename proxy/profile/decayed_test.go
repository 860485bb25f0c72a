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
		now := at.Add(time.Duration(r.IntN(100000)-1000) * time.Second) // sometimes before the last
		dec := d.Decay(now, half)
		if dec.Any() != (d.nInterest > 0) {
			t.Fatalf("round %d: Any %v with %d interests", round, dec.Any(), d.nInterest)
		}
		for c := catalog.ID(0); c <= 22; c++ {
			for _, id := range []catalog.ID{c, c | 1<<40} {
				got, want := dec.Interest(id), d.Interest(id, now, half)
				if math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("round %d: Decayed.Interest(%d) = %v, Interest %v", round, id, got, want)
				}
			}
		}
	}
}
