package proxytest

import (
	"sync"
	"time"
)

// Clock is a proxy's time for a test: the real time moved forward by what
// the test advanced it, so a test starts a new visit or lets a cap expire
// without waiting. Safe for concurrent use; the zero Clock is the real
// time.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Ticking returns a clock that moves a second on every reading: a
// proxy's once-a-second lists are fresh on every request.
func Ticking() func() time.Time {
	var mu sync.Mutex
	now := time.Now()
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}
