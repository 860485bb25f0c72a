package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// encodeInv is an invalidation message: the instance, then the visitor
// ids, each preceded by its length as a uvarint and followed by the
// generation written, a uvarint (0: erased). gens[i] goes with ids[i].
func encodeInv(instance string, ids []string, gens []uint64) []byte {
	n := binary.MaxVarintLen64 + len(instance)
	for _, id := range ids {
		n += 2*binary.MaxVarintLen64 + len(id)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(instance)))
	b = append(b, instance...)
	for i, id := range ids {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		b = binary.AppendUvarint(b, gens[i])
	}
	return b
}

// nextField reads a uvarint-prefixed field of b.
func nextField(b string) (field, rest string, ok bool) {
	n, k := binary.Uvarint([]byte(b[:min(len(b), binary.MaxVarintLen64)]))
	if k <= 0 || n > uint64(len(b)-k) {
		return "", "", false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// decodeInv calls f for each id of an invalidation message of another
// instance than self, with the generation written; it reports a malformed
// message.
func decodeInv(msg, self string, f func(id string, gen uint64)) bool {
	origin, rest, ok := nextField(msg)
	if !ok {
		return false
	}
	if origin == self {
		return true
	}
	for rest != "" {
		var id string
		if id, rest, ok = nextField(rest); !ok {
			return false
		}
		g, k := binary.Uvarint([]byte(rest[:min(len(rest), binary.MaxVarintLen64)]))
		if k <= 0 {
			return false
		}
		rest = rest[k:]
		f(id, g)
	}
	return true
}

// retryWait waits before a retry after a failure, or until Close.
func (s *Store) retryWait() bool {
	t := time.NewTimer(min(max(s.o.FlushInterval, 50*time.Millisecond), time.Second))
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// subscriber passes other instances' word of their writes to the sink,
// which drops its copies of older generations (an erasure, generation 0,
// drops the profile's pending write here too). The subscription
// reconnects by itself; what was published while it was away is not
// seen, so each subscription after the first resyncs (see resync).
func (s *Store) subscriber() {
	defer s.wg.Done()
	ps := s.ps
	for {
		m, err := ps.ReceiveTimeout(s.ctx, s.o.Timeout)
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) {
				continue
			}
			if !s.retryWait() {
				return
			}
			continue
		}
		msg, ok := m.(*redis.Message)
		if !ok {
			if sub, ok := m.(*redis.Subscription); ok && sub.Kind == "subscribe" {
				if s.subscribed.Swap(true) {
					s.needResync.Store(true) // done by the flusher
				}
			}
			continue
		}
		if !decodeInv(msg.Payload, s.o.Instance, func(id string, gen uint64) {
			s.st.invalidations.Add(1)
			s.sink.Invalidate(id, gen)
		}) {
			s.st.changesFailed.Add(1)
		}
	}
}

// stateMagic starts the saved state's value: then a uvarint-prefixed
// stream id (where a reader of the state starts), then the sink's bytes.
const stateMagic = "shopedge-state\x01"

// catchUp decides where the reader starts: the saved state's position
// after reading the state into the sink, or the stream's start when none
// is saved. It does nothing once decided.
func (s *Store) catchUp() error {
	s.pmu.Lock()
	loaded := s.loaded
	s.pmu.Unlock()
	if loaded {
		return nil
	}
	if s.late.Load() {
		// No saved state at all (a first start of them all, while Redis
		// was coming up): this instance holds as much as any, and may
		// save it.
		if n, err := s.rdb.Exists(s.ctx, s.kState).Result(); err == nil && n == 0 {
			s.late.Store(false)
		}
		s.pmu.Lock()
		s.pos, s.loaded = "0", true
		s.pmu.Unlock()
		return nil
	}
	var v []byte
	// Megabytes, perhaps: the time it is written with.
	ctx, cancel := context.WithTimeout(s.ctx, 10*s.o.Timeout)
	v, err := s.rdb.Get(ctx, s.kState).Bytes()
	cancel()
	pos := "0"
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		s.noteErr(err)
		return s.wrap(err, "read state")
	default:
		body, ok := bytes.CutPrefix(v, []byte(stateMagic))
		var id, rest string
		if ok {
			id, rest, ok = nextField(string(body))
		}
		if !ok {
			s.log.Warn("redis: saved state is not shopedge's: ignored; reading the whole stream")
			break
		}
		if err := s.sink.ReadState(bufio.NewReader(strings.NewReader(rest))); err != nil {
			// The sink refused it: catch up from the whole stream instead.
			s.log.Warn("redis: saved state refused; reading the whole stream", "err", err)
			break
		}
		s.st.stateReads.Add(1)
		pos = id
	}
	s.pmu.Lock()
	s.pos, s.loaded = pos, true
	s.pmu.Unlock()
	return nil
}

