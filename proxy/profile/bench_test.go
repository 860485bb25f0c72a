package profile

import (
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
