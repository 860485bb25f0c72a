package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"shopedge/proxy/store"
)

// ErrDown is returned at once, without a round trip, by reads while the
// store holds Redis for unreachable.
var ErrDown = errors.New("remote: redis unreachable")

// Store is a store.Shared over Redis. Its methods are safe for concurrent
// use.
type Store struct {
	o       Options
	addr    string // the redacted URL
	secrets []string
	rdb     redis.UniversalClient // background work: deadlines from contexts
	hot     redis.UniversalClient // Profile: socket timeouts of Budget
	blk     redis.UniversalClient // the stream reader's XREAD BLOCK
	log     *slog.Logger
	health  health
	st      counters

	kInv, kStream, kState, kLock, kEpoch string

	// seq numbers this process's change batches and counter sends; it
	// starts at the clock in microseconds, so a process restarted under
	// the same Instance continues above its predecessor.
	seq atomic.Uint64

	dmu   sync.Mutex
	dirty map[string]struct{}

	// writer names this instance in the profiles it writes (writerLen hex
	// digits of a hash of Instance).
	writer string
	// epoch is the value of the epoch key as this instance last read it:
	// when Redis comes back without it, or with another, its data is gone
	// (a restart without persistence), and the profiles held here stay
	// (see resync).
	epoch atomic.Pointer[string]
	// needResync says the flusher must resync before it writes again.
	needResync atomic.Bool
	// casLoaded says casScript is loaded in Redis (as far as this
	// instance knows: a NOSCRIPT answer clears it).
	casLoaded atomic.Bool

	cmu     sync.Mutex
	cur     []byte // the change batch being filled
	curN    int
	queue   []*batch // sealed batches, oldest first
	queued  int      // bytes in queue
	sending *batch   // the batch being written, never dropped
	free    [][]byte // blobs to reuse

	amu      sync.Mutex
	pending  map[ckey]float64
	inflight []*counterBatch // sent and not acknowledged, resent as they are

	flushMu sync.Mutex // one flush at a time

	pmu    sync.Mutex
	pos    string // stream position read to
	loaded bool   // the state or stream start is decided

	sink    store.Sink
	ps      *redis.PubSub // the invalidations' subscription, from Start
	started atomic.Bool
	// subscribed is set once the invalidation channel is subscribed.
	subscribed atomic.Bool
	closed     atomic.Bool
	// late says Start could not read the saved state: the instance began
	// serving empty, and catches up from the whole stream.
	late   atomic.Bool
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// maxBatch caps a change batch (one stream entry).
const maxBatch = 256 << 10

// profileBatch is how many profiles one pipeline writes.
const profileBatch = 256

// A stored profile is its generation, genLen hex digits (one more at each
// write), then the bytes Sink.Profile gave.
const genLen = 16

func appendGen(b []byte, g uint64) []byte {
	const hex = "0123456789abcdef"
	for i := genLen - 1; i >= 0; i-- {
		b = append(b, hex[(g>>(4*uint(i)))&0xf])
	}
	return b
}

func formatGen(g uint64) string { return string(appendGen(make([]byte, 0, genLen), g)) }

// parseGen reads the generation in front of a stored profile.
func parseGen(v string) (uint64, bool) {
	if len(v) < genLen {
		return 0, false
	}
	g, err := strconv.ParseUint(v[:genLen], 16, 64)
	return g, err == nil
}

// The header in front of a stored profile: its generation, then the
// token of the copy written (the writer, writerLen hex digits, and the
// copy's number, as many); a tombstone's token is all zeros.
const (
	writerLen = 8
	tokenLen  = 2 * writerLen
	headerLen = genLen + tokenLen
)

// token names a copy of a profile in what this instance writes.
func (s *Store) token(copy uint32) string { return fmt.Sprintf("%s%08x", s.writer, copy) }

// writerOf names an instance in the profiles it writes: a hash of its
// name (FNV-1a), in hex.
func writerOf(instance string) string {
	h := uint32(2166136261)
	for i := 0; i < len(instance); i++ {
		h = (h ^ uint32(instance[i])) * 16777619
	}
	return fmt.Sprintf("%08x", h)
}

type batch struct {
	seq     uint64
	blob    []byte
	n       int
	dropped bool
}

type ckey struct{ key, field string }

type counterBatch struct {
	key    string
	seq    uint64
	fields []string
	deltas []float64
}

var _ store.Shared = (*Store)(nil)

// Open checks o and returns a store; it does not wait for Redis, which may
// be down (the store then starts degraded and catches up). It fails only
// on bad options, with an error wrapping ErrOptions.
func Open(o Options) (*Store, error) {
	o.defaults()
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	opt, redacted, err := o.clientOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	s := &Store{
		o:       o,
		addr:    redacted,
		secrets: o.secrets(),
		log:     o.Logger.With("store", "redis", "addr", redacted),
		dirty:   make(map[string]struct{}),
		pending: make(map[ckey]float64),
		kInv:    o.Prefix + "inv",
		kStream: o.Prefix + "{changes}",
		kState:  o.Prefix + "state",
		kLock:   o.Prefix + "state:lock",
		kEpoch:  o.Prefix + "epoch",
		writer:  writerOf(o.Instance),
	}
	s.rdb = newClient(opt, &o)
	// The hot path's own pool: every wait (for a pooled connection, a
	// dial, a write, a read) is bounded by Budget, and each read by its
	// deadline (see Profile).
	hot := *opt
	hot.ReadTimeout, hot.WriteTimeout, hot.PoolTimeout, hot.DialTimeout = o.Budget, o.Budget, o.Budget, o.Budget
	// A few connections kept open, dialled (and, over TLS, shaken hands)
	// ahead: a request's read never waits for one it could not get within
	// the budget.
	hot.MinIdleConns = 4
	s.hot = newClient(&hot, &o)
	// The stream reader's blocking XREAD has a pool of its own, closed
	// first by Close so the block ends at once.
	blk := *opt
	blk.PoolSize, blk.MinIdleConns = 2, 0
	s.blk = newClient(&blk, &o)
	quietClient(o.Logger)
	s.seq.Store(uint64(time.Now().UnixMicro()))
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.health.init(s.log)
	return s, nil
}

// newClient is a client for opt, or a cluster client seeded with o.Addrs
// (or opt's address) when o.Cluster is set.
func newClient(opt *redis.Options, o *Options) redis.UniversalClient {
	if !o.Cluster {
		return redis.NewClient(opt)
	}
	addrs := o.Addrs
	if len(addrs) == 0 {
		addrs = []string{opt.Addr}
	}
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, Username: opt.Username, Password: opt.Password, TLSConfig: opt.TLSConfig,
		MaxRetries: opt.MaxRetries, DialerRetries: opt.DialerRetries, DialTimeout: opt.DialTimeout,
		ReadTimeout: opt.ReadTimeout, WriteTimeout: opt.WriteTimeout, PoolTimeout: opt.PoolTimeout, PoolSize: opt.PoolSize,
		MinIdleConns:          opt.MinIdleConns,
		ContextTimeoutEnabled: opt.ContextTimeoutEnabled, DisableIdentity: true,
		MaintNotificationsConfig: opt.MaintNotificationsConfig,
	})
}

