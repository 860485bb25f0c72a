package learn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// relay is a Publisher that hands each change to another instance's
// Recorder, as a shared store would (a copy), and keeps what it refused.
type relay struct {
	to   *Recorder
	sent int
	errs []error
}

func (p *relay) Publish(change []byte) {
	p.sent++
	if err := p.to.Apply(bytes.Clone(change)); err != nil {
		p.errs = append(p.errs, err)
	}
}

// counting is a Publisher that counts and keeps the last change.
type counting struct {
	n    int
	last []byte
}

func (p *counting) Publish(change []byte) { p.n++; p.last = append(p.last[:0], change...) }

// engineCatalog is the catalog as the engine reads it.
type engineCatalog struct{ c *catalog.Catalog }

func (c engineCatalog) Product(id catalog.ID) (recommend.Product, bool) {
	cats, price, inStock, ok := c.c.Facts(id, nil)
	return recommend.Product{Categories: cats, Price: price, InStock: inStock}, ok
}

// TestShared: what one instance learns (a product page's product, views,
// a cart add, a visitor identified later) is what the other, applying the
// changes it publishes, holds: the same catalog entries, the same live
// counts, the same engine answers. Applying publishes nothing.
func TestShared(t *testing.T) {
	t.Parallel()
	a, b := newRecorder(t), newRecorder(t)
	echo := &counting{}
	toB := &relay{to: b}
	a.Share, b.Share = toB, echo

	v := facts("v1", rules.PageProduct, "/p/boots")
	boots := product(42, "/p/boots", "https://cdn.example/boots.jpg")
	boots.Product.Rating = catalog.Rating{Value: 4.5, Best: 5, Worst: 1, Count: 132, Reviews: true} // B's cards show it too
	socks := product(43, "/p/socks", "")
	socks.Product.Name, socks.Product.Categories = "Socks", []catalog.Category{{ID: 7, Name: "Shoes"}, {ID: 8, Name: "Socks"}}
	a.View(v, a.Page(v, boots, true, t0), t0)
	a.View(v, a.Page(v, socks, true, t0.Add(time.Second)), t0.Add(time.Second))
	a.View(v, Event{Product: 42, Categories: []catalog.ID{7}}, t0.Add(2*time.Second)) // viewed again: counts no one
	if !a.CartAdd(v, "/p/socks", 1, t0.Add(3*time.Second)) {
		t.Fatal("cart add not recorded")
	}
	// A new visitor's view is held until the cookie comes back.
	nv := facts("v2", rules.PageProduct, "/p/boots")
	nv.Returning = false
	a.View(nv, Event{Product: 42, Categories: []catalog.ID{7}}, t0.Add(4*time.Second))
	back := facts("v2", rules.PageHome, "/")
	a.View(back, Event{}, t0.Add(5*time.Second))

	if len(toB.errs) > 0 {
		t.Fatalf("B refused changes: %v", toB.errs)
	}
	if echo.n != 0 {
		t.Errorf("B published %d changes it applied, want 0", echo.n)
	}
	now := t0.Add(time.Minute)
	for _, id := range []catalog.ID{42, 43} {
		want, _ := a.Catalog.Get(id)
		got, ok := b.Catalog.Get(id)
		// The same instant; the location is the decoder's (Local).
		got.SeenAt, want.SeenAt = got.SeenAt.UTC(), want.SeenAt.UTC()
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("B's catalog has %+v (%v), want %+v", got, ok, want)
		}
		if got, want := b.Views.Get(id, now), a.Views.Get(id, now); got != want {
			t.Errorf("B's views of %d: %+v, want %+v", id, got, want)
		}
		if got, want := b.Carts.Get(id, now), a.Carts.Get(id, now); got != want {
			t.Errorf("B's carts of %d: %+v, want %+v", id, got, want)
		}
	}
	if got := b.Views.Get(42, now); got.Day != 2 {
		t.Errorf("B's viewers of 42 today: %d, want 2 (v1, and v2 once identified)", got.Day)
	}
	if got := b.Carts.Get(43, now); got.Day != 1 {
		t.Errorf("B's carts of 43 today: %d, want 1", got.Day)
	}
	if got, want := b.Engine.Stats(), a.Engine.Stats(); got != want {
		t.Errorf("B's engine %+v, want %+v", got, want)
	}
	for _, s := range []recommend.Strategy{recommend.AlsoViewed, recommend.AlsoBought, recommend.Popular, recommend.Session} {
		ctx := recommend.Context{Now: now, Item: 42, Views: []catalog.ID{42}}
		want := a.Engine.Candidates(s, ctx, engineCatalog{a.Catalog})
		got := b.Engine.Candidates(s, ctx, engineCatalog{b.Catalog})
		if !slices.Equal(got, want) {
			t.Errorf("%s on B: %v, want %v", s, got, want)
		}
		if s == recommend.AlsoViewed && (len(got) == 0 || got[0].ID != 43) {
			t.Errorf("also viewed with 42 on B: %v, want 43", got)
		}
	}
}

