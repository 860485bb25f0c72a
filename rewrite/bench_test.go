package rewrite

import (
	"sort"
	"testing"
)

// BenchmarkParseRealPage indexes the median-sized real shop page.
func BenchmarkParseRealPage(b *testing.B) {
	pages := realPages(b)
	var srcs [][]byte
	for _, p := range pages {
		srcs = append(srcs, p)
	}
	sort.Slice(srcs, func(i, j int) bool { return len(srcs[i]) < len(srcs[j]) })
	src := srcs[len(srcs)/2]
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(src).Release()
	}
}
