package splice

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	type list struct {
		span  rewrite.Range
		slots []rewrite.Range // relative to span
	}
	newList := func(name string) list {
		b.WriteString("<ul class=" + name + ">")
		var s list
		for i := range 5 {
			start := b.Len()
			b.WriteString("<li><a href=/c/" + name + string(rune('a'+i)) + ">" + strings.Repeat("x", i*7) + "</a></li>")
			s.slots = append(s.slots, rewrite.Range{Start: start, End: b.Len()})
			b.WriteString("\n  ")
		}
		s.span = rewrite.Range{Start: s.slots[0].Start, End: s.slots[len(s.slots)-1].End}
		for i := range s.slots {
			s.slots[i].Start -= s.span.Start
			s.slots[i].End -= s.span.Start
		}
		b.WriteString("</ul>")
		return s
	}
	one := newList("one")
	b.WriteString(strings.Repeat("<div>middle</div>", 200))
	insert := rewrite.Range{Start: b.Len(), End: b.Len()}
	b.WriteString(strings.Repeat("<div>more</div>", 100))
	two := newList("two")
	b.WriteString(strings.Repeat("<footer>end</footer>", 100) + "</body></html>")
	body := []byte(b.String())
	spans := []rewrite.Range{one.span, insert, two.span}
	g := NewGzip(body, spans, nil)
	reordered := func(l list, order []int) []byte {
		var sp rewrite.Splice
		if err := sp.Reorder(l.slots, order); err != nil {
			t.Fatal(err)
		}
		return sp.Bytes(nil, body[l.span.Start:l.span.End])
	}
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
		for i, l := range []list{one, two} {
			if c.orders[i] != nil {
				contents[2*i] = reordered(l, c.orders[i])
			}
		}
		contents[1] = c.block
		want := Assemble(nil, body, spans, contents)
		gz := g.Append(nil, contents, 5)
		got, err := gunzip(gz)
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

// TestBudget: what visitors got is kept, the second time it comes, for
// every page sharing the budget, within its bound: a content seen once is
// not kept (one visitor's alone), a full budget starts over, and a content
// larger than the whole budget is compressed and not kept.
func TestBudget(t *testing.T) {
	body := []byte("<html><body><main>" + strings.Repeat("<p>shop text</p>", 50) + "</main></body></html>")
	at := strings.Index(string(body), "</main>")
	budget := NewBudget(4000)
	g := NewGzip(body, []rewrite.Range{{Start: at, End: at}}, budget)
	other := NewGzip(append([]byte("<!doctype html>"), body...), []rewrite.Range{{Start: at + 15, End: at + 15}}, budget)
	block := []byte("<section>" + strings.Repeat("block ", 200) + "</section>")
	g.Append(nil, [][]byte{block}, 6)
	if used := budget.Used(); used != 0 {
		t.Fatalf("a block seen once was kept: budget used %d", used)
	}
	g.Append(nil, [][]byte{block}, 6)
	if used := budget.Used(); used == 0 || used > budget.Max() {
		t.Fatalf("budget used %d of %d after a block seen twice", used, budget.Max())
	}
	dst := make([]byte, 0, 8<<10)
	if n := testing.AllocsPerRun(10, func() { other.Append(dst[:0], [][]byte{block}, 6) }); n != 0 {
		t.Errorf("a block compressed for another page costs %v allocations: not kept for every page", n)
	}
	for i := range 20 {
		b := []byte(fmt.Sprintf("<section>block %d %s</section>", i, strings.Repeat("x", 1100)))
		g.Append(nil, [][]byte{b}, 6)
		g.Append(nil, [][]byte{b}, 6)
		if used := budget.Used(); used > budget.Max() || used == 0 {
			t.Fatalf("budget used %d of %d", used, budget.Max())
		}
	}
	huge := bytes.Repeat([]byte("<p>unique text, not compressible much 0123456789</p>"), 400)
	before := budget.Used()
	g.Append(nil, [][]byte{huge}, 6)
	g.Append(nil, [][]byte{huge}, 6)
	if budget.Used() != before {
		t.Errorf("a content larger than the budget was kept: used %d, was %d", budget.Used(), before)
	}
}

