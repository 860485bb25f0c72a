package profile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"reflect"
	"slices"
	"sync/atomic"
	"unsafe"

	"shopedge/proxy/agent"
	"shopedge/proxy/traffic"
)

// ErrSnapshot is wrapped by every error of ReadSnapshot: the stream is
// truncated, corrupt, of another format or layout, or beyond the bounds.
var ErrSnapshot = errors.New("profile: bad snapshot")

// The snapshot format. A snapshot is:
//
//	format     byte     snapshotFormat
//	layout     uvarint  layoutVersion
//	size       uvarint  unsafe.Sizeof(Data{})
//	fingerprint 8 bytes  layoutFingerprint, little endian
//	chunks:    uvarint n (1..maxChunk) then n records; a chunk of 0 ends the stream
//	record:    uvarint len(id) (1..maxIDLen), id, uvarint seen (unix seconds), Data's bytes
//
// Data is written raw, as it lies in memory (it holds no pointers): the
// layout version, its size and a fingerprint of its fields (names, types,
// offsets, computed by reflection) must all match the running build's or
// those of an earlier layout it reads (layouts.go, upgraded as read), so
// a build whose Data changed otherwise starts empty instead of reading
// garbage; and every record's Data is checked (counts within their
// arrays, texts within theirs, booleans and enums in range) before it is
// held.
const (
	snapshotFormat = 1
	// layoutVersion numbers Data's layouts: it changes with Data's
	// fields, and when what a field means changes without its name, type
	// or place changing. Layout 2 added the last click.
	layoutVersion = 2
	maxChunk      = 1 << 16 // records in a chunk
	maxIDLen      = 256     // bytes of a visitor id
	maxRecords    = 1 << 28 // records in a snapshot
)

// dataSize is the size of Data, written raw.
const dataSize = int(unsafe.Sizeof(Data{}))

// layoutFingerprint is a hash of Data's fields (their names, types, sizes
// and offsets, recursively) and of the machine's byte order.
var layoutFingerprint = fingerprint(reflect.TypeFor[Data]())

func fingerprint(t reflect.Type) uint64 {
	h := fnv.New64a()
	order := uint16(0x0102)
	h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&order)), 2))
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		fmt.Fprintf(h, "%s/%d/%d(", t.Kind(), t.Size(), t.Align())
		switch t.Kind() {
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				fmt.Fprintf(h, "%s@%d:", f.Name, f.Offset)
				walk(f.Type)
			}
		case reflect.Array:
			fmt.Fprintf(h, "%d×", t.Len())
			walk(t.Elem())
		}
		fmt.Fprint(h, ")")
	}
	walk(t)
	return h.Sum64()
}

// dataBytes returns d's memory as bytes.
func dataBytes(d *Data) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(d)), dataSize) }

// WriteSnapshot writes every held profile that has not expired to w: its
// visitor id, when it was last seen and its Data, least recently seen
// first within each shard. It holds one shard's lock at a time, only to
// copy that shard's records; each profile is copied under its own lock, so
// requests go on while it writes. w should be buffered.
func (s *Store) WriteSnapshot(w io.Writer) error {
	hdr := []byte{snapshotFormat}
	hdr = binary.AppendUvarint(hdr, layoutVersion)
	hdr = binary.AppendUvarint(hdr, uint64(dataSize))
	hdr = binary.LittleEndian.AppendUint64(hdr, layoutFingerprint)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("profile: write snapshot: %w", err)
	}
	var body []byte
	now := s.clock()
	for i := range s.shards {
		sh := &s.shards[i]
		n := 0
		body = body[:0]
		sh.mu.Lock()
		for j := sh.tail; j != none; j = sh.slots[j].prev {
			e := &sh.slots[j]
			if s.expired(e.seen, now) || len(e.id) == 0 || len(e.id) > maxIDLen {
				continue
			}
			if n == maxChunk { // only in a shard of more than maxChunk profiles
				if err := writeChunk(w, n, body); err != nil {
					sh.mu.Unlock()
					return err
				}
				n, body = 0, body[:0]
			}
			body = binary.AppendUvarint(body, uint64(len(e.id)))
			body = append(body, e.id...)
			body = binary.AppendUvarint(body, uint64(e.seen))
			d := e.p.Snapshot()
			body = append(body, dataBytes(&d)...)
			n++
		}
		sh.mu.Unlock()
		if err := writeChunk(w, n, body); err != nil {
			return err
		}
	}
	if _, err := w.Write([]byte{0}); err != nil {
		return fmt.Errorf("profile: write snapshot: %w", err)
	}
	return nil
}

