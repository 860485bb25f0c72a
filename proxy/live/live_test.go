package live

import (
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
