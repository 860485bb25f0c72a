package experiment

import (
	"encoding/binary"
	"math"

	"github.com/cespare/xxhash/v2"
)

// Bucket returns the visitor's position in [0, 1) for one experiment: a
// 64-bit xxHash (XXH64) of the seed, the experiment name and the visitor id,
// each written with its length in front so that no two different triples
// hash the same bytes, and the top 53 bits of the hash scaled to [0, 1).
//
// It is deterministic (the same three strings give the same bucket in every
// process, on every machine, across restarts) and, because the experiment
// name is part of the hashed bytes, a visitor's buckets in two experiments
// are independent. Changing seed moves every visitor to a new, independent
// bucket: that is how an experiment is reshuffled.
func Bucket(visitorID, experiment, seed string) float64 {
	var d xxhash.Digest
	d.Reset()
	writeField(&d, seed)
	writeField(&d, experiment)
	writeField(&d, visitorID)
	return float64(d.Sum64()>>11) * 0x1p-53
}

// writeField writes s's length, then s, so that fields cannot run into each
// other ("ab"+"c" and "a"+"bc" hash differently).
func writeField(d *xxhash.Digest, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	_, _ = d.Write(n[:])
	_, _ = d.WriteString(s)
}

// Arm picks the arm whose share of [0, 1) holds bucket: arm i owns the
// interval [c(i-1), c(i)) of the cumulative weights divided by their sum, so
// weights need not sum to 1 (1, 1 and 50, 50 are the same split). A weight
// of zero (or a negative, NaN or infinite one, all read as zero) gives its arm an empty
// interval: nobody new is assigned to it, which is how an arm is closed
// without renumbering the others. It returns -1 when no weight is positive,
// when weights is empty, or when bucket is outside [0, 1): the visitor is in
// no arm and should not be counted.
//
// Arm allocates nothing. See the package documentation for what happens to
// visitors when weights change.
func Arm(bucket float64, weights []float64) int {
	if !(bucket >= 0 && bucket < 1) {
		return -1
	}
	total := 0.0
	last := -1
	for i, w := range weights {
		if w > 0 && !math.IsInf(w, 1) {
			total += w
			last = i
		}
	}
	if last < 0 {
		return -1
	}
	target := bucket * total
	cum := 0.0
	for i, w := range weights {
		if !(w > 0) || math.IsInf(w, 1) {
			continue
		}
		cum += w
		if target < cum {
			return i
		}
	}
	// Rounding can leave target a hair above the last cumulative sum.
	return last
}