// position is the stream id read to, and whether it is decided.
func (s *Store) position() (string, bool) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.pos, s.loaded
}

// streamID is a stream entry id as its two numbers.
func streamID(id string) (ms, seq uint64, ok bool) {
	a, b, _ := strings.Cut(id, "-")
	ms, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if b != "" {
		if seq, err = strconv.ParseUint(b, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return ms, seq, true
}

// idLess says a < b as stream ids.
func idLess(a, b string) bool {
	am, as, _ := streamID(a)
	bm, bs, _ := streamID(b)
	return am < bm || am == bm && as < bs
}

// checkReset starts the reader again from 0 when the stream ends before
// its position: a Redis that restarted empty (or another server).
func (s *Store) checkReset(ctx context.Context) error {
	pos, _ := s.position()
	if pos == "0" || pos == "0-0" {
		return nil
	}
	info, err := s.rdb.XInfoStream(ctx, s.kStream).Result()
	last := ""
	switch {
	case err == nil:
		last = info.LastGeneratedID
	case strings.Contains(err.Error(), "no such key"):
		last = "0-0"
	default:
		return err
	}
	if idLess(last, pos) {
		s.log.Warn("redis: change stream ends before the position read to (redis restarted empty?): reading it again from the start",
			"position", pos, "last", last)
		s.st.streamResets.Add(1)
		s.pmu.Lock()
		s.pos = "0"
		s.pmu.Unlock()
	}
	return nil
}

// reader applies the changes other instances publish, in stream order,
// skipping its own and batches seen already.
func (s *Store) reader() {
	defer s.wg.Done()
	last := map[string]uint64{} // origin -> last sequence number applied
	check, empty := true, 0
	for s.ctx.Err() == nil {
		if err := s.catchUp(); err != nil {
			if !s.retryWait() {
				return
			}
			continue
		}
		if check {
			if err := s.roundTrip(s.ctx, s.checkReset); err != nil {
				s.noteErr(err)
				if !s.retryWait() {
					return
				}
				continue
			}
			check = false
		}
		pos, _ := s.position()
		// The deadline covers the block and one more Timeout: a deadline
		// here is a server that does not answer.
		ctx, cancel := context.WithTimeout(s.ctx, 2*s.o.Timeout)
		res, err := s.blk.XRead(ctx, &redis.XReadArgs{Streams: []string{s.kStream, pos}, Count: 100, Block: s.o.Timeout}).Result()
		cancel()
		if s.ctx.Err() != nil {
			return
		}
		if errors.Is(err, redis.Nil) || err == nil && len(res) == 0 {
			s.markUp()
			// Nothing new within the block: now and then, see that the
			// stream did not restart behind the position.
			if empty++; empty%10 == 0 {
				check = true
			}
			continue
		}
		if err != nil {
			s.noteErr(err)
			check = true
			if !s.retryWait() {
				return
			}
			continue
		}
		s.markUp()
		for _, st := range res {
			for _, m := range st.Messages {
				s.applyEntry(m, last)
				pos = m.ID
			}
		}
		s.pmu.Lock()
		s.pos = pos
		s.pmu.Unlock()
	}
}

// applyEntry applies one stream entry's batch unless it is this
// instance's or a repeat of a sequence number seen from its origin.
func (s *Store) applyEntry(m redis.XMessage, last map[string]uint64) {
	origin, _ := m.Values["o"].(string)
	if origin == s.o.Instance {
		return
	}
	seqs, _ := m.Values["s"].(string)
	blob, _ := m.Values["b"].(string)
	seq, err := strconv.ParseUint(seqs, 10, 64)
	if err != nil || origin == "" {
		s.st.changesFailed.Add(1)
		return
	}
	if seq <= last[origin] {
		s.st.batchesDuplicate.Add(1)
		return
	}
	if len(last) >= 1<<16 {
		// Origins are processes; forget them all rather than grow.
		clear(last)
	}
	last[origin] = seq
	s.st.batchesRead.Add(1)
	s.applyBatch([]byte(blob))
}

// applyBatch passes each change of a batch to the sink. Each change is its
// own slice of b, which is not reused: the sink may keep it.
func (s *Store) applyBatch(b []byte) {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			s.logApply(errors.New("malformed batch"))
			return
		}
		c := b[k : k+int(n) : k+int(n)]
		b = b[k+int(n):]
		if err := s.sink.Apply(c); err != nil {
			s.logApply(err)
			continue
		}
		s.st.changesApplied.Add(1)
	}
}

