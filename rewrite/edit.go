package rewrite

import (
	"errors"
	"fmt"
	"slices"
)

// Errors returned when an edit would not be safe.
var (
	// ErrUnsafe means the element's source cannot be trusted for the edit
	// (implied tags, misnesting, no end tag).
	ErrUnsafe = errors.New("rewrite: element cannot be edited safely")
	// ErrOverlap means the edit touches bytes another edit already changes.
	ErrOverlap = errors.New("rewrite: edit overlaps an earlier edit")
)

// Range is a byte range [Start, End) of a source.
type Range struct {
	Start, End int
}

// Len returns the range's length.
func (r Range) Len() int { return r.End - r.Start }

// Splice is a set of edits to a source, by byte offset, spliced into a new
// copy: bytes no edit touches are copied exactly as they were. It does not
// need the Doc, so offsets found once on a page can be applied to the same
// bytes for many visitors. It knows nothing of HTML: its offsets are to
// come from a Site (insert.go), which checks where a browser puts what is
// spliced there, or from elements CanReorder accepts. The zero Splice is
// empty and ready to use.
type Splice struct {
	edits []edit
}

// edit replaces src[at:end] with lit, or with src[from:to] when to > from.
type edit struct {
	at, end  int32
	from, to int32
	lit      []byte
	seq      int
}

// Len returns the number of edits.
func (s *Splice) Len() int { return len(s.edits) }

// Reset empties the Splice, keeping its memory.
func (s *Splice) Reset() { s.edits = s.edits[:0] }

func (s *Splice) add(e edit) error {
	for _, o := range s.edits {
		if overlaps(e, o) {
			return ErrOverlap
		}
	}
	e.seq = len(s.edits)
	s.edits = append(s.edits, e)
	return nil
}

// overlaps reports whether two edits change the same bytes. Insertions at
// the same point do not overlap; an insertion strictly inside a replaced
// range does.
func overlaps(a, b edit) bool {
	if a.at == a.end && b.at == b.end {
		return false
	}
	if a.at == a.end {
		return b.at < a.at && a.at < b.end
	}
	if b.at == b.end {
		return a.at < b.at && b.at < a.end
	}
	return a.at < b.end && b.at < a.end
}

// Insert inserts b at offset at.
func (s *Splice) Insert(at int, b []byte) error {
	return s.add(edit{at: int32(at), end: int32(at), lit: b})
}

// Replace replaces the bytes of r with b.
func (s *Splice) Replace(r Range, b []byte) error {
	return s.add(edit{at: int32(r.Start), end: int32(r.End), lit: b})
}

// Reorder puts the ranges of slots in a new order: slot k receives the
// bytes of slots[order[k]]; the bytes between slots stay in place. Slots
// must be in order and not overlap; order must be a permutation of
// 0..len(slots)-1.
func (s *Splice) Reorder(slots []Range, order []int) error {
	if len(order) != len(slots) {
		return fmt.Errorf("reorder: %d items, %d positions", len(slots), len(order))
	}
	var seen [64]bool
	var mark []bool
	if len(slots) <= len(seen) {
		mark = seen[:len(slots)]
	} else {
		mark = make([]bool, len(slots))
	}
	for _, o := range order {
		if o < 0 || o >= len(slots) || mark[o] {
			return fmt.Errorf("reorder: order is not a permutation")
		}
		mark[o] = true
	}
	last := -1
	for _, r := range slots {
		if r.Start < last || r.End < r.Start {
			return fmt.Errorf("reorder: items overlap or are out of order")
		}
		last = r.End
	}
	n := len(s.edits)
	for k, o := range order {
		if o == k {
			continue
		}
		slot, src := slots[k], slots[o]
		if err := s.add(edit{at: int32(slot.Start), end: int32(slot.End), from: int32(src.Start), to: int32(src.End)}); err != nil {
			s.edits = s.edits[:n]
			return err
		}
	}
	return nil
}

// Bytes appends src with the edits spliced in to dst and returns it. With
// no edits it appends src unchanged.
func (s *Splice) Bytes(dst, src []byte) []byte {
	edits := s.edits
	slices.SortFunc(edits, func(a, b edit) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		// Insertions at a point go before a replacement starting there.
		if (a.at == a.end) != (b.at == b.end) {
			if a.at == a.end {
				return -1
			}
			return 1
		}
		return a.seq - b.seq
	})
	size := len(src)
	for _, e := range edits {
		size += len(e.lit) + int(e.to-e.from) - int(e.end-e.at)
	}
	dst = slices.Grow(dst, size)
	var pos int32
	for _, e := range edits {
		dst = append(dst, src[pos:e.at]...)
		if e.to > e.from {
			dst = append(dst, src[e.from:e.to]...)
		} else {
			dst = append(dst, e.lit...)
		}
		pos = e.end
	}
	return append(dst, src[pos:]...)
}

// Editor reorders elements of a Doc, refusing orders the Doc cannot vouch
// for (see CanReorder), and splices them into a new copy. It has no way to
// insert or replace bytes: insertions go through the sites of insert.go
// (Element.BlockSite, Doc.HeadSite, Doc.BodyEndSite), which check where a
// browser would put them, and are applied with a Splice.
type Editor struct {
	d  *Doc
	sp Splice
}

// Edit starts a set of edits to d.
func (d *Doc) Edit() *Editor { return &Editor{d: d} }

// Len returns the number of edits collected so far.
func (ed *Editor) Len() int { return ed.sp.Len() }

// Range returns the element's bytes in the source, tags included.
func (e Element) Range() Range {
	sp := e.d.spans[e.i]
	return Range{int(sp.start), int(sp.end)}
}

// CanReorder reports whether items may be put in another order: each is
// movable, they are in document order and not nested, and their parents
// are not in doubt (around items in a doubtful list, a browser may see
// other items). The error wraps ErrUnsafe.
func CanReorder(items []Element) error {
	last := -1
	for _, it := range items {
		if !it.Movable() {
			return fmt.Errorf("reorder <%s>: %w", it.Tag(), ErrUnsafe)
		}
		if p := it.d.index(it.Node().Parent); p < 0 || it.d.spans[p].flags&fDirty != 0 {
			return fmt.Errorf("reorder <%s>: its parent is in doubt: %w", it.Tag(), ErrUnsafe)
		}
		r := it.Range()
		if r.Start < last {
			return fmt.Errorf("reorder: items overlap or are out of order")
		}
		last = r.End
	}
	return nil
}

// Reorder puts items in a new order: slot k (the place of items[k] in the
// source) receives items[order[k]]. The bytes between items stay in place.
// Items must pass CanReorder; order must be a permutation of
// 0..len(items)-1.
func (ed *Editor) Reorder(items []Element, order []int) error {
	if err := CanReorder(items); err != nil {
		return err
	}
	slots := make([]Range, len(items))
	for i, it := range items {
		slots[i] = it.Range()
	}
	return ed.sp.Reorder(slots, order)
}

// Bytes appends the edited document to dst and returns it. With no edits it
// appends the source unchanged.
func (ed *Editor) Bytes(dst []byte) []byte { return ed.sp.Bytes(dst, ed.d.src) }