func (s *Store) profileKey(id string) string { return s.o.Prefix + "{" + id + "}:p" }

func (s *Store) counterKey(key string) string { return s.o.Prefix + "{c:" + key + "}" }

func (s *Store) dedupeKey(key string, seq uint64) string {
	return s.counterKey(key) + ":b:" + s.o.Instance + ":" + strconv.FormatUint(seq, 10)
}

// Profile implements store.Shared: one GET on the hot pool, every socket
// operation of which ends by one deadline, Budget from the call. While
// Redis is held for down it returns ErrDown at once.
func (s *Store) Profile(visitorID string, dst []byte) ([]byte, uint64, bool, error) {
	if !s.health.isUp() {
		s.st.readsSkipped.Add(1)
		return dst, 0, false, ErrDown
	}
	ctx := &deadlineCtx{Context: context.Background(), d: time.Now().Add(s.o.Budget)}
	v, err := s.hot.Get(ctx, s.profileKey(visitorID)).Result()
	switch {
	case err == nil:
		g, ok := parseGen(v)
		if !ok || len(v) < headerLen {
			s.st.readsFailed.Add(1)
			return dst, 0, false, fmt.Errorf("remote: get profile: a value shopedge did not write")
		}
		if len(v) == headerLen { // a tombstone: erased
			s.st.readsMissing.Add(1)
			return dst, g, false, nil
		}
		s.st.readsFound.Add(1)
		return append(dst, v[headerLen:]...), g, true, nil
	case errors.Is(err, redis.Nil):
		s.st.readsMissing.Add(1)
		return dst, 0, false, nil
	}
	s.st.readsFailed.Add(1)
	// A request past its budget says Redis is slow, not gone: only the
	// background work, with its longer timeout, turns the store degraded.
	if !isTimeout(err) {
		s.noteErr(err)
	}
	return dst, 0, false, s.wrap(err, "remote: get profile")
}

