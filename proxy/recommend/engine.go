package recommend

import (
	"math"
	"sync"
	"time"
	"unsafe"

	"shopedge/proxy/catalog"
)

// ID identifies a product or a category.
type ID = catalog.ID

// Kind is the kind of an event.
type Kind uint8

// Event kinds, and how much each counts towards popularity.
const (
	View Kind = iota
	Cart
	Purchase
)

var kindWeight = [...]float64{View: 1, Cart: 3, Purchase: 5}

// Event is one thing a visitor did with a product.
type Event struct {
	// Session identifies the visit (one visitor's one visit).
	Session uint64
	Item    ID
	// Categories is the product's category path, outermost first; may be
	// empty.
	Categories []ID
	Kind       Kind
	Time       time.Time
}

// Config bounds and tunes an Engine. Zero fields take the defaults shown.
type Config struct {
	// MaxItems bounds the products tracked. Default: 100000.
	MaxItems int
	// Neighbours is how many co-occurring products are kept per product and
	// relation (viewed, bought). Default: 40.
	Neighbours int
	// MaxSessions bounds the past visits kept for session kNN.
	// Default: 200000.
	MaxSessions int
	// SessionsPerItem is how many recent visits are indexed per product:
	// the candidates of session kNN. Default: 500.
	SessionsPerItem int
	// Sample is how many of the most recent visits sharing a product
	// with the current one are candidate neighbours (at most
	// SessionsPerItem per product). Default: 250.
	Sample int
	// K is the number of neighbour visits session kNN scores with.
	// Default: 100.
	K int
	// Blend is the weight, relative to session kNN's best score, of
	// co-occurrence with the visit's latest product in the session
	// strategy. Default: 0.3; negative: off.
	Blend float64
	// Remind is the weight, relative to session kNN's best score, of the
	// current visit's own products (weighed as RecencyDecay says): a
	// visitor often goes back to what they just saw. Default: 0.5;
	// negative: off.
	Remind float64
	// RemindRepeat raises Remind for a visitor who went back already:
	// it counts 1 + RemindRepeat·(share of the visit's views that were
	// repeats) times. The repeats are those of Context.Views: a caller
	// that passes each product once (the proxy's profile keeps the
	// visit's distinct products) gets none. Default: 16; negative: off.
	RemindRepeat float64
	// RecencyDecay is how fast, in positions, the current visit's earlier
	// products weigh less in session kNN: exp(-back/RecencyDecay), back 0
	// for the latest (STAN's λ1). Default: 1.5; negative: linear
	// (V-SKNN).
	RecencyDecay float64
	// TimeDecay is how fast a neighbour visit counts less with the time
	// since its last event: exp(-age/TimeDecay) (STAN's λ2).
	// Default: 20 days; negative: off.
	TimeDecay time.Duration
	// PositionDecay is how fast, in positions, a neighbour visit's
	// products count less the farther they are from where it meets the
	// current visit (STAN's λ3). Default: 0.75; negative: off.
	PositionDecay float64
	// InsertDecay is how fast, in positions, a neighbour counts less when
	// the latest product it shares with the current visit is older:
	// exp(-back/InsertDecay) (V-STAN's λipw). Default: 1.5; negative:
	// off.
	InsertDecay float64
	// IDF weighs rare products up in session kNN: a product's votes count
	// 1 + IDF·ln(visits / events of the product) times (V-STAN's λidf).
	// Default: 5; negative: off.
	IDF float64
	// HalfLife halves co-occurrence and popularity over this time.
	// Default: 168h.
	HalfLife time.Duration
	// TrendHalfLife halves the trending score over this time. Default: 6h.
	TrendHalfLife time.Duration
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxItems, 100000)
	def(&c.Neighbours, 40)
	def(&c.MaxSessions, 200000)
	def(&c.SessionsPerItem, 500)
	def(&c.Sample, 250)
	def(&c.K, 100)
	fdef := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	// The session strategy's defaults: tuned on the development
	// clickstreams' training parts (README, "Offline evaluation").
	fdef(&c.RecencyDecay, 1.5)
	fdef(&c.PositionDecay, 0.75)
	fdef(&c.InsertDecay, 1.5)
	fdef(&c.IDF, 5)
	fdef(&c.Blend, 0.3)
	fdef(&c.Remind, 0.5)
	fdef(&c.RemindRepeat, 16)
	if c.TimeDecay == 0 {
		c.TimeDecay = 20 * 24 * time.Hour
	}
	if c.HalfLife <= 0 {
		c.HalfLife = 7 * 24 * time.Hour
	}
	if c.TrendHalfLife <= 0 {
		c.TrendHalfLife = 6 * time.Hour
	}
	return c
}

