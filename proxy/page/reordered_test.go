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
// adjacent, empty or with bytes between them.
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
	}
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
