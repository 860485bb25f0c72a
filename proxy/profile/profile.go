package profile

import (
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/traffic"
)

// Bounds of a profile: fixed, so that a profile's size is bounded and known.
const (
	MaxRecent    = 10 // products viewed, newest first
	MaxInterests = 12 // categories with interest
	MaxCart      = 10 // cart lines
	MaxPurchases = 8  // products bought, newest first
	MaxSearches  = 4  // search terms, newest first, as many as fit searchLen
	MaxText      = 40 // bytes kept of a search term or of a source field
	MaxOverlays  = 4  // overlays remembered (shown or dismissed), latest first
	searchLen    = 68 // bytes for the search terms (76 in layout 1: the last click took 8)
	sourceLen    = 79 // bytes for the source's four fields (the 80th holds its class)
)

// Interest is the decayed interest in one category.
type Interest struct {
	Category catalog.ID
	Score    float32 // as of At
	At       uint32  // unix seconds
}

// interest is an Interest as a profile holds it: the category by the low
// half of its ID (two categories of one visitor sharing it is a one in four
// billion chance, and only blurs their interest).
type interest struct {
	cat   uint32
	score float32
	at    uint32
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
	// Class is the kind of traffic (traffic.Classify of the landing
	// request); its zero is direct.
	Class traffic.Class
}

// Data is what shopedge knows of one visitor. Its size is fixed and small
// (a Profile, this and its lock, fits the 768-byte size class, with its
// experiment slots and last click) because a shop has many
// visitors, and it holds no pointers: the garbage collector never scans a
// profile, and texts cost no allocations of their own.
type Data struct {
	recent    [MaxRecent]catalog.ID
	cart      [MaxCart]catalog.ID
	purchased [MaxPurchases]catalog.ID
	interests [MaxInterests]interest
	recentAt  [MaxRecent]uint32

	FirstSeen, LastSeen uint32 // unix seconds (good until 2106)
	Visits              uint32
	PageViews           uint32
	VisitStart          uint32 // unix seconds
	Orders              uint32
	CartAt              uint32 // unix seconds of the last cart add
	BoughtAt            uint32 // unix seconds of the last purchase
	OverlayAt           uint32 // unix seconds of the last overlay shown
	CartsLeft           uint16 // visits that ended with items in the cart
	// PrevDay is the day (unix days) the visitor was last seen before
	// the current visit; 0 on a first visit. Days fit the two bytes the
	// profile's size class leaves free (until 2149).
	PrevDay uint16

	overlays [MaxOverlays]overlaySeen
	exps     [MaxExperiments]ExperimentSlot
	click    lastClick // the last click on a block or an overlay (click.go)

	cartQty  [MaxCart]uint16
	searches [searchLen]byte // texts, newest first
	source   [sourceLen]byte // texts: UTM source, medium, campaign, referrer
	traffic  traffic.Class   // the source's class

	Customer                          bool
	Device                            agent.Device
	nRecent, nInterest, nCart, nPurch uint8
	nExps                             uint8
	// lastOrder is the tag of the last order seen (click.go), so that a
	// reloaded confirmation page is credited once.
	lastOrder uint16
}

// A text holds a few short strings in a fixed array: each is a length
// byte (its length plus one; 0 ends the list) and its bytes.

// texts returns the strings t holds.
func texts(t []byte) []string {
	var out []string
	for i := 0; i < len(t) && t[i] != 0; {
		n := int(t[i]) - 1
		out = append(out, string(t[i+1:i+1+n]))
		i += 1 + n
	}
	return out
}

// setTexts stores ss in t, each cut to MaxText bytes, as many as fit.
func setTexts(t []byte, ss ...string) {
	clear(t)
	i := 0
	for _, s := range ss {
		s = cut(s)
		if i+1+len(s) > len(t) {
			break
		}
		t[i] = byte(len(s) + 1) // 0 ends the list
		copy(t[i+1:], s)
		i += 1 + len(s)
	}
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
		if d.Visits > 0 && d.nCart > 0 {
			d.CartsLeft++ // the last visit ended with items in the cart
		}
		if d.Visits > 0 {
			d.PrevDay = uint16(d.LastSeen / 86400)
		}
		d.Visits++
		d.VisitStart = t
		newVisit = true
	}
	if t > d.LastSeen {
		d.LastSeen = t
	}
	return newVisit
}