// deadlineCtx is a context with a deadline and no cancellation: all the
// hot path's GET needs (go-redis takes its socket deadlines from
// Deadline, and net.Dialer its dial's), without the timer, channel and
// cancel function of context.WithTimeout. Measured: 9 allocations and
// 1.4 KB for a 1 KiB read, against 12 and 1.8 KB (BenchmarkProfileRead).
type deadlineCtx struct {
	context.Context
	d time.Time
}

// Deadline implements context.Context.
func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.d, true }

// Changed implements store.Shared: the visitor joins the set written at
// the next flush. Past MaxDirty visitors waiting, it is dropped and counted.
// visitorID is kept: it must not alias a buffer that is reused (a
// fasthttp request's bytes, say).
func (s *Store) Changed(visitorID string) {
	s.dmu.Lock()
	if _, ok := s.dirty[visitorID]; !ok {
		if len(s.dirty) >= s.o.MaxDirty {
			s.dmu.Unlock()
			s.st.dirtyDropped.Add(1)
			return
		}
		s.dirty[visitorID] = struct{}{}
	}
	s.dmu.Unlock()
}

// isDirty says whether the visitor waits to be written from here.
func (s *Store) isDirty(id string) bool {
	s.dmu.Lock()
	_, ok := s.dirty[id]
	s.dmu.Unlock()
	return ok
}

// Forget implements store.Shared: the visitor leaves the set to write,
// the profile is replaced by a tombstone (forgetScript: a generation above
// every copy's, no bytes, for ProfileTTL) and the other instances are told
// of an erasure (generation 0), so they drop their copies. A write of any copy read
// before the erasure, by any instance, conflicts with the tombstone and is
// dropped, rather than bringing the profile back; a profile begun afresh
// over it (the visitor browses on: it takes the tombstone's generation) is
// written over it. Drop the local profile before and after (a request may
// read it through meanwhile).
func (s *Store) Forget(ctx context.Context, visitorID string) error {
	// A flush under way may hold the profile's bytes already: wait for
	// it, so that its write lands before the tombstone, not after.
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.dmu.Lock()
	delete(s.dirty, visitorID)
	s.dmu.Unlock()
	if !s.health.isUp() {
		return ErrDown
	}
	err := forgetScript.Run(ctx, s.rdb, []string{s.profileKey(visitorID)}, s.o.ProfileTTL.Milliseconds()).Err()
	if err == nil {
		// Generation 0: every copy goes, whatever its generation (one
		// above the tombstone's, if Redis lost the key before, too).
		err = s.rdb.Publish(ctx, s.kInv, encodeInv(s.o.Instance, []string{visitorID}, []uint64{0})).Err()
	}
	if err != nil {
		s.noteErr(err)
		return s.wrap(err, "remote: forget profile")
	}
	return nil
}

// Publish implements store.Shared: the change is copied, length-prefixed,
// into the batch being filled; a full batch is sealed and queued.
func (s *Store) Publish(change []byte) {
	s.cmu.Lock()
	s.cur = appendUvarint(s.cur, uint64(len(change)))
	s.cur = append(s.cur, change...)
	s.curN++
	if len(s.cur) >= maxBatch {
		s.sealLocked()
	}
	s.cmu.Unlock()
}

// appendUvarint is binary.AppendUvarint, kept inline on the hot path.
func appendUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