// TestAppendParts: a page whose block is given in parts decodes to the
// same bytes as the block given whole (the CRC and length checked by the
// reader), at any cuts, out of order or past the end; every part is
// compressed once for every page sharing the budget (a second page, a
// block of the same cards in another order, costs no deflate and no
// allocation but the page's own); the parts stay within the budget.
func TestAppendParts(t *testing.T) {
	body := []byte("<html><body><main>" + strings.Repeat("<p>shop text</p>", 200) + "</main>" + strings.Repeat("<footer>end</footer>", 50) + "</body></html>")
	at := strings.Index(string(body), "</main>")
	spans := []rewrite.Range{{Start: at, End: at}}
	budget := NewBudget(1 << 20)
	head := `<section class="se-rec"><h2>Picked for you</h2><ul>`
	card := func(i int) string {
		return fmt.Sprintf(`<li class="se-rec-item"><a href="/p/lamp-%d?se_rec=b"><img src="/img/%d.jpg" alt=""><span class="se-rec-name">Lamp number %d</span><span class="se-rec-price">€%d.00</span></a></li>`, i, i, i, 10*i)
	}
	block := func(ids ...int) ([]byte, []int) {
		b := head
		cuts := []int{len(b)}
		for _, i := range ids {
			b += card(i)
			cuts = append(cuts, len(b))
		}
		return []byte(b + "</ul></section>"), cuts
	}
	decode := func(gz []byte) []byte {
		t.Helper()
		got, err := gunzip(gz)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	g := NewGzip(body, spans, budget)
	wholes := NewGzip(body, spans, nil) // the block whole, compressed apart from the budget
	other := NewGzip(append([]byte("<!-- another page -->"), body...), []rewrite.Range{{Start: at + 21, End: at + 21}}, budget)
	for _, c := range []struct {
		name string
		ids  []int
		cuts func([]int) []int
	}{
		{"cards", []int{1, 2, 3, 4, 5, 6, 7, 8}, nil},
		{"the same cards, another order", []int{8, 6, 4, 2, 1, 3, 5, 7}, nil},
		{"no cards", nil, nil},
		{"cuts out of order and past the end", []int{3, 1}, func(c []int) []int { return []int{c[1], c[0], 1 << 20} }},
	} {
		b, cuts := block(c.ids...)
		if c.cuts != nil {
			cuts = c.cuts(cuts)
		}
		want := Assemble(nil, body, spans, [][]byte{b})
		if got := decode(g.AppendParts(nil, [][]byte{b}, [][]int{cuts}, 1)); !bytes.Equal(got, want) {
			t.Errorf("%s: the page from parts differs from the page spliced whole", c.name)
		}
		whole := decode(wholes.Append(nil, [][]byte{b}, 1))
		if !bytes.Equal(whole, want) {
			t.Errorf("%s: the page with the block whole differs", c.name)
		}
	}
	used := budget.Used()
	b, cuts := block(5, 3, 8, 1, 7, 2, 6, 4)
	dst := make([]byte, 0, 64<<10)
	// The fewest of three measures: a collection during one empties the
	// pools AppendParts takes its scratch from, and their refill counts.
	n := math.Inf(1)
	for range 3 {
		n = min(n, testing.AllocsPerRun(10, func() { other.AppendParts(dst[:0], [][]byte{b}, [][]int{cuts}, 1) }))
	}
	if n != 0 {
		t.Errorf("a block of cards compressed for another page costs %v allocations here", n)
	}
	if budget.Used() != used {
		t.Errorf("the parts were compressed again for another page: budget %d, was %d", budget.Used(), used)
	}
	if used == 0 || used > budget.Max() {
		t.Errorf("parts hold %d bytes of a %d budget", used, budget.Max())
	}
	// A full budget starts over.
	small := NewBudget(4000)
	gs := NewGzip(body, spans, small)
	for i := range 40 {
		b, cuts := block(100+i, 200+i)
		for range 2 {
			if got := decode(gs.AppendParts(nil, [][]byte{b}, [][]int{cuts}, 1)); !bytes.Equal(got, Assemble(nil, body, spans, [][]byte{b})) {
				t.Fatal("a page from parts of a full cache differs")
			}
		}
		if small.Used() > small.Max() {
			t.Fatalf("parts hold %d bytes, bound %d", small.Used(), small.Max())
		}
	}
}

// TestBudgetClear: a cleared budget holds nothing, and keeps again.
func TestBudgetClear(t *testing.T) {
	t.Parallel()
	body := []byte("<html><body>" + strings.Repeat("<p>shop text</p>", 50) + "</body></html>")
	budget := NewBudget(1 << 20)
	g := NewGzip(body, []rewrite.Range{{Start: 12, End: 12}}, budget)
	block := []byte("<section>" + strings.Repeat("block ", 300) + "</section>")
	g.Append(nil, [][]byte{block}, 1)
	g.Append(nil, [][]byte{block}, 1)
	if budget.Used() == 0 {
		t.Fatal("nothing kept")
	}
	budget.Clear()
	if budget.Used() != 0 {
		t.Fatalf("a cleared budget holds %d bytes", budget.Used())
	}
	g.Append(nil, [][]byte{block}, 1) // seen before the clear: kept again at once
	if budget.Used() == 0 {
		t.Fatal("a cleared budget keeps nothing more")
	}
}

// TestBudgetLevel: a content kept at one level is compressed again, and
// kept, at another (a reload that changes limits.gzip_level).
func TestBudgetLevel(t *testing.T) {
	t.Parallel()
	budget := NewBudget(1 << 20)
	content := []byte("<nav>" + strings.Repeat("<a href=/c/x>x</a>", 100) + "</nav>")
	budget.compressed(content, 1)
	z1, _ := budget.compressed(content, 1)
	budget.compressed(content, 9)
	z9, _ := budget.compressed(content, 9)
	if k := budget.lookup(content); k == nil || k.level != 9 || !bytes.Equal(k.z(), z9) {
		t.Errorf("kept %+v, want at level 9", k)
	}
	if bytes.Equal(z1, z9) {
		t.Log("levels 1 and 9 gave the same bytes")
	}
	if used, want := budget.Used(), int64(len(content)+len(z9))+keptShare+frontSize(budget.Max()); used != want {
		t.Errorf("budget charged %d, want %d (the level-1 form given back)", used, want)
	}
}

// TestFirstSightStored: a content the budget has not seen goes stored
// (its bytes as they are, nothing compressed or kept), the second time
// compressed and kept, and both pages decode to the page spliced whole.
func TestFirstSightStored(t *testing.T) {
	t.Parallel()
	body := []byte("<html><body><nav>menu</nav><main>" + strings.Repeat("<p>the shop's text</p>", 200) + "</main></body></html>")
	at := bytes.Index(body, []byte("<nav>"))
	spans := []rewrite.Range{{Start: at, End: at + len("<nav>menu</nav>")}}
	budget := NewBudget(1 << 20)
	g := NewGzip(body, spans, budget)
	menu := []byte("<nav>" + strings.Repeat(`<a href="/c/shoes">Shoes</a>`, 60) + "</nav>") // over maxStored
	want := Assemble(nil, body, spans, [][]byte{menu})
	for i, wantStored := range []bool{true, false, false} {
		z := g.AppendParts(nil, [][]byte{menu}, nil, 6)
		got, err := gunzip(z)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("page %d: does not decode to the page spliced whole (%v)", i+1, err)
		}
		if stored := bytes.Contains(z, menu); stored != wantStored {
			t.Errorf("page %d: the menu stored %v, want %v", i+1, stored, wantStored)
		}
		if kept := budget.Used() > 0; kept == wantStored {
			t.Errorf("page %d: budget holds %d bytes", i+1, budget.Used())
		}
	}
	if k := budget.lookup(menu); k == nil || cap(k.z()) != len(k.z()) || cap(k.b) != len(k.b) {
		t.Errorf("kept %+v: more capacity than is charged", k)
	}

	// A large content is compressed the first time, and not kept.
	long := []byte("<nav>" + strings.Repeat(`<a href="/c/shoes">Shoes</a>`, 400) + "</nav>") // over maxStoredFirst
	used := budget.Used()
	z := g.AppendParts(nil, [][]byte{long}, nil, 6)
	if bytes.Contains(z, long[:maxStoredFirst/2]) || len(z) > len(long)/2 {
		t.Errorf("a %d-byte content went stored the first time (%d bytes of gzip)", len(long), len(z))
	}
	if budget.Used() != used {
		t.Error("a content seen once was kept")
	}
}

