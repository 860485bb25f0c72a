package profile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/traffic"
)

var snapT0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// snapStore returns a store of capacity profiles whose clock reads *now.
func snapStore(t testing.TB, capacity int64, ttl time.Duration, now *time.Time) *Store {
	t.Helper()
	s, err := NewStore(capacity*Cost, ttl)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return *now }
	return s
}

// fillVisitors loads n visitors, one a second from *now on, each with a
// profile of their own (views, cart, search, source, device, experiment).
func fillVisitors(s *Store, n int, now *time.Time) {
	for i := range n {
		p, _ := s.Load(visitorID(i))
		at := *now
		p.Update(func(d *Data) {
			d.Touch(at, 30*time.Minute)
			d.ViewProduct(catalog.ID(i+1), []catalog.ID{catalog.ID(1000 + i%7)}, at, 24*time.Hour)
			d.ViewProduct(catalog.ID(i+2), nil, at, 24*time.Hour)
			if i%2 == 0 {
				d.AddToCart(catalog.ID(i+1), 1+i%3, at)
				d.Search("shoes " + strconv.Itoa(i))
			}
			if i%4 == 1 {
				d.Clicked(ClickKey(ClickBlock, "also-viewed"), at)
			}
			if i%3 == 0 {
				d.SetSource(Source{UTMSource: "news", UTMMedium: "email", Class: traffic.Email})
				d.Device = agent.Device{Class: agent.Mobile, OS: agent.Android, Browser: agent.Chrome}
				d.Purchase(at)
			}
		})
		*now = now.Add(time.Second)
	}
}

func visitorID(i int) string { return "visitor-" + strconv.Itoa(i) }

func snapshotOf(t testing.TB, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSnapshotRoundTrip: a fresh store read from a snapshot holds the
// same visitors with the same data, in the same last-seen order, and reads
// exactly the snapshot's bytes.
func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		visitors int
		capacity int64
	}{
		{"empty", 0, 100},
		{"one", 1, 100},
		{"few", 50, 100},
		{"several shards", 9000, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := snapT0
			s := snapStore(t, tc.capacity, 24*time.Hour, &now)
			fillVisitors(s, tc.visitors, &now)
			snap := snapshotOf(t, s)

			r := bufio.NewReader(io.MultiReader(bytes.NewReader(snap), bytes.NewReader([]byte("NEXT"))))
			got := snapStore(t, tc.capacity, 24*time.Hour, &now)
			if err := got.ReadSnapshot(r); err != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "NEXT" {
				t.Fatalf("after ReadSnapshot, the stream holds %q, want %q", rest, "NEXT")
			}
			if st := got.Stats(); st.Held != int64(tc.visitors) || st.Created != int64(tc.visitors) {
				t.Fatalf("Stats: Held %d, Created %d, want %d and %d", st.Held, st.Created, tc.visitors, tc.visitors)
			}
			for i := range tc.visitors {
				want, _ := s.Get(visitorID(i))
				p, ok := got.Get(visitorID(i))
				if !ok {
					t.Fatalf("visitor %d not restored", i)
				}
				if p.Snapshot() != want.Snapshot() {
					t.Fatalf("visitor %d: restored data differs", i)
				}
			}
			if again := snapshotOf(t, got); len(again) != len(snap) {
				t.Fatalf("a snapshot of the restored store is %d bytes, want %d", len(again), len(snap))
			}
		})
	}
}

