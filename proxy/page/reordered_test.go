package page

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"shopedge/rewrite"
)

// TestReordered: a list reordered in one pass is byte for byte what a
// rewrite.Splice of the same reordering makes, for every order:
// permutations, and orders that do not fit (the shop's bytes); entries
// adjacent, empty or with bytes between them. ReorderedParts makes the
// same bytes, cut before the first entry and after each one: each part
// but the first and the last is what precedes an entry's place, then the
// entry the order puts there; the shop's bytes are one part.
func TestReordered(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		const base = 1000
		var region Region
		var b strings.Builder
		n := rng.IntN(8)
		for k := range n {
			b.WriteString(strings.Repeat(" ", rng.IntN(3))) // between entries: nothing, or some bytes
			start := base + b.Len()
			if rng.IntN(5) > 0 {
				fmt.Fprintf(&b, "<li>%d</li>", k)
			}
			region.Slots = append(region.Slots, rewrite.Range{Start: start, End: base + b.Len()})
		}
		b.WriteString("</ul>")
		region.Bytes = []byte("<ul>" + b.String())
		for i := range region.Slots {
			region.Slots[i].Start += 4
			region.Slots[i].End += 4
		}
		region.Span = rewrite.Range{Start: base, End: base + len(region.Bytes)}
		order := rng.Perm(n)
		switch rng.IntN(4) {
		case 0: // one entry twice
			if n > 1 {
				order[0] = order[1]
			}
		case 1: // too few
			order = order[:max(0, n-1)]
		case 2: // out of range
			if n > 0 {
				order[rng.IntN(n)] = n
			}
		case 3: // entries out of order
			if n > 1 {
				region.Slots[0], region.Slots[1] = region.Slots[1], region.Slots[0]
			}
		}
		want := splicedOrder([]byte("before:"), &region, order)
		if got := region.Reordered([]byte("before:"), order); !bytes.Equal(got, want) {
			t.Fatalf("order %v of %v in %q:\ngot  %q\nwant %q", order, region.Slots, region.Bytes, got, want)
		}
		got, cuts := region.ReorderedParts([]byte("before:"), order, []int{-1})
		if !bytes.Equal(got, want) || cuts[0] != -1 {
			t.Fatalf("ReorderedParts %v of %v in %q: %q, cuts %v; want %q after the cuts given", order, region.Slots, region.Bytes, got, cuts, want)
		}
		cuts = cuts[1:]
		if !fits(&region, order) || n == 0 {
			if len(cuts) != 0 {
				t.Fatalf("the shop's bytes for order %v of %v, cut at %v", order, region.Slots, cuts)
			}
			continue
		}
		if len(cuts) != n+1 {
			t.Fatalf("order %v of %d entries: cuts %v, want %d", order, n, cuts, n+1)
		}
		if first := region.Slots[0].Start - base; !bytes.Equal(got[len("before:"):cuts[0]], region.Bytes[:first]) {
			t.Errorf("order %v: first part %q, want the bytes before the first entry %q", order, got[len("before:"):cuts[0]], region.Bytes[:first])
		}
		for k, o := range order {
			part, entry := got[cuts[k]:cuts[k+1]], region.Slots[o]
			gap := region.Bytes[0:0]
			if k > 0 {
				gap = region.Bytes[region.Slots[k-1].End-base : region.Slots[k].Start-base]
			}
			if want := string(gap) + string(region.Bytes[entry.Start-base:entry.End-base]); string(part) != want {
				t.Errorf("order %v: part %d %q, want %q", order, k+1, part, want)
			}
		}
	}
}

// fits reports whether order is a permutation of the region's slots, which
// are in order and apart.
func fits(r *Region, order []int) bool {
	if len(order) != len(r.Slots) {
		return false
	}
	seen := map[int]bool{}
	for _, o := range order {
		if o < 0 || o >= len(order) || seen[o] {
			return false
		}
		seen[o] = true
	}
	for k := 1; k < len(r.Slots); k++ {
		if r.Slots[k].Start < r.Slots[k-1].End {
			return false
		}
	}
	return true
}

// splicedOrder is Reordered made through a rewrite.Splice: the
// reference TestReordered checks the one pass against.
func splicedOrder(dst []byte, r *Region, order []int) []byte {
	var sp rewrite.Splice
	var slots []rewrite.Range
	for _, s := range r.Slots {
		slots = append(slots, rewrite.Range{Start: s.Start - r.Span.Start, End: s.End - r.Span.Start})
	}
	if err := sp.Reorder(slots, order); err != nil {
		return append(dst, r.Bytes...)
	}
	return sp.Bytes(dst, r.Bytes)
}

// BenchmarkReordered reorders a menu of twelve entries, as the demo's
// pages have.
func BenchmarkReordered(b *testing.B) {
	var region Region
	var sb strings.Builder
	sb.WriteString("<ul>")
	for k := range 12 {
		sb.WriteString("\n  ")
		start := sb.Len()
		fmt.Fprintf(&sb, `<li class="nav-item"><a href="/c/category-%d">Category %d</a></li>`, k, k)
		region.Slots = append(region.Slots, rewrite.Range{Start: start, End: sb.Len()})
	}
	sb.WriteString("\n</ul>")
	region.Bytes, region.Span = []byte(sb.String()), rewrite.Range{End: sb.Len()}
	order := []int{3, 7, 0, 1, 2, 4, 5, 6, 8, 9, 10, 11}
	dst := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		dst = region.Reordered(dst[:0], order)
	}
}
