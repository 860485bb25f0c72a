package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"shopedge/proxy/store"
	"shopedge/proxy/store/remote"
	"shopedge/rules"
)

// The state several instances share (store.url): each instance serves
// from its own memory, and the shared store carries state between them.
//
//   - A returning visitor's profile that this instance does not hold (it
//     never saw them, or another instance changed them since: the store
//     says so, and the copy here is dropped) is read through, waiting at
//     most store.budget, before the request reads it (readThrough).
//   - Every request that may have changed a profile says so (changed):
//     the store writes the profile behind, every flush_interval.
//   - What the learner records in the engine, the live counts and the
//     catalog goes to the other instances (learn.Recorder.Share), and what
//     they send is applied here (sink.Apply).
//   - Experiment counts are summed in the store (experiments.shared).
//   - A starting instance reads the catalog, the engine and the live counts
//     another saved (sink.ReadState), then the changes sent since.

// sink is the proxy's state as the shared store reads and changes it.
type sink struct{ p *Proxy }

var _ store.Sink = sink{}

func (s sink) Profile(visitorID string, dst []byte) ([]byte, uint64, uint32, bool) {
	return s.p.profiles.Encode(visitorID, dst)
}

func (s sink) Written(visitorID string, copy uint32, gen uint64) {
	s.p.profiles.Written(visitorID, copy, gen)
}

func (s sink) Conflict(visitorID string, copy uint32) { s.p.profiles.DropCopy(visitorID, copy) }

func (s sink) Invalidate(visitorID string, gen uint64) {
	s.p.profiles.DropOlder(visitorID, gen)
}

func (s sink) Stale(keep func(visitorID string) bool) {
	if n := s.p.profiles.Forget(keep); n > 0 {
		s.p.log.Info("shared store: profiles held here read again on their next request (writes elsewhere may have been missed)", "profiles", n)
	}
}

func (s sink) Apply(change []byte) error { return s.p.learner.Apply(change) }

// stateSections are what a starting instance reads before the changes
// sent since: everything but the profiles (read through, one visitor at a
// time) and the experiment counts (summed in the store).
func (s sink) stateSections() []store.Section {
	var out []store.Section
	for _, sec := range s.p.sections() {
		switch sec.Name {
		case "catalog", "engine", "views", "carts":
			out = append(out, sec)
		}
	}
	return out
}

func (s sink) WriteState(w io.Writer) error {
	_, err := store.Encode(w, owner(s.p.conf.Load().cfg), s.stateSections())
	return err
}

func (s sink) ReadState(r *bufio.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return store.Decode(bytes.NewReader(b), int64(len(b)), "shared state", owner(s.p.conf.Load().cfg), s.stateSections())
}

// profileBufs lends the buffers a profile is read through into.
var profileBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// readThrough makes sure a returning visitor's latest profile is held
// here before the request reads it: when this instance holds none, it is
// read from the shared store, within store.budget. A store that is down
// or slow leaves the request with what is held (nothing: a visitor who
// starts afresh here), and the request goes on.
func (p *Proxy) readThrough(visitorID string) { p.readProfile(visitorID, true) }

// readProfile reads a visitor's profile through, as readThrough does. A
// reader that records (a request) begins a profile over one it cannot use
// (an erasure's tombstone, another build's bytes), so that its writes go
// out; one that only looks (the admin's profile view) begins nothing.
func (p *Proxy) readProfile(visitorID string, records bool) {
	if !p.sharing {
		return
	}
	if _, held := p.profiles.Get(visitorID); held {
		return
	}
	bp := profileBufs.Get().(*[]byte)
	defer profileBufs.Put(bp)
	t0 := time.Now()
	b, gen, found, err := p.shared.Profile(visitorID, (*bp)[:0])
	if d := int64(time.Since(t0)); d > p.metrics.storeLongest.Load() {
		p.metrics.storeLongest.Store(d) // a race between two may keep the lesser: a figure, not a count
	}
	*bp = b[:0]
	switch {
	case err != nil:
		p.metrics.storeReads.failed.Add(1)
	case !found:
		p.metrics.storeReads.missing.Add(1)
		if gen > 0 && records {
			// Erased (a tombstone): the visitor starts afresh, over it.
			p.profiles.Load(visitorID)
			p.profiles.Adopt(visitorID, gen)
		}
	default:
		if err := p.profiles.Install(visitorID, b, gen); err != nil {
			p.metrics.storeReads.refused.Add(1)
			if records {
				// Written by another build (a deploy under way, or a
				// rollback): the visitor starts afresh here, over that
				// copy, so that this build's writes of them go out. Two
				// builds serving one visitor take turns until the deploy
				// ends.
				p.profiles.Load(visitorID)
				p.profiles.Adopt(visitorID, gen)
			}
			return
		}
		p.metrics.storeReads.found.Add(1)
	}
}

// changed says a request may have changed a visitor's profile: the
// shared store writes it behind.
func (p *Proxy) changed(visitorID string) {
	if p.sharing && visitorID != "" {
		p.shared.Changed(visitorID)
	}
}

