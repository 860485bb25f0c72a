package catalog

import (
	"testing"

	"shopedge/rewrite"
)

// BenchmarkExtractRealPages reads the product of every page of the real
// page corpus, as the proxy does after parsing a product page: FromDoc,
// then Extract. The parse itself is not measured.
func BenchmarkExtractRealPages(b *testing.B) {
	pages := loadRealPages(b)
	docs := make([]*rewrite.Doc, len(pages))
	var size int64
	for i, p := range pages {
		docs[i] = rewrite.Parse(p.src)
		size += int64(len(p.src))
	}
	b.Cleanup(func() {
		for _, d := range docs {
			d.Release()
		}
	})
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		for i, d := range docs {
			Extract(FromDoc(d, pages[i].url))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/page")
}
