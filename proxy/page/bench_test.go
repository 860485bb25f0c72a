package page

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"shopedge/bench/shop"
	"shopedge/proxy/codec"
)

// BenchmarkAnalyze measures the first sight of a page: decoding, indexing
// and finding its menus and the places of blocks, banners and overlays,
// which the page cache then spares every other visitor.
func BenchmarkAnalyze(b *testing.B) {
	cfg := demoConfig(b)
	srv := httptest.NewServer(shop.New(1))
	defer srv.Close()
	for _, pg := range []struct{ name, path string }{
		{"30KB", "/c/shoes"},
		{"100KB", "/p/essential-grey-slip-dress-se-10001?reviews=450"},
		{"400KB", "/p/essential-grey-slip-dress-se-10001?reviews=all"},
	} {
		body := fetch(b, srv.URL+pg.path)
		t, _ := cfg.Classify([]byte(pg.path))
		b.Run(pg.name, func(b *testing.B) {
			in := Input{
				Config: cfg, Type: t, Raw: body, Encoding: codec.Identity,
				ContentType: []byte("text/html; charset=utf-8"), URL: "http://shop.example" + pg.path,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				a, err := Analyze(in)
				if err != nil || len(a.Regions) == 0 {
					b.Fatalf("analyze: %v, %d regions", err, len(a.Regions))
				}
			}
		})
	}
}
