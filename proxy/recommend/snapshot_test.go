package recommend

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

// learned returns an engine trained on the sample clickstream, as Evaluate
// trains it, its catalog, and the visits seen (each a list of products).
func learned(t testing.TB, cfg Config) (*Engine, evalCatalog, [][]ID, time.Time) {
	t.Helper()
	f, err := os.Open("testdata/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := New(cfg)
	known := evalCatalog{}
	visits := map[string][]ID{}
	var order []string
	var last int64
	err = readClicks(f, "sample.csv", func(ev clickEvent) error {
		var cats []ID
		if ev.cat != 0 {
			cats = []ID{ev.cat}
		}
		e.Record(Event{Session: xxhash.Sum64String(ev.session), Item: ev.item, Categories: cats, Kind: ev.kind, Time: time.Unix(ev.at, 0)})
		if _, ok := visits[ev.session]; !ok {
			order = append(order, ev.session)
		}
		visits[ev.session] = append(visits[ev.session], ev.item)
		known[ev.item] = ev.cat
		last = max(last, ev.at)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]ID, 0, len(order))
	for _, s := range order {
		out = append(out, visits[s])
	}
	return e, known, out, time.Unix(last, 0)
}

func snapshot(t testing.TB, e *Engine) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func restore(t testing.TB, cfg Config, b []byte) *Engine {
	t.Helper()
	e := New(cfg)
	if err := e.ReadSnapshot(bufio.NewReader(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	return e
}

// sameAnswers checks that two engines recommend alike, every strategy, for
// contexts drawn from visits, now and later (decay goes on from the saved
// times).
// With exact false, scores may differ in their last bits (sums taken in
// another order).
func sameAnswers(t *testing.T, a, b *Engine, cat Catalog, visits [][]ID, now time.Time, exact bool) {
	t.Helper()
	same := func(x, y []Scored) bool {
		if exact {
			return slices.Equal(x, y)
		}
		return slices.EqualFunc(x, y, func(p, q Scored) bool {
			return p.ID == q.ID && math.Abs(p.Score-q.Score) <= 1e-12*math.Abs(p.Score)
		})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, at := range []time.Time{now, now.Add(time.Hour), now.Add(30 * 24 * time.Hour)} {
		for range 60 {
			v := visits[r.IntN(len(visits))]
			n := 1 + r.IntN(len(v))
			cur := v[:n]
			ctx := Context{Now: at, Session: uint64(r.Uint32()), Item: cur[n-1], Views: cur, Recent: cur, Cart: cur[:min(n, 1)]}
			if p, ok := cat.Product(cur[0]); ok && len(p.Categories) > 0 {
				ctx.Category = p.Categories[0]
			}
			for _, s := range Strategies {
				ca, cb := a.Candidates(s, ctx, cat), b.Candidates(s, ctx, cat)
				if !same(ca, cb) {
					t.Fatalf("%s at %v, visit %v: restored candidates differ:\n got %v\nwant %v", s, at, cur, cb, ca)
				}
				req := Request{Strategies: []Strategy{s, Popular}, N: 8, Personal: r.IntN(2) == 0}
				ctx.Interest = InterestFunc(func(c ID) float64 { return float64(c % 7) })
				ra, rb := a.Recommend(ctx, req, cat), b.Recommend(ctx, req, cat)
				if !slices.Equal(ra, rb) {
					t.Fatalf("%s at %v: restored recommendations %v, want %v", s, at, rb, ra)
				}
			}
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		// learnOn: learn more after the restore and compare again; not
		// with evictions, which pick among products in map order.
		learnOn bool
	}{
		{"defaults", Config{}, true},
		// A full ring that has wrapped, lists at their bounds.
		{"tight bounds", Config{Neighbours: 5, MaxSessions: 500, SessionsPerItem: 20, K: 20}, true},
		{"evicting", Config{MaxItems: 300, Neighbours: 5, MaxSessions: 500}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, cat, visits, now := learned(t, tt.cfg)
			b1 := snapshot(t, a)
			b := restore(t, tt.cfg, b1)
			if sa, sb := a.Stats(), b.Stats(); sa.Items != sb.Items || sa.Sessions != sb.Sessions {
				t.Errorf("restored %+v, want %+v", sb, sa)
			}
			if b2 := snapshot(t, b); !bytes.Equal(b1, b2) {
				t.Errorf("restored engine writes %d bytes unlike the %d it read", len(b2), len(b1))
			}
			sameAnswers(t, a, b, cat, visits, now, true)
			if !tt.learnOn {
				return
			}
			// Both go on learning alike: the ring's next slot, the lists'
			// bounds and the decay times were kept.
			r := rand.New(rand.NewPCG(3, 4))
			for i := range 3000 {
				v := visits[r.IntN(len(visits))]
				ev := Event{Session: uint64(1 + i/5), Item: v[r.IntN(len(v))], Kind: []Kind{View, View, View, Cart, Purchase}[r.IntN(5)], Time: now.Add(time.Duration(i) * time.Second)}
				a.Record(ev)
				b.Record(ev)
			}
			if !bytes.Equal(snapshot(t, a), snapshot(t, b)) {
				t.Errorf("after learning on, the restored engine's state differs")
			}
			sameAnswers(t, a, b, cat, visits, now.Add(time.Hour), true)
		})
	}
}

func TestSnapshotEmpty(t *testing.T) {
	t.Parallel()
	b := snapshot(t, New(Config{}))
	e := restore(t, Config{}, b)
	if st := e.Stats(); st.Items != 0 || st.Sessions != 0 {
		t.Errorf("empty engine restored as %+v", st)
	}
	if got := e.Recommend(Context{Now: t0}, Request{Strategies: Strategies, N: 4}, fakeCatalog{}); len(got) != 0 {
		t.Errorf("empty engine recommends %v", got)
	}
	views(e, 1, t0, 1, 2)
	if got := e.Recommend(Context{Now: t0, Item: 1}, Request{Strategies: []Strategy{AlsoViewed}, N: 4}, fakeCatalog{}); !slices.Equal(got, []ID{2}) {
		t.Errorf("after restoring empty, also viewed 1 = %v, want [2]", got)
	}
}

// TestSnapshotReadsItsBytesOnly: the section after the engine's, in the
// same buffered reader, is left whole; a reader that is no io.ByteReader
// works too.
func TestSnapshotReadsItsBytesOnly(t *testing.T) {
	t.Parallel()
	a, _, _, _ := learned(t, Config{})
	b := snapshot(t, a)
	br := bufio.NewReader(strings.NewReader(string(b) + "NEXT SECTION"))
	e := New(Config{})
	if err := e.ReadSnapshot(br); err != nil {
		t.Fatal(err)
	}
	rest, _ := br.ReadString(0)
	if rest != "NEXT SECTION" {
		t.Errorf("left %q, want %q", rest, "NEXT SECTION")
	}
	plain := struct{ *bytes.Reader }{bytes.NewReader(append(b, 'X'))}
	if err := e.ReadSnapshot(plain); err != nil {
		t.Fatal(err)
	}
	if plain.Len() != 1 {
		t.Errorf("left %d bytes of a plain reader, want 1", plain.Len())
	}
	if e.Len() != a.Len() {
		t.Errorf("restored %d products, want %d", e.Len(), a.Len())
	}
}

// refused checks that reading b fails with ErrSnapshot and leaves the
// engine empty.
func refused(t *testing.T, cfg Config, b []byte) error {
	t.Helper()
	e := New(cfg)
	views(e, 1, t0, 1, 2, 3)
	err := e.ReadSnapshot(bufio.NewReader(bytes.NewReader(b)))
	if !errors.Is(err, ErrSnapshot) {
		t.Fatalf("err = %v, want ErrSnapshot", err)
	}
	if st := e.Stats(); st.Items != 0 || st.Sessions != 0 {
		t.Errorf("after a refused snapshot, engine holds %+v, want empty", st)
	}
	if got := e.Recommend(Context{Now: t0}, Request{Strategies: []Strategy{Popular}, N: 4}, fakeCatalog{}); len(got) != 0 {
		t.Errorf("after a refused snapshot, popular = %v", got)
	}
	return err
}

func TestSnapshotTruncated(t *testing.T) {
	t.Parallel()
	a := New(Config{})
	views(a, 1, t0, 1, 2, 3)
	a.Record(Event{Session: 1, Item: 2, Categories: []ID{100, 101}, Kind: Purchase, Time: t0})
	views(a, 2, t0, 3, 1)
	small := snapshot(t, a)
	for cut := range len(small) {
		refused(t, Config{}, small[:cut])
	}
	big, _, _, _ := learned(t, Config{})
	b := snapshot(t, big)
	for cut := 0; cut < len(b); cut += 1 + len(b)/97 {
		refused(t, Config{}, b[:cut])
	}
	refused(t, Config{}, b[:len(b)-1])
}

func TestSnapshotRefused(t *testing.T) {
	t.Parallel()
	a, _, _, _ := learned(t, Config{MaxSessions: 300})
	good := snapshot(t, a)
	st := a.Stats()
	patch := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	// A product listing a neighbour twice, as the engine never writes.
	dup := New(Config{})
	views(dup, 1, t0, 1, 2)
	dup.items[1].viewed = append(dup.items[1].viewed, dup.items[1].viewed[0])
	twice := snapshot(t, dup)
	tests := []struct {
		name string
		cfg  Config
		b    []byte
		want string
	}{
		{"foreign version", Config{}, patch(func(b []byte) []byte { b[0] = 3; return b }), "version 3"},
		{"not a snapshot", Config{}, []byte("PK\x03\x04 a zip file, say"), "version"},
		{"bad end", Config{}, patch(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "end mark"},
		{"huge count", Config{}, binary.AppendUvarint([]byte{1}, 1<<40), "products"},
		{"varint overflow", Config{}, []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "overflows"},
		{"more products than MaxItems", Config{MaxItems: st.Items - 1}, good, "products, more than the bound"},
		{"more visits than MaxSessions", Config{MaxSessions: 299}, good, "visit"},
		{"more neighbours than Neighbours", Config{MaxSessions: 300, Neighbours: 2}, good, "neighbours"},
		{"more visits per product", Config{MaxSessions: 300, SessionsPerItem: 1}, good, "visits of a product"},
		{"a neighbour twice", Config{}, twice, "neighbour 2 twice"},
		{"product 0", Config{}, append(binary.AppendUvarint([]byte{1}, 1), make([]byte, 8)...), "product 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := refused(t, tt.cfg, tt.b)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestSnapshotIntoBiggerRing: a wrapped ring restored where more visits fit
// is turned to grow again, and session kNN answers as before.
func TestSnapshotIntoBiggerRing(t *testing.T) {
	t.Parallel()
	small := Config{MaxSessions: 40}
	a, cat, visits, now := learned(t, small)
	if a.sessions.next == 0 {
		t.Fatal("the ring did not wrap: the test needs more visits")
	}
	b := New(Config{MaxSessions: 1000})
	if err := b.ReadSnapshot(bufio.NewReader(bytes.NewReader(snapshot(t, a)))); err != nil {
		t.Fatal(err)
	}
	if b.sessions.next != 0 || len(b.sessions.ring) != 40 {
		t.Fatalf("ring of %d, next %d; want 40, 0", len(b.sessions.ring), b.sessions.next)
	}
	for i, s := range b.sessions.ring {
		if b.sessions.byKey[s.key] != int32(i) {
			t.Fatalf("visit %#x indexed at %d, is at %d", s.key, b.sessions.byKey[s.key], i)
		}
	}
	sameAnswers(t, a, b, cat, visits, now, false)
}

// TestSnapshotWhileLearning: a snapshot written while events arrive reads
// back whole, holding at least what was learned before it began.
func TestSnapshotWhileLearning(t *testing.T) {
	t.Parallel()
	a, _, visits, now := learned(t, Config{MaxSessions: 500})
	before := a.Len()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 5000 {
			v := visits[i%len(visits)]
			a.Record(Event{Session: uint64(i / 4), Item: v[i%len(v)] + ID(i%3), Time: now.Add(time.Duration(i) * time.Second)})
		}
	})
	var snaps [][]byte
	for range 5 {
		snaps = append(snaps, snapshot(t, a))
	}
	wg.Wait()
	for i, b := range snaps {
		e := restore(t, Config{MaxSessions: 500}, b)
		if e.Len() < before {
			t.Errorf("snapshot %d holds %d products, fewer than the %d before", i, e.Len(), before)
		}
	}
}

func FuzzReadSnapshot(f *testing.F) {
	a := New(Config{MaxSessions: 8})
	for s := range 12 {
		views(a, uint64(s+1), t0.Add(time.Duration(s)*time.Hour), ID(s%5+1), ID(s%7+1), ID(s%3+1))
	}
	a.Record(Event{Session: 3, Item: 2, Categories: []ID{100, 101}, Kind: Cart, Time: t0})
	var b bytes.Buffer
	if err := a.WriteSnapshot(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte{1, 0, 0, 0, '!', 'D', 'N', 'E'})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := New(Config{MaxItems: 64, MaxSessions: 8, Neighbours: 8, SessionsPerItem: 16})
		if err := e.ReadSnapshot(bufio.NewReader(bytes.NewReader(data))); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("err = %v, want ErrSnapshot", err)
			}
			if e.Len() != 0 {
				t.Fatalf("refused, yet %d products kept", e.Len())
			}
			return
		}
		// Whatever was accepted serves every strategy and learns on.
		ctx := Context{Now: t0, Item: 2, Views: []ID{1, 2}, Recent: []ID{2}, Category: 100}
		e.Recommend(ctx, Request{Strategies: Strategies, N: 8}, fakeCatalog{})
		views(e, 99, t0, 1, 2, 3)
		views(e, 3, t0, 4)
	})
}

// realistic returns an engine that learned from a month of a mid-sized
// shop: 20,000 products in 200 categories, Zipf popularity, 100,000 visits
// of about 8 events.
func realistic(b *testing.B) *Engine {
	e := New(Config{})
	r := rand.New(rand.NewPCG(5, 6))
	z := rand.NewZipf(r, 1.1, 4, 19999)
	start := t0.Add(-30 * 24 * time.Hour)
	for v := range 100000 {
		at := start.Add(time.Duration(v) * 26 * time.Second)
		base := ID(z.Uint64() + 1)
		for i := range 2 + r.IntN(12) {
			id := base
			if i > 0 && r.IntN(3) > 0 {
				id = (base+ID(r.IntN(40)))%20000 + 1
			} else if i > 0 {
				id = ID(z.Uint64() + 1)
			}
			kind := View
			if r.IntN(20) == 0 {
				kind = Cart
			}
			e.Record(Event{Session: uint64(v + 1), Item: id, Categories: []ID{1000 + id%200}, Kind: kind, Time: at.Add(time.Duration(i) * 20 * time.Second)})
		}
	}
	return e
}

func BenchmarkSnapshot(b *testing.B) {
	e := realistic(b)
	var buf bytes.Buffer
	if err := e.WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	st := e.Stats()
	b.Logf("%d products, %d visits, heap ≈ %.1f MB, snapshot %.1f MB", st.Items, st.Sessions, float64(st.Bytes)/1e6, float64(len(data))/1e6)
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		w := bufio.NewWriterSize(discard{}, 64<<10)
		for b.Loop() {
			if err := e.WriteSnapshot(w); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(data)))
		b.ReportMetric(float64(len(data))/1e6, "MB")
	})
	// The longest hold of the read lock while writing, Record waiting:
	// the visits, or a chunk of products.
	b.Run("hold/visits", func(b *testing.B) {
		buf := make([]byte, 0, len(data))
		for b.Loop() {
			e.mu.RLock()
			buf = appendSessions(buf[:0], &e.sessions)
			e.mu.RUnlock()
		}
	})
	b.Run("hold/products", func(b *testing.B) {
		e.mu.RLock()
		ids := make([]ID, 0, snapChunk)
		for id := range e.items {
			if ids = append(ids, id); len(ids) == snapChunk {
				break
			}
		}
		e.mu.RUnlock()
		buf := make([]byte, 0, len(data))
		for b.Loop() {
			e.mu.RLock()
			buf = buf[:0]
			for _, id := range ids {
				buf = appendItem(buf, id, e.items[id])
			}
			e.mu.RUnlock()
		}
	})
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		d := New(Config{})
		for b.Loop() {
			if err := d.ReadSnapshot(bufio.NewReaderSize(bytes.NewReader(data), 64<<10)); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(data)))
		b.ReportMetric(float64(len(data))/1e6, "MB")
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// v1Engine is the engine testdata/snapshot-v1.bin was written from, by
// the format 1 code (with Config{}): a few visits, a cart and a purchase.
func v1Engine(cfg Config) *Engine {
	e := New(cfg)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	visits := [][]ID{{1, 2, 3}, {1, 4}, {5, 6, 1, 2}, {2, 3, 7}, {3, 7, 8, 3}}
	for s, v := range visits {
		for i, id := range v {
			e.Record(Event{Session: uint64(s + 1), Item: id, Categories: []ID{100 + id%3}, Time: at.Add(time.Duration(10*s+i) * time.Minute)})
		}
	}
	e.Record(Event{Session: 2, Item: 4, Kind: Cart, Time: at.Add(time.Hour)})
	e.Record(Event{Session: 2, Item: 4, Kind: Purchase, Time: at.Add(time.Hour)})
	return e
}