// TestPublishEachChange: each change to the shared stores is published
// once, and nothing else is: a product put, the engine's event and a view
// count for a first view; only the engine's event for a view again within
// the hour (it counts no one); and nothing for a product page seen before.
func TestPublishEachChange(t *testing.T) {
	t.Parallel()
	r := newRecorder(t)
	pub := &counting{}
	r.Share = pub
	v := facts("v1", rules.PageProduct, "/p/socks")
	r.View(v, r.Page(v, product(43, "/p/socks", ""), true, t0), t0)
	if pub.n != 3 {
		t.Errorf("a first view published %d changes, want 3", pub.n)
	}
	pub.n = 0
	r.View(v, r.Page(v, product(43, "/p/socks", ""), false, t0), t0.Add(time.Minute))
	if pub.n != 1 || pub.last[0] != changeEvent {
		t.Errorf("a view again published %d changes (last of kind %d), want 1 event", pub.n, pub.last[0])
	}
}

// valid returns one change of each kind, as a Recorder publishes them.
func valid(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	r := newRecorder(t)
	pub := &counting{}
	r.Share = pub
	r.Engine.Record(recommend.Event{}) // nothing
	r.publishEvent(&recommend.Event{Session: 9, Item: 42, Categories: []catalog.ID{1, 2, 3, 4, 5}, Kind: recommend.Cart, Time: t0})
	out["event"] = bytes.Clone(pub.last)
	r.publishCount(changeView, 42, t0, true, false)
	out["view"] = bytes.Clone(pub.last)
	r.publishCount(changeCart, 42, t0, true, true)
	out["cart"] = bytes.Clone(pub.last)
	r.publishProduct(product(42, "/p/boots", "").Product, t0)
	out["product"] = bytes.Clone(pub.last)
	return out
}

