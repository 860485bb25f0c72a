package recommend

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// ErrSnapshot is wrapped by every error of ReadSnapshot: the snapshot is
// truncated, corrupt, of a foreign version or beyond the engine's bounds.
var ErrSnapshot = errors.New("recommend: bad snapshot")

// snapshotVersion is the version of the format WriteSnapshot writes, its
// first uvarint. Format 2, after the version (integers are uvarints unless
// said, IDs and session keys 8 bytes little-endian, times zigzag varints
// of unix seconds, scores float32 bits 4 bytes little-endian):
//
//	items:    count (≤ MaxItems), then per product, by ascending ID:
//	          id, categories (1 byte count, ≤ 4, then IDs), popularity and
//	          trend (score, time each), last event time, events recorded
//	          (≤ 2^32-1; for IDF), viewed and bought
//	          neighbours (count ≤ Neighbours, then id, score, time
//	          each; no id twice), visits indexed (count ≤ SessionsPerItem, then ring
//	          indices, oldest first)
//	sessions: ring length (≤ MaxSessions), next slot to reuse (the
//	          oldest visit when the ring is full), visits ever started
//	          (≥ ring length; for IDF), then per slot: key, last
//	          event time, products (1 byte count, ≤ 20, then IDs), bought
//	          (1 byte count, ≤ 8, then IDs)
//	end:      snapshotEnd, 4 bytes
//
// The popular and trending lists are not written: they are rebuilt from
// the scores on first use.
//
// Format 1 is format 2 without the events recorded and the visits
// started; ReadSnapshot reads it too, taking a product's indexed visits
// for its events and the ring's length for the visits started.
const snapshotVersion = 2

// snapshotEnd closes a snapshot, so that a reader out of step notices.
const snapshotEnd = 0x454e4421 // "END!"

// WriteSnapshot writes the engine's whole state to w (buffered by the
// caller), in a self-delimiting binary form versioned inside (a leading
// version of its own). It encodes into memory under the engine's read
// lock, in short holds (a thousand products each, then the visits), and
// writes to w without it.
func (e *Engine) WriteSnapshot(w io.Writer) error {
	buf, n := e.encode()
	head := binary.AppendUvarint(nil, snapshotVersion)
	head = binary.AppendUvarint(head, uint64(n))
	if _, err := w.Write(head); err != nil {
		return fmt.Errorf("write engine snapshot: %w", err)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write engine snapshot: %w", err)
	}
	return nil
}

// snapChunk is how many products encode encodes per hold of the read
// lock, so that Record never waits long.
const snapChunk = 1024

// encode encodes the n products (by ID), the visits and the end mark.
// It takes the read lock in short holds: the products known when it
// starts, snapChunk at a time (those evicted meanwhile left out), then the
// visits at once. Products so encoded are each as they were at one
// instant, and the visits they index are in the ring, which never
// shrinks.
func (e *Engine) encode() (buf []byte, n int) {
	e.mu.RLock()
	ids := make([]ID, 0, len(e.items))
	// About the size, so that the buffer rarely grows.
	size := 64
	for id, it := range e.items {
		ids = append(ids, id)
		size += 50 + 18*(len(it.viewed)+len(it.bought)) + 3*len(it.sessions)
	}
	for i := range e.sessions.ring {
		s := &e.sessions.ring[i]
		size += 16 + 8*int(s.n+s.nb)
	}
	e.mu.RUnlock()
	// By ID, so that the same state writes the same bytes.
	slices.Sort(ids)
	buf = make([]byte, 0, size)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), snapChunk)]
		ids = ids[len(chunk):]
		e.mu.RLock()
		for _, id := range chunk {
			if it := e.items[id]; it != nil {
				buf = appendItem(buf, id, it)
				n++
			}
		}
		e.mu.RUnlock()
	}
	e.mu.RLock()
	buf = appendSessions(buf, &e.sessions)
	e.mu.RUnlock()
	return binary.LittleEndian.AppendUint32(buf, snapshotEnd), n
}

func appendID(b []byte, id ID) []byte { return binary.LittleEndian.AppendUint64(b, uint64(id)) }

func appendDecayed(b []byte, d decayed) []byte {
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(d.v))
	return binary.AppendVarint(b, d.at)
}

func appendNeighbours(b []byte, l []neighbour) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, n := range l {
		b = appendID(b, n.id)
		b = appendDecayed(b, n.w)
	}
	return b
}

func appendItem(b []byte, id ID, it *item) []byte {
	b = appendID(b, id)
	b = append(b, it.nCats)
	for _, c := range it.cats[:it.nCats] {
		b = appendID(b, c)
	}
	b = appendDecayed(b, it.pop)
	b = appendDecayed(b, it.trend)
	b = binary.AppendVarint(b, it.last)
	b = binary.AppendUvarint(b, uint64(it.events))
	b = appendNeighbours(b, it.viewed)
	b = appendNeighbours(b, it.bought)
	b = binary.AppendUvarint(b, uint64(len(it.sessions)))
	for _, s := range it.sessions {
		b = binary.AppendUvarint(b, uint64(s))
	}
	return b
}

