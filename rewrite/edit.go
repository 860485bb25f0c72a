package rewrite

import (
	"errors"
	"fmt"
	"slices"
)

// Errors returned by the Editor when an edit would not be safe.
var (
	// ErrUnsafe means the element's source cannot be trusted for the edit
	// (implied tags, misnesting, no end tag).
	ErrUnsafe = errors.New("rewrite: element cannot be edited safely")
	// ErrOverlap means the edit touches bytes another edit already changes.
	ErrOverlap = errors.New("rewrite: edit overlaps an earlier edit")
)

// Editor collects edits to a Doc's source and splices them into a new copy:
// bytes no edit touches are copied exactly as they were, so the output
// differs from the source only where an edit says so.
type Editor struct {
	d     *Doc
	edits []edit
}

// edit replaces src[at:end] with lit, or with src[from:to] when to > from.
type edit struct {
	at, end  int32
	from, to int32
	lit      []byte
	seq      int
}

// Edit starts a set of edits to d.
func (d *Doc) Edit() *Editor { return &Editor{d: d} }

// Len returns the number of edits collected so far.
func (ed *Editor) Len() int { return len(ed.edits) }

func (ed *Editor) add(e edit) error {
	for _, o := range ed.edits {
		if overlaps(e, o) {
			return ErrOverlap
		}
	}
	e.seq = len(ed.edits)
	ed.edits = append(ed.edits, e)
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

func (ed *Editor) insert(off int32, b []byte) error {
	return ed.add(edit{at: off, end: off, lit: b})
}

// InsertBefore inserts b just before e's start tag.
func (ed *Editor) InsertBefore(e Element, b []byte) error {
	sp := ed.d.spans[e.i]
	if sp.flags&fSynthetic != 0 {
		return fmt.Errorf("insert before <%s>: %w", e.Tag(), ErrUnsafe)
	}
	return ed.insert(sp.start, b)
}

// InsertAfter inserts b just after e's end tag.
func (ed *Editor) InsertAfter(e Element, b []byte) error {
	sp := ed.d.spans[e.i]
	if sp.flags&fSynthetic != 0 || sp.flags&fExplicitEnd == 0 {
		return fmt.Errorf("insert after <%s>: %w", e.Tag(), ErrUnsafe)
	}
	return ed.insert(sp.end, b)
}

// Prepend inserts b at the start of e's content.
func (ed *Editor) Prepend(e Element, b []byte) error {
	sp := ed.d.spans[e.i]
	if sp.flags&(fSynthetic|fOpaque) != 0 || sp.kind&(kVoid|kRawText) != 0 {
		return fmt.Errorf("prepend to <%s>: %w", e.Tag(), ErrUnsafe)
	}
	return ed.insert(sp.inner, b)
}

// Append inserts b at the end of e's content, before its end tag.
func (ed *Editor) Append(e Element, b []byte) error {
	sp := ed.d.spans[e.i]
	if sp.flags&(fSynthetic|fOpaque) != 0 || sp.flags&fExplicitEnd == 0 || sp.kind&(kVoid|kRawText) != 0 {
		return fmt.Errorf("append to <%s>: %w", e.Tag(), ErrUnsafe)
	}
	return ed.insert(sp.close, b)
}

// Replace replaces e, tags included, with b.
func (ed *Editor) Replace(e Element, b []byte) error {
	if !e.Movable() {
		return fmt.Errorf("replace <%s>: %w", e.Tag(), ErrUnsafe)
	}
	sp := ed.d.spans[e.i]
	return ed.add(edit{at: sp.start, end: sp.end, lit: b})
}

// Reorder puts items in a new order: slot k (the place of items[k] in the
// source) receives items[order[k]]. The bytes between items stay in place.
// Items must be movable, in document order and not nested; order must be a
// permutation of 0..len(items)-1.
func (ed *Editor) Reorder(items []Element, order []int) error {
	if len(order) != len(items) {
		return fmt.Errorf("reorder: %d items, %d positions", len(items), len(order))
	}
	seen := make([]bool, len(items))
	for _, o := range order {
		if o < 0 || o >= len(items) || seen[o] {
			return fmt.Errorf("reorder: order is not a permutation")
		}
		seen[o] = true
	}
	var last int32 = -1
	for _, it := range items {
		if !it.Movable() {
			return fmt.Errorf("reorder <%s>: %w", it.Tag(), ErrUnsafe)
		}
		// Around items in a doubtful list, a browser may see other items.
		if p := ed.d.index(it.Node().Parent); p < 0 || ed.d.spans[p].flags&fDirty != 0 {
			return fmt.Errorf("reorder <%s>: its parent is in doubt: %w", it.Tag(), ErrUnsafe)
		}
		sp := ed.d.spans[it.i]
		if sp.start < last {
			return fmt.Errorf("reorder: items overlap or are out of order")
		}
		last = sp.end
	}
	n := len(ed.edits)
	for k, o := range order {
		if o == k {
			continue
		}
		slot, src := ed.d.spans[items[k].i], ed.d.spans[items[o].i]
		if err := ed.add(edit{at: slot.start, end: slot.end, from: src.start, to: src.end}); err != nil {
			ed.edits = ed.edits[:n]
			return err
		}
	}
	return nil
}

// Bytes appends the edited document to dst and returns it. With no edits it
// appends the source unchanged.
func (ed *Editor) Bytes(dst []byte) []byte {
	src := ed.d.src
	edits := ed.edits
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