// Engine learns from events, online, and recommends products. It knows
// nothing of HTTP. It is safe for concurrent use: events take a write
// lock, recommendations a read lock.
type Engine struct {
	cfg Config

	mu       sync.RWMutex
	items    map[ID]*item
	sessions sessionStore

	top topCache

	scratch sync.Pool // of *scratch
}

// item is what the engine keeps per product.
type item struct {
	cats     [maxDepth]ID // category path, outermost first
	nCats    uint8
	events   uint32  // events recorded, for IDF (in nCats' padding)
	pop      decayed // long-term popularity
	trend    decayed // recent popularity
	viewed   []neighbour
	bought   []neighbour
	sessions []int32 // recent sessions with this item, oldest first
	last     int64   // unix seconds of the last event
}

const maxDepth = 4

// decayed is a score that halves every half-life.
type decayed struct {
	v  float32
	at int64 // unix seconds
}

func (d decayed) value(now int64, half float64) float64 {
	if d.v == 0 {
		return 0
	}
	age := float64(now - d.at)
	if age <= 0 {
		return float64(d.v)
	}
	return float64(d.v) * math.Exp2(-age/half)
}

// decayMemo is decayed.value remembering the last few decays by age: a
// product's neighbours are often strengthened in the same second (one
// view links it with the visit's recent products), and then decay by the
// same factor, one exp for them all. It is keyed by age alone: one memo
// serves one half-life (Record's links and popularity share HalfLife;
// trends, of TrendHalfLife, must not use it).
type decayMemo struct {
	age [8]int64 // 0: none (an age of 0 needs no exp)
	f   [8]float64
}

// value is d.value(now, half), to the bit.
func (m *decayMemo) value(d decayed, now int64, half float64) float64 {
	if d.v == 0 {
		return 0
	}
	a := now - d.at
	if a <= 0 {
		return float64(d.v)
	}
	i := a & 7
	if m.age[i] != a {
		m.age[i], m.f[i] = a, math.Exp2(-float64(a)/half)
	}
	return float64(d.v) * m.f[i]
}

func (d *decayed) add(w float64, now int64, half float64) {
	d.v = float32(d.value(now, half) + w)
	if now > d.at {
		d.at = now
	}
}

// addMemo is add with the decay from m (m.value is d.value, to the bit).
func (d *decayed) addMemo(m *decayMemo, w float64, now int64, half float64) {
	d.v = float32(m.value(*d, now, half) + w)
	if now > d.at {
		d.at = now
	}
}

// neighbour is a co-occurring product and the decayed strength of it.
type neighbour struct {
	id ID
	w  decayed
}

// New returns an empty engine.
func New(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	e := &Engine{cfg: cfg, items: make(map[ID]*item)}
	e.sessions.init(cfg.MaxSessions)
	return e
}

// Record learns from one event.
func (e *Engine) Record(ev Event) {
	if ev.Item == 0 {
		return
	}
	now := ev.Time.Unix()
	half, trendHalf := e.cfg.HalfLife.Seconds(), e.cfg.TrendHalfLife.Seconds()
	e.mu.Lock()
	defer e.mu.Unlock()
	it := e.itemLocked(ev.Item, now)
	if len(ev.Categories) > 0 {
		it.nCats = uint8(copy(it.cats[:], tail(ev.Categories, maxDepth)))
	}
	// One memo of decays, by the half-life, for the popularity and every
	// link: the two ends of a link were strengthened together, and often
	// with the product's last event, and decay by the same factor.
	var m decayMemo
	w := kindWeight[ev.Kind]
	it.pop.addMemo(&m, w, now, half)
	it.trend.add(w, now, trendHalf)
	it.last = now
	if it.events < math.MaxUint32 {
		it.events++
	}

	s, idx := e.sessions.get(ev.Session, now)
	var recent [coWindow]ID
	switch ev.Kind {
	case View:
		// Co-views with the visit's recent items, nearer ones counting more.
		for d, other := range s.recentViews(&recent) {
			if other == ev.Item {
				continue
			}
			cw := 1 / float64(d+1)
			e.link(&m, &it.viewed, other, cw, now, half)
			if o := e.items[other]; o != nil {
				e.link(&m, &o.viewed, ev.Item, cw, now, half)
			}
		}
		if s.addView(ev.Item) {
			it.sessions = appendBounded(it.sessions, idx, e.cfg.SessionsPerItem)
		}
	case Cart, Purchase:
		// Bought together, and viewed before buying.
		for _, other := range s.boughtItems() {
			if other != ev.Item {
				e.link(&m, &it.bought, other, 1, now, half)
				if o := e.items[other]; o != nil {
					e.link(&m, &o.bought, ev.Item, 1, now, half)
				}
			}
		}
		for d, other := range s.recentViews(&recent) {
			if other != ev.Item {
				// Viewed just before counts more than viewed long before.
				w := 0.5 / float64(d+1)
				e.link(&m, &it.bought, other, w, now, half)
				if o := e.items[other]; o != nil {
					e.link(&m, &o.bought, ev.Item, w, now, half)
				}
			}
		}
		s.addBought(ev.Item)
	}
}