// TestApplyRefused: a change of an unknown kind, with a field beyond its
// bounds, cut short or followed by more is refused with ErrChange, says
// what was wrong, and changes nothing.
func TestApplyRefused(t *testing.T) {
	t.Parallel()
	ok := valid(t)
	edit := func(kind string, f func(b []byte) []byte) []byte { return f(bytes.Clone(ok[kind])) }
	event := func(cats int) []byte {
		b := []byte{changeEvent, byte(recommend.View)}
		b = binary.LittleEndian.AppendUint64(b, 1)
		b = binary.LittleEndian.AppendUint64(b, 42)
		b = binary.AppendUvarint(b, uint64(t0.UnixMilli()))
		b = binary.AppendUvarint(b, uint64(cats))
		for i := range cats {
			b = binary.LittleEndian.AppendUint64(b, uint64(i+1))
		}
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string // in the error
	}{
		{"empty", nil, "kind: cut short"},
		{"unknown kind", []byte{99}, "kind: unknown 99"},
		{"unknown event kind", edit("event", func(b []byte) []byte { b[1] = 7; return b }), "event kind: unknown 7"},
		{"too many categories", event(maxCategories + 1), "categories: 5 beyond 4"},
		{"event cut short", event(2)[:len(event(2))-1], "category: cut short"},
		{"event with more", append(event(1), 0), "end: 1 bytes more"},
		{"product 0", edit("view", func(b []byte) []byte { clear(b[1:9]); return b }), "product: id 0"},
		{"time beyond", edit("view", func(b []byte) []byte {
			return append(binary.AppendUvarint(b[:9], maxMillis+1), windowDay)
		}), "time:"},
		{"no windows", edit("view", func(b []byte) []byte { b[len(b)-1] = 0; return b }), "windows"},
		{"unknown window", edit("cart", func(b []byte) []byte { b[len(b)-1] = 4 | windowDay; return b }), "windows"},
		{"count with more", append(bytes.Clone(ok["cart"]), 1), "end"},
		{"product cut short", edit("product", func(b []byte) []byte { return b[:len(b)-1] }), "product:"},
		{"product with more", append(bytes.Clone(ok["product"]), 0), "product:"},
		{"too large", append([]byte{changeProduct}, make([]byte, maxChange)...), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			err := r.Apply(tt.b)
			if !errors.Is(err, ErrChange) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error wrapping ErrChange saying %q", err, tt.want)
			}
			if !untouched(r) {
				t.Error("a refused change changed the stores")
			}
		})
	}
	for kind, b := range ok {
		for n := range len(b) {
			if err := newRecorder(t).Apply(b[:n]); !errors.Is(err, ErrChange) {
				t.Fatalf("%s cut at %d: got %v, want ErrChange", kind, n, err)
			}
		}
		if err := newRecorder(t).Apply(b); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

// untouched reports whether r's shared stores hold nothing.
func untouched(r *Recorder) bool {
	return r.Engine.Stats().Items == 0 && r.Catalog.Len() == 0 && r.Views.Len() == 0 && r.Carts.Len() == 0
}

// FuzzApply: Apply never panics; a change it refuses changes nothing; one
// it accepts decodes, encoded again, to the same change.
func FuzzApply(f *testing.F) {
	for _, b := range valid(f) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newRecorder(t)
		if err := r.Apply(b); err != nil {
			if !errors.Is(err, ErrChange) {
				t.Fatalf("error %v does not wrap ErrChange", err)
			}
			if !untouched(r) {
				t.Fatal("a refused change changed the stores")
			}
			return
		}
		var c change
		if err := c.decode(b); err != nil {
			t.Fatal(err)
		}
		pub := &counting{}
		r.Share = pub
		switch c.kind {
		case changeEvent:
			r.publishEvent(&c.ev)
		case changeView, changeCart:
			r.publishCount(c.kind, c.id, c.at, c.hour, c.day)
		case changeProduct:
			r.publishProduct(c.product, c.product.SeenAt)
		}
		if pub.n != 1 {
			t.Fatalf("an accepted change was not published again")
		}
		var again change
		if err := again.decode(pub.last); err != nil {
			t.Fatalf("re-encoded change refused: %v", err)
		}
		again.ev.Categories, c.ev.Categories = nil, nil // they point into cats
		c.product.Price, again.product.Price = 0, 0     // NaN is not itself; catalog's fuzz checks the bits
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("re-encoded %+v, want %+v", again, c)
		}
	})
}

// TestApplyClampsFuture: a change from a peer whose clock runs ahead
// counts as of now here, in the windows of now, rather than sliding them
// past what this instance counts.
func TestApplyClampsFuture(t *testing.T) {
	t.Parallel()
	a, b := newRecorder(t), newRecorder(t)
	a.Share = &relay{to: b}
	behind := t0.Add(-2 * time.Hour) // B's clock, two hours behind A's
	b.Now = func() time.Time { return behind }
	b.Views.Add(42, behind, true, true) // counted here before
	v := facts("v1", rules.PageProduct, "/p/boots")
	a.View(v, a.Page(v, product(42, "/p/boots", ""), true, t0), t0)
	if got := b.Views.Get(42, behind); got.Hour != 2 || got.Day != 2 {
		t.Errorf("B's views of 42 at its now: %+v, want 2 in the hour and the day", got)
	}
	if p, ok := b.Catalog.Get(42); !ok || !p.SeenAt.Equal(behind) {
		t.Errorf("B's catalog: %v seen at %v, want %v", ok, p.SeenAt, behind)
	}
}

// TestApplyKeepsNewerProduct: a product another instance saw before this
// one last did does not replace what this one saw.
func TestApplyKeepsNewerProduct(t *testing.T) {
	t.Parallel()
	a, b := newRecorder(t), newRecorder(t)
	a.Share = &relay{to: b}
	b.Now = func() time.Time { return t0.Add(time.Hour) }
	newer := product(42, "/p/boots", "")
	newer.Product.Name = "Boots, renamed"
	v := facts("v1", rules.PageProduct, "/p/boots")
	b.Page(v, newer, true, t0.Add(time.Hour))
	a.Page(v, product(42, "/p/boots", ""), true, t0)
	if p, _ := b.Catalog.Get(42); p.Name != "Boots, renamed" {
		t.Errorf("B's product 42 is %q, replaced by what A saw an hour before", p.Name)
	}
}
