package profile

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"shopedge/proxy/catalog"
)

// BenchmarkStoreLoad is a returning visitor's profile lookup.
func BenchmarkStoreLoad(b *testing.B) {
	s, err := NewStore(64<<20, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "visitor-" + strconv.Itoa(i)
		s.Load(ids[i])
	}
	s.Wait()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, created := s.Load(ids[i%len(ids)]); created {
			b.Fatal("profile lost")
		}
		i++
	}
}

// BenchmarkStoreCreate is a new visitor's profile, stored.
func BenchmarkStoreCreate(b *testing.B) {
	s, err := NewStore(256<<20, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Load("new-visitor-" + strconv.Itoa(i))
		i++
	}
}

// BenchmarkRecordView is a product view recorded in a full profile.
func BenchmarkRecordView(b *testing.B) {
	var p Profile
	cats := []catalog.ID{1, 2}
	now := t0
	for i := range MaxInterests {
		p.d.ViewCategory([]catalog.ID{catalog.ID(100 + i)}, now, week)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Update(func(d *Data) {
			d.Touch(now, 30*time.Minute)
			d.ViewProduct(catalog.ID(i%50), cats, now, week)
		})
		i++
	}
}

// BenchmarkMemoryPerProfile measures the heap one held profile costs
// (profile, id, slot, index) with typical content: a few product and
// category views, a search, a source.
func BenchmarkMemoryPerProfile(b *testing.B) {
	const n = 100000
	for b.Loop() {
		per, held := heapPerProfile(b, n)
		b.ReportMetric(per, "B/profile")
		b.ReportMetric(float64(held), "profiles")
	}
}

// heapPerProfile fills a store sized for n profiles with 2n visitors, so
// that every shard is full as in a store that has run for a while, and
// returns the heap it grew by per profile held.
func heapPerProfile(tb testing.TB, n int) (float64, int64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := NewStore(int64(n)*Cost, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	now := t0
	for i := range 2 * n {
		p, _ := s.Load(identityLike(i))
		p.Update(func(d *Data) {
			d.Touch(now, 30*time.Minute)
			d.SetSource(Source{UTMSource: "newsletter", Referrer: "www.google.com"})
			for j := range 5 {
				d.ViewProduct(catalog.ID(i*7+j), []catalog.ID{catalog.ID(j % 3), 99}, now, week)
			}
			d.Search("linen shirt")
		})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := s.Stats().Held
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(held), held
}

// identityLike is a visitor id of the shape identity makes: 22 characters.
func identityLike(i int) string {
	return fmt.Sprintf("%022d", i)
}

// BenchmarkStoreParallel is returning and new visitors' lookups from all
// cores at once, in a full store: one Load in eight is a new visitor.
func BenchmarkStoreParallel(b *testing.B) {
	s, err := NewStore(16<<20, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = identityLike(i)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			i++
			if i%8 == 0 {
				s.Load(ids[i%len(ids)] + "n")
				continue
			}
			s.Load(ids[i%4096])
		}
	})
}

// BenchmarkEncode is a held profile's bytes, into a buffer with room
// (what a write behind to a shared store does).
func BenchmarkEncode(b *testing.B) {
	s, err := NewStore(64<<20, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := s.Load("visitor")
	now := time.Now()
	p.Update(func(d *Data) {
		d.Touch(now, 30*time.Minute)
		d.ViewProduct(42, []catalog.ID{7}, now, 24*time.Hour)
	})
	buf := make([]byte, 0, EncodedSize)
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if buf, _, ok = s.Encode("visitor", buf[:0]); !ok {
			b.Fatal("not held")
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/profile")
}
