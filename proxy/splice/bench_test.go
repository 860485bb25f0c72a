package splice

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"shopedge/rewrite"
)

// benchPage is a page of about 30 KB with six sites, as the demo's
// category and product pages have: a menu, a block, two banners, the end
// of the head and of the body; and one visitor's contents for them, the
// block in parts.
func benchPage() (body []byte, spans []rewrite.Range, contents [][]byte, cuts [][]int) {
	var b strings.Builder
	b.WriteString("<html><head><title>Shoes</title>")
	var at []int
	at = append(at, b.Len()) // the end of the head
	b.WriteString("</head><body><nav>")
	menu := b.Len()
	for i := range 12 {
		fmt.Fprintf(&b, `<a href="/c/%d">Category %d</a>`, i, i)
	}
	spans = append(spans, rewrite.Range{Start: at[0], End: at[0]}, rewrite.Range{Start: menu, End: b.Len()})
	b.WriteString("</nav><main>")
	for i := range 120 {
		fmt.Fprintf(&b, `<article class="product-card"><a href="/p/shoe-%d"><img src="/img/%d.svg"><h3>Shoe %d</h3><p class="price">€%d.00</p></a></article>`, i, i, i, 40+i)
		if i == 40 || i == 80 {
			spans = append(spans, rewrite.Range{Start: b.Len(), End: b.Len()}) // a banner
		}
	}
	b.WriteString("</main>")
	spans = append(spans, rewrite.Range{Start: b.Len(), End: b.Len()}) // the block
	b.WriteString("<footer>" + strings.Repeat("<p>shop text</p>", 40) + "</footer>")
	spans = append(spans, rewrite.Range{Start: b.Len(), End: b.Len()}) // the end of the body
	b.WriteString("</body></html>")
	body = []byte(b.String())

	block := `<section class="se-rec" data-se-block="also-viewed" aria-label="Customers also viewed"><h2>Customers also viewed</h2><ul class="se-rec-grid">`
	blockCuts := []int{len(block)}
	for i := range 4 {
		block += fmt.Sprintf("\n"+`<li class="se-rec-item"><a href="/p/lamp-%d?se_rec=also-viewed"><img src="/img/%d.svg" alt="" width="300" height="300" loading="lazy"><span class="se-rec-brand">Lumo</span><span class="se-rec-name">Lamp number %d</span><span class="se-rec-price">€%d.00</span></a></li>`, i, i, i, 10*i)
		blockCuts = append(blockCuts, len(block))
	}
	block += "\n</ul>\n</section>\n"
	menuItems := string(body[spans[1].Start:spans[1].End])
	contents = [][]byte{
		[]byte(`<link rel="stylesheet" href="/_shopedge/shopedge.css?v=0123456789">`),
		[]byte(menuItems[len(menuItems)/2:] + menuItems[:len(menuItems)/2]),
		[]byte(`<p class="se-banner se-banner-free_shipping" data-se-banner="free-shipping">Add €12.50 more for free shipping</p>`),
		[]byte(`<p class="se-banner se-banner-social_proof" data-se-banner="viewers">14 people viewed this today</p>`),
		[]byte(block),
		[]byte("\n" + `<script src="/_shopedge/shopedge.js?v=0123456789" defer data-se-beacon="/_shopedge/beacon"></script>` + "\n"),
	}
	cuts = make([][]int, len(contents))
	cuts[4] = blockCuts
	return body, spans, contents, cuts
}

// BenchmarkAppendParts assembles personalized gzip pages whose every
// part was compressed for an earlier visitor, what most visitors cost:
// pages of a few lengths, each visitor's banner its own.
func BenchmarkAppendParts(b *testing.B) {
	type page struct {
		g        *Gzip
		contents [][]byte
		cuts     [][]int
	}
	budget := NewBudget(1 << 20)
	var pages []page
	for n := range 3 {
		body, spans, contents, cuts := benchPage()
		body = append([]byte(strings.Repeat(" ", 100*n)), body...) // another page: its pieces' lengths differ
		for i := range spans {
			spans[i].Start += 100 * n
			spans[i].End += 100 * n
		}
		g := NewGzip(body, spans, budget)
		for v := range 8 {
			c := slices.Clone(contents)
			c[2] = fmt.Appendf(nil, `<p class="se-banner se-banner-free_shipping" data-se-banner="free-shipping">Add €%d.50 more for free shipping</p>`, 10+v)
			for range 2 {
				g.AppendParts(nil, c, cuts, 6) // seen twice: kept
			}
			pages = append(pages, page{g, c, cuts})
		}
	}
	dst := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(pages[0].g.size))
	i := 0
	for b.Loop() {
		p := &pages[i%len(pages)]
		i += 7 // pages and visitors in turn
		dst = p.g.AppendParts(dst[:0], p.contents, p.cuts, 6)
	}
}

