package remote

import (
	"sync/atomic"
	"time"
)

// Stats are the store's counters since Open, for metrics. The names in
// brackets are the proposed Prometheus metrics (counters end in _total).
type Stats struct {
	ReadsFound   uint64 // profile reads that found one [shopedge_store_reads_total{result="found"}]
	ReadsMissing uint64 // profile reads that found none [shopedge_store_reads_total{result="missing"}]
	ReadsFailed  uint64 // profile reads that failed or passed the budget [shopedge_store_reads_total{result="error"}]
	ReadsSkipped uint64 // profile reads refused at once while down [shopedge_store_reads_total{result="skipped"}]

	ProfileWrites   uint64 // profiles written [shopedge_store_profile_writes_total]
	Conflicts       uint64 // profiles not written: another instance wrote them since this one read them [shopedge_store_profile_conflicts_total]
	ProfilesDropped uint64 // Changed calls dropped past MaxDirty [shopedge_store_profiles_dropped_total]
	Dirty           int    // profiles waiting to be written [shopedge_store_profiles_dirty]
	Invalidations   uint64 // invalidations of other instances passed to the sink [shopedge_store_invalidations_total]

	BatchesWritten   uint64 // change batches written to the stream [shopedge_store_batches_written_total]
	BatchesRead      uint64 // change batches of other instances read [shopedge_store_batches_read_total]
	BatchesDuplicate uint64 // batches read again (a retried write) and skipped [shopedge_store_batches_duplicate_total]
	BatchesDropped   uint64 // batches dropped past Backlog [shopedge_store_batches_dropped_total]
	ChangesDropped   uint64 // changes in the dropped batches [shopedge_store_changes_dropped_total]
	ChangesApplied   uint64 // changes the sink applied [shopedge_store_changes_applied_total]
	ChangesFailed    uint64 // changes the sink refused, or malformed batches [shopedge_store_changes_failed_total]
	BacklogBytes     int    // bytes of change batches queued [shopedge_store_backlog_bytes]
	StreamResets     uint64 // times the reader started the stream again from 0 [shopedge_store_stream_resets_total]
	Resyncs          uint64 // returns from down and subscriptions after the first: held profiles made stale [shopedge_store_resyncs_total]

	CounterFlushes    uint64 // counter batches acknowledged [shopedge_store_counter_flushes_total]
	CounterDuplicates uint64 // counter batches Redis had applied already [shopedge_store_counter_duplicates_total]

	StateWrites uint64 // shared states saved by this instance [shopedge_store_state_writes_total]
	StateReads  uint64 // shared states read into the sink [shopedge_store_state_reads_total]

	Errors    uint64        // background round trips that failed [shopedge_store_errors_total]
	LastFlush time.Duration // how long the last flush took [shopedge_store_last_flush_seconds]
}

type counters struct {
	readsFound, readsMissing, readsFailed, readsSkipped atomic.Uint64
	profileWrites, dirtyDropped, conflicts              atomic.Uint64
	invalidations                                       atomic.Uint64
	batchesWritten, batchesRead, batchesDuplicate       atomic.Uint64
	batchesDropped, changesDropped                      atomic.Uint64
	changesApplied, changesFailed, streamResets         atomic.Uint64
	resyncs                                             atomic.Uint64
	counterFlushes, counterDuplicates                   atomic.Uint64
	stateWrites, stateReads, errors                     atomic.Uint64
	lastFlush                                           atomic.Int64
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	c := &s.st
	x := Stats{
		ReadsFound: c.readsFound.Load(), ReadsMissing: c.readsMissing.Load(),
		ReadsFailed: c.readsFailed.Load(), ReadsSkipped: c.readsSkipped.Load(),
		ProfileWrites: c.profileWrites.Load(), Conflicts: c.conflicts.Load(), ProfilesDropped: c.dirtyDropped.Load(),
		Invalidations:  c.invalidations.Load(),
		BatchesWritten: c.batchesWritten.Load(), BatchesRead: c.batchesRead.Load(),
		BatchesDuplicate: c.batchesDuplicate.Load(), BatchesDropped: c.batchesDropped.Load(),
		ChangesDropped: c.changesDropped.Load(), ChangesApplied: c.changesApplied.Load(),
		ChangesFailed: c.changesFailed.Load(), StreamResets: c.streamResets.Load(), Resyncs: c.resyncs.Load(),
		CounterFlushes: c.counterFlushes.Load(), CounterDuplicates: c.counterDuplicates.Load(),
		StateWrites: c.stateWrites.Load(), StateReads: c.stateReads.Load(),
		Errors: c.errors.Load(), LastFlush: time.Duration(c.lastFlush.Load()),
	}
	s.dmu.Lock()
	x.Dirty = len(s.dirty)
	s.dmu.Unlock()
	s.cmu.Lock()
	x.BacklogBytes = s.queued + len(s.cur)
	s.cmu.Unlock()
	return x
}
