package proxy

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"shopedge/rewrite"
)

func TestCRC32Combine(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 64, 1000, 65537} {
		for _, m := range []int{0, 1, 3, 4096, 100000} {
			a, b := make([]byte, n), make([]byte, m)
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			want := crc32.ChecksumIEEE(append(append([]byte(nil), a...), b...))
			if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), m); got != want {
				t.Errorf("combine(%d, %d bytes) = %08x, want %08x", n, m, got, want)
			}
		}
	}
}

// TestGzipAssembly: a page assembled from compressed pieces is a valid
// gzip stream of exactly the page with the visitor's contents spliced in,
// whether the pieces are compressed now or kept from an earlier visitor.
func TestGzipAssembly(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("<html><body>" + strings.Repeat("<p>intro text</p>", 300))
	list := func(name string) site {
		b.WriteString("<ul class=" + name + ">")
		s := site{kind: siteMenu}
		for i := range 5 {
			start := b.Len()
			b.WriteString("<li><a href=/c/" + name + string(rune('a'+i)) + ">" + strings.Repeat("x", i*7) + "</a></li>")
			s.slots = append(s.slots, rewrite.Range{Start: start, End: b.Len()})
			b.WriteString("\n  ")
		}
		s.span = rewrite.Range{Start: s.slots[0].Start, End: s.slots[len(s.slots)-1].End}
		b.WriteString("</ul>")
		return s
	}
	one := list("one")
	b.WriteString(strings.Repeat("<div>middle</div>", 200))
	insert := site{kind: siteBlock, span: rewrite.Range{Start: b.Len(), End: b.Len()}}
	b.WriteString(strings.Repeat("<div>more</div>", 100))
	two := list("two")
	b.WriteString(strings.Repeat("<footer>end</footer>", 100) + "</body></html>")
	body := []byte(b.String())
	sites := []site{one, insert, two}
	for i := range sites {
		sites[i].bytes = body[sites[i].span.Start:sites[i].span.End]
	}
	info := &pageInfo{size: len(body), sites: sites, gz: newGzipParts(body, sites, nil)}
	block := []byte(`<section class="se-rec"><h2>You may also like</h2><ul><li>a</li></ul></section>`) // stored
	big := bytes.Repeat(block, 30)                                                                     // compressed

	for _, c := range []struct {
		orders [2][]int
		block  []byte
	}{
		{},
		{orders: [2][]int{{4, 0, 1, 2, 3}, nil}},
		{orders: [2][]int{nil, {2, 0, 1, 3, 4}}, block: block},
		{orders: [2][]int{{1, 0, 2, 3, 4}, {4, 3, 2, 1, 0}}, block: block},
		{orders: [2][]int{{1, 0, 2, 3, 4}, {4, 3, 2, 1, 0}}, block: block}, // kept pieces
		{orders: [2][]int{{1, 0, 2, 3, 4}, nil}, block: big},
		{orders: [2][]int{{1, 0, 2, 3, 4}, nil}, block: big}, // kept piece
	} {
		contents := make([][]byte, 3)
		for i, s := range []*site{&sites[0], &sites[2]} {
			if c.orders[i] != nil {
				contents[2*i] = s.reordered(nil, c.orders[i])
			}
		}
		contents[1] = c.block
		want := info.assemble(nil, body, contents)
		gz := info.appendGzip(nil, contents, 5)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr) // checks the CRC and the length
		if err != nil {
			t.Fatalf("orders %v, block %t: %v", c.orders, c.block != nil, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("orders %v, block %t: assembled page differs from the spliced one", c.orders, c.block != nil)
		}
		if c.orders[0] != nil && bytes.Equal(want, body) {
			t.Errorf("orders %v: nothing moved", c.orders)
		}
		if len(gz) > len(body)/3 {
			t.Errorf("orders %v: %d compressed bytes for %d", c.orders, len(gz), len(body))
		}
	}
}

// TestPieceBudget: visitors' pieces are kept only within the shared
// budget, and a page that leaves the cache gives its room back and keeps
// nothing more.
func TestPieceBudget(t *testing.T) {
	t.Parallel()
	body := []byte("<html><body><main>" + strings.Repeat("<p>shop text</p>", 50) + "</main></body></html>")
	at := strings.Index(string(body), "</main>")
	sites := []site{{kind: siteBlock, span: rewrite.Range{Start: at, End: at}}}
	budget := &pieceBudget{max: 1000}
	g := newGzipParts(body, sites, budget)
	for i := range 20 {
		g.piece(0, []byte(fmt.Sprintf("<section>block %d %s</section>", i, strings.Repeat("x", 100))), 6)
	}
	if used := budget.used.Load(); used > budget.max || used == 0 {
		t.Fatalf("budget used %d of %d", used, budget.max)
	}
	kept := len(g.pieces[0])
	if kept == 0 || kept == 20 {
		t.Fatalf("%d of 20 pieces kept within a 1000-byte budget", kept)
	}
	g.release()
	if used := budget.used.Load(); used != 0 {
		t.Errorf("after release, budget used %d", used)
	}
	g.piece(0, []byte("<section>after</section>"), 6)
	if used := budget.used.Load(); used != 0 {
		t.Errorf("a released page kept a piece: budget used %d", used)
	}
}
