package live

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"shopedge/proxy/catalog"
)

func TestWindows(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		adds []time.Duration // offsets from t0, each counted in both windows
		at   time.Duration
		want Counts
	}{
		{"none", nil, 0, Counts{}},
		{"now", []time.Duration{0, 0, time.Second}, time.Second, Counts{Hour: 3, Day: 3}},
		{"half an hour ago", []time.Duration{0}, 30 * time.Minute, Counts{Hour: 1, Day: 1}},
		{"out of the hour", []time.Duration{0}, 65 * time.Minute, Counts{Hour: 0, Day: 1}},
		{"out of the day", []time.Duration{0}, 25 * time.Hour, Counts{}},
		{"mixed", []time.Duration{0, 2 * time.Hour, 2*time.Hour + 50*time.Minute}, 3 * time.Hour, Counts{Hour: 1, Day: 3}},
		{"long gap then new", []time.Duration{0, 72 * time.Hour}, 72 * time.Hour, Counts{Hour: 1, Day: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctr := New(100)
			for _, d := range c.adds {
				ctr.Add(7, t0.Add(d), true, true)
			}
			if got := ctr.Get(7, t0.Add(c.at)); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestPeopleNotEvents(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	ctr := New(100)
	ctr.Add(1, t0, true, false) // counted in the hour only
	ctr.Add(1, t0, false, true) // in the day only
	ctr.Add(1, t0, false, false)
	if got := ctr.Get(1, t0); got != (Counts{Hour: 1, Day: 1}) {
		t.Errorf("got %+v", got)
	}
}

func TestBounded(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	ctr := New(64)
	for i := range 1000 {
		ctr.Add(catalog.ID(i+1), t0.Add(time.Duration(i)*time.Second), true, true)
	}
	if n := ctr.Len(); n > 64 {
		t.Errorf("%d products held, bound 64", n)
	}
	// The latest product survives.
	if got := ctr.Get(1000, t0.Add(1000*time.Second)); got.Hour != 1 {
		t.Errorf("latest product lost: %+v", got)
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	ctr := New(1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ctr.Add(catalog.ID(i%10+1), t0.Add(time.Duration(g)*time.Second), true, true)
				ctr.Get(catalog.ID(i%10+1), t0)
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range 10 {
		total += ctr.Get(catalog.ID(i+1), t0.Add(10*time.Second)).Hour
	}
	if total != 8*500 {
		t.Errorf("counted %d, want %d", total, 8*500)
	}
}

// TestHeldUntilIdentified: an event held for a visitor counts when they
// come back, once, at the time it happened; one never claimed never
// counts.
func TestHeldUntilIdentified(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name       string
		identified time.Duration // after the event; <0: never
		at         time.Duration // when the counts are read
		want       Counts
	}{
		{name: "never identified", identified: -1, at: time.Minute, want: Counts{}},
		{name: "identified seconds later", identified: 2 * time.Second, at: time.Minute, want: Counts{Hour: 1, Day: 1}},
		{name: "identified after the hour", identified: 90 * time.Minute, at: 90 * time.Minute, want: Counts{Hour: 0, Day: 1}},
		{name: "identified after the day", identified: 30 * time.Hour, at: 30 * time.Hour, want: Counts{}},
		{name: "read after the hour", identified: time.Second, at: 2 * time.Hour, want: Counts{Hour: 0, Day: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctr := New(100)
			ctr.Hold("v1", 7, t0)
			if tt.identified >= 0 {
				// Something else moves the windows on first.
				ctr.Add(8, t0.Add(tt.identified), true, true)
				if id, at, ok := ctr.Identified("v1"); !ok || id != 7 || !at.Equal(t0) {
					t.Errorf("Identified = %d, %v, %v; want 7, %v, true", id, at, ok, t0)
				}
				if _, _, ok := ctr.Identified("v1"); ok { // a second time: nothing left
					t.Error("Identified counted a second time")
				}
			}
			if got := ctr.Get(7, t0.Add(tt.at)); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if tt.identified >= 0 && ctr.Held() != 0 {
				t.Errorf("%d held after the visitor came back, want 0", ctr.Held())
			}
		})
	}
}

// TestLateEventOutsideWindow: an event older than a window is not counted
// in it, nor in the bucket its index shares with a recent one.
func TestLateEventOutsideWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	ctr := New(100)
	ctr.Add(1, t0.Add(25*time.Hour), true, true)
	ctr.Add(1, t0, true, true) // a day and an hour late
	if got := ctr.Get(1, t0.Add(25*time.Hour)); got != (Counts{Hour: 1, Day: 1}) {
		t.Errorf("got %+v, want only the recent event", got)
	}
}

// TestHeldBounded: past its bound a counter forgets the oldest held
// events, never more than it holds.
func TestHeldBounded(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	ctr := New(100)
	for i := range 3 * maxHeld {
		ctr.Hold(fmt.Sprint("visitor-", i), 7, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := ctr.Held(); n > maxHeld || n < maxHeld/2 {
		t.Errorf("%d held, want at most %d (and most of them)", n, maxHeld)
	}
	// The latest visitor is still held.
	ctr.Identified(fmt.Sprint("visitor-", 3*maxHeld-1))
	if got := ctr.Get(7, t0.Add(time.Hour/2)); got.Hour != 1 {
		t.Errorf("the latest visitor's event: %+v, want counted", got)
	}
}
