package profile

import (
	"runtime"
	"strconv"
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

// BenchmarkMemoryPerProfile measures the heap one stored profile costs
// (struct, cache bookkeeping, strings) with typical content: a few product
// and category views, a search, a source. The store is sized for the
// profiles it gets, so its admission sketch counts at its real share.
func BenchmarkMemoryPerProfile(b *testing.B) {
	const n = 100000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := NewStore(n*Cost, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		now := t0
		for i := range n {
			p, _ := s.Load("visitor-" + strconv.Itoa(i))
			p.Update(func(d *Data) {
				d.Touch(now, 30*time.Minute)
				d.SetSource(Source{UTMSource: "newsletter", Referrer: "www.google.com"})
				for j := range 5 {
					d.ViewProduct(catalog.ID(i*7+j), []catalog.ID{catalog.ID(j % 3), 99}, now, week)
				}
				d.Search("linen shirt")
			})
		}
		s.Wait()
		// Steady state: let the young profiles' side table age out.
		later := time.Now()
		for range 2 {
			later = later.Add(time.Minute)
			s.now = func() time.Time { return later }
			s.Get("nobody")
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := s.Stats().Held
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(held), "B/profile")
		b.ReportMetric(float64(held), "profiles")
		runtime.KeepAlive(s)
		s.Close()
	}
}