// sealLocked queues the batch being filled with the next sequence number,
// dropping the oldest queued batches past Backlog. cmu is held.
func (s *Store) sealLocked() {
	if s.curN == 0 {
		return
	}
	b := &batch{seq: s.seq.Add(1), blob: s.cur, n: s.curN}
	s.queue = append(s.queue, b)
	s.queued += len(b.blob)
	s.cur, s.curN = nil, 0
	if n := len(s.free); n > 0 {
		s.cur, s.free = s.free[n-1][:0], s.free[:n-1]
	}
	for s.queued > s.o.Backlog {
		i := 0
		if s.queue[0] == s.sending {
			i = 1
		}
		if i >= len(s.queue) {
			break
		}
		d := s.queue[i]
		d.dropped = true
		s.queued -= len(d.blob)
		s.queue = append(s.queue[:i], s.queue[i+1:]...)
		s.st.batchesDropped.Add(1)
		s.st.changesDropped.Add(uint64(d.n))
	}
}

// Add implements store.Shared: delta joins the pending sum of key's field.
// A NaN or infinite delta is dropped (Redis would refuse the batch).
func (s *Store) Add(key, field string, delta float64) {
	if math.IsNaN(delta) || math.IsInf(delta, 0) {
		return
	}
	s.amu.Lock()
	s.pending[ckey{key, field}] += delta
	s.amu.Unlock()
}

// Totals implements store.Shared: HGETALL of the shared counters plus this
// instance's increments not yet acknowledged. During a flush an increment
// may be counted twice or not at all, for that one call. While Redis is
// held for down (or the read fails) it returns this instance's unsent
// increments with the error (ErrDown at once).
func (s *Store) Totals(ctx context.Context, key string) (map[string]float64, bool, error) {
	totals := make(map[string]float64)
	var err error
	if s.health.isUp() {
		var m map[string]string
		m, err = s.rdb.HGetAll(ctx, s.counterKey(key)).Result()
		if err != nil {
			s.noteErr(err)
			err = s.wrap(err, fmt.Sprintf("remote: read counters %s", key))
		}
		for f, v := range m {
			x, perr := strconv.ParseFloat(v, 64)
			if perr != nil {
				return nil, true, fmt.Errorf("remote: read counters %s: field %s: %w", key, f, perr)
			}
			totals[f] = x
		}
	} else {
		err = ErrDown
	}
	s.amu.Lock()
	for k, d := range s.pending {
		if k.key == key {
			totals[k.field] += d
		}
	}
	for _, b := range s.inflight {
		if b.key == key {
			for i, f := range b.fields {
				totals[f] += b.deltas[i]
			}
		}
	}
	s.amu.Unlock()
	return totals, true, err
}

// Health implements store.Shared.
func (s *Store) Health() store.Health { return s.health.get() }

// Start implements store.Shared: it reads the saved state into sink
// (within Timeout), then starts the flusher, the stream reader, the
// invalidation subscriber and the state saver. With Redis down it starts
// empty; the reader reads the state when Redis answers.
func (s *Store) Start(sink store.Sink) error {
	if sink == nil {
		return errors.New("remote: start: nil sink")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("remote: start: already started")
	}
	s.sink = sink
	s.warm()
	if _, err := s.checkEpoch(); err != nil {
		s.noteErr(err) // read when Redis answers
	}
	if err := s.catchUp(); err != nil {
		// Read later, the saved state would replace what this instance
		// learned meanwhile: it reads the stream from its start instead.
		s.late.Store(true)
		s.log.Warn("redis: shared state not read at start; reading the changes sent when redis answers", "err", err)
	}
	s.ps = s.rdb.Subscribe(s.ctx, s.kInv)
	s.wg.Add(4)
	go s.flusher()
	go s.reader()
	go s.subscriber()
	go s.stater()
	return nil
}

// warm opens a connection of the hot pool (and, for a cluster, reads its
// slots) within Timeout, so the first requests need not fit a dial in
// their budget.
func (s *Store) warm() {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	if err := s.hot.Ping(ctx).Err(); err != nil {
		s.noteErr(err)
	}
}

// back marks the store up after a ping answered (markUp), and warms a
// connection. flushMu is held.
func (s *Store) back() {
	s.markUp()
	s.warm()
}

// markUp marks the store up after Redis answered; coming back from down,
// it has the flusher resync before it writes again.
func (s *Store) markUp() {
	if s.health.ok() && s.sink != nil {
		s.needResync.Store(true)
	}
}

