package proxy

import (
	"bytes"
	"compress/gzip"
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
// gzip stream of exactly the page spliced in full.
func TestGzipAssembly(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("<html><body>" + strings.Repeat("<p>intro text</p>", 300))
	list := func(name string) (rewrite.Range, []rewrite.Range) {
		start := b.Len()
		b.WriteString("<ul class=" + name + ">")
		var slots []rewrite.Range
		first := b.Len()
		for i := range 5 {
			s := b.Len()
			b.WriteString("<li><a href=/c/" + name + string(rune('a'+i)) + ">" + strings.Repeat("x", i*7) + "</a></li>")
			slots = append(slots, rewrite.Range{Start: s, End: b.Len()})
			b.WriteString("\n  ")
		}
		_ = start
		last := slots[len(slots)-1].End
		b.WriteString("</ul>")
		return rewrite.Range{Start: first, End: last}, slots
	}
	s1, slots1 := list("one")
	b.WriteString(strings.Repeat("<div>middle</div>", 200))
	s2, slots2 := list("two")
	b.WriteString(strings.Repeat("<footer>end</footer>", 100) + "</body></html>")
	body := []byte(b.String())
	lists := []navList{{span: s1, slots: slots1}, {span: s2, slots: slots2}}
	for i := range lists {
		lists[i].bytes = body[lists[i].span.Start:lists[i].span.End]
	}
	info := &pageInfo{size: len(body), lists: lists, gz: newGzipParts(body, lists)}

	for _, orders := range [][][]int{
		{nil, nil},
		{{4, 0, 1, 2, 3}, nil},
		{nil, {2, 0, 1, 3, 4}},
		{{1, 0, 2, 3, 4}, {4, 3, 2, 1, 0}},
	} {
		var sp rewrite.Splice
		for i, o := range orders {
			if o != nil {
				if err := sp.Reorder(info.lists[i].slots, o); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := sp.Bytes(nil, body)
		var scratch []byte
		gz := info.appendGzip(nil, orders, 5, &scratch)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr) // checks the CRC and the length
		if err != nil {
			t.Fatalf("orders %v: %v", orders, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("orders %v: assembled page differs from the spliced one", orders)
		}
		if len(gz) > len(body)/3 {
			t.Errorf("orders %v: %d compressed bytes for %d", orders, len(gz), len(body))
		}
	}
}
