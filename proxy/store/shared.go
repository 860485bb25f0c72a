package store

import (
	"bufio"
	"context"
	"io"
	"time"
)

// Shared carries state between instances of shopedge. Every instance keeps
// its whole state in memory (profiles, the catalog, the recommendation
// engine's signal, live counts, experiment counts; overlay memory lives in
// the profiles) and serves every request from it; Shared is what one
// instance tells the others and what it asks them. Local, the default,
// shares nothing: state is the process's own (and a snapshot file's).
// remote.Store shares it through Redis.
//
// No method fails a request or waits on the network past the store's
// budget: what cannot be written now is kept (bounded) and written when the
// server answers again.
type Shared interface {
	// Profile returns the bytes of a visitor's profile as some instance
	// last wrote it, appended to dst, and its generation (see Sink),
	// waiting at most the budget. found is false when none is stored (or
	// it was erased); err says the store could not answer (down, or slower
	// than the budget), and the caller goes on with what it holds.
	Profile(visitorID string, dst []byte) (b []byte, gen uint64, found bool, err error)
	// Changed says a visitor's profile changed here: it is written behind,
	// with the bytes Sink.Profile gives when the write goes out.
	Changed(visitorID string)
	// Forget erases a visitor's profile everywhere (an erasure request).
	// It waits for the server, bounded by ctx.
	Forget(ctx context.Context, visitorID string) error
	// Publish sends a change this instance learned (an event for the
	// engine, a live count, a product) to the other instances, behind, in
	// batches. The bytes are copied.
	Publish(change []byte)
	// Add adds delta to a shared counter: field of the counters named key.
	// Increments are summed locally and sent behind, each exactly once.
	Add(key, field string, delta float64)
	// Totals returns the counters named key summed over every instance,
	// this one's increments not yet sent included, waiting at most until
	// ctx ends. shared is false for a store that shares nothing (Local):
	// the caller's own counts are the totals.
	Totals(ctx context.Context, key string) (totals map[string]float64, shared bool, err error)
	// Start connects the store to this instance's state and starts its
	// work (writing behind, reading what others publish). It returns once
	// the state others saved is read into sink, or the budget to read it
	// (see remote.Options) has passed: a store whose server is down starts
	// empty and catches up when it answers.
	Start(sink Sink) error
	// Close writes what is queued, bounded by ctx, and stops.
	Close(ctx context.Context) error
	// Health says whether the store reaches its server, for metrics and
	// the console.
	Health() Health
}

// Sink is this instance's state, as a Shared store reads and changes it.
// Its methods are called from the store's goroutines.
//
// Every profile held carries the generation of the stored copy it came
// from (0 for one begun here): the store writes a profile only over that
// generation, so that a copy another instance has written over since is
// never written back. The first write stands; the other instance drops
// its copy and reads that one.
type Sink interface {
	// Profile appends the bytes of the visitor's held profile to dst (for
	// a write behind), with the generation of its copy; found is false
	// when none is held any more.
	Profile(visitorID string, dst []byte) (b []byte, gen uint64, found bool)
	// Written says generation to of the visitor's profile is stored,
	// written from the copy of generation from.
	Written(visitorID string, from, to uint64)
	// Invalidate says another instance wrote generation gen of the
	// visitor's profile: a copy held of an older one is dropped, and the
	// next request reads it through. gen 0 drops any copy: the profile was
	// erased, or this instance's write of it lost to another's.
	Invalidate(visitorID string, gen uint64)
	// Stale says the store may have missed word of other instances'
	// writes (it was cut off from them): every held profile is dropped
	// but those keep keeps (the ones this instance has yet to write).
	Stale(keep func(visitorID string) bool)
	// Rebase says the store lost what it held (a server restarted
	// without its data): every held profile counts as begun here
	// (generation 0), written with its next change where no other
	// instance wrote one since (a copy another instance changed during the
	// outage, written first, stands). It returns how many there were.
	Rebase() int
	// Apply applies a change another instance published.
	Apply(change []byte) error
	// WriteState writes the state a starting instance reads before it
	// catches up on the changes published since (the catalog and the
	// engine's signal); ReadState reads it.
	WriteState(w io.Writer) error
	ReadState(r *bufio.Reader) error
}

// Health is what a Shared store says of its server.
type Health struct {
	// Shared is false for Local, which has no server.
	Shared bool
	// Up is true while the server answers.
	Up bool
	// Down is how long the store has spent unable to reach its server,
	// in total since it started.
	Down time.Duration
	// Since is when Up last changed.
	Since time.Time
	// Err is the last error, "" when none.
	Err string
}

// Local is the store that shares nothing: the in-memory default.
type Local struct{}

var _ Shared = Local{}

func (Local) Profile(_ string, dst []byte) ([]byte, uint64, bool, error) {
	return dst, 0, false, nil
}
func (Local) Changed(string)                       {}
func (Local) Forget(context.Context, string) error { return nil }
func (Local) Publish([]byte)                       {}
func (Local) Add(string, string, float64)          {}
func (Local) Totals(context.Context, string) (map[string]float64, bool, error) {
	return nil, false, nil
}
func (Local) Start(Sink) error            { return nil }
func (Local) Close(context.Context) error { return nil }
func (Local) Health() Health              { return Health{} }