// applyLogEvery spaces the log lines of refused changes.
const applyLogEvery = 1000

func (s *Store) logApply(err error) {
	if n := s.st.changesFailed.Add(1); n%applyLogEvery == 1 {
		s.log.Warn("redis: a change of another instance refused", "err", err, "refused", n)
	}
}

// stater saves the shared state every StateInterval, when this instance
// wins the lock and has itself read the state or stream; it also trims
// the stream by age.
func (s *Store) stater() {
	defer s.wg.Done()
	t := time.NewTicker(s.o.StateInterval)
	defer t.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if !s.health.isUp() {
			continue
		}
		// A state too big for its time does not make the store down: the
		// next interval tries again.
		if err := s.saveState(&buf); err != nil && !errors.Is(err, context.Canceled) {
			s.st.errors.Add(1)
			s.log.Warn("redis: shared state not saved", "err", s.scrub(err))
		}
	}
}

// saveState takes the lock and, won, writes the sink's state behind its
// position and trims the stream by age.
func (s *Store) saveState(buf *bytes.Buffer) error {
	pos, loaded := s.position()
	if !loaded || s.late.Load() {
		// An instance that did not start from the saved state holds part
		// of what it says: it leaves the saving to the others.
		return nil
	}
	var won bool
	err := s.roundTrip(s.ctx, func(ctx context.Context) error {
		var err error
		// Held a little less than the interval, so the next round finds it
		// free whatever the tickers' drift.
		won, err = s.rdb.SetNX(ctx, s.kLock, s.o.Instance, s.o.StateInterval*9/10).Result()
		return err
	})
	if err != nil || !won {
		return err
	}
	buf.Reset()
	buf.WriteString(stateMagic)
	var lb [binary.MaxVarintLen64]byte
	buf.Write(lb[:binary.PutUvarint(lb[:], uint64(len(pos)))])
	buf.WriteString(pos)
	if err := s.sink.WriteState(buf); err != nil {
		s.log.Warn("redis: shared state not saved: the sink failed to write it", "err", err)
		return nil
	}
	// Megabytes, perhaps: ten times the time of other round trips.
	ctx, cancel := context.WithTimeout(s.ctx, 10*s.o.Timeout)
	err = s.rdb.Set(ctx, s.kState, buf.Bytes(), 0).Err()
	cancel()
	if err != nil {
		return err
	}
	s.st.stateWrites.Add(1)
	minID := strconv.FormatInt(time.Now().Add(-s.o.StreamAge).UnixMilli(), 10)
	return s.roundTrip(s.ctx, func(ctx context.Context) error {
		return s.rdb.XTrimMinIDApprox(ctx, s.kStream, minID, 0).Err()
	})
}