func appendSessions(b []byte, st *sessionStore) []byte {
	b = binary.AppendUvarint(b, uint64(len(st.ring)))
	b = binary.AppendUvarint(b, uint64(st.next))
	b = binary.AppendUvarint(b, st.started)
	for i := range st.ring {
		s := &st.ring[i]
		b = binary.LittleEndian.AppendUint64(b, s.key)
		b = binary.AppendVarint(b, s.last)
		b = append(b, s.n)
		for _, id := range s.items[:s.n] {
			b = appendID(b, id)
		}
		b = append(b, s.nb)
		for _, id := range s.bought[:s.nb] {
			b = appendID(b, id)
		}
	}
	return b
}

// ReadSnapshot replaces the engine's state with the one read from r,
// reading exactly the bytes WriteSnapshot wrote: when r is a
// *bufio.Reader (shared between sections), it reads through it and never
// past the snapshot's end; any other reader it reads one byte at a time.
// The current configuration bounds the snapshot: one with more products
// than MaxItems, more visits than MaxSessions, more neighbours than
// Neighbours or more visits per product than SessionsPerItem (written by
// a bigger configuration) is refused, not cut. On any error (truncated,
// corrupt, a foreign version, beyond the bounds) it returns an error
// wrapping ErrSnapshot and leaves the engine empty. It allocates as it
// reads, never beyond the bounds. Scores keep their times, so decay goes
// on from them; the popular and trending lists are rebuilt on first use.
func (e *Engine) ReadSnapshot(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		// Buffered on a reader of one byte at a time, it never reads
		// ahead.
		br = bufio.NewReaderSize(oneByte{r}, 16)
	}
	d := snapReader{r: br}
	items, sessions, err := d.read(e.cfg)
	if err != nil {
		items, sessions = make(map[ID]*item), sessionStore{}
		sessions.init(e.cfg.MaxSessions)
		err = fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	e.mu.Lock()
	e.items, e.sessions = items, sessions
	e.mu.Unlock()
	e.top.reset()
	return err
}

// oneByte reads at most one byte at a time, so as never to read past the
// snapshot.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }

// snapReader decodes a snapshot; the first error sticks and every later
// read returns zero.
type snapReader struct {
	r   *bufio.Reader
	off int64
	err error
}

func (d *snapReader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("offset %d: %s", d.off, fmt.Sprintf(format, args...))
	}
}

func (d *snapReader) byte() byte {
	if d.err != nil {
		return 0
	}
	c, err := d.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = fmt.Errorf("offset %d: %w", d.off, err)
		return 0
	}
	d.off++
	return c
}

