package recommend

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// recordRef is Record as it was before the decays of one event's links
// were remembered: the reference the engine's learned state must match.
func (e *Engine) recordRef(ev Event) {
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
	w := kindWeight[ev.Kind]
	it.pop.add(w, now, half)
	it.trend.add(w, now, trendHalf)
	it.last = now
	if it.events < math.MaxUint32 {
		it.events++
	}
	s, idx := e.sessions.get(ev.Session, now)
	var recent [coWindow]ID
	switch ev.Kind {
	case View:
		for d, other := range s.recentViews(&recent) {
			if other == ev.Item {
				continue
			}
			cw := 1 / float64(d+1)
			e.linkRef(&it.viewed, other, cw, now, half)
			if o := e.items[other]; o != nil {
				e.linkRef(&o.viewed, ev.Item, cw, now, half)
			}
		}
		if s.addView(ev.Item) {
			it.sessions = appendBounded(it.sessions, idx, e.cfg.SessionsPerItem)
		}
	case Cart, Purchase:
		for _, other := range s.boughtItems() {
			if other != ev.Item {
				e.linkRef(&it.bought, other, 1, now, half)
				if o := e.items[other]; o != nil {
					e.linkRef(&o.bought, ev.Item, 1, now, half)
				}
			}
		}
		for d, other := range s.recentViews(&recent) {
			if other != ev.Item {
				w := 0.5 / float64(d+1)
				e.linkRef(&it.bought, other, w, now, half)
				if o := e.items[other]; o != nil {
					e.linkRef(&o.bought, ev.Item, w, now, half)
				}
			}
		}
		s.addBought(ev.Item)
	}
}

func (e *Engine) linkRef(list *[]neighbour, id ID, w float64, now int64, half float64) {
	l := *list
	for i := range l {
		if l[i].id == id {
			l[i].w.add(w, now, half)
			return
		}
	}
	if len(l) < e.cfg.Neighbours {
		*list = append(l, neighbour{id: id, w: decayed{v: float32(w), at: now}})
		return
	}
	near, far := half/2, 1.5*half
	w2, w4 := 2*w, 4*w
	weakest, wv := -1, 0.0
	for i := range l {
		d := l[i].w
		if age, v := float64(now-d.at), float64(d.v); age <= near && v >= w2 || age <= far && v >= w4 {
			continue
		}
		if v := d.value(now, half); weakest < 0 || v < wv {
			weakest, wv = i, v
		}
	}
	if weakest >= 0 && wv < w {
		l[weakest] = neighbour{id: id, w: decayed{v: float32(w), at: now}}
	}
}

// TestRecordMatchesReference: random clickstreams (visits interleaved,
// views, cart adds and purchases, many events in one second, gaps of
// hours and of half-lives, neighbour lists full) leave the engine in the
// state the reference Record leaves, to the bit: every product's
// popularity, trend, neighbours and visits, and the visits kept.
func TestRecordMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(4, 4))
	for round := range 40 {
		cfg := Config{Neighbours: 1 + r.IntN(12), HalfLife: time.Duration(1+r.IntN(48)) * time.Hour, MaxSessions: 50 + r.IntN(200)}
		got, want := New(cfg), New(cfg)
		at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		for range 3000 {
			switch r.IntN(10) {
			case 0:
				at = at.Add(time.Duration(r.IntN(100)) * time.Hour)
			case 1, 2, 3:
				at = at.Add(time.Duration(r.IntN(60)) * time.Second)
			}
			ev := Event{Session: uint64(1 + r.IntN(30)), Item: ID(1 + r.IntN(80)), Kind: []Kind{View, View, View, View, Cart, Purchase}[r.IntN(6)], Time: at}
			if r.IntN(2) == 0 {
				ev.Categories = []ID{ID(1000 + int(ev.Item)%7), ID(2000 + int(ev.Item)%13)}
			}
			got.Record(ev)
			want.recordRef(ev)
		}
		if !reflect.DeepEqual(got.items, want.items) {
			for id, it := range want.items {
				if !reflect.DeepEqual(got.items[id], it) {
					t.Fatalf("round %d: product %d learned %+v, the reference %+v", round, id, *got.items[id], *it)
				}
			}
			t.Fatalf("round %d: the products differ", round)
		}
		if !reflect.DeepEqual(got.sessions, want.sessions) {
			t.Fatalf("round %d: the visits kept differ", round)
		}
	}
}

// TestDecayMemo: the memo's decay is decayed.value's, to the bit, for
// weights asked in any order: ages repeated, ages sharing a slot, ages of
// 0 and below, weights of 0.
func TestDecayMemo(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(8, 8))
	for range 200 {
		var m decayMemo
		now := int64(1_800_000_000 + r.IntN(1000))
		half := float64(1 + r.IntN(1_000_000))
		for range 200 {
			d := decayed{v: float32(r.IntN(5)) * r.Float32(), at: now - int64(r.IntN(40)-3)*int64(1+8*r.IntN(3))}
			if got, want := m.value(d, now, half), d.value(now, half); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("%+v at %d, half-life %v: memo %v, value %v", d, now, half, got, want)
			}
		}
	}
}