// TestFirstSightBounded: a page sends at most maxStoredFirst bytes stored
// of what comes for the first time, over all its contents; past that, the
// parts no one got before (two blocks of new cards) are compressed, not
// kept, and the page still decodes to its bytes. The next page of the same
// parts compresses them, and keeps them. (A part whose hash shares a
// seen slot with another's is taken for new once more: the seeds are
// random, so the bounds allow for it.)
func TestFirstSightBounded(t *testing.T) {
	t.Parallel()
	body := []byte("<html><body><main><ul>one</ul>" + strings.Repeat("<p>the shop's text</p>", 200) + "<ul>two</ul></main></body></html>")
	var spans []rewrite.Range
	for _, l := range []string{"<ul>one</ul>", "<ul>two</ul>"} {
		at := bytes.Index(body, []byte(l))
		spans = append(spans, rewrite.Range{Start: at, End: at + len(l)})
	}
	budget := NewBudget(1 << 20)
	g := NewGzip(body, spans, budget)
	var contents [][]byte
	var cuts [][]int
	var zCards int // the cards compressed apart, all of them
	for block := range 2 {
		var list []byte
		var c []int
		for i := range 15 { // 15 cards of ~700 bytes a block: 21 KB, 5 times maxStoredFirst
			card := fmt.Sprintf("<li class=card><a href=/p/%d-%d>%s</a></li>", block, i, strings.Repeat(fmt.Sprintf("product %d %d ", block, i), 50))
			zCards += len(deflatePiece(nil, []byte(card), 6, false))
			list = append(list, card...)
			c = append(c, len(list))
		}
		contents, cuts = append(contents, list), append(cuts, c)
	}
	want := Assemble(nil, body, spans, contents)
	plain := len(g.Append(nil, make([][]byte, len(spans)), 6)) // the shop's page, its pieces compressed
	for i := range 3 {
		bound := maxStoredFirst + zCards
		z := g.AppendParts(nil, contents, cuts, 6)
		got, err := gunzip(z)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("page %d: does not decode to the page spliced whole (%v)", i+1, err)
		}
		if cards := len(z) - plain; cards > bound+256 { // + the stored blocks' heads
			t.Errorf("page %d: %d bytes of gzip for the cards, want at most %d", i+1, cards, bound)
		}
	}
	kept := 0
	for i, list := range contents {
		from := 0
		for _, to := range cuts[i] {
			if budget.lookup(list[from:to]) != nil {
				kept++
			}
			from = to
		}
	}
	if kept < 24 {
		t.Errorf("%d of 30 cards kept after three pages", kept)
	}
}

