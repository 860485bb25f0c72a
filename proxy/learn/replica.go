package learn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/recommend"
)

// Publisher sends what a Recorder learned to the other instances that
// share its state (store.Shared is one). Publish must copy change: the
// Recorder reuses its bytes once Publish returns.
type Publisher interface {
	Publish(change []byte)
}

// ErrChange is wrapped by every error of Apply: the bytes are not a
// change this build publishes.
var ErrChange = errors.New("learn: bad change")

// A change is one thing a Recorder did to the stores instances share, as
// bytes another instance applies (Recorder.Apply). Product and session
// IDs are hashes, so they take 8 bytes (little endian) rather than a
// uvarint's 10; times are unix milliseconds, as uvarints (at most
// maxMillis), the time the event happened:
//
//	event    byte changeEvent; byte Kind (View, Cart or Purchase); 8 bytes
//	         Session; 8 bytes Item (not 0); uvarint Time; uvarint n (at
//	         most maxCategories), then n 8-byte category IDs, outermost
//	         first: recommend.Engine.Record
//	view     byte changeView; 8 bytes product (not 0); uvarint time; byte
//	         windows (1: the hour, 2: the day, or both; nothing else):
//	         Views.Add
//	cart     byte changeCart; then as a view: Carts.Add
//	product  byte changeProduct; the product as catalog.AppendProduct
//	         writes it (ID not 0), its SeenAt the time it was put:
//	         Catalog.Put
//
// Nothing may follow; a change is at most maxChange bytes.
const (
	changeEvent byte = 1 + iota
	changeView
	changeCart
	changeProduct
)

const (
	// maxCategories is what recommend.Engine keeps of an event's
	// category path: the deepest four. An event carries no more.
	maxCategories = 4
	// maxMillis bounds a change's time: the year 2248.
	maxMillis = 1 << 43
	// maxChange bounds a change's bytes. A product (its texts clipped by
	// the catalog) is a few hundred bytes; one larger is not published.
	maxChange = 1 << 20
	// windowHour and windowDay are a count's windows.
	windowHour = 1
	windowDay  = 2
)

// change is one change, decoded.
type change struct {
	kind byte
	// an event
	ev   recommend.Event
	cats [maxCategories]catalog.ID
	// a view or a cart add
	id        catalog.ID
	at        time.Time
	hour, day bool
	// a product
	product catalog.Product
}

// bufs are the buffers changes are encoded into.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 128); return &b }}

// maxPooled is the largest buffer put back into bufs: a large product's
// buffer is left to the collector.
const maxPooled = 4 << 10

// send publishes b, encoded into *bp, and puts the buffer back.
func (r *Recorder) send(bp *[]byte, b []byte) {
	if len(b) <= maxChange {
		r.Share.Publish(b)
	}
	if cap(b) <= maxPooled {
		*bp = b[:0]
		bufs.Put(bp)
	}
}

// millis returns t as unix milliseconds, and false when a change cannot
// carry it.
func millis(t time.Time) (uint64, bool) {
	ms := t.UnixMilli()
	return uint64(ms), ms >= 0 && ms <= maxMillis
}

// publishEvent publishes an event the engine recorded. r.Share is set.
func (r *Recorder) publishEvent(ev *recommend.Event) {
	ms, ok := millis(ev.Time)
	if !ok {
		return
	}
	bp := bufs.Get().(*[]byte)
	b := append(*bp, changeEvent, byte(ev.Kind))
	b = binary.LittleEndian.AppendUint64(b, ev.Session)
	b = binary.LittleEndian.AppendUint64(b, uint64(ev.Item))
	b = binary.AppendUvarint(b, ms)
	cats := ev.Categories
	if len(cats) > maxCategories {
		cats = cats[len(cats)-maxCategories:]
	}
	b = binary.AppendUvarint(b, uint64(len(cats)))
	for _, c := range cats {
		b = binary.LittleEndian.AppendUint64(b, uint64(c))
	}
	r.send(bp, b)
}

// publishCount publishes a count added to Views (kind changeView) or
// Carts (changeCart). r.Share is set.
func (r *Recorder) publishCount(kind byte, id catalog.ID, at time.Time, hour, day bool) {
	ms, ok := millis(at)
	if !ok || !hour && !day {
		return
	}
	var windows byte
	if hour {
		windows |= windowHour
	}
	if day {
		windows |= windowDay
	}
	bp := bufs.Get().(*[]byte)
	b := append(*bp, kind)
	b = binary.LittleEndian.AppendUint64(b, uint64(id))
	b = binary.AppendUvarint(b, ms)
	b = append(b, windows)
	r.send(bp, b)
}