// JustBought reports whether the visitor bought in the current visit.
func (d *Data) JustBought() bool { return d.BoughtAt != 0 && d.BoughtAt >= d.VisitStart }

// CartFromEarlierVisit reports whether the cart holds items put there
// before the current visit.
func (d *Data) CartFromEarlierVisit() bool {
	return d.nCart > 0 && d.CartAt != 0 && d.CartAt < d.VisitStart
}

// Returning reports whether this is not the visitor's first visit.
func (d *Data) Returning() bool { return d.Visits > 1 }

// What each thing a visitor does adds to their interest in a product's
// deepest category (each level up gains a tenth less of it: see
// ProductInterest). Putting a product in the cart or buying it says more
// than looking at it, by the weights the recommendation engine gives
// the same events (recommend: view 1, cart 3, purchase 5); a category page
// says less than any product of it.
const (
	ViewWeight     = 1.0 // a product page viewed
	CategoryWeight = 0.5 // a category page viewed: every level of its path
	CartWeight     = 3.0 // a product put in the cart
	PurchaseWeight = 5.0 // a product bought
)

// ViewProduct records a product view: the product goes first in the recent
// list and each of its categories gains interest (ViewWeight), outer ones
// less.
func (d *Data) ViewProduct(id catalog.ID, categories []catalog.ID, now time.Time, halfLife time.Duration) {
	d.PageViews++
	d.pushRecent(id, now)
	d.ProductInterest(categories, ViewWeight, now, halfLife)
}

// ProductInterest adds interest in a product's categories (its path,
// outermost first), for something the visitor did with it: w to the
// deepest, a tenth of w less each level up, so that a menu entry for a
// parent category still ranks by its children. View, cart add and
// purchase give it ViewWeight, CartWeight and PurchaseWeight.
func (d *Data) ProductInterest(categories []catalog.ID, w float64, now time.Time, halfLife time.Duration) {
	n := len(categories)
	for i, c := range categories {
		d.addInterest(c, w*(1-0.1*float64(n-1-i)), now, halfLife)
	}
}