// writeChunk writes a chunk of n records, body, unless it is empty.
func writeChunk(w io.Writer, n int, body []byte) error {
	if n == 0 {
		return nil
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(n))); err != nil {
		return fmt.Errorf("profile: write snapshot: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("profile: write snapshot: %w", err)
	}
	return nil
}

// restored is a profile read from a snapshot, not yet held.
type restored struct {
	id   string
	h    uint64
	seen uint32
	p    *Profile
}

// ReadSnapshot replaces the held profiles with those read from r, which
// WriteSnapshot wrote, reading exactly what it wrote and no further.
// Profiles whose TTL has passed are not restored; when the snapshot holds
// more than the store's budget, the most recently seen are kept. After it,
// last-seen order (and so eviction) is that of the visitors' last visits,
// and Stats count the restored profiles as created and the ones left out
// as expired or evicted; hits and misses start from zero.
//
// On any error (a truncated or corrupt stream, another format or layout of
// Data, a count or length beyond the bounds) it returns an error wrapping
// ErrSnapshot and the store is left as it was. It may be called while the
// store serves requests: each shard is replaced under its lock.
func (s *Store) ReadSnapshot(r *bufio.Reader) error {
	lay, err := readHeader(r)
	if err != nil {
		return err
	}
	now := s.clock()
	parts := make([][]restored, len(s.shards))
	var expired int64
	dropped := make([]int64, len(s.shards))
	total := 0
	for {
		n, err := readUvarint(r, maxChunk, "chunk")
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if total += int(n); total > maxRecords {
			return fmt.Errorf("%w: more than %d profiles", ErrSnapshot, maxRecords)
		}
		for range n {
			rec, err := readRecord(r, lay)
			if err != nil {
				return err
			}
			if s.expired(rec.seen, now) {
				expired++
				continue
			}
			rec.h = s.hash(rec.id)
			k := rec.h & s.mask
			parts[k] = append(parts[k], rec)
			// Keep at most twice a shard's budget in memory: past it,
			// keep only the most recently seen.
			if limit := s.shards[k].limit; len(parts[k]) >= 2*limit {
				before := len(parts[k])
				parts[k] = newest(parts[k], limit)
				dropped[k] += int64(before - len(parts[k]))
			}
		}
	}
	for i := range s.shards {
		sh := &s.shards[i]
		before := len(parts[i])
		parts[i] = newest(parts[i], sh.limit)
		dropped[i] += int64(before - len(parts[i]))
		fresh := shard{limit: sh.limit}
		fresh.fill(parts[i], &s.copies)
		fresh.evicted = dropped[i]
		if i == 0 {
			fresh.expired = expired
		}
		sh.mu.Lock()
		sh.index, sh.slots, sh.free, sh.head, sh.tail = fresh.index, fresh.slots, fresh.free, fresh.head, fresh.tail
		sh.created, sh.evicted, sh.expired, sh.hits, sh.misses = fresh.created, fresh.evicted, fresh.expired, 0, 0
		sh.mu.Unlock()
	}
	return nil
}

// newest sorts recs by last seen, drops all but the latest of each hash
// (the same visitor twice, or two visitors with one hash, as Load would),
// and keeps the limit most recently seen.
func newest(recs []restored, limit int) []restored {
	slices.SortStableFunc(recs, func(a, b restored) int {
		if a.seen != b.seen {
			if a.seen < b.seen {
				return -1
			}
			return 1
		}
		return 0
	})
	seen := make(map[uint64]struct{}, min(len(recs), limit))
	// Walk newest first, keeping recs[k:], oldest first.
	k := len(recs)
	for i := len(recs) - 1; i >= 0 && len(recs)-k < limit; i-- {
		if _, dup := seen[recs[i].h]; dup {
			continue
		}
		seen[recs[i].h] = struct{}{}
		k--
		recs[k] = recs[i] // k >= i: nothing unread is overwritten
	}
	n := copy(recs, recs[k:])
	clear(recs[n:])
	return recs[:n]
}

