package profile

import (
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
)

// Bounds of a profile: fixed, so that a profile's size is bounded and known.
const (
	MaxRecent    = 10 // products viewed, newest first
	MaxInterests = 12 // categories with interest
	MaxCart      = 10 // cart lines
	MaxPurchases = 8  // products bought, newest first
	MaxSearches  = 4  // search terms, newest first
	MaxText      = 64 // bytes kept of a search term or source field
)

// Interest is the decayed interest in one category.
type Interest struct {
	Category catalog.ID
	Score    float32 // as of At
	At       uint32  // unix seconds
}

// CartLine is one product in the cart.
type CartLine struct {
	Product catalog.ID
	Qty     uint16
}

// Source is where a visit came from.
type Source struct {
	UTMSource, UTMMedium, UTMCampaign string
	Referrer                          string // the referring host, for other sites
}

// Data is what shopedge knows of one visitor. Its size is bounded: every
// list has a fixed capacity and strings are cut to MaxText bytes. It is
// kept small (a profile, with its lock and allocation header, fits the
// 640-byte size class) because a shop has many visitors.
type Data struct {
	FirstSeen, LastSeen uint32 // unix seconds (good until 2106)
	Visits              uint32
	PageViews           uint32
	VisitStart          uint32 // unix seconds
	Orders              uint32
	Customer            bool
	Device              agent.Device
	source              string // Source's fields, joined by sourceSep

	recent    [MaxRecent]catalog.ID
	recentAt  [MaxRecent]uint32
	nRecent   uint8
	interests [MaxInterests]Interest
	nInterest uint8
	cart      [MaxCart]catalog.ID
	cartQty   [MaxCart]uint16
	nCart     uint8
	purchased [MaxPurchases]catalog.ID
	nPurch    uint8
	searches  [MaxSearches]string
	nSearch   uint8
}

// Profile is a visitor's Data behind a lock; many requests of one visitor
// may run at once.
type Profile struct {
	mu sync.Mutex
	d  Data
}

// Update runs f with the profile locked.
func (p *Profile) Update(f func(d *Data)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.d)
}

// Snapshot returns a copy of the profile's data.
func (p *Profile) Snapshot() Data {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.d
}

// Touch records a request at now. It returns true when the request starts a
// visit: the first one, or one after more than gap of inactivity.
func (d *Data) Touch(now time.Time, gap time.Duration) (newVisit bool) {
	t := uint32(now.Unix())
	if d.FirstSeen == 0 {
		d.FirstSeen = t
	}
	if d.Visits == 0 || int64(t)-int64(d.LastSeen) > int64(gap/time.Second) {
		d.Visits++
		d.VisitStart = t
		newVisit = true
	}
	if t > d.LastSeen {
		d.LastSeen = t
	}
	return newVisit
}

// Returning reports whether this is not the visitor's first visit.
func (d *Data) Returning() bool { return d.Visits > 1 }

// ViewProduct records a product view: the product goes first in the recent
// list and each of its categories gains interest, outer ones less.
func (d *Data) ViewProduct(id catalog.ID, categories []catalog.ID, now time.Time, halfLife time.Duration) {
	d.PageViews++
	d.pushRecent(id, now)
	n := len(categories)
	for i, c := range categories {
		// The deepest category gains 1; each level up gains a little less,
		// so a menu entry for a parent category still ranks by its children.
		d.addInterest(c, 1-0.1*float64(n-1-i), now, halfLife)
	}
}

// ViewCategory records a view of a category page (its path, outermost
// first): interest in it, less than a product view.
func (d *Data) ViewCategory(categories []catalog.ID, now time.Time, halfLife time.Duration) {
	d.PageViews++
	for _, c := range categories {
		d.addInterest(c, 0.5, now, halfLife)
	}
}

// ViewPage records any other page view.
func (d *Data) ViewPage() { d.PageViews++ }

// Search records search terms.
func (d *Data) Search(q string) {
	d.PageViews++
	q = cut(q)
	if q == "" {
		return
	}
	if d.nSearch > 0 && d.searches[0] == q {
		return
	}
	copy(d.searches[1:], d.searches[:MaxSearches-1])
	d.searches[0] = q
	if d.nSearch < MaxSearches {
		d.nSearch++
	}
}

// AddToCart adds qty of a product to the cart (qty < 1 counts as 1).
func (d *Data) AddToCart(id catalog.ID, qty int) {
	if qty < 1 {
		qty = 1
	}
	for i := range int(d.nCart) {
		if d.cart[i] == id {
			d.cartQty[i] = uint16(min(int(d.cartQty[i])+qty, math.MaxUint16))
			return
		}
	}
	if d.nCart == MaxCart {
		copy(d.cart[:], d.cart[1:]) // drop the oldest line
		copy(d.cartQty[:], d.cartQty[1:])
		d.nCart--
	}
	d.cart[d.nCart], d.cartQty[d.nCart] = id, uint16(min(qty, math.MaxUint16))
	d.nCart++
}