// gunzip decodes a gzip stream whole, checking its CRC and length.
func gunzip(z []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// lookup returns what b keeps of content, or nil.
func (b *Budget) lookup(content []byte) *kept {
	return b.fromMap(content, maphash.Bytes(seed, content))
}

// budgetError says what is wrong with b's accounting, if anything: what
// it charges must be what its map holds, within the budget less the
// front's slots, and the front must hold only entries of the map.
func budgetError(b *Budget) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var sum int64
	for h, k := range b.m {
		if k.hash != h {
			return fmt.Errorf("an entry of hash %x under %x", k.hash, h)
		}
		if len(k.z()) != cap(k.z()) {
			return fmt.Errorf("an entry's deflate form has capacity %d for %d bytes", cap(k.z()), len(k.z()))
		}
		sum += k.cost()
	}
	if sum != b.bytes {
		return fmt.Errorf("budget charges %d, its entries cost %d", b.bytes, sum)
	}
	if b.bytes+frontSize(b.max) > b.max {
		return fmt.Errorf("budget holds %d bytes and %d of slots, bound %d", b.bytes, frontSize(b.max), b.max)
	}
	f := b.front.Load()
	if (f == nil) != (b.m == nil) {
		return fmt.Errorf("a front %v with a map %v", f != nil, b.m != nil)
	}
	if f == nil {
		return nil
	}
	for i := range f.slots {
		if k := f.slots[i].Load(); k != nil && b.m[k.hash] != k {
			return fmt.Errorf("the front's slot %d holds an entry its map does not", i)
		}
	}
	return nil
}

// TestAppendPartsRandom: pages of random sites get random contents in
// random parts, from a pool that comes again (first stored, then
// compressed and kept) at two levels, from goroutines sharing a budget
// small enough to start over many times; every page decodes to the page
// spliced whole, and the budget's accounting holds throughout.
func TestAppendPartsRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	word := func(r *rand.Rand) string {
		return []string{"<li>", "</li>", "<a href=\"/p/", "lamp", "shoe", "€", "12.00", " ", "\n", "class=\"se-rec-item\""}[r.IntN(10)]
	}
	text := func(r *rand.Rand, n int) []byte {
		var b []byte
		for len(b) < n {
			b = append(b, word(r)...)
			b = strconv.AppendInt(b, int64(r.IntN(50)), 10)
		}
		return b
	}
	var pool [][]byte // parts that come again
	for range 60 {
		pool = append(pool, text(r, 100+r.IntN(1500)))
	}
	type page struct {
		body  []byte
		spans []rewrite.Range
	}
	var pages []page
	for range 4 {
		var p page
		p.body = text(r, 5000+r.IntN(20000))
		for pos := r.IntN(2000); pos < len(p.body) && len(p.spans) < 7; pos += 1 + r.IntN(4000) {
			end := min(pos+r.IntN(3)*r.IntN(300), len(p.body))
			p.spans = append(p.spans, rewrite.Range{Start: pos, End: end})
			pos = end
		}
		pages = append(pages, p)
	}
	budget := NewBudget(24 << 10)
	gz := make([]*Gzip, len(pages))
	for i, p := range pages {
		gz[i] = NewGzip(p.body, p.spans, budget)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(9, uint64(w)))
			for range 150 {
				pi := r.IntN(len(pages))
				p := pages[pi]
				contents := make([][]byte, len(p.spans))
				cuts := make([][]int, len(p.spans))
				for i := range contents {
					switch r.IntN(4) {
					case 0: // the shop's
					case 1: // one part, from the pool or the visitor's own
						if r.IntN(2) == 0 {
							contents[i] = pool[r.IntN(len(pool))]
						} else {
							contents[i] = text(r, r.IntN(3000))
						}
					default: // parts: a head, cards, a foot
						var c []byte
						for range r.IntN(10) {
							if r.IntN(5) == 0 {
								c = append(c, text(r, r.IntN(400))...)
							} else {
								c = append(c, pool[r.IntN(len(pool))]...)
							}
							cuts[i] = append(cuts[i], len(c))
						}
						contents[i] = append(c, "</ul>"...)
					}
				}
				want := Assemble(nil, p.body, p.spans, contents)
				got, err := gunzip(gz[pi].AppendParts(nil, contents, cuts, 1+5*r.IntN(2)))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("page %d: does not decode to the page spliced whole (%v)", pi, err)
					return
				}
				if err := budgetError(budget); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if budget.Used() == 0 {
		t.Error("nothing kept")
	}
}