// publishProduct publishes a product the catalog put at now. r.Share is
// set.
func (r *Recorder) publishProduct(p catalog.Product, now time.Time) {
	p.SeenAt = now
	bp := bufs.Get().(*[]byte)
	b := append(*bp, changeProduct)
	r.send(bp, catalog.AppendProduct(b, &p))
}

// Apply applies one change another instance published to the stores r
// holds: an event to the engine, a count to Views or Carts (at the time it
// happened: a window it has slid out of does not count it), a product to
// the catalog. It publishes nothing. A change it refuses (an unknown kind,
// a field out of its bounds, bytes cut short or followed by more) changes
// nothing, and the error, wrapping ErrChange, says what was wrong.
func (r *Recorder) Apply(b []byte) error {
	var c change
	if err := c.decode(b); err != nil {
		return err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	c.clamp(now())
	c.apply(r)
	return nil
}

// maxAhead is how far ahead of this instance's clock a change's time may
// be: beyond it (a peer whose clock runs fast), the change counts as of
// now, so that it cannot slide this instance's live windows into the
// future and empty them.
const maxAhead = time.Minute

// clamp brings a change's time no later than now plus maxAhead.
func (c *change) clamp(now time.Time) {
	limit := now.Add(maxAhead)
	switch c.kind {
	case changeEvent:
		if c.ev.Time.After(limit) {
			c.ev.Time = now
		}
	case changeView, changeCart:
		if c.at.After(limit) {
			c.at = now
		}
	case changeProduct:
		if c.product.SeenAt.After(limit) {
			c.product.SeenAt = now
		}
	}
}

func (c *change) apply(r *Recorder) {
	switch c.kind {
	case changeEvent:
		r.Engine.Record(c.ev)
	case changeView:
		r.Views.Add(c.id, c.at, c.hour, c.day)
	case changeCart:
		r.Carts.Add(c.id, c.at, c.hour, c.day)
	case changeProduct:
		if held, ok := r.Catalog.Get(c.product.ID); ok && held.SeenAt.After(c.product.SeenAt) {
			return // what this instance saw last is newer
		}
		r.Catalog.Put(c.product, c.product.SeenAt)
	}
}

// decode reads b into c, refusing what publish* never writes.
func (c *change) decode(b []byte) error {
	if len(b) > maxChange {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrChange, len(b), maxChange)
	}
	d := decoder{b: b}
	c.kind = d.byte("kind")
	switch c.kind {
	case changeEvent:
		kind := d.byte("event kind")
		if d.err == nil && kind > byte(recommend.Purchase) {
			d.fail("event kind", fmt.Errorf("unknown %d", kind))
		}
		c.ev.Kind = recommend.Kind(kind)
		c.ev.Session = d.u64("session")
		c.ev.Item = d.id("product")
		c.ev.Time = d.time()
		n := d.uvarint(maxCategories, "categories")
		for i := range n {
			c.cats[i] = catalog.ID(d.u64("category"))
		}
		if n > 0 {
			c.ev.Categories = c.cats[:n]
		}
	case changeView, changeCart:
		c.id = d.id("product")
		c.at = d.time()
		windows := d.byte("windows")
		if d.err == nil && (windows == 0 || windows&^(windowHour|windowDay) != 0) {
			d.fail("windows", fmt.Errorf("%#x, want 1, 2 or 3", windows))
		}
		c.hour, c.day = windows&windowHour != 0, windows&windowDay != 0
	case changeProduct:
		p, err := catalog.DecodeProduct(d.b)
		if err != nil {
			return fmt.Errorf("%w: product: %w", ErrChange, err)
		}
		if p.ID == 0 {
			return fmt.Errorf("%w: product: id 0", ErrChange)
		}
		c.product, d.b = p, nil
	default:
		if d.err == nil {
			d.fail("kind", fmt.Errorf("unknown %d", c.kind))
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("end", fmt.Errorf("%d bytes more", len(d.b)))
	}
	return d.err
}

// decoder reads a change's fields, keeping the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s: %w", ErrChange, what, err)
	}
}

var errShort = errors.New("cut short")

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail(what, errShort)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u64(what string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail(what, errShort)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// id reads a product ID, which is not 0.
func (d *decoder) id(what string) catalog.ID {
	v := d.u64(what)
	if d.err == nil && v == 0 {
		d.fail(what, errors.New("id 0"))
	}
	return catalog.ID(v)
}

func (d *decoder) uvarint(limit uint64, what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.fail(what, errShort)
		return 0
	case n < 0:
		d.fail(what, errors.New("varint overflows 64 bits"))
		return 0
	case v > limit:
		d.fail(what, fmt.Errorf("%d beyond %d", v, limit))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// time reads a time in unix milliseconds.
func (d *decoder) time() time.Time {
	ms := d.uvarint(maxMillis, "time")
	if d.err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}
