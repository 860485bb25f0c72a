// Package remote is store.Shared over Redis 7 or Valkey (through
// go-redis v9): several shopedge instances share visitors' profiles, the
// changes each learns (engine events, live counts, products: opaque bytes
// here), counters, and a saved state a starting instance reads. It moves
// bytes and knows nothing of profiles, the engine or HTTP.
//
// # Keys
//
// Every key starts with Options.Prefix (P); hash tags keep what one
// command touches in one Redis Cluster slot:
//
//   - P{visitor}:p: a profile: its generation (16 hex digits), the token
//     of the copy written (the writer's 8 hex digits and the copy's 8),
//     then its bytes; written by casScript with PX ProfileTTL. An erased
//     profile (Forget) is a tombstone: a generation above the stored one
//     and Redis's clock, a token of zeros, no bytes; a request that reads
//     it begins the visitor afresh over it (its generation).
//   - Pepoch: set once by the first instance to reach a Redis: gone or
//     changed, the Redis lost its data.
//   - Pinv: the channel of invalidations: the writing instance, then each
//     visitor id written (uvarint length-prefixed) and the generation
//     written (a uvarint).
//   - P{changes}: the change stream; each entry is one batch, fields
//     o (origin instance), s (its sequence number), b (changes, each
//     uvarint length-prefixed). Trimmed to MAXLEN ~ StreamLength at each
//     XADD, and by age (MINID ~ now-StreamAge) at each state save.
//   - P{c:key}: a counters hash (HINCRBYFLOAT); P{c:key}:b:instance:seq
//     marks a counter batch applied (EX 86400).
//   - Pstate: the saved state: a header, the stream position the saver had
//     read to, then Sink.WriteState's bytes. Pstate:lock elects the saver
//     (SET NX PX, nine tenths of StateInterval).
//
// # Consistency
//
//   - Profiles are read through (Profile, within Budget) and written
//     behind every FlushInterval, each only over the generation of the
//     copy it was changed from (the sink keeps it with the copy, and a
//     number naming the copy; casScript checks it): when another write
//     stands since (another instance's, or an erasure), the first write
//     stands, and this instance drops that copy (Sink.Conflict), reading
//     the stored one on the visitor's next request; a conflict loses the
//     losing copy's last interval of that visitor. A generation is one
//     above the stored one and at least Redis's clock in microseconds, so
//     generations only grow, even across a Redis that lost its data, and
//     none is reused. Where the stored generation is below the copy's (a
//     Redis that lost writes: restarted from an older snapshot, a lagging
//     replica) or none is stored, the copy is newer, and written; never
//     over a tombstone. A write whose reply was lost, sent again by the
//     same copy, goes over its own (the stored token is the copy's). A
//     visitor whose two requests land on two instances within one interval
//     may see the older profile on the second. Word of a write (an
//     invalidation, with its generation) drops the copies of older
//     generations elsewhere; word of an erasure (generation 0) drops every
//     copy.
//   - Changes reach the other instances within about a flush interval, in
//     each origin's order; a batch written twice (a retry after a reply
//     was lost) is applied once (sequence numbers per origin, starting at
//     the clock in microseconds so a restarted process continues above).
//   - Counters are exactly once: an unacknowledged batch is resent as it
//     was, with its sequence number, and the script applies it only if its
//     dedupe key is new. Totals adds this instance's unsent increments.
//   - An instance that dies loses what it had not flushed: at most the
//     last interval's profiles, changes and increments. What Redis
//     acknowledged stays (as durable as Redis's own persistence).
//   - The saved state is fuzzy: it is written while changes keep arriving,
//     so an instance starting from it may apply again the changes
//     published while it was being written (those after its recorded
//     position, the saver's own last interval, not yet on the stream,
//     included). Changes must bear that (counts drift by at most that
//     window). With no saved state a starting instance reads the whole
//     stream.
//   - A reader whose position lies past the stream's end (a Redis
//     restarted empty, or another server) reads the stream again from 0.
//
// # Degraded mode
//
// A background round trip that fails on the network or its deadline (or a
// hot-path read refused by the network; a read only slower than Budget
// does not count) marks the store down: one log line ("redis unreachable:
// serving from local state"), then Profile and Totals answer ErrDown at
// once. The flusher pings every interval; on an answer it logs one line
// with the time down and writes the backlog: dirty profiles (at most
// MaxDirty), change batches (at most Backlog bytes, the oldest dropped
// and counted) and counters. Invalidations published while the
// subscription was away are not seen, so coming back (and at each
// subscription after the first) it resyncs: when Redis kept its data (the
// epoch key, P epoch, is the one read before) the held copies not waiting
// to be written are dropped, to be read again (Sink.Stale); when Redis
// lost it (restarted without persistence: no epoch key, or another) they
// stay, every one newer than nothing, written with their next change. The
// flusher resyncs, under flushMu, before its next write (a resync that
// cannot read the epoch stays pending). A store that started with Redis
// down does not read the saved state later (it would replace what the
// instance learned meanwhile): it reads the whole stream, and does not
// save the state (what it holds is only part of it) unless Redis had none. A saved state
// that fails to go out (it may be megabytes; it has ten times Timeout)
// is logged and tried again at the next interval, and does not mark the
// store down. Health and Stats give the figures for /metrics (Stats
// proposes the metric names).
//
// Files:
//   - options.go: Options, their defaults and checks, the URL and TLS,
//     redaction of secrets.
//   - store.go: Store, Open, the hot path (Profile, Changed, Publish, Add),
//     Forget, Totals, Start and Close.
//   - flush.go: the flusher: profiles, change batches, counters (the
//     script).
//   - read.go: the invalidation subscriber, the stream reader, the saved
//     state (read at start, written by the elected instance).
//   - health.go: up/down tracking and its log lines.
//   - stats.go: Stats.
package remote