// TestAppendPartsBytes: once its parts are kept, a page is exactly the
// gzip header, the shop's pieces and each part deflated on its own (small
// ones stored) in order, then the CRC-32 and length of the page spliced
// whole: the CRC joined from kept parts' CRCs is the CRC of the bytes.
func TestAppendPartsBytes(t *testing.T) {
	t.Parallel()
	body, spans, contents, cuts := benchPage()
	contents[0] = nil // the shop's own site, joined by its CRC
	g := NewGzip(body, spans, NewBudget(1<<20))
	const level = 6
	want := slices.Clone(gzipHeader)
	for i := range spans {
		want = append(want, g.gaps[i]...)
		c := contents[i]
		switch {
		case c == nil:
			want = append(want, g.sites[i]...)
		case len(c) <= maxStored:
			want = appendStored(want, c)
		default:
			from := 0
			for _, to := range append(slices.Clone(cuts[i]), len(c)) {
				if part := c[from:to]; len(part) <= maxStoredPart {
					want = appendStored(want, part)
				} else {
					want = deflatePiece(want, part, level, false)
				}
				from = to
			}
		}
	}
	want = append(want, g.gaps[len(spans)]...)
	page := Assemble(nil, body, spans, contents)
	want = binary.LittleEndian.AppendUint32(want, crc32.ChecksumIEEE(page))
	want = binary.LittleEndian.AppendUint32(want, uint32(len(page)))
	for i := range 3 {
		got := g.AppendParts(nil, contents, cuts, level)
		if kept := i > 0; kept != bytes.Equal(got, want) {
			t.Errorf("page %d: equal to its parts deflated apart %v, want %v", i+1, !kept, kept)
		}
	}
}

// TestBudgetCollision: a content whose hash is another's is told apart by
// its bytes: it never gets the other's deflate form or CRC, and the
// budget's accounting holds.
func TestBudgetCollision(t *testing.T) {
	a := bytes.Repeat([]byte("the content asked for "), 100)
	other := bytes.Repeat([]byte("another content, same hash "), 100)
	zOther := deflatePiece(nil, other, 6, false)
	b := NewBudget(1 << 20)
	forged := &kept{
		hash: maphash.Bytes(seed, a), level: 6, n: len(other), b: make([]byte, len(other)+len(zOther)),
		crc: crc32.ChecksumIEEE(other), shift: xPow8n(len(other)),
	}
	copy(forged.b[copy(forged.b, other):], zOther)
	b.keep(forged)
	for i := range 3 { // first sight, second (kept), then from the front
		z, k := b.compressed(a, 6)
		if k == forged || (z != nil && bytes.Equal(z, zOther)) {
			t.Fatalf("call %d: the content got the other content's entry", i)
		}
		if k != nil && (k.crc != crc32.ChecksumIEEE(a) || !bytes.Equal(k.b[:k.n], a)) {
			t.Fatalf("call %d: kept with the wrong bytes or CRC", i)
		}
		if z != nil {
			got, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(got, a) {
				t.Fatalf("call %d: the deflate form is of %d other bytes (%v)", i, len(got), err)
			}
		}
		if err := budgetError(b); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}
