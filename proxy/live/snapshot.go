package live

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"shopedge/proxy/catalog"
)

// ErrSnapshot is wrapped by every error of ReadSnapshot: the stream is
// truncated, corrupt, of another format or windows, or beyond the bounds.
var ErrSnapshot = errors.New("live: bad snapshot")

// The snapshot format:
//
//	format   byte     snapshotFormat
//	windows  uvarint  hourBucket, hourN, dayBucket, dayN (must be this build's)
//	chunks   uvarint n (1..maxChunk) then n windows; a chunk of 0 ends the stream
//	window   encodedWindow bytes, little endian: 8 the product ID, 8 hourAt
//	         and 8 dayAt (bucket indexes, not negative), 4 each of the hourN
//	         then dayN counts (fixed width, so that a shard's windows split
//	         into chunks at fixed offsets)
//
// A window keeps the time of its buckets, so a count of yesterday read
// today has slid out of the hour and day windows as it would have in a
// process that never stopped. The events held for visitors not yet
// identified (Hold) are not written: they are keyed by a hash seeded per
// process and wait seconds for their visitor; after a restart the
// visitor's next event counts instead.
const (
	snapshotFormat = 1
	maxChunk       = 1 << 20 // windows in a chunk
	maxWindows     = 1 << 24 // windows in a snapshot
)

// WriteSnapshot writes every product's windows to w, holding one shard's
// lock at a time, only to copy its windows. w should be buffered.
func (c *Counter) WriteSnapshot(w io.Writer) error {
	buf := []byte{snapshotFormat}
	for _, v := range [...]uint64{hourBucket, hourN, dayBucket, dayN} {
		buf = binary.AppendUvarint(buf, v)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("live: write snapshot: %w", err)
	}
	var body []byte
	for i := range c.shards {
		s := &c.shards[i]
		body = body[:0]
		s.mu.Lock()
		n := len(s.m)
		for id, win := range s.m {
			body = appendWindow(body, id, win)
		}
		s.mu.Unlock()
		for n > 0 { // in chunks of at most maxChunk windows
			k := min(n, maxChunk)
			size := k * encodedWindow
			if _, err := w.Write(binary.AppendUvarint(nil, uint64(k))); err != nil {
				return fmt.Errorf("live: write snapshot: %w", err)
			}
			if _, err := w.Write(body[:size]); err != nil {
				return fmt.Errorf("live: write snapshot: %w", err)
			}
			body, n = body[size:], n-k
		}
	}
	if _, err := w.Write([]byte{0}); err != nil {
		return fmt.Errorf("live: write snapshot: %w", err)
	}
	return nil
}

// encodedWindow is the bytes of a window: its ID, its two bucket indexes
// and its counts, each in fixed width.
const encodedWindow = 8 + 8 + 8 + 4*(hourN+dayN)

func appendWindow(b []byte, id catalog.ID, w *window) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(id))
	b = binary.LittleEndian.AppendUint64(b, uint64(w.hourAt))
	b = binary.LittleEndian.AppendUint64(b, uint64(w.dayAt))
	for _, v := range w.hour {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for _, v := range w.day {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// ReadSnapshot replaces every product's windows with those read from r,
// which WriteSnapshot wrote, reading exactly what it wrote and no further.
// Past the counter's bound, the products seen longest ago make room, as
// Add does. The events held for visitors not yet identified stay as they
// are. On any error (a truncated or corrupt stream, another format or
// other windows, a count beyond the bounds) it returns an error wrapping
// ErrSnapshot and the counts are left as they were.
func (c *Counter) ReadSnapshot(r *bufio.Reader) error {
	format, err := r.ReadByte()
	if err != nil {
		return fmt.Errorf("%w: header: %w", ErrSnapshot, noEOF(err))
	}
	if format != snapshotFormat {
		return fmt.Errorf("%w: format %d, want %d", ErrSnapshot, format, snapshotFormat)
	}
	for _, want := range [...]uint64{hourBucket, hourN, dayBucket, dayN} {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("%w: windows: %w", ErrSnapshot, noEOF(err))
		}
		if v != want {
			return fmt.Errorf("%w: windows of another shape (%d where this build has %d)", ErrSnapshot, v, want)
		}
	}
	var fresh [shards]map[catalog.ID]*window
	for i := range fresh {
		fresh[i] = make(map[catalog.ID]*window)
	}
	total := 0
	var rec [encodedWindow]byte
	for {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("%w: chunk: %w", ErrSnapshot, noEOF(err))
		}
		if n == 0 {
			break
		}
		if n > maxChunk {
			return fmt.Errorf("%w: chunk of %d windows, beyond %d", ErrSnapshot, n, maxChunk)
		}
		if total += int(n); total > maxWindows {
			return fmt.Errorf("%w: more than %d windows", ErrSnapshot, maxWindows)
		}
		for range n {
			if _, err := io.ReadFull(r, rec[:]); err != nil {
				return fmt.Errorf("%w: window: %w", ErrSnapshot, noEOF(err))
			}
			id, w := decodeWindow(rec[:])
			if w.hourAt < 0 || w.dayAt < 0 {
				return fmt.Errorf("%w: window of product %d before 1970", ErrSnapshot, id)
			}
			m := fresh[uint64(id)%shards]
			if _, ok := m[id]; !ok && len(m) >= c.max {
				evictOldest(m, func(w *window) int64 { return w.dayAt })
			}
			m[id] = w
		}
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.m = fresh[i]
		s.mu.Unlock()
	}
	return nil
}

func decodeWindow(b []byte) (catalog.ID, *window) {
	le := binary.LittleEndian
	id := catalog.ID(le.Uint64(b))
	w := &window{hourAt: int64(le.Uint64(b[8:])), dayAt: int64(le.Uint64(b[16:]))}
	b = b[24:]
	for i := range w.hour {
		w.hour[i] = le.Uint32(b[4*i:])
	}
	b = b[4*hourN:]
	for i := range w.day {
		w.day[i] = le.Uint32(b[4*i:])
	}
	return id, w
}

// noEOF turns the end of the stream, where more was due, into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