// openShared opens the shared store store.url names, if any: the
// learner sends it what it learns, experiments count in it. It dials
// nothing yet (startShared does), so a server that is down fails nothing.
func (p *Proxy) openShared(cfg *rules.Compiled) error {
	p.shared, p.sharing = store.Local{}, false
	if cfg.Store.URL != "" {
		st := cfg.Store
		s, err := remote.Open(remote.Options{
			URL:           st.URL,
			Password:      os.Getenv("SHOPEDGE_REDIS_PASSWORD"),
			Cluster:       st.Cluster,
			CAFile:        st.TLS.CAFile,
			CertFile:      st.TLS.CertFile,
			KeyFile:       st.TLS.KeyFile,
			ServerName:    st.TLS.ServerName,
			Prefix:        storePrefix(cfg),
			Budget:        st.Budget.D(),
			Timeout:       st.Timeout.D(),
			FlushInterval: st.FlushInterval.D(),
			StateInterval: st.SnapshotInterval.D(),
			ProfileTTL:    cfg.Profiles.TTL.D(),
			Backlog:       int(st.Backlog),
			Logger:        p.log,
		})
		if err != nil {
			return fmt.Errorf("proxy: store: %w", err)
		}
		p.shared, p.sharing = s, true
		p.learner.Share = s
		p.experiments.shared = s
	}
	return nil
}

// startShared starts the shared store's work: it reads the state another
// instance saved (within store.timeout) and then what was sent since. A
// server that is down is caught up with when it answers.
func (p *Proxy) startShared() {
	if !p.sharing {
		return
	}
	t0 := time.Now()
	if err := p.shared.Start(sink{p}); err != nil {
		p.log.Error("shared store not read at start: serving from local state, catching up when it answers", "err", err)
		return
	}
	p.log.Info("shared store started", "products", p.catalog.Len(), "took", time.Since(t0).Round(time.Millisecond))
}

// forget erases a visitor's profile in the shared store, waiting at most
// store.timeout.
func (p *Proxy) forget(visitorID string) error {
	if !p.sharing {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.conf.Load().cfg.Store.Timeout.D())
	defer cancel()
	return p.shared.Forget(ctx, visitorID)
}

// Shutdown writes what the shared store still holds to write, bounded by
// ctx, and closes it. Call it after the last request.
func (p *Proxy) Shutdown(ctx context.Context) error {
	return p.shared.Close(ctx)
}

// storeGauges are the shared store's figures for /metrics; none when
// the state is the process's own.
func (p *Proxy) storeGauges() []Gauge {
	rs, ok := p.shared.(*remote.Store)
	if !ok {
		return nil
	}
	h, s := rs.Health(), rs.Stats()
	up := 0.0
	if h.Up {
		up = 1
	}
	c := func(name, help string, v uint64) Gauge {
		return Gauge{Name: name, Help: help, Value: float64(v), Counter: true}
	}
	return []Gauge{
		{Name: "shopedge_store_up", Help: "1 while the shared store (store.url) answers; 0 while this instance serves from its own state.", Value: up},
		{Name: "shopedge_store_down_seconds_total", Help: "Time this instance could not reach the shared store, in total.", Value: h.Down.Seconds(), Counter: true},
		c("shopedge_store_errors_total", "Round trips to the shared store that failed (each retried).", s.Errors),
		c("shopedge_store_profile_writes_total", "Profiles written to the shared store (behind, in batches).", s.ProfileWrites),
		{Name: "shopedge_store_profiles_dirty", Help: "Profiles changed here and waiting to be written.", Value: float64(s.Dirty)},
		c("shopedge_store_invalidations_total", "Word of other instances' profile writes heard: copies of older generations held here are dropped, and read again on the visitor's next request.", s.Invalidations),
		c("shopedge_store_profile_conflicts_total", "Profiles not written because another instance wrote them since this one read them: the first write stands, and the copy here is read again.", s.Conflicts),
		c("shopedge_store_resyncs_total", "Times this instance set its held profiles right after it may have missed other instances' writes (back from down, subscription renewed).", s.Resyncs),
		c("shopedge_store_batches_written_total", "Batches of changes (engine, live counts, catalog) sent to the other instances.", s.BatchesWritten),
		c("shopedge_store_batches_read_total", "Batches of changes other instances sent, read.", s.BatchesRead),
		c("shopedge_store_batches_duplicate_total", "Batches read twice (a write retried after a lost reply) and applied once.", s.BatchesDuplicate),
		c("shopedge_store_changes_applied_total", "Changes other instances sent, applied here.", s.ChangesApplied),
		c("shopedge_store_changes_failed_total", "Changes other instances sent that this build refused.", s.ChangesFailed),
		{Name: "shopedge_store_backlog_bytes", Help: "Changes waiting to be sent (store.backlog bounds them while the store is down).", Value: float64(s.BacklogBytes)},
		c("shopedge_store_dropped_total", "Changes and profiles dropped, not sent, because the backlog was full while the store was down.", s.ChangesDropped+s.ProfilesDropped),
		c("shopedge_store_stream_resets_total", "Times the changes were read again from the start (a store that came back empty).", s.StreamResets),
		c("shopedge_store_counter_flushes_total", "Batches of experiment count increments applied in the shared store.", s.CounterFlushes),
		c("shopedge_store_state_writes_total", "States a starting instance reads (catalog, engine, live counts) saved by this instance.", s.StateWrites),
		c("shopedge_store_state_reads_total", "Saved states read into this instance.", s.StateReads),
		{Name: "shopedge_store_last_flush_seconds", Help: "How long the last write of what changed took.", Value: s.LastFlush.Seconds()},
	}
}

// storePrefix is the key prefix of the shared store: store.prefix, else
// one naming the shop.
func storePrefix(cfg *rules.Compiled) string {
	if cfg.Store.Prefix != "" {
		return cfg.Store.Prefix
	}
	return "shopedge:" + owner(cfg) + ":"
}
