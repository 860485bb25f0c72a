package profile

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrProfile is wrapped by every error of Install: the bytes are not a
// profile this build encodes (another version or layout of Data, another
// length), or their Data is one the package could not have made.
var ErrProfile = errors.New("profile: bad profile bytes")

// The encoding of one profile, what instances share (Encode, Install):
//
//	version     byte     profileVersion
//	fingerprint 8 bytes  layoutFingerprint (see snapshot.go), little endian
//	seen        4 bytes  the store's last seen, unix seconds, little endian
//	data        Data's bytes, raw, as the snapshot writes them
//
// Every field has a fixed width: a profile is always EncodedSize bytes.
// Install reads the bytes of earlier layouts too (layouts.go): version
// and fingerprint say which, and the length must be that layout's.
const (
	// profileVersion changes with layoutVersion (Data's layout) and with
	// this encoding; TestProfileVersion holds the two together, so that
	// the version says the layout.
	profileVersion = 2
	encodedHeader  = 1 + 8 + 4
	// EncodedSize is the length of every profile's bytes (Encode).
	EncodedSize = encodedHeader + dataSize
)

// Each held profile carries the generation of the shared store's copy it
// is (Install sets it, Written moves it on; 0 for a profile begun here and
// never written) and a number naming this copy (new with each Install,
// Load that creates, or restore): a shared store writes a profile only
// over the generation the copy came from, and tells which copy it wrote
// from, so that a stale copy never overwrites a newer one, and word of a
// write reaches the copy written, not one made since. A profile evicted,
// expired or dropped takes both with it.

// Encode appends the bytes of the visitor's profile to dst: a header (a
// version and the fingerprint of Data's layout), when the store last saw
// the visitor, and Data raw, copied under the profile's lock; gen is the
// generation of the copy, and copy its number. ok is false (and dst
// returned as it was) when no profile is held for the visitor or its TTL
// has passed. It is a look, not a visit: the visitor's place in last-seen
// order stays. It allocates nothing when dst has EncodedSize bytes of
// room.
func (s *Store) Encode(visitorID string, dst []byte) (b []byte, gen uint64, copy uint32, ok bool) {
	h, sh := s.locate(visitorID)
	now := s.clock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[h]
	if !ok || sh.slots[i].id != visitorID || s.expired(sh.slots[i].seen, now) {
		return dst, 0, 0, false
	}
	e := &sh.slots[i]
	dst = append(dst, profileVersion)
	dst = binary.LittleEndian.AppendUint64(dst, layoutFingerprint)
	dst = binary.LittleEndian.AppendUint32(dst, e.seen)
	e.p.mu.Lock()
	dst = append(dst, dataBytes(&e.p.d)...)
	e.p.mu.Unlock()
	return dst, e.gen, e.copy, true
}

// held returns the slot of a held visitor, or nil; the caller holds the
// shard's lock.
func (sh *shard) held(h uint64, visitorID string) *slot {
	if i, ok := sh.index[h]; ok && sh.slots[i].id == visitorID {
		return &sh.slots[i]
	}
	return nil
}

// Written says the shared store now holds generation gen of the
// visitor's profile, written from copy number copy: that copy, if it is
// still held, is of generation gen.
func (s *Store) Written(visitorID string, copy uint32, gen uint64) {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	if e := sh.held(h, visitorID); e != nil && e.copy == copy {
		e.gen = gen
	}
	sh.mu.Unlock()
}

// Adopt makes the held profile of a visitor, if it is of a generation
// before gen, one of generation gen: a profile begun here over a stored
// one this build cannot use (an erasure's tombstone, another build's
// layout), written over it.
func (s *Store) Adopt(visitorID string, gen uint64) {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	if e := sh.held(h, visitorID); e != nil && e.gen < gen {
		e.gen = gen
	}
	sh.mu.Unlock()
}

