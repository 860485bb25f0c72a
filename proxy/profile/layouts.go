package profile

import (
	"errors"
	"reflect"
	"unsafe"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/traffic"
)

// The layouts of Data this build reads: its own, and the earlier ones
// whose bytes a snapshot file or the shared store may still hold (a
// restart into a new build, or instances of two builds during a deploy).
// An earlier layout is read into its frozen struct and upgraded, field by
// field; bytes of any other layout are refused, as before.

// layout is one layout of Data as its bytes are written.
type layout struct {
	version     uint64 // layoutVersion it was written under
	size        int    // bytes of its Data
	fingerprint uint64 // layoutFingerprint of its Data
	// decode makes d from raw (size bytes) and checks it; nil for this
	// build's own layout, whose bytes are copied as they are.
	decode func(raw []byte, d *Data) error
}

// layouts are the layouts read: this build's first.
var layouts = []layout{
	{version: layoutVersion, size: dataSize, fingerprint: layoutFingerprint},
	{version: 1, size: int(unsafe.Sizeof(dataV1{})), fingerprint: fingerprint(reflect.TypeFor[dataV1]()), decode: decodeV1},
}

// layoutOf returns the layout of a version, size and fingerprint, if this
// build reads it.
func layoutOf(version, size, fp uint64) (*layout, bool) {
	for i := range layouts {
		if l := &layouts[i]; l.version == version && uint64(l.size) == size && l.fingerprint == fp {
			return l, true
		}
	}
	return nil, false
}

// read makes d from raw, the bytes of a Data of layout l, and checks it.
func (l *layout) read(raw []byte, d *Data) error {
	if l.decode != nil {
		return l.decode(raw, d)
	}
	copy(dataBytes(d), raw)
	return d.check()
}

// dataV1 is Data as layout 1 (until December 2026) laid it out: searches
// of 76 bytes, and no last click. Frozen: its fields' names, types and
// places make its fingerprint, which the bytes of that layout carry.
type dataV1 struct {
	recent    [MaxRecent]catalog.ID
	cart      [MaxCart]catalog.ID
	purchased [MaxPurchases]catalog.ID
	interests [MaxInterests]interest
	recentAt  [MaxRecent]uint32

	FirstSeen, LastSeen uint32
	Visits              uint32
	PageViews           uint32
	VisitStart          uint32
	Orders              uint32
	CartAt              uint32
	BoughtAt            uint32
	OverlayAt           uint32
	CartsLeft           uint16
	PrevDay             uint16

	overlays [MaxOverlays]overlaySeen
	exps     [MaxExperiments]ExperimentSlot

	cartQty  [MaxCart]uint16
	searches [76]byte
	source   [sourceLen]byte
	traffic  traffic.Class

	Customer                          bool
	Device                            agent.Device
	nRecent, nInterest, nCart, nPurch uint8
	nExps                             uint8
}

// decodeV1 reads a Data of layout 1: every field as it was, the search
// terms again into the shorter searches (newest first, as many as fit:
// the oldest may go), and no last click.
func decodeV1(raw []byte, d *Data) error {
	var o dataV1
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&o)), unsafe.Sizeof(o)), raw)
	if !textsFit(o.searches[:]) {
		return errors.New("a text beyond its array")
	}
	*d = Data{
		recent: o.recent, cart: o.cart, purchased: o.purchased, interests: o.interests, recentAt: o.recentAt,
		FirstSeen: o.FirstSeen, LastSeen: o.LastSeen, Visits: o.Visits, PageViews: o.PageViews,
		VisitStart: o.VisitStart, Orders: o.Orders, CartAt: o.CartAt, BoughtAt: o.BoughtAt,
		OverlayAt: o.OverlayAt, CartsLeft: o.CartsLeft, PrevDay: o.PrevDay,
		overlays: o.overlays, exps: o.exps, cartQty: o.cartQty, source: o.source, traffic: o.traffic,
		Customer: o.Customer, Device: o.Device,
		nRecent: o.nRecent, nInterest: o.nInterest, nCart: o.nCart, nPurch: o.nPurch, nExps: o.nExps,
	}
	setTexts(d.searches[:], texts(o.searches[:])...)
	return d.check()
}