func (d *snapReader) uvarint() uint64 {
	if d.err == nil && d.r.Buffered() >= binary.MaxVarintLen64 {
		// Fast path, from what is buffered already: reads nothing.
		b, _ := d.r.Peek(binary.MaxVarintLen64)
		x, n := binary.Uvarint(b)
		if n > 0 {
			_, _ = d.r.Discard(n)
			d.off += int64(n)
			return x
		}
	}
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c := d.byte()
		if d.err != nil {
			return 0
		}
		if shift == 63 && c > 1 {
			break
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.fail("varint overflows 64 bits")
	return 0
}

func (d *snapReader) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// fixed returns the next n bytes, or nil when fewer are buffered or come.
func (d *snapReader) fixed(n int) []byte {
	if d.err != nil {
		return nil
	}
	b, err := d.r.Peek(n)
	if err != nil {
		return nil
	}
	_, _ = d.r.Discard(n)
	d.off += int64(n)
	return b
}

func (d *snapReader) uint64() uint64 {
	if b := d.fixed(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	var b [8]byte
	for i := range b {
		b[i] = d.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (d *snapReader) uint32() uint32 {
	if b := d.fixed(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	var b [4]byte
	for i := range b {
		b[i] = d.byte()
	}
	return binary.LittleEndian.Uint32(b[:])
}

// count reads a count and checks it against a bound.
func (d *snapReader) count(what string, bound int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(bound) {
		d.fail("%d %s, more than the bound %d", n, what, bound)
		return 0
	}
	return int(n)
}

// maxTime bounds the times a snapshot may hold, either side of 1970 (about
// 35,000 years), so that ages neither overflow nor leave a product that
// eviction never picks.
const maxTime = 1 << 40

// time reads a time.
func (d *snapReader) time() int64 {
	t := d.varint()
	if d.err == nil && (t > maxTime || t < -maxTime) {
		d.fail("time %d out of range", t)
	}
	return t
}

func (d *snapReader) decayed() decayed {
	v := math.Float32frombits(d.uint32())
	at := d.time()
	if d.err == nil && !(v >= 0 && v <= math.MaxFloat32) {
		d.fail("score %v is not a finite non-negative number", v)
	}
	return decayed{v: v, at: at}
}

func (d *snapReader) neighbours(bound int) []neighbour {
	n := d.count("neighbours", bound)
	if n == 0 {
		return nil
	}
	l := make([]neighbour, 0, n)
	for range n {
		if d.err != nil {
			return nil
		}
		id := ID(d.uint64())
		for _, x := range l {
			if x.id == id {
				// The engine lists a neighbour once, and scores a
				// product's neighbours as the list says.
				d.fail("neighbour %d twice", id)
				return nil
			}
		}
		l = append(l, neighbour{id: id, w: d.decayed()})
	}
	return l
}

// read decodes a whole snapshot within cfg's bounds.
func (d *snapReader) read(cfg Config) (map[ID]*item, sessionStore, error) {
	var st sessionStore
	version := d.uvarint()
	if d.err == nil && version != 1 && version != snapshotVersion {
		d.fail("version %d, want 1 or %d", version, snapshotVersion)
	}
	n := d.count("products", cfg.MaxItems)
	items := make(map[ID]*item, min(n, 1024))
	var prev ID
	for i := range n {
		if d.err != nil {
			break
		}
		id := ID(d.uint64())
		if d.err == nil && (id == 0 || i > 0 && id <= prev) {
			d.fail("product %d out of order or repeated", id)
		}
		prev = id
		it := &item{}
		it.nCats = uint8(d.count("categories", maxDepth))
		for j := range it.cats[:it.nCats] {
			it.cats[j] = ID(d.uint64())
		}
		it.pop = d.decayed()
		it.trend = d.decayed()
		it.last = d.time()
		if version >= 2 {
			it.events = uint32(d.count("events of a product", math.MaxUint32))
		}
		it.viewed = d.neighbours(cfg.Neighbours)
		it.bought = d.neighbours(cfg.Neighbours)
		if ns := d.count("visits of a product", cfg.SessionsPerItem); ns > 0 {
			it.sessions = make([]int32, 0, ns)
			for range ns {
				if d.err != nil {
					break
				}
				it.sessions = append(it.sessions, int32(d.count("visit index", cfg.MaxSessions-1)))
			}
		}
		if version < 2 {
			it.events = uint32(len(it.sessions))
		}
		items[id] = it
	}

	st.init(cfg.MaxSessions)
	ring := d.count("visits", cfg.MaxSessions)
	next := d.count("next visit slot", max(ring-1, 0))
	st.started = uint64(ring)
	if version >= 2 {
		st.started = d.uvarint()
		if d.err == nil && st.started < uint64(ring) {
			d.fail("%d visits started, fewer than the %d kept", st.started, ring)
		}
	}
	for range ring {
		if d.err != nil {
			break
		}
		s := session{key: d.uint64(), last: d.time()}
		s.n = uint8(d.count("products of a visit", maxSessionItems))
		for j := range s.items[:s.n] {
			s.items[j] = ID(d.uint64())
		}
		s.nb = uint8(d.count("products bought in a visit", len(s.bought)))
		for j := range s.bought[:s.nb] {
			s.bought[j] = ID(d.uint64())
		}
		if _, dup := st.byKey[s.key]; dup && d.err == nil {
			d.fail("visit %#x repeated", s.key)
		}
		st.byKey[s.key] = int32(len(st.ring))
		if len(st.ring) == cap(st.ring) {
			// Grow as append would, but never beyond the bound.
			st.ring = slices.Grow(st.ring, min(len(st.ring), ring-len(st.ring)))
		}
		st.ring = append(st.ring, s)
	}
	if end := d.uint32(); d.err == nil && end != snapshotEnd {
		d.fail("end mark %#x, want %#x", end, snapshotEnd)
	}
	if d.err != nil {
		return nil, st, d.err
	}
	// Every visit a product indexes must be in the ring.
	for id, it := range items {
		for _, s := range it.sessions {
			if int(s) >= len(st.ring) {
				return nil, st, fmt.Errorf("product %d indexes visit %d of %d", id, s, len(st.ring))
			}
		}
	}
	if len(st.ring) < st.max {
		// Written by a smaller configuration: the ring grows again, so its
		// oldest visit goes first, where appending expects it.
		rotate(items, &st, next)
	} else {
		st.next = next
	}
	return items, st, nil
}

// rotate turns the ring so that slot next, its oldest visit, comes first,
// and renumbers the visits the products index.
func rotate(items map[ID]*item, st *sessionStore, next int) {
	n := len(st.ring)
	if next == 0 || n == 0 {
		return
	}
	st.ring = slices.Concat(st.ring[next:], st.ring[:next])
	for i, s := range st.ring {
		st.byKey[s.key] = int32(i)
	}
	for _, it := range items {
		for j, s := range it.sessions {
			it.sessions[j] = int32((int(s) - next + n) % n)
		}
	}
	st.next = 0
}
