package profile

import "time"

// A visitor's last click on a block or an overlay, for last-click
// attribution: the orders they place within a window after it are
// credited to that block or overlay (the proxy counts them).

// ClickKind is what a click was on.
type ClickKind uint8

// The kinds of click.
const (
	ClickBlock   ClickKind = 1 // a product in a recommendation block
	ClickOverlay ClickKind = 2 // an overlay's link
)

// ClickKey is how a profile names the block or overlay a click was on: a
// hash of its id with the kind in its two low bits, so that a block and
// an overlay of one id are told apart and no key is 0 (no click).
func ClickKey(kind ClickKind, id string) uint32 {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h&^3 | uint32(kind&3)
}

// lastClick is a visitor's last click as a profile holds it.
type lastClick struct {
	key uint32 // ClickKey; 0: none
	at  uint32 // unix seconds
}

// Click is a visitor's last click on a block or an overlay.
type Click struct {
	Kind ClickKind
	Key  uint32 // ClickKey(Kind, id)
	At   time.Time
}

// Clicked records a click at now on the block or overlay key names
// (ClickKey): the visitor's last click from now on, in place of any
// before it.
func (d *Data) Clicked(key uint32, now time.Time) {
	d.click = lastClick{key: key, at: uint32(now.Unix())}
}

// LastClick returns the visitor's last click on a block or an overlay;
// ok is false when there is none.
func (d *Data) LastClick() (c Click, ok bool) {
	if d.click.key == 0 {
		return Click{}, false
	}
	return Click{Kind: ClickKind(d.click.key & 3), Key: d.click.key, At: time.Unix(int64(d.click.at), 0)}, true
}

// Ordered records an order at now and returns the click it is credited
// to: the last click, if it was at most window before now (a click ahead
// of now, another instance's clock ahead, counts as now). tag names the
// order (a hash of its number, never 0), or is 0 for an order with no
// number; an order of the tag last recorded (its confirmation page
// reloaded) is credited to nothing, again. Every order is recorded,
// credited or not, so that an order placed before a click is not credited
// to it when its page is reloaded after.
func (d *Data) Ordered(tag uint16, now time.Time, window time.Duration) (c Click, credited bool) {
	if tag != 0 && tag == d.lastOrder {
		return Click{}, false
	}
	d.lastOrder = tag
	c, ok := d.LastClick()
	if !ok {
		return Click{}, false
	}
	if age := now.Unix() - int64(d.click.at); age > int64(window/time.Second) {
		return Click{}, false
	}
	return c, true
}

// mergeClick keeps, of a profile's Data about to be replaced by newer
// bytes (held) and those bytes (d), the newest of each: the later click,
// and the order tag of the later purchase. Everything else is d's.
func (d *Data) mergeClick(held *Data) {
	if held.click.at > d.click.at {
		d.click = held.click
	}
	if held.BoughtAt > d.BoughtAt {
		d.lastOrder = held.lastOrder
	}
}
