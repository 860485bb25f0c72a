package learn

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/rules"
)

// benchView is a returning visitor's product views, one a second across
// 100 products, through r.
func benchView(b *testing.B, r *Recorder) {
	b.Helper()
	var evs [100]Event
	for i := range evs {
		p := product(catalog.ID(i+1), "/p/"+strconv.Itoa(i), "")
		r.Catalog.Put(p.Product, t0)
		evs[i] = Event{Product: p.Product.ID, Categories: []catalog.ID{7}}
	}
	v := facts("v1", rules.PageProduct, "/p/0")
	now := t0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Second)
		r.View(v, evs[i%len(evs)], now)
		i++
	}
}

// BenchmarkView is a product view recorded in memory only (no Share).
func BenchmarkView(b *testing.B) { benchView(b, newRecorder(b)) }

// discard is a Publisher that copies each change into one buffer, as a
// store queueing it would, and keeps nothing.
type discard struct{ buf []byte }

func (d *discard) Publish(change []byte) { d.buf = append(d.buf[:0], change...) }

// BenchmarkViewShared is BenchmarkView with every change published
// (encoded and copied).
func BenchmarkViewShared(b *testing.B) {
	r := newRecorder(b)
	r.Share = &discard{buf: make([]byte, 0, 256)}
	benchView(b, r)
}

// BenchmarkPageCategory is what learning costs for a demo category page
// (/c/men/shirts, 22 products): the first sight of its bytes (fresh, once
// per page analysis) and every later view (cached).
func BenchmarkPageCategory(b *testing.B) {
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	shop.New(1).ServeHTTP(rec, httptest.NewRequest("GET", "/c/men/shirts", nil))
	a, err := page.Analyze(page.Input{Config: cfg, Type: rules.PageCategory, Raw: rec.Body.Bytes(),
		ContentType: []byte("text/html; charset=utf-8"), URL: "http://shop.example/c/men/shirts"})
	if err != nil {
		b.Fatal(err)
	}
	v := facts("v1", rules.PageCategory, "/c/men/shirts")
	for _, fresh := range []bool{true, false} {
		name := "cached"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) {
			r := newRecorder(b)
			b.ReportAllocs()
			now := t0
			for b.Loop() {
				now = now.Add(time.Second)
				if ev := r.Page(v, a, fresh, now); len(ev.Categories) == 0 {
					b.Fatal("no categories")
				}
			}
		})
	}
}