// coWindow is how many of a visit's latest views a new view co-occurs with.
const coWindow = 10

func tail(ids []ID, n int) []ID {
	if len(ids) > n {
		return ids[len(ids)-n:]
	}
	return ids
}

func appendBounded(s []int32, v int32, n int) []int32 {
	if len(s) > 0 && s[len(s)-1] == v {
		return s
	}
	if len(s) >= n {
		copy(s, s[1:])
		s = s[:len(s)-1]
	}
	return append(s, v)
}

// itemLocked returns the item, creating it (and evicting an old one when
// the engine is full).
func (e *Engine) itemLocked(id ID, now int64) *item {
	if it, ok := e.items[id]; ok {
		return it
	}
	if len(e.items) >= e.cfg.MaxItems {
		e.evictLocked()
	}
	it := &item{last: now}
	e.items[id] = it
	return it
}

// evictLocked removes the least recently active of a few products. Their
// IDs may linger in others' neighbour lists; recommendations skip them.
func (e *Engine) evictLocked() {
	var victim ID
	var oldest int64 = math.MaxInt64
	n := 0
	for id, it := range e.items {
		if it.last < oldest {
			victim, oldest = id, it.last
		}
		if n++; n == 8 {
			break
		}
	}
	delete(e.items, victim)
}

// link strengthens the neighbour id in list by w, keeping the list within
// bounds by dropping its weakest member; m remembers the decays of one
// event's links (decayed.value's, to the bit).
func (e *Engine) link(m *decayMemo, list *[]neighbour, id ID, w float64, now int64, half float64) {
	l := *list
	for i := range l {
		if l[i].id == id {
			l[i].w.addMemo(m, w, now, half)
			return
		}
	}
	if len(l) < e.cfg.Neighbours {
		*list = append(l, neighbour{id: id, w: decayed{v: float32(w), at: now}})
		return
	}
	// The weakest, each weight decayed once (an exp each: a full list is
	// the common case once a product is known), but for those surely no
	// weaker than w: only a weakest weaker than w is replaced, and where
	// any is, it is the weakest of the others too.
	// A weight halves once a half-life: within half of one it keeps more
	// than √½ of itself, within one and a half more than √⅛, so one of
	// at least twice w (four times w) is no weaker than w, with a margin
	// no rounding of value's eats.
	near, far := half/2, 1.5*half
	w2, w4 := 2*w, 4*w
	weakest, wv := -1, 0.0
	for i := range l {
		d := l[i].w
		if age, v := float64(now-d.at), float64(d.v); age <= near && v >= w2 || age <= far && v >= w4 {
			continue
		}
		if v := m.value(d, now, half); weakest < 0 || v < wv {
			weakest, wv = i, v
		}
	}
	if weakest >= 0 && wv < w {
		l[weakest] = neighbour{id: id, w: decayed{v: float32(w), at: now}}
	}
}

// Len returns the number of products the engine tracks.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.items)
}

// Stats are the engine's size.
type Stats struct {
	Items    int // products tracked
	Sessions int // past visits kept for session kNN
	// Bytes estimates the heap the engine holds, from the sizes of its
	// structures and the capacity of its slices (maps at their entry
	// size plus a fixed overhead); the popular lists are left out.
	Bytes int64
}

// mapEntryOverhead approximates what a map spends per entry beyond its key
// and value: control bytes and free slots at the usual load.
const mapEntryOverhead = 8

// Stats returns the engine's size.
func (e *Engine) Stats() Stats {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := Stats{Items: len(e.items), Sessions: len(e.sessions.byKey)}
	b := int64(cap(e.sessions.ring)) * int64(unsafe.Sizeof(session{}))
	b += int64(len(e.sessions.byKey)) * (8 + 4 + mapEntryOverhead)
	for _, it := range e.items {
		b += 8 + 8 + mapEntryOverhead + int64(unsafe.Sizeof(*it))
		b += int64(cap(it.viewed)+cap(it.bought)) * int64(unsafe.Sizeof(neighbour{}))
		b += int64(cap(it.sessions)) * 4
	}
	st.Bytes = b
	return st
}