// ViewCategory records a view of a category page (its path, outermost
// first): interest in it, less than a product view (CategoryWeight).
func (d *Data) ViewCategory(categories []catalog.ID, now time.Time, halfLife time.Duration) {
	d.PageViews++
	for _, c := range categories {
		d.addInterest(c, CategoryWeight, now, halfLife)
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
	old := texts(d.searches[:])
	if len(old) > 0 && old[0] == q {
		return
	}
	if len(old) >= MaxSearches {
		old = old[:MaxSearches-1]
	}
	setTexts(d.searches[:], append([]string{q}, old...)...)
}

// AddToCart adds qty of a product to the cart (qty < 1 counts as 1) at
// now, which CartAt records.
func (d *Data) AddToCart(id catalog.ID, qty int, now time.Time) {
	d.CartAt = uint32(now.Unix())
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

// Purchase records an order of what is in the cart at now, which BoughtAt
// records: its products become purchases, the cart empties, and the
// visitor is a customer.
func (d *Data) Purchase(now time.Time) {
	d.BoughtAt = uint32(now.Unix())
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

// SetSource records where the current visit came from. Each field is cut
// to fit: the four share 79 bytes, the UTM fields 18 each and the
// referrer the rest (21), and its class one more.
func (d *Data) SetSource(s Source) {
	const each = 18
	const ref = sourceLen - 3*(each+1) - 1
	setTexts(d.source[:], cutTo(s.UTMSource, each), cutTo(s.UTMMedium, each), cutTo(s.UTMCampaign, each), cutTo(s.Referrer, ref))
	d.traffic = s.Class
}

// Source returns where the current visit came from.
func (d *Data) Source() Source {
	f := texts(d.source[:])
	for len(f) < 4 {
		f = append(f, "")
	}
	return Source{UTMSource: f[0], UTMMedium: f[1], UTMCampaign: f[2], Referrer: f[3], Class: d.traffic}
}

// Traffic returns the kind of traffic the current visit is.
func (d *Data) Traffic() traffic.Class { return d.traffic }

// The fields of a visit's source, for SourceField.
const (
	SourceUTMSource = iota
	SourceUTMMedium
	SourceUTMCampaign
	SourceReferrer
)

// SourceField returns one field of the visit's source (SourceUTMSource,
// ...) as the profile holds it, without copying: the bytes belong to d.
func (d *Data) SourceField(field int) []byte {
	t := d.source[:]
	for i := 0; i < len(t) && t[i] != 0; {
		n := int(t[i]) - 1
		if field == 0 {
			return t[i+1 : i+1+n]
		}
		field--
		i += 1 + n
	}
	return nil
}

// Interest returns the decayed interest in a category at now.
func (d *Data) Interest(cat catalog.ID, now time.Time, halfLife time.Duration) float64 {
	c := uint32(cat)
	for i := range int(d.nInterest) {
		if d.interests[i].cat == c {
			return decay(d.interests[i], now, halfLife)
		}
	}
	return 0
}

// Decayed is a visitor's interest in each of their categories at one
// time, each decayed once, when first asked for: what Interest answers at
// that time, for a caller that asks of many categories (a decision's
// menus, search results and re-ranking ask of dozens, and a profile holds
// MaxInterests, most of which a page never asks about).
type Decayed struct {
	n    int
	in   [MaxInterests]interest
	vals [MaxInterests]float64
	done uint16 // bit i: vals[i] is in[i] decayed
	now  int64  // unix seconds
	half time.Duration
	// has has bit c%64 set for each category c held: most categories
	// asked about are not, and one bit says so.
	has uint64
}

// Decay returns the interests as of now.
func (d *Data) Decay(now time.Time, halfLife time.Duration) Decayed {
	t := Decayed{n: int(d.nInterest), in: d.interests, now: now.Unix(), half: halfLife}
	for i := range t.n {
		t.has |= 1 << (t.in[i].cat % 64)
	}
	return t
}

// value is interest i decayed, from the first time on.
func (t *Decayed) value(i int) float64 {
	if t.done&(1<<i) == 0 {
		t.vals[i] = decayAt(t.in[i], t.now, t.half)
		t.done |= 1 << i
	}
	return t.vals[i]
}

// Interest is the interest in a category: Data.Interest at the time Decay
// was given, to the bit.
func (t *Decayed) Interest(cat catalog.ID) float64 {
	if c := uint32(cat); t.has&(1<<(c%64)) != 0 { // small enough to inline
		return t.held(c)
	}
	return 0
}

// held is Interest of a category whose bit is set (not inlined, so that
// Interest is).
//
//go:noinline
func (t *Decayed) held(c uint32) float64 {
	for i := range t.n {
		if t.in[i].cat == c {
			return t.value(i)
		}
	}
	return 0
}

// Any reports whether the visitor has interest in any category.
func (t *Decayed) Any() bool { return t.n > 0 }

// AtLeast returns the interests of at least min and above 0, the others
// answered as 0: for a caller that only tells such interests apart (and
// when one is NaN, which no comparison orders, all of them). An interest
// whose undecayed score is below min is not decayed: decay only lowers it
// (the margin covers an exp that rounds up).
func (t *Decayed) AtLeast(min float64) Decayed {
	s := Decayed{now: t.now, half: t.half}
	below := min - math.Abs(min)*0x1p-30
	for i := range t.n {
		if raw := float64(t.in[i].score); min > 0 && !math.IsInf(raw, 0) && raw < below {
			continue
		}
		v := t.value(i)
		if v != v {
			for j := range t.n {
				t.value(j)
			}
			return *t
		}
		if v >= min && v > 0 {
			s.in[s.n], s.vals[s.n] = t.in[i], v
			s.done |= 1 << s.n
			s.has |= 1 << (t.in[i].cat % 64)
			s.n++
		}
	}
	return s
}

// Interests returns the categories with interest, unordered, decayed to
// now. Their IDs carry the low half only: match them with SameCategory.
func (d *Data) Interests(now time.Time, halfLife time.Duration) []Interest {
	out := make([]Interest, d.nInterest)
	for i := range out {
		in := d.interests[i]
		out[i] = Interest{Category: catalog.ID(in.cat), Score: float32(decay(in, now, halfLife)), At: uint32(now.Unix())}
	}
	return out
}

// InterestRank returns how many categories the visitor is more interested
// in than cat, at now, and whether the visitor has any interest in cat:
// rank 0 is the strongest (ties share a rank). It allocates nothing.
func (d *Data) InterestRank(cat catalog.ID, now time.Time, halfLife time.Duration) (rank int, ok bool) {
	c := uint32(cat)
	score := -1.0
	for i := range int(d.nInterest) {
		if d.interests[i].cat == c {
			score = decay(d.interests[i], now, halfLife)
			break
		}
	}
	if score <= 0 {
		return 0, false
	}
	for i := range int(d.nInterest) {
		if d.interests[i].cat != c && decay(d.interests[i], now, halfLife) > score {
			rank++
		}
	}
	return rank, true
}

// HasInterest reports whether the profile holds interest in cat: the
// visitor viewed its page or a product in it (and the profile has not
// let it go for stronger ones).
func (d *Data) HasInterest(cat catalog.ID) bool {
	c := uint32(cat)
	for i := range int(d.nInterest) {
		if d.interests[i].cat == c {
			return true
		}
	}
	return false
}

// Viewed reports whether the product is among the recent views.
func (d *Data) Viewed(id catalog.ID) bool {
	for i := range int(d.nRecent) {
		if d.recent[i] == id {
			return true
		}
	}
	return false
}

// SearchTerm returns the i-th search term, newest first, without copying
// (the bytes belong to d); nil past the last.
func (d *Data) SearchTerm(i int) []byte {
	t := d.searches[:]
	for j := 0; j < len(t) && t[j] != 0; {
		n := int(t[j]) - 1
		if i == 0 {
			return t[j+1 : j+1+n]
		}
		i--
		j += 1 + n
	}
	return nil
}

// SameCategory reports whether an ID from Interests names cat.
func SameCategory(fromInterests, cat catalog.ID) bool { return uint32(fromInterests) == uint32(cat) }

// Recent returns the products viewed, newest first.
func (d *Data) Recent() []catalog.ID { return append([]catalog.ID(nil), d.recent[:d.nRecent]...) }

// VisitViews appends to dst the products viewed in the current visit,
// each once, in the order of their latest view (oldest first).
func (d *Data) VisitViews(dst []catalog.ID) []catalog.ID {
	for i := int(d.nRecent) - 1; i >= 0; i-- {
		if d.recentAt[i] >= d.VisitStart {
			dst = append(dst, d.recent[i])
		}
	}
	return dst
}

// CartProducts appends to dst the products in the cart, oldest first.
func (d *Data) CartProducts(dst []catalog.ID) []catalog.ID {
	return append(dst, d.cart[:d.nCart]...)
}

// Cart returns the cart's lines, oldest first.
func (d *Data) Cart() []CartLine {
	lines := make([]CartLine, d.nCart)
	for i := range lines {
		lines[i] = CartLine{Product: d.cart[i], Qty: d.cartQty[i]}
	}
	return lines
}

// DaysSincePrevVisit is the whole days from the day the visitor was last
// seen before this visit to now; ok is false on a first visit.
func (d *Data) DaysSincePrevVisit(now time.Time) (days int, ok bool) {
	if d.PrevDay == 0 {
		return 0, false
	}
	return int(now.Unix()/86400) - int(d.PrevDay), true
}

// CartItems is the number of items in the cart: its lines' quantities.
func (d *Data) CartItems() int {
	n := 0
	for i := range int(d.nCart) {
		n += int(d.cartQty[i])
	}
	return n
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

// ViewedAt returns when the visitor last viewed a product, if the profile
// still remembers it.
func (d *Data) ViewedAt(id catalog.ID) (time.Time, bool) {
	for i := range int(d.nRecent) {
		if d.recent[i] == id {
			return time.Unix(int64(d.recentAt[i]), 0), true
		}
	}
	return time.Time{}, false
}

// Purchased returns the products bought, newest first.
func (d *Data) Purchased() []catalog.ID {
	return append([]catalog.ID(nil), d.purchased[:d.nPurch]...)
}

// Searches returns the search terms, newest first.
func (d *Data) Searches() []string { return texts(d.searches[:]) }

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
	c := uint32(cat)
	for i := range int(d.nInterest) {
		if d.interests[i].cat == c {
			d.interests[i].score = float32(decay(d.interests[i], now, halfLife) + w)
			d.interests[i].at = t
			return
		}
	}
	in := interest{cat: c, score: float32(w), at: t}
	if int(d.nInterest) < MaxInterests {
		d.interests[d.nInterest] = in
		d.nInterest++
		return
	}
	// Full: replace the weakest (the first of those as weak), each
	// decayed once.
	weakest, wv := 0, decay(d.interests[0], now, halfLife)
	for i := 1; i < MaxInterests; i++ {
		if v := decay(d.interests[i], now, halfLife); v < wv {
			weakest, wv = i, v
		}
	}
	d.interests[weakest] = in
}

func decay(in interest, now time.Time, halfLife time.Duration) float64 {
	return decayAt(in, now.Unix(), halfLife)
}

// decayAt is decay at now in unix seconds.
func decayAt(in interest, now int64, halfLife time.Duration) float64 {
	age := float64(now - int64(in.at))
	if age <= 0 || halfLife <= 0 {
		return float64(in.score)
	}
	return float64(in.score) * math.Exp2(-age/halfLife.Seconds())
}

// cut keeps at most MaxText bytes of s, whole characters only.
func cut(s string) string { return cutTo(s, MaxText) }

func cutTo(s string, n int) string {
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s
}

// overlaySeen is what a profile remembers of one overlay.
type overlaySeen struct {
	rule   uint32 // the overlay, by OverlayKey
	at     uint32 // last shown, unix seconds
	until  uint32 // dismissed until, unix seconds
	day    uint16 // the day (unix days) nDay counts
	nDay   uint8  // times shown that day
	nVisit uint8  // times shown in the visit that started at or before at
}

// OverlaySeen is what a visitor has seen of one overlay.
type OverlaySeen struct {
	ShownThisVisit int
	ShownToday     int
	LastShown      time.Time // zero: never (or forgotten)
	DismissedUntil time.Time // zero: not dismissed
}

// OverlayKey is how a profile names an overlay: a hash of its id.
func OverlayKey(id string) uint32 {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h | 1 // never 0, which marks a free slot
}

func (d *Data) overlaySlot(rule uint32, create bool) *overlaySeen {
	oldest := 0
	for i := range d.overlays {
		o := &d.overlays[i]
		if o.rule == rule {
			return o
		}
		if max(o.at, o.until) < max(d.overlays[oldest].at, d.overlays[oldest].until) {
			oldest = i
		}
	}
	if !create {
		return nil
	}
	d.overlays[oldest] = overlaySeen{rule: rule}
	return &d.overlays[oldest]
}

// Overlay returns what the visitor has seen of an overlay, as of now.
func (d *Data) Overlay(rule uint32, now time.Time) OverlaySeen {
	o := d.overlaySlot(rule, false)
	if o == nil {
		return OverlaySeen{}
	}
	var s OverlaySeen
	if o.at != 0 {
		s.LastShown = time.Unix(int64(o.at), 0)
		if o.at >= d.VisitStart {
			s.ShownThisVisit = int(o.nVisit)
		}
		if int64(o.day) == now.Unix()/86400 {
			s.ShownToday = int(o.nDay)
		}
	}
	if int64(o.until) > now.Unix() {
		s.DismissedUntil = time.Unix(int64(o.until), 0)
	}
	return s
}

// OverlayShown records that an overlay was shown at now.
func (d *Data) OverlayShown(rule uint32, now time.Time) {
	o := d.overlaySlot(rule, true)
	t := uint32(now.Unix())
	day := uint16(now.Unix() / 86400)
	if o.at < d.VisitStart {
		o.nVisit = 0
	}
	if o.day != day {
		o.day, o.nDay = day, 0
	}
	o.nVisit = min(o.nVisit+1, math.MaxUint8)
	o.nDay = min(o.nDay+1, math.MaxUint8)
	o.at = t
	d.OverlayAt = max(d.OverlayAt, t)
}

// OverlayDismissed records that the visitor dismissed an overlay, which
// keeps it away until until.
func (d *Data) OverlayDismissed(rule uint32, until time.Time) {
	o := d.overlaySlot(rule, true)
	o.until = max(o.until, uint32(until.Unix()))
}
