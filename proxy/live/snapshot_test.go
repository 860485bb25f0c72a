package live

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"shopedge/proxy/catalog"
)

var snapT0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// snapCounter returns a counter of n products, product i counted i+1
// times in the hour and day windows, the first of them 23 hours before
// snapT0 and the rest 5 minutes apart up to it.
func snapCounter(n int) *Counter {
	c := New(1000)
	for i := range n {
		id := catalog.ID(i + 1)
		c.Add(id, snapT0.Add(-23*time.Hour), true, true)
		for k := range i {
			c.Add(id, snapT0.Add(-time.Duration(k)*5*time.Minute), true, k%2 == 0)
		}
	}
	return c
}

func counterSnapshot(t testing.TB, c *Counter) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSnapshotRoundTrip: a counter read from a snapshot gives the counts
// the original gives, now and later (a count of yesterday slides out of
// the day window as it would have), and reads exactly the snapshot's
// bytes.
func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"one", 1},
		{"several", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := snapCounter(tc.n)
			r := bufio.NewReader(io.MultiReader(bytes.NewReader(counterSnapshot(t, c)), bytes.NewReader([]byte("NEXT"))))
			got := New(1000)
			if err := got.ReadSnapshot(r); err != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "NEXT" {
				t.Fatalf("after ReadSnapshot, the stream holds %q, want %q", rest, "NEXT")
			}
			if got.Len() != tc.n {
				t.Fatalf("Len %d, want %d", got.Len(), tc.n)
			}
			for _, at := range []time.Duration{0, 30 * time.Minute, 2 * time.Hour, 90 * time.Minute * 10, 25 * time.Hour} {
				for i := range tc.n {
					id := catalog.ID(i + 1)
					want := c.Get(id, snapT0.Add(at))
					if g := got.Get(id, snapT0.Add(at)); g != want {
						t.Fatalf("product %d at +%v: got %+v, want %+v", id, at, g, want)
					}
				}
			}
		})
	}
	t.Run("yesterday is not today", func(t *testing.T) {
		t.Parallel()
		c := New(10)
		c.Add(7, snapT0, true, true)
		got := New(10)
		if err := got.ReadSnapshot(bufio.NewReader(bytes.NewReader(counterSnapshot(t, c)))); err != nil {
			t.Fatal(err)
		}
		if g, want := got.Get(7, snapT0.Add(30*time.Hour)), (Counts{}); g != want {
			t.Fatalf("a day and more later: got %+v, want %+v", g, want)
		}
	})
}

// TestSnapshotIntoSmallerCounter: a counter of a smaller bound keeps at
// most its bound.
func TestSnapshotIntoSmallerCounter(t *testing.T) {
	t.Parallel()
	got := New(shards) // one product per shard
	if err := got.ReadSnapshot(bufio.NewReader(bytes.NewReader(counterSnapshot(t, snapCounter(100))))); err != nil {
		t.Fatal(err)
	}
	if got.Len() != shards {
		t.Fatalf("Len %d, want %d", got.Len(), shards)
	}
}

// readCounterInto reads snap into a counter holding one product and checks
// that on error it is as it was.
func readCounterInto(t *testing.T, snap []byte) error {
	t.Helper()
	c := New(100)
	c.Add(99, snapT0, true, true)
	err := c.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap)))
	if err != nil {
		if !errors.Is(err, ErrSnapshot) {
			t.Fatalf("error %v does not wrap ErrSnapshot", err)
		}
		if g := c.Get(99, snapT0); g != (Counts{Hour: 1, Day: 1}) || c.Len() != 1 {
			t.Fatalf("after a refused snapshot, the counts changed: %+v", g)
		}
	}
	return err
}

// TestSnapshotTruncatedRefused: a snapshot cut anywhere is refused.
func TestSnapshotTruncatedRefused(t *testing.T) {
	t.Parallel()
	snap := counterSnapshot(t, snapCounter(3))
	for cut := range len(snap) {
		if err := readCounterInto(t, snap[:cut]); err == nil {
			t.Fatalf("a snapshot cut at %d of %d bytes was accepted", cut, len(snap))
		}
	}
}

// TestSnapshotCorruptRefusedOrHarmless: any byte flipped is refused or
// read as counts; nothing panics, Get and Add included.
func TestSnapshotCorruptRefusedOrHarmless(t *testing.T) {
	t.Parallel()
	snap := counterSnapshot(t, snapCounter(3))
	for i := range snap {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(snap)
			bad[i] ^= flip
			c := New(100)
			if err := c.ReadSnapshot(bufio.NewReader(bytes.NewReader(bad))); err != nil {
				if !errors.Is(err, ErrSnapshot) {
					t.Fatalf("error %v does not wrap ErrSnapshot", err)
				}
				continue
			}
			for id := range catalog.ID(4) {
				c.Get(id, snapT0)
				c.Add(id, snapT0, true, true)
			}
		}
	}
}

// TestSnapshotForeignRefused: another format or windows, counts beyond the
// bounds and windows before 1970 are refused.
func TestSnapshotForeignRefused(t *testing.T) {
	t.Parallel()
	header := func(format byte, shape ...uint64) []byte {
		b := []byte{format}
		for _, v := range shape {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	good := header(snapshotFormat, hourBucket, hourN, dayBucket, dayN)
	for _, tc := range []struct {
		name string
		snap []byte
	}{
		{"empty stream", nil},
		{"another format", append(header(snapshotFormat+1, hourBucket, hourN, dayBucket, dayN), 0)},
		{"other hour buckets", append(header(snapshotFormat, 60, hourN, dayBucket, dayN), 0)},
		{"other day windows", append(header(snapshotFormat, hourBucket, hourN, dayBucket, 7), 0)},
		{"chunk beyond bound", binary.AppendUvarint(bytes.Clone(good), maxChunk+1)},
		{"huge chunk, no windows", binary.AppendUvarint(bytes.Clone(good), maxChunk)},
		{"window before 1970", func() []byte {
			b := binary.AppendUvarint(bytes.Clone(good), 1)
			b = appendWindow(b, 1, &window{hourAt: -1})
			return append(b, 0)
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := readCounterInto(t, tc.snap); err == nil {
				t.Fatalf("accepted")
			}
		})
	}
}

// FuzzReadSnapshot: no input panics ReadSnapshot, nor Get and Add after
// it accepted one.
func FuzzReadSnapshot(f *testing.F) {
	f.Add(counterSnapshot(f, snapCounter(3)))
	f.Add(counterSnapshot(f, New(10)))
	f.Fuzz(func(t *testing.T, snap []byte) {
		c := New(100)
		if err := c.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap))); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		for id := range catalog.ID(4) {
			c.Get(id, snapT0)
			c.Add(id, snapT0, true, true)
		}
	})
}
