package profile

import (
	"testing"
	"time"
)

// TestClickKey: a block and an overlay of one id have different keys,
// each saying its kind; no key is 0.
func TestClickKey(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "a", "also-viewed", "newsletter"} {
		b, o := ClickKey(ClickBlock, id), ClickKey(ClickOverlay, id)
		if b == o || b == 0 || o == 0 {
			t.Errorf("%q: block key %x, overlay key %x", id, b, o)
		}
		var d Data
		d.Clicked(o, t0)
		if c, ok := d.LastClick(); !ok || c.Kind != ClickOverlay || c.Key != o || !c.At.Equal(t0) {
			t.Errorf("%q: last click %+v, %v; want the overlay at %s", id, c, ok, t0)
		}
	}
	if ClickKey(ClickBlock, "a") == ClickKey(ClickBlock, "b") {
		t.Error("two blocks share a key")
	}
}

// TestOrdered: an order is credited to the last click when it is placed
// within the window after it, once per order (a reload of its
// confirmation page is not credited again, even after a later click),
// and every order within the window is.
func TestOrdered(t *testing.T) {
	t.Parallel()
	block, overlay := ClickKey(ClickBlock, "also-viewed"), ClickKey(ClickOverlay, "newsletter")
	const window = 24 * time.Hour
	type step struct {
		click uint32        // a click on this before the order, if not 0
		after time.Duration // the order's time after the click (or the last step)
		tag   uint16
		want  uint32 // the key credited; 0: none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no click", []step{{tag: 5}}},
		{"within the window", []step{{click: block, after: time.Hour, tag: 5, want: block}}},
		{"at the window's end", []step{{click: block, after: window, tag: 5, want: block}}},
		{"past the window", []step{{click: block, after: window + time.Second, tag: 5}}},
		{"a click ahead of the clock", []step{{click: block, after: -time.Minute, tag: 5, want: block}}},
		{"reloaded", []step{{click: block, after: time.Minute, tag: 5, want: block}, {after: time.Minute, tag: 5}}},
		{"every order in the window", []step{{click: block, after: time.Minute, tag: 5, want: block}, {after: time.Hour, tag: 6, want: block}}},
		{"orders with no number each count", []step{{click: overlay, after: time.Minute, want: overlay}, {after: time.Minute, want: overlay}}},
		{"the last click takes over", []step{{click: block, after: time.Minute, tag: 5, want: block}, {click: overlay, after: time.Minute, tag: 6, want: overlay}}},
		{"an order before the click, reloaded after", []step{{tag: 5}, {click: block, after: time.Minute, tag: 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d Data
			now := t0
			for i, s := range tt.steps {
				if s.click != 0 {
					d.Clicked(s.click, now)
				}
				now = now.Add(s.after)
				c, ok := d.Ordered(s.tag, now, window)
				switch {
				case s.want == 0 && ok:
					t.Errorf("step %d: credited to %x, want none", i, c.Key)
				case s.want != 0 && (!ok || c.Key != s.want):
					t.Errorf("step %d: credited to %x (%v), want %x", i, c.Key, ok, s.want)
				}
			}
		})
	}
}

// TestInstallMergesClick: installing a shared copy over a held profile
// keeps the newer last click of the two, and the order tag of the later
// purchase; the rest is the copy's.
func TestInstallMergesClick(t *testing.T) {
	t.Parallel()
	block, overlay := ClickKey(ClickBlock, "also-viewed"), ClickKey(ClickOverlay, "newsletter")
	tests := []struct {
		name              string
		heldAt, storedAt  time.Duration // the clicks, after snapT0
		want              uint32
		heldBuy, storeBuy time.Duration // the purchases, after snapT0
		wantTag           uint16
	}{
		{name: "held click newer", heldAt: 2 * time.Minute, storedAt: time.Minute, want: block,
			heldBuy: 3 * time.Minute, storeBuy: time.Minute, wantTag: 7},
		{name: "stored click newer", heldAt: time.Minute, storedAt: 2 * time.Minute, want: overlay,
			heldBuy: time.Minute, storeBuy: 3 * time.Minute, wantTag: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := snapT0.Add(time.Hour)
			src := snapStore(t, 10, 24*time.Hour, &now)
			sp, _ := src.Load("v")
			sp.Update(func(d *Data) {
				d.Clicked(overlay, snapT0.Add(tt.storedAt))
				d.Search("stored")
				d.Purchase(snapT0.Add(tt.storeBuy))
				d.Ordered(9, snapT0.Add(tt.storeBuy), time.Hour)
			})
			b, _, _, _ := src.Encode("v", nil)

			s := snapStore(t, 10, 24*time.Hour, &now)
			held, _ := s.Load("v")
			held.Update(func(d *Data) {
				d.Clicked(block, snapT0.Add(tt.heldAt))
				d.Purchase(snapT0.Add(tt.heldBuy))
				d.Ordered(7, snapT0.Add(tt.heldBuy), time.Hour)
			})
			if err := s.Install("v", b, 1); err != nil {
				t.Fatal(err)
			}
			d := held.Snapshot()
			if c, ok := d.LastClick(); !ok || c.Key != tt.want {
				t.Errorf("last click %x, want %x", c.Key, tt.want)
			}
			if d.lastOrder != tt.wantTag {
				t.Errorf("last order %d, want %d", d.lastOrder, tt.wantTag)
			}
			if got := d.Searches(); len(got) != 1 || got[0] != "stored" {
				t.Errorf("searches %q: the rest is not the stored copy's", got)
			}
		})
	}
}
