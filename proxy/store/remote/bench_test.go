package remote

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"shopedge/proxy/store/redistest"
)

// BenchmarkProfileRead is the hot path's one GET of a 1 KiB profile from
// a real redis-server on loopback: "store" is Profile (a deadline-only
// context per call), "context" the alternative measured against it (a
// context.WithTimeout per call), "down" Profile while Redis is held for
// down.
func BenchmarkProfileRead(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv, "a", nil, nil)
	val := make([]byte, 1024)
	if err := s.rdb.Set(b.Context(), s.profileKey("visitor"), val, 0).Err(); err != nil {
		b.Fatal(err)
	}
	if err := errors.Join(s.rdb.Ping(b.Context()).Err(), s.hot.Ping(b.Context()).Err()); err != nil {
		b.Fatal(err)
	}
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		dst := make([]byte, 0, 2048)
		missed := 0
		for b.Loop() {
			v, _, found, err := s.Profile("visitor", dst[:0])
			if err != nil {
				// Past the budget on a busy machine: counted, not fatal.
				missed++
				continue
			}
			if !found || len(v) != 1024 {
				b.Fatalf("Profile: %d bytes, %v", len(v), found)
			}
		}
		b.ReportMetric(float64(missed)/float64(b.N), "overbudget/op")
	})
	b.Run("context", func(b *testing.B) {
		key := s.profileKey("visitor")
		b.ReportAllocs()
		dst := make([]byte, 0, 2048)
		missed := 0
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), s.o.Budget)
			v, err := s.rdb.Get(ctx, key).Result()
			cancel()
			if err != nil {
				missed++
				continue
			}
			if len(v) != 1024 {
				b.Fatalf("Get: %d bytes", len(v))
			}
			dst = append(dst[:0], v...)
		}
		b.ReportMetric(float64(missed)/float64(b.N), "overbudget/op")
	})
	b.Run("down", func(b *testing.B) {
		s.health.fail("benchmark")
		defer s.health.ok()
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := s.Profile("visitor", nil); err != ErrDown {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkChanged marks visitors dirty: a lock and a map insert (the
// set is flushed every 4096 calls, as the flusher would).
func BenchmarkChanged(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv, "a", nil, nil)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "visitor-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Changed(ids[i&4095])
		if i++; i&4095 == 0 {
			s.dmu.Lock()
			clear(s.dirty)
			s.dmu.Unlock()
		}
	}
}

// BenchmarkPublish appends 64-byte changes to the batch being filled; the
// batches are written to the real server as the flusher would.
func BenchmarkPublish(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv, "a", nil, nil)
	s.sink = newSink()
	change := make([]byte, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Publish(change)
		if i++; i%8192 == 0 {
			s.flushMu.Lock()
			if err := s.flushChanges(b.Context()); err != nil {
				b.Fatal(err)
			}
			s.flushMu.Unlock()
		}
	}
}

// BenchmarkAdd sums increments of a few counters locally.
func BenchmarkAdd(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv, "a", nil, nil)
	fields := []string{"a", "b", "c", "d"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Add("experiment", fields[i&3], 1)
		i++
	}
}
