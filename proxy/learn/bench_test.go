package learn

import (
	"strconv"
	"testing"
	"time"

	"shopedge/proxy/catalog"
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