// DropCopy forgets the visitor's profile if the copy held is copy number
// copy (another instance's write stood over it); a copy made since stays.
func (s *Store) DropCopy(visitorID string, copy uint32) bool {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.held(h, visitorID); e != nil && e.copy == copy {
		sh.remove(sh.index[h], h)
		return true
	}
	return false
}

// DropOlder forgets the visitor's profile if the copy held is of a
// generation older than gen (another instance wrote gen); gen 0 drops it
// whatever it is (erased). It reports whether a profile was dropped.
func (s *Store) DropOlder(visitorID string, gen uint64) bool {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.held(h, visitorID); e != nil && (gen == 0 || e.gen < gen) {
		sh.remove(sh.index[h], h)
		return true
	}
	return false
}

// Install holds the profile b (which Encode made, here or in another
// instance of the same build), the shared store's copy of generation gen,
// as the visitor's. A profile already held of generation gen or later (two
// requests read the same copy: the first one's changes stay) is kept as it
// is; an older one has its Data replaced in place, under its lock, so that
// pointers callers hold stay valid and see it; otherwise a profile is
// created as Load does (the shard's least recently seen making room when
// the budget is spent), as the most recently seen. The visitor's last
// seen becomes the later of the held one's and b's; a last seen ahead of
// this store's clock (another instance's clock ahead) counts as now, and a
// profile b says was last seen longer ago than the TTL, with none held, is
// not held.
//
// The bytes of an earlier layout this build reads (layouts.go) are
// upgraded as they are installed. Over a held profile, the last click
// merges: the newer of the held one's and b's stays (and the tag of the
// order seen last, by the later purchase), so that a click made here and
// not yet written is not lost to an older copy's.
//
// It refuses (with an error wrapping ErrProfile, and changes nothing)
// bytes of another length, version or layout, and Data that fails the
// checks a snapshot's records pass.
func (s *Store) Install(visitorID string, b []byte, gen uint64) error {
	if len(b) < encodedHeader {
		return fmt.Errorf("%w: %d bytes, want %d", ErrProfile, len(b), EncodedSize)
	}
	// A profile's version is its layout's (TestProfileVersion).
	fp := binary.LittleEndian.Uint64(b[1:])
	lay, ok := layoutOf(uint64(b[0]), uint64(len(b)-encodedHeader), fp)
	switch {
	case ok:
	case len(b) != EncodedSize:
		return fmt.Errorf("%w: %d bytes, want %d", ErrProfile, len(b), EncodedSize)
	case b[0] != profileVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrProfile, b[0], profileVersion)
	default:
		return fmt.Errorf("%w: profile of another layout (fingerprint %x; this build: %x)", ErrProfile, fp, layoutFingerprint)
	}
	seen := binary.LittleEndian.Uint32(b[9:])
	var d Data
	if err := lay.read(b[encodedHeader:], &d); err != nil {
		return fmt.Errorf("%w: profile of %q: %w", ErrProfile, visitorID, err)
	}

	h, sh := s.locate(visitorID)
	now := s.clock()
	seen = min(seen, now)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[h]; ok {
		e := &sh.slots[i]
		switch {
		case e.id != visitorID: // another visitor, same hash
			sh.remove(i, h)
			sh.evicted++
		case !s.expired(e.seen, now):
			if e.gen >= gen && e.gen != 0 {
				return nil // this copy, or a later one, is held
			}
			if seen > e.seen {
				e.seen = seen
				sh.toFront(i)
			}
			e.p.mu.Lock()
			d.mergeClick(&e.p.d)
			e.p.d = d
			e.p.mu.Unlock()
			e.gen, e.copy = gen, s.copies.Add(1)
			return nil
		default:
			sh.remove(i, h)
			sh.expired++
		}
	}
	if s.expired(seen, now) {
		return nil
	}
	p := &Profile{d: d}
	s.holdLocked(sh, h, visitorID, p, seen, now)
	sh.slots[sh.index[h]].gen = gen
	return nil
}