// resync sets right the profiles held here after a time this instance
// may have missed word of other instances' writes (Redis down, the
// subscription away). When Redis kept its data (the epoch key is the one
// read before), every held profile is stale but those waiting to be
// written (Sink.Stale): they are read again on their visitor's next
// request. When Redis lost it (a restart without persistence: no epoch
// key, or another's), the held profiles stay: each is newer than nothing,
// and written with its next change (the first instance to write a visitor
// stands, the others read it).
//
// It runs in the flusher, under flushMu (no profile is on its way then),
// when needResync says so; one that cannot read the epoch stays pending.
func (s *Store) resync() {
	if !s.needResync.Load() || s.sink == nil {
		return
	}
	s.casLoaded.Store(false) // a Redis that restarted has lost its scripts
	lost, err := s.checkEpoch()
	if err != nil {
		return // tried again before the next flush
	}
	s.needResync.Store(false)
	s.st.resyncs.Add(1)
	if lost {
		// Nothing stored is newer than what is held here: the copies
		// stay, and their next writes go where none is.
		s.log.Warn("redis came back without its data (no persistence?): profiles held here are written again with their next change")
		return
	}
	s.sink.Stale(s.isDirty)
}

// checkEpoch reads the epoch key, setting it first if Redis has none, and
// reports whether it differs from the one this instance read before (none
// before: not lost).
func (s *Store) checkEpoch() (lost bool, err error) {
	var v string
	err = s.roundTrip(s.ctx, func(ctx context.Context) error {
		fresh := fmt.Sprintf("%s-%d", s.o.Instance, time.Now().UnixNano())
		if err := s.rdb.SetNX(ctx, s.kEpoch, fresh, 0).Err(); err != nil {
			return err
		}
		var err error
		v, err = s.rdb.Get(ctx, s.kEpoch).Result()
		return err
	})
	if err != nil {
		return false, err
	}
	old := s.epoch.Swap(&v)
	return old != nil && *old != v, nil
}

// Flush writes what is queued now, rather than at the next interval, each
// round trip bounded by Timeout within ctx: the profiles changed, the
// change batches and the counter increments. What fails stays queued (and
// the error says why). A store held for down is asked once more first.
func (s *Store) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if !s.health.isUp() {
		if err := s.rdb.Ping(ctx).Err(); err != nil {
			return s.wrap(err, "remote: flush")
		}
		s.back()
	}
	s.resync()
	if err := s.flush(ctx); err != nil {
		return s.wrap(err, "remote: flush")
	}
	return nil
}

// Close implements store.Shared: it stops the goroutines, writes what is
// queued (bounded by ctx) and closes the client.
func (s *Store) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.cancel()
	if s.ps != nil {
		// Closing the subscription ends the subscriber's wait for a message.
		_ = s.ps.Close()
	}
	_ = s.blk.Close()
	s.wg.Wait()
	s.flushMu.Lock()
	err := s.flush(ctx)
	s.flushMu.Unlock()
	if cerr := errors.Join(s.rdb.Close(), s.hot.Close()); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return s.wrap(err, "remote: close")
	}
	return nil
}

// wrap is err behind what failed, its text without secrets; errors.Is and
// errors.As still reach err.
func (s *Store) wrap(err error, what string) error {
	return &scrubbed{msg: what + ": " + s.scrub(err), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub is err's text without secrets.
func (s *Store) scrub(err error) string { return scrub(err.Error(), s.secrets...) }

// noteErr marks the store down when err says Redis is unreachable.
func (s *Store) noteErr(err error) {
	if unreachable(err) {
		s.health.fail(s.scrub(err))
	}
}

// unreachable says err is the network's or a deadline's (or a refusal that
// makes the server as good as gone), not a reply.
func unreachable(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return true
	}
	// A server that refuses this instance (a wrong or missing password,
	// an ACL without the commands) or cannot serve yet (loading its data,
	// a replica cut off) is as good as unreachable.
	for _, p := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "LOADING", "MASTERDOWN"} {
		if strings.HasPrefix(re.Error(), p) {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

var quietOnce sync.Once

// quietClient sends go-redis's own log lines (one per failed dial, every
// flush while Redis is down) to log at debug level: the store logs the
// transitions itself. go-redis's logger is process-wide: the first
// store's logger gets them.
func quietClient(log *slog.Logger) {
	quietOnce.Do(func() { redis.SetLogger(clientLogger{log}) })
}

type clientLogger struct{ log *slog.Logger }

func (l clientLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