// TestSnapshotKeepsLastSeenOrder: restoring into a smaller store keeps the
// most recently seen visitors, and eviction afterwards goes on from the
// least recently seen.
func TestSnapshotKeepsLastSeenOrder(t *testing.T) {
	t.Parallel()
	now := snapT0
	big := snapStore(t, 100, 24*time.Hour, &now)
	fillVisitors(big, 100, &now)
	big.Load(visitorID(3)) // seen last
	small := snapStore(t, 10, 24*time.Hour, &now)
	if err := small.ReadSnapshot(bufio.NewReader(bytes.NewReader(snapshotOf(t, big)))); err != nil {
		t.Fatal(err)
	}
	want := []int{3, 91, 92, 93, 94, 95, 96, 97, 98, 99}
	for _, i := range want {
		if _, ok := small.Get(visitorID(i)); !ok {
			t.Fatalf("visitor %d, among the 10 seen last, not restored", i)
		}
	}
	if st := small.Stats(); st.Held != 10 || st.Evicted != 90 {
		t.Fatalf("Stats: Held %d, Evicted %d, want 10 and 90", st.Held, st.Evicted)
	}
	now = now.Add(time.Second)
	small.Load("newcomer")
	if _, ok := small.Get(visitorID(91)); ok {
		t.Fatalf("a newcomer should evict visitor 91, the least recently seen")
	}
	if _, ok := small.Get(visitorID(3)); !ok {
		t.Fatalf("a newcomer evicted visitor 3, seen last")
	}
}

// TestSnapshotSkipsExpired: a visitor not seen for the TTL is not
// restored.
func TestSnapshotSkipsExpired(t *testing.T) {
	t.Parallel()
	now := snapT0
	s := snapStore(t, 100, time.Hour, &now)
	fillVisitors(s, 10, &now)
	snap := snapshotOf(t, s)
	now = snapT0.Add(time.Hour + 5*time.Second) // visitors 0..4 expired
	got := snapStore(t, 100, time.Hour, &now)
	if err := got.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		_, ok := got.Get(visitorID(i))
		if want := i >= 5; ok != want {
			t.Errorf("visitor %d held: %v, want %v", i, ok, want)
		}
	}
	if st := got.Stats(); st.Held != 5 || st.Expired != 5 {
		t.Fatalf("Stats: Held %d, Expired %d, want 5 and 5", st.Held, st.Expired)
	}
}

// readInto reads snap into a store holding one visitor, "kept", and
// checks that on error the store is as it was.
func readInto(t *testing.T, snap []byte) error {
	t.Helper()
	now := snapT0
	s := snapStore(t, 100, 24*time.Hour, &now)
	kept, _ := s.Load("kept")
	err := s.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap)))
	if err != nil {
		if !errors.Is(err, ErrSnapshot) {
			t.Fatalf("error %v does not wrap ErrSnapshot", err)
		}
		if p, ok := s.Get("kept"); !ok || p != kept || s.Stats().Held != 1 {
			t.Fatalf("after a refused snapshot, the store changed")
		}
	}
	return err
}

// TestSnapshotTruncatedRefused: a snapshot cut anywhere is refused.
func TestSnapshotTruncatedRefused(t *testing.T) {
	t.Parallel()
	now := snapT0
	s := snapStore(t, 100, 24*time.Hour, &now)
	fillVisitors(s, 3, &now)
	snap := snapshotOf(t, s)
	for cut := range len(snap) {
		if err := readInto(t, snap[:cut]); err == nil {
			t.Fatalf("a snapshot cut at %d of %d bytes was accepted", cut, len(snap))
		}
	}
}

// TestSnapshotCorruptRefusedOrHarmless: any byte flipped is refused or
// reads as valid profiles; nothing panics.
func TestSnapshotCorruptRefusedOrHarmless(t *testing.T) {
	t.Parallel()
	now := snapT0
	s := snapStore(t, 100, 24*time.Hour, &now)
	fillVisitors(s, 3, &now)
	snap := snapshotOf(t, s)
	for i := range snap {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(snap)
			bad[i] ^= flip
			_ = readInto(t, bad)
		}
	}
}

