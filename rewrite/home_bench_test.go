package rewrite

import (
	"os"
	"testing"
)

// BenchmarkParseDemoHome indexes a 30 KB shop page (testdata/demo-home.html,
// the demo shop's home page).
func BenchmarkParseDemoHome(b *testing.B) {
	src, err := os.ReadFile("testdata/demo-home.html")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(src).Release()
	}
}