// fill holds recs, sorted oldest first with distinct hashes, in an empty
// shard: the last is the most recently seen.
func (sh *shard) fill(recs []restored, copies *atomic.Uint32) {
	sh.index = make(map[uint64]int32, len(recs))
	sh.slots = make([]slot, 0, len(recs))
	sh.free, sh.head, sh.tail = none, none, none
	for _, rec := range recs {
		sh.slots = append(sh.slots, slot{id: rec.id, p: rec.p, copy: copies.Add(1), seen: rec.seen, prev: none, next: none})
		i := int32(len(sh.slots) - 1)
		sh.index[rec.h] = i
		sh.pushFront(i)
	}
	sh.created = int64(len(recs))
}

// readHeader reads a snapshot's header and returns the layout its
// records' Data has.
func readHeader(r *bufio.Reader) (*layout, error) {
	format, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrSnapshot, err)
	}
	if format != snapshotFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrSnapshot, format, snapshotFormat)
	}
	version, err := readUvarint(r, 1<<32, "layout version")
	if err != nil {
		return nil, err
	}
	size, err := readUvarint(r, 1<<32, "profile size")
	if err != nil {
		return nil, err
	}
	var fp [8]byte
	if _, err := io.ReadFull(r, fp[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrSnapshot, err)
	}
	lay, ok := layoutOf(version, size, binary.LittleEndian.Uint64(fp[:]))
	if !ok {
		return nil, fmt.Errorf("%w: profiles of another layout (version %d, %d bytes, fingerprint %x; this build: %d, %d, %x)",
			ErrSnapshot, version, size, fp, layoutVersion, dataSize, layoutFingerprint)
	}
	return lay, nil
}

// readRecord reads one profile, its Data of layout lay.
func readRecord(r *bufio.Reader, lay *layout) (restored, error) {
	n, err := readUvarint(r, maxIDLen, "visitor id length")
	if err != nil {
		return restored{}, err
	}
	if n == 0 {
		return restored{}, fmt.Errorf("%w: empty visitor id", ErrSnapshot)
	}
	id := make([]byte, n)
	if _, err := io.ReadFull(r, id); err != nil {
		return restored{}, fmt.Errorf("%w: visitor id: %w", ErrSnapshot, err)
	}
	seen, err := readUvarint(r, 1<<32-1, "last seen")
	if err != nil {
		return restored{}, err
	}
	p := new(Profile)
	raw := dataBytes(&p.d)
	if lay.decode != nil {
		raw = make([]byte, lay.size) // an earlier layout, upgraded into p.d
	}
	if _, err := io.ReadFull(r, raw); err != nil {
		return restored{}, fmt.Errorf("%w: profile: %w", ErrSnapshot, err)
	}
	if err := lay.read(raw, &p.d); err != nil {
		return restored{}, fmt.Errorf("%w: profile of %q: %w", ErrSnapshot, id, err)
	}
	return restored{id: string(id), seen: uint32(seen), p: p}, nil
}

// readUvarint reads a uvarint no greater than limit.
func readUvarint(r *bufio.Reader, limit uint64, what string) (uint64, error) {
	v, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrSnapshot, what, noEOF(err))
	}
	if v > limit {
		return 0, fmt.Errorf("%w: %s %d beyond %d", ErrSnapshot, what, v, limit)
	}
	return v, nil
}

// noEOF turns the end of the stream, where more was due, into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

var numTrafficClasses = len(traffic.Names())

// check reports whether d, read raw, is one the package could have made:
// its counts within their arrays, its texts within theirs, its booleans
// and enums in range. Anything else could panic a reader of it.
func (d *Data) check() error {
	switch {
	case int(d.nRecent) > MaxRecent, int(d.nInterest) > MaxInterests, int(d.nCart) > MaxCart,
		int(d.nPurch) > MaxPurchases, int(d.nExps) > MaxExperiments:
		return errors.New("a count beyond its array")
	case *(*uint8)(unsafe.Pointer(&d.Customer)) > 1:
		return errors.New("customer flag neither true nor false")
	case d.Device.Class > agent.Tablet, d.Device.OS > agent.ChromeOS, d.Device.Browser > agent.Samsung:
		return errors.New("unknown device")
	case int(d.traffic) >= numTrafficClasses:
		return errors.New("unknown traffic class")
	case !textsFit(d.searches[:]), !textsFit(d.source[:]):
		return errors.New("a text beyond its array")
	}
	return nil
}

// textsFit reports whether every string of the texts t ends within t.
func textsFit(t []byte) bool {
	i := 0
	for i < len(t) && t[i] != 0 {
		i += int(t[i]) // its length byte and its bytes
	}
	return i <= len(t)
}
