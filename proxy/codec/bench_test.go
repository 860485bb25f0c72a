package codec

import (
	"os"
	"testing"
)

// page100K is a 100 KB shop page: the demo home page, repeated.
func page100K(b *testing.B) []byte {
	home, err := os.ReadFile("../../rewrite/testdata/demo-home.html")
	if err != nil {
		b.Fatal(err)
	}
	var p []byte
	for len(p) < 100<<10 {
		p = append(p, home...)
	}
	return p[:100<<10]
}

func BenchmarkCodec(b *testing.B) {
	page := page100K(b)
	e := NewEncoder(5, 4)
	for _, enc := range []Encoding{Gzip, Brotli} {
		z, _ := e.Encode(nil, page, enc)
		b.Run(enc.String()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			var dst []byte
			for b.Loop() {
				var err error
				if dst, err = Decode(dst[:0], z, enc, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(enc.String()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			var dst []byte
			for b.Loop() {
				var err error
				if dst, err = e.Encode(dst[:0], page, enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