// TestSnapshotReadsVersion1: a snapshot of format 1 (before the events
// and visits counted for IDF) still restores: every strategy answers as
// the engine it was written from, IDF taking a product's indexed visits
// for its events; written again, it is format 2.
func TestSnapshotReadsVersion1(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile("testdata/snapshot-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	if old[0] != 1 {
		t.Fatalf("testdata/snapshot-v1.bin is version %d", old[0])
	}
	cfg := Config{IDF: -1} // what format 1 lacks only IDF needs
	b := restore(t, cfg, old)
	a := v1Engine(cfg)
	if sa, sb := a.Stats(), b.Stats(); sa.Items != sb.Items || sa.Sessions != sb.Sessions {
		t.Errorf("restored %+v, want %+v", sb, sa)
	}
	at := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	for _, views := range [][]ID{{1}, {2, 3}, {3, 7}, {5, 1, 4}} {
		ctx := Context{Now: at, Item: views[len(views)-1], Views: views, Recent: views, Cart: []ID{4}}
		for _, s := range Strategies {
			if ca, cb := a.Candidates(s, ctx, fakeCatalog{}), b.Candidates(s, ctx, fakeCatalog{}); !slices.Equal(ca, cb) {
				t.Errorf("%s for %v: restored %v, want %v", s, views, cb, ca)
			}
		}
	}
	b.mu.RLock()
	started, events3 := b.sessions.started, b.items[3].events
	b.mu.RUnlock()
	if started != 5 || events3 != 3 {
		t.Errorf("from format 1: %d visits started, product 3 has %d events; want 5 and 3 (its visits)", started, events3)
	}
	if again := snapshot(t, b); again[0] != snapshotVersion {
		t.Errorf("rewritten as version %d, want %d", again[0], snapshotVersion)
	}
	// With IDF on, the restored engine recommends too.
	if got := restore(t, Config{}, old).Candidates(Session, Context{Now: at, Views: []ID{2, 3}}, fakeCatalog{}); len(got) == 0 {
		t.Error("no session candidates from a format 1 snapshot with IDF on")
	}
}