// BenchmarkPieces cuts the same page into pieces for an identity body.
func BenchmarkPieces(b *testing.B) {
	body, spans, contents, _ := benchPage()
	dst := make([][]byte, 0, 2*len(contents)+1)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = Pieces(dst[:0], body, spans, contents)
	}
}

// benchCard is product i's card in a block, as render's built-in template
// gives it.
func benchCard(i int) string {
	return fmt.Sprintf("\n"+`<li class="se-rec-item"><a href="/p/lamp-%d?se_rec=also-viewed"><img src="/img/%d.svg" alt="" width="300" height="300" loading="lazy"><span class="se-rec-brand">Lumo</span><span class="se-rec-name">Lamp number %d</span><span class="se-rec-price">€%d.00</span></a></li>`, i, i, i, 10*i)
}

// cardVisitor is a visitor's page: its Gzip, contents and cuts.
type cardVisitor struct {
	g        *Gzip
	contents [][]byte
	cuts     [][]int
}

// cardVisitors makes what the load harness's visitors get on gzip pages:
// three page versions of six sites each, every visitor a block of 8
// cards of their own (drawn Zipf-like from 500 products, in their own
// order), a menu in their own order, their own banner and the tags; in a
// budget of the default size (16 MiB, a quarter of limits.page_cache)
// holding 20000 other parts, so that lookups go to memory as they do in
// the proxy, not to a few entries in the cache. Each visitor came twice.
func cardVisitors() []cardVisitor {
	budget := NewBudget(16 << 20)
	for i := range 20000 {
		part := []byte(fmt.Sprintf("<li>another page's part %d %s</li>", i, strings.Repeat("x", 300+i%200)))
		budget.compressed(part, 6)
		budget.compressed(part, 6) // the second time: kept
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var visitors []cardVisitor
	for n := range 3 {
		body, spans, contents, _ := benchPage()
		body = append([]byte(strings.Repeat(" ", 100*n)), body...) // another page: its pieces' lengths differ
		for i := range spans {
			spans[i].Start += 100 * n
			spans[i].End += 100 * n
		}
		g := NewGzip(body, spans, budget)
		menu := body[spans[1].Start:spans[1].End]
		for v := range 100 {
			c := slices.Clone(contents)
			at := rng.IntN(len(menu))
			c[1] = append(slices.Clone(menu[at:]), menu[:at]...)
			c[2] = fmt.Appendf(nil, `<p class="se-banner se-banner-free_shipping" data-se-banner="free-shipping">Add €%d.50 more for free shipping</p>`, v)
			block := `<section class="se-rec" data-se-block="also-viewed" aria-label="Customers also viewed"><h2>Customers also viewed</h2><ul class="se-rec-grid">`
			cuts := []int{len(block)}
			for range 8 {
				block += benchCard(int(500 * rng.Float64() * rng.Float64()))
				cuts = append(cuts, len(block))
			}
			c[4] = []byte(block + "\n</ul>\n</section>\n")
			cc := make([][]int, len(c))
			cc[4] = cuts
			for range 2 {
				g.AppendParts(nil, c, cc, 6) // seen twice: kept
			}
			visitors = append(visitors, cardVisitor{g, c, cc})
		}
	}
	return visitors
}

// BenchmarkAppendPartsCards assembles the pages of cardVisitors, pages
// and visitors in turn.
func BenchmarkAppendPartsCards(b *testing.B) {
	visitors := cardVisitors()
	dst := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(visitors[0].g.size))
	i := 0
	for b.Loop() {
		v := &visitors[i%len(visitors)]
		i += 7 // pages and visitors in turn
		dst = v.g.AppendParts(dst[:0], v.contents, v.cuts, 6)
	}
}

// BenchmarkAppendPartsCardsParallel is BenchmarkAppendPartsCards on every
// core at once, as the proxy's requests share the budget.
func BenchmarkAppendPartsCardsParallel(b *testing.B) {
	visitors := cardVisitors()
	b.ReportAllocs()
	b.SetBytes(int64(visitors[0].g.size))
	var seq atomic.Int64
	b.ResetTimer() // cardVisitors is not what is measured
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]byte, 0, 64<<10)
		i := int(seq.Add(1)) * 131
		for pb.Next() {
			v := &visitors[i%len(visitors)]
			i += 7
			dst = v.g.AppendParts(dst[:0], v.contents, v.cuts, 6)
		}
	})
}

func BenchmarkMultModP(b *testing.B) {
	var sink uint32
	x := uint32(0x12345678)
	for b.Loop() {
		x = x*1664525 + 1013904223
		sink ^= multModP(x, sink^0xdeadbeef)
	}
	_ = sink
}