// Purchase records an order of what is in the cart: its products become
// purchases, the cart empties, and the visitor is a customer.
func (d *Data) Purchase() {
	d.Orders++
	d.Customer = true
	for i := int(d.nCart) - 1; i >= 0; i-- {
		copy(d.purchased[1:], d.purchased[:MaxPurchases-1])
		d.purchased[0] = d.cart[i]
		if d.nPurch < MaxPurchases {
			d.nPurch++
		}
	}
	d.nCart = 0
}

// sourceSep separates a Source's fields in a profile; it cannot occur in
// them (it is removed).
const sourceSep = "\x1f"

// SetSource records where the current visit came from.
func (d *Data) SetSource(s Source) {
	if s == (Source{}) {
		d.source = ""
		return
	}
	clean := func(v string) string { return strings.ReplaceAll(cut(v), sourceSep, "") }
	d.source = strings.Join([]string{clean(s.UTMSource), clean(s.UTMMedium), clean(s.UTMCampaign), clean(s.Referrer)}, sourceSep)
}

// Source returns where the current visit came from.
func (d *Data) Source() Source {
	if d.source == "" {
		return Source{}
	}
	f := strings.SplitN(d.source, sourceSep, 4)
	for len(f) < 4 {
		f = append(f, "")
	}
	return Source{UTMSource: f[0], UTMMedium: f[1], UTMCampaign: f[2], Referrer: f[3]}
}

// Interest returns the decayed interest in a category at now.
func (d *Data) Interest(cat catalog.ID, now time.Time, halfLife time.Duration) float64 {
	for i := range int(d.nInterest) {
		if d.interests[i].Category == cat {
			return decay(d.interests[i], now, halfLife)
		}
	}
	return 0
}

// Interests returns the categories with interest, unordered, decayed to now.
func (d *Data) Interests(now time.Time, halfLife time.Duration) []Interest {
	out := make([]Interest, d.nInterest)
	for i := range out {
		in := d.interests[i]
		out[i] = Interest{Category: in.Category, Score: float32(decay(in, now, halfLife)), At: uint32(now.Unix())}
	}
	return out
}

// Recent returns the products viewed, newest first.
func (d *Data) Recent() []catalog.ID { return append([]catalog.ID(nil), d.recent[:d.nRecent]...) }

// Cart returns the cart's lines, oldest first.
func (d *Data) Cart() []CartLine {
	lines := make([]CartLine, d.nCart)
	for i := range lines {
		lines[i] = CartLine{Product: d.cart[i], Qty: d.cartQty[i]}
	}
	return lines
}

// InCart reports whether a product is in the cart.
func (d *Data) InCart(id catalog.ID) bool {
	for i := range int(d.nCart) {
		if d.cart[i] == id {
			return true
		}
	}
	return false
}

// Purchased returns the products bought, newest first.
func (d *Data) Purchased() []catalog.ID {
	return append([]catalog.ID(nil), d.purchased[:d.nPurch]...)
}

// Searches returns the search terms, newest first.
func (d *Data) Searches() []string { return append([]string(nil), d.searches[:d.nSearch]...) }

func (d *Data) pushRecent(id catalog.ID, now time.Time) {
	n := int(d.nRecent)
	// Remove an earlier view of the same product.
	for i := range n {
		if d.recent[i] == id {
			copy(d.recent[i:], d.recent[i+1:n])
			copy(d.recentAt[i:], d.recentAt[i+1:n])
			n--
			break
		}
	}
	if n == MaxRecent {
		n--
	}
	copy(d.recent[1:n+1], d.recent[:n])
	copy(d.recentAt[1:n+1], d.recentAt[:n])
	d.recent[0], d.recentAt[0] = id, uint32(now.Unix())
	d.nRecent = uint8(n + 1)
}

func (d *Data) addInterest(cat catalog.ID, w float64, now time.Time, halfLife time.Duration) {
	t := uint32(now.Unix())
	for i := range int(d.nInterest) {
		if d.interests[i].Category == cat {
			d.interests[i].Score = float32(decay(d.interests[i], now, halfLife) + w)
			d.interests[i].At = t
			return
		}
	}
	in := Interest{Category: cat, Score: float32(w), At: t}
	if int(d.nInterest) < MaxInterests {
		d.interests[d.nInterest] = in
		d.nInterest++
		return
	}
	// Full: replace the weakest.
	weakest := 0
	for i := 1; i < MaxInterests; i++ {
		if decay(d.interests[i], now, halfLife) < decay(d.interests[weakest], now, halfLife) {
			weakest = i
		}
	}
	d.interests[weakest] = in
}

func decay(in Interest, now time.Time, halfLife time.Duration) float64 {
	age := float64(now.Unix() - int64(in.At))
	if age <= 0 || halfLife <= 0 {
		return float64(in.Score)
	}
	return float64(in.Score) * math.Exp2(-age/halfLife.Seconds())
}

// cut keeps at most MaxText bytes of s, whole characters only, in a copy
// of its own (callers may pass strings that alias request buffers).
func cut(s string) string {
	if len(s) > MaxText {
		n := MaxText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.Clone(s)
}
