package console

import (
	"sync"
	"time"
)

// The sign-in throttle's limits: a client IP may fail perIPFailures times
// within failWindow, and all clients together globalFailures times; past
// either, POST /login answers 429 until the oldest counted failure is
// failWindow old.
const (
	perIPFailures  = 5
	globalFailures = 50
	failWindow     = time.Minute
)

// throttle counts failed sign-ins, per client IP and overall. Entries are
// made only by failures, and no failure is counted while the overall cap
// is reached, so it holds at most globalFailures times.
type throttle struct {
	mu    sync.Mutex
	byIP  map[string][]time.Time
	every []time.Time
}

// recent drops the times that are failWindow old at now.
func recent(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && !now.Before(ts[i].Add(failWindow)) {
		i++
	}
	return ts[i:]
}

// wait is how long ip must wait before it may try again, 0 when it may now.
func (t *throttle) wait(ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.every = recent(t.every, now)
	var until time.Time
	if len(t.every) >= globalFailures {
		until = t.every[len(t.every)-globalFailures].Add(failWindow)
	}
	if ts := recent(t.byIP[ip], now); len(ts) >= perIPFailures {
		if u := ts[len(ts)-perIPFailures].Add(failWindow); u.After(until) {
			until = u
		}
	}
	if until.IsZero() {
		return 0
	}
	return until.Sub(now)
}

// fail counts a failed sign-in from ip at now.
func (t *throttle) fail(ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byIP == nil {
		t.byIP = map[string][]time.Time{}
	}
	for k, ts := range t.byIP {
		if ts = recent(ts, now); len(ts) == 0 {
			delete(t.byIP, k)
		} else {
			t.byIP[k] = ts
		}
	}
	t.byIP[ip] = append(t.byIP[ip], now)
	t.every = append(recent(t.every, now), now)
}