// TestSnapshotForeignRefused: another format, layout or hostile counts
// are refused with ErrSnapshot.
func TestSnapshotForeignRefused(t *testing.T) {
	t.Parallel()
	header := func(format byte, layout, size, fp uint64) []byte {
		b := []byte{format}
		b = binary.AppendUvarint(b, layout)
		b = binary.AppendUvarint(b, size)
		return binary.LittleEndian.AppendUint64(b, fp)
	}
	good := header(snapshotFormat, layoutVersion, uint64(dataSize), layoutFingerprint)
	for _, tc := range []struct {
		name string
		snap []byte
	}{
		{"empty stream", nil},
		{"another format", append(header(snapshotFormat+1, layoutVersion, uint64(dataSize), layoutFingerprint), 0)},
		{"another layout version", append(header(snapshotFormat, layoutVersion+1, uint64(dataSize), layoutFingerprint), 0)},
		{"another size", append(header(snapshotFormat, layoutVersion, uint64(dataSize)+8, layoutFingerprint), 0)},
		{"another fingerprint", append(header(snapshotFormat, layoutVersion, uint64(dataSize), layoutFingerprint^1), 0)},
		{"chunk beyond bound", binary.AppendUvarint(bytes.Clone(good), maxChunk+1)},
		{"huge chunk, no records", binary.AppendUvarint(bytes.Clone(good), maxChunk)},
		{"id length beyond bound", binary.AppendUvarint(binary.AppendUvarint(bytes.Clone(good), 1), maxIDLen+1)},
		{"uvarint overflow", append(bytes.Clone(good), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"count beyond its array", recordWith(good, func(d *Data) { d.nRecent = MaxRecent + 1 })},
		{"text beyond its array", recordWith(good, func(d *Data) { d.searches[0] = searchLen + 1 })},
		{"unknown device", recordWith(good, func(d *Data) { d.Device.OS = agent.ChromeOS + 1 })},
		{"unknown traffic class", recordWith(good, func(d *Data) { d.traffic = 200 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := readInto(t, tc.snap); err == nil {
				t.Fatalf("accepted")
			}
		})
	}
	t.Run("good header, no profiles", func(t *testing.T) {
		if err := readInto(t, append(bytes.Clone(good), 0)); err != nil {
			t.Fatalf("refused: %v", err)
		}
	})
}

// recordWith returns header followed by one chunk of one record whose Data
// change made.
func recordWith(header []byte, change func(d *Data)) []byte {
	var d Data
	change(&d)
	b := binary.AppendUvarint(bytes.Clone(header), 1)
	b = binary.AppendUvarint(b, 1)
	b = append(b, 'v')
	b = binary.AppendUvarint(b, uint64(snapT0.Unix()))
	b = append(b, dataBytes(&d)...)
	return append(b, 0)
}

// FuzzReadSnapshot: no input panics ReadSnapshot; what it accepts, it
// writes back and reads again.
func FuzzReadSnapshot(f *testing.F) {
	now := snapT0
	s := snapStore(f, 100, 24*time.Hour, &now)
	fillVisitors(s, 3, &now)
	f.Add(snapshotOf(f, s))
	f.Add(snapshotOf(f, snapStore(f, 100, 24*time.Hour, &now)))
	if old, err := os.ReadFile("testdata/layout-v1.snapshot"); err == nil {
		f.Add(old) // an earlier layout, upgraded as read
	}
	f.Fuzz(func(t *testing.T, snap []byte) {
		now := snapT0
		got := snapStore(t, 100, 24*time.Hour, &now)
		if err := got.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap))); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		again := snapStore(t, 100, 24*time.Hour, &now)
		if err := again.ReadSnapshot(bufio.NewReader(bytes.NewReader(snapshotOf(t, got)))); err != nil {
			t.Fatalf("an accepted snapshot, written again, is refused: %v", err)
		}
	})
}

// BenchmarkSnapshot100k writes and reads a snapshot of 100,000 profiles
// (in a store with room for a quarter more, so that no shard evicts).
func BenchmarkSnapshot100k(b *testing.B) {
	const n = 100_000
	now := snapT0
	s := snapStore(b, n*5/4, 30*24*time.Hour, &now)
	fillVisitors(s, n, &now)
	snap := snapshotOf(b, s)
	if held := s.Stats().Held; held != n {
		b.Fatalf("%d profiles held, want %d", held, n)
	}
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		buf.Grow(len(snap))
		for b.Loop() {
			buf.Reset()
			w := bufio.NewWriter(&buf)
			if err := s.WriteSnapshot(w); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(snap))/1e6, "MB")
	})
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		got := snapStore(b, n*5/4, 30*24*time.Hour, &now)
		for b.Loop() {
			if err := got.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(snap))/1e6, "MB")
	})
}
