package remote

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"shopedge/proxy/store"
)

// health tracks whether Redis answers; it logs one line at each change.
type health struct {
	log       *slog.Logger
	up        atomic.Bool
	mu        sync.Mutex
	since     time.Time
	downSince time.Time
	down      time.Duration
	err       string
}

func (h *health) init(log *slog.Logger) {
	h.log = log
	h.since = time.Now()
	h.up.Store(true)
}

func (h *health) isUp() bool { return h.up.Load() }

// fail records err; the first failure while up marks the store down.
func (h *health) fail(err string) {
	h.mu.Lock()
	h.err = err
	if !h.up.Load() {
		h.mu.Unlock()
		return
	}
	now := time.Now()
	h.since, h.downSince = now, now
	h.up.Store(false)
	h.mu.Unlock()
	h.log.Warn("redis unreachable: serving from local state", "err", err)
}

// ok marks the store up after it was down; it reports whether it was.
func (h *health) ok() (wasDown bool) {
	if h.up.Load() {
		return false
	}
	h.mu.Lock()
	if h.up.Load() {
		h.mu.Unlock()
		return false
	}
	now := time.Now()
	d := now.Sub(h.downSince)
	h.down += d
	h.since = now
	h.up.Store(true)
	h.mu.Unlock()
	h.log.Info("redis reachable again: writing the backlog", "down", d.Round(time.Millisecond))
	return true
}

func (h *health) get() store.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	x := store.Health{Shared: true, Up: h.up.Load(), Down: h.down, Since: h.since, Err: h.err}
	if !x.Up {
		x.Down += time.Since(h.downSince)
	}
	return x
}
