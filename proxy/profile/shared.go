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
const (
	// profileVersion changes with layoutVersion (what a field of Data
	// means) and with this encoding; TestProfileVersion holds the two
	// together.
	profileVersion = 1
	encodedHeader  = 1 + 8 + 4
	// EncodedSize is the length of every profile's bytes (Encode).
	EncodedSize = encodedHeader + dataSize
)

// Each held profile carries the generation of the shared store's copy it
// is (Install sets it, Written moves it on; 0 for a profile begun here and
// never written): a shared store writes a profile only over the
// generation the copy came from, so that a stale copy never overwrites a
// newer one. A profile evicted, expired or dropped takes its generation
// with it; one held again starts from the copy it is then.

// Encode appends the bytes of the visitor's profile to dst: a header (a
// version and the fingerprint of Data's layout), when the store last saw
// the visitor, and Data raw, copied under the profile's lock; gen is the
// generation of the copy. ok is false (and dst returned as it was) when
// no profile is held for the visitor or its TTL has passed. It is a look,
// not a visit: the visitor's place in last-seen order stays. It allocates
// nothing when dst has EncodedSize bytes of room.
func (s *Store) Encode(visitorID string, dst []byte) (b []byte, gen uint64, ok bool) {
	h, sh := s.locate(visitorID)
	now := s.clock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[h]
	if !ok || sh.slots[i].id != visitorID || s.expired(sh.slots[i].seen, now) {
		return dst, 0, false
	}
	e := &sh.slots[i]
	dst = append(dst, profileVersion)
	dst = binary.LittleEndian.AppendUint64(dst, layoutFingerprint)
	dst = binary.LittleEndian.AppendUint32(dst, e.seen)
	e.p.mu.Lock()
	dst = append(dst, dataBytes(&e.p.d)...)
	e.p.mu.Unlock()
	return dst, e.gen, true
}

// Written says the shared store now holds generation to of the visitor's
// profile, written from the copy of generation from: the copy held, if it
// is still that one, is of generation to.
func (s *Store) Written(visitorID string, from, to uint64) {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	if i, ok := sh.index[h]; ok && sh.slots[i].id == visitorID && sh.slots[i].gen == from {
		sh.slots[i].gen = to
	}
	sh.mu.Unlock()
}

// DropOlder forgets the visitor's profile if the copy held is of a
// generation older than gen (another instance wrote gen); gen 0 drops it
// whatever it is (erased, or lost to another instance's write). It
// reports whether a profile was dropped.
func (s *Store) DropOlder(visitorID string, gen uint64) bool {
	h, sh := s.locate(visitorID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[h]; ok && sh.slots[i].id == visitorID && (gen == 0 || sh.slots[i].gen < gen) {
		sh.remove(i, h)
		return true
	}
	return false
}

// Rebase makes every held profile one begun here (generation 0), for a
// shared store that lost what it held, and returns how many there are.
func (s *Store) Rebase() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for j := sh.head; j != none; j = sh.slots[j].next {
			sh.slots[j].gen = 0
			n++
		}
		sh.mu.Unlock()
	}
	return n
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
// It refuses (with an error wrapping ErrProfile, and changes nothing)
// bytes of another length, version or layout, and Data that fails the
// checks a snapshot's records pass.
func (s *Store) Install(visitorID string, b []byte, gen uint64) error {
	if len(b) != EncodedSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrProfile, len(b), EncodedSize)
	}
	if b[0] != profileVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrProfile, b[0], profileVersion)
	}
	if fp := binary.LittleEndian.Uint64(b[1:]); fp != layoutFingerprint {
		return fmt.Errorf("%w: profile of another layout (fingerprint %x; this build: %x)", ErrProfile, fp, layoutFingerprint)
	}
	seen := binary.LittleEndian.Uint32(b[9:])
	raw := b[encodedHeader:]
	var d Data
	copy(dataBytes(&d), raw)
	if err := d.check(); err != nil {
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
			copy(dataBytes(&e.p.d), raw)
			e.p.mu.Unlock()
			e.gen = gen
			return nil
		default:
			sh.remove(i, h)
			sh.expired++
		}
	}
	if s.expired(seen, now) {
		return nil
	}
	p := new(Profile)
	copy(dataBytes(&p.d), raw)
	s.holdLocked(sh, h, visitorID, p, seen, now)
	sh.slots[sh.index[h]].gen = gen
	return nil
}
