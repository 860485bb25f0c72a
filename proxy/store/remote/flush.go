package remote

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// addScript applies a counter batch once: KEYS[1] is the counters' hash,
// KEYS[2] the batch's dedupe key (same hash tag, same slot); ARGV[1] the
// dedupe key's lifetime in seconds, then field, delta pairs. It returns 1
// when applied, 0 when the batch had been applied already.
var addScript = redis.NewScript(`
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  for i = 2, #ARGV, 2 do
    redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  return 1
end
return 0
`)

// casScript writes a profile only over the copy it was changed from:
// KEYS[1] is the profile's key; ARGV[1] the generation of that copy
// (genLen hex digits; zero for a profile begun here), ARGV[2] the copy's
// token (tokenLen hex digits: the writer and the copy's number), ARGV[3]
// the profile's bytes, ARGV[4] its lifetime in milliseconds.
//
// It writes where no profile is stored (or one no shopedge wrote), where
// the stored one is the copy's generation, where it is this very copy's
// own earlier write (its token: a write whose reply was lost, sent again
// with the changes since), and where it is of an older generation than
// the copy (a Redis that lost writes: the copy is newer) unless it is a
// tombstone; anything else is a write that stands since the copy was read
// (another instance's, or an erasure): it returns 0, a conflict.
// Otherwise it returns the generation written: one above the stored one
// and at least Redis's clock in microseconds, so that generations only
// grow, even across a Redis that lost its data, and none is reused.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local base = tonumber(ARGV[1], 16)
local next = base + 1
if cur then
  local g = tonumber(string.sub(cur, 1, 16), 16)
  if g then
    local tomb = string.len(cur) == 32
    local own = string.sub(cur, 17, 32) == ARGV[2]
    if g ~= base and not own and (tomb or g > base) then
      return 0
    end
    next = math.max(next, g + 1)
  end
end
local t = redis.call('TIME')
next = math.max(next, tonumber(t[1]) * 1000000 + tonumber(t[2]))
redis.call('SET', KEYS[1], string.format('%016x', next) .. ARGV[2] .. ARGV[3], 'PX', ARGV[4])
return next
`)

// forgetScript erases a profile: KEYS[1] is its key; it writes a
// tombstone (no bytes, a token of zeros) of a generation above the stored
// one and Redis's clock in microseconds, for ARGV[1] milliseconds, so that
// no copy read before is written over it, and returns its generation.
var forgetScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local g = 0
if cur then
  g = tonumber(string.sub(cur, 1, 16), 16) or 0
end
local t = redis.call('TIME')
g = math.max(g + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
redis.call('SET', KEYS[1], string.format('%016x', g) .. string.rep('0', 16), 'PX', ARGV[1])
return g
`)

// dedupeTTL is how long a counter batch's dedupe key is kept, in seconds:
// a batch resent later than that would count twice.
const dedupeTTL = 86400

// flusher writes behind every FlushInterval; while Redis is down it pings
// instead, and writes the backlog once Redis answers.
func (s *Store) flusher() {
	defer s.wg.Done()
	t := time.NewTicker(s.o.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.tick()
	}
}

// tick is one round of the flusher.
func (s *Store) tick() {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if !s.health.isUp() {
		ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
		err := s.rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			s.health.fail(s.scrub(err))
			return
		}
		s.back()
	}
	s.resync()
	start := time.Now()
	err := s.flush(s.ctx)
	s.st.lastFlush.Store(int64(time.Since(start)))
	if err != nil && !errors.Is(err, context.Canceled) {
		s.st.errors.Add(1)
		s.noteErr(err)
	}
}

// flush writes the dirty profiles, the queued change batches and the
// pending counters, each round trip bounded by Timeout within ctx. What
// fails stays queued. flushMu is held.
func (s *Store) flush(ctx context.Context) error {
	return errors.Join(s.flushProfiles(ctx), s.flushChanges(ctx), s.flushCounters(ctx))
}

// flushProfiles writes every dirty profile, profileBatch to a pipeline,
// each over the generation of the copy it was changed from (casScript),
// each pipeline followed by word of the profiles written. A profile that
// conflicts is dropped here (Sink.Invalidate): another instance's write
// stands, and is read on the visitor's next request. Profiles of a failed
// pipeline, and those after it, go back into the dirty set.
func (s *Store) flushProfiles(ctx context.Context) error {
	s.dmu.Lock()
	if len(s.dirty) == 0 || s.sink == nil {
		s.dmu.Unlock()
		return nil
	}
	// Swapped, not copied: requests marking profiles wait for nothing but
	// the swap.
	dirty := s.dirty
	s.dirty = make(map[string]struct{}, len(dirty)/2)
	s.dmu.Unlock()
	ids := make([]string, 0, len(dirty))
	for id := range dirty {
		ids = append(ids, id)
	}

	var arena []byte
	bases := make([]uint64, 0, profileBatch)
	copies := make([]uint32, 0, profileBatch)
	vals := make([][]byte, 0, profileBatch)
	written := make([]string, 0, profileBatch)
	ttl := strconv.FormatInt(s.o.ProfileTTL.Milliseconds(), 10)
	for start := 0; start < len(ids); start += profileBatch {
		chunk := ids[start:min(start+profileBatch, len(ids))]
		arena, vals, written, bases, copies = arena[:0], vals[:0], written[:0], bases[:0], copies[:0]
		for _, id := range chunk {
			n := len(arena)
			var ok bool
			var gen uint64
			var cp uint32
			arena, gen, cp, ok = s.sink.Profile(id, arena)
			if !ok {
				arena = arena[:n]
				continue
			}
			vals = append(vals, arena[n:len(arena):len(arena)])
			written = append(written, id)
			bases = append(bases, gen)
			copies = append(copies, cp)
		}
		if len(written) == 0 {
			continue
		}
		if !s.casLoaded.Load() {
			if err := s.roundTrip(ctx, func(ctx context.Context) error { return casScript.Load(ctx, s.rdb).Err() }); err != nil {
				s.redirty(ids[start:])
				return err
			}
			s.casLoaded.Store(true)
		}
		var cmds []*redis.Cmd
		err := s.roundTrip(ctx, func(ctx context.Context) error {
			_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				cmds = cmds[:0]
				for i, id := range written {
					cmds = append(cmds, casScript.EvalSha(ctx, p, []string{s.profileKey(id)},
						formatGen(bases[i]), s.token(copies[i]), vals[i], ttl))
				}
				return nil
			})
			return err
		})
		var won, again []string
		var wonGens []uint64
		noscript := false
		for i, c := range cmds {
			n, cerr := c.Int()
			switch {
			case cerr != nil:
				// Not written (the pipeline failed, or Redis lost the
				// script): written at a later flush.
				noscript = noscript || strings.HasPrefix(cerr.Error(), "NOSCRIPT")
				again = append(again, written[i])
			case n > 0:
				g := uint64(n)
				s.sink.Written(written[i], copies[i], g)
				won = append(won, written[i])
				wonGens = append(wonGens, g)
			default:
				// Another instance wrote it since this copy was read: its
				// write stands, and this copy goes.
				s.st.conflicts.Add(1)
				s.sink.Conflict(written[i], copies[i])
			}
		}
		if len(cmds) < len(written) {
			again = append(again, written[len(cmds):]...)
		}
		if noscript {
			s.casLoaded.Store(false) // Redis restarted without it: loaded at the next flush
		}
		if len(won) > 0 {
			if perr := s.roundTrip(ctx, func(ctx context.Context) error {
				return s.rdb.Publish(ctx, s.kInv, encodeInv(s.o.Instance, won, wonGens)).Err()
			}); perr != nil {
				err = errors.Join(err, perr) // written; the others read it when they next miss it
			}
		}
		s.st.profileWrites.Add(uint64(len(won)))
		if err != nil || len(again) > 0 {
			s.redirty(again)
			s.redirty(ids[start+len(chunk):])
			if err == nil {
				err = errors.New("remote: profiles not written")
			}
			return err
		}
	}
	return nil
}

// redirty puts ids back into the dirty set (bounded like Changed).
func (s *Store) redirty(ids []string) {
	// In chunks, so that requests marking profiles never wait long (a
	// backlog after an outage may be a million).
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 4096)]
		ids = ids[len(chunk):]
		s.dmu.Lock()
		for _, id := range chunk {
			if len(s.dirty) >= s.o.MaxDirty {
				s.st.dirtyDropped.Add(1)
				continue
			}
			s.dirty[id] = struct{}{}
		}
		s.dmu.Unlock()
	}
}

// roundTrip runs f with a context bounded by Timeout within ctx.
func (s *Store) roundTrip(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	return f(ctx)
}

// flushChanges seals the batch being filled and writes the queue in
// order, one stream entry per batch; it stops at the first failure, which
// leaves that batch (with its sequence number) first in the queue.
func (s *Store) flushChanges(ctx context.Context) error {
	s.cmu.Lock()
	s.sealLocked()
	q := append([]*batch(nil), s.queue...)
	s.cmu.Unlock()
	for _, b := range q {
		s.cmu.Lock()
		if b.dropped {
			s.cmu.Unlock()
			continue
		}
		s.sending = b
		s.cmu.Unlock()
		err := s.writeBatch(ctx, b)
		s.cmu.Lock()
		s.sending = nil
		if err == nil {
			for i, x := range s.queue {
				if x == b {
					s.queue = append(s.queue[:i], s.queue[i+1:]...)
					s.queued -= len(b.blob)
					if len(s.free) < 4 && cap(b.blob) <= 2*maxBatch {
						s.free = append(s.free, b.blob[:0])
					}
					break
				}
			}
		}
		s.cmu.Unlock()
		if err != nil {
			return err
		}
		s.st.batchesWritten.Add(1)
	}
	return nil
}

// writeBatch XADDs one batch: origin, sequence number, blob.
func (s *Store) writeBatch(ctx context.Context, b *batch) error {
	return s.roundTrip(ctx, func(ctx context.Context) error {
		return s.rdb.XAdd(ctx, &redis.XAddArgs{
			Stream: s.kStream,
			MaxLen: s.o.StreamLength,
			Approx: true,
			Values: []any{"o", s.o.Instance, "s", b.seq, "b", b.blob},
		}).Err()
	})
}

// flushCounters sends the batches not acknowledged before (as they were),
// then the pending sums of every other key as new batches, one script call
// per key, in one pipeline. A batch stays in flight until acknowledged.
func (s *Store) flushCounters(ctx context.Context) error {
	s.amu.Lock()
	if len(s.pending) > 0 {
		busy := make(map[string]bool, len(s.inflight))
		for _, b := range s.inflight {
			busy[b.key] = true
		}
		fresh := map[string]*counterBatch{}
		for k, d := range s.pending {
			if busy[k.key] {
				continue
			}
			b := fresh[k.key]
			if b == nil {
				b = &counterBatch{key: k.key, seq: s.seq.Add(1)}
				fresh[k.key] = b
				s.inflight = append(s.inflight, b)
			}
			b.fields = append(b.fields, k.field)
			b.deltas = append(b.deltas, d)
			delete(s.pending, k)
		}
	}
	send := append([]*counterBatch(nil), s.inflight...)
	s.amu.Unlock()
	if len(send) == 0 {
		return nil
	}
	acked, err := s.sendCounters(ctx, send)
	s.amu.Lock()
	keep := s.inflight[:0]
	for _, b := range s.inflight {
		if !acked[b] {
			keep = append(keep, b)
		}
	}
	clear(s.inflight[len(keep):])
	s.inflight = keep
	s.amu.Unlock()
	return err
}

// sendCounters runs the script for each batch in one pipeline (loading
// the script again if Redis lost it) and returns the batches Redis
// acknowledged, applied now or before.
func (s *Store) sendCounters(ctx context.Context, batches []*counterBatch) (map[*counterBatch]bool, error) {
	acked := make(map[*counterBatch]bool, len(batches))
	for attempt := 0; ; attempt++ {
		var cmds []*redis.Cmd
		err := s.roundTrip(ctx, func(ctx context.Context) error {
			_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				cmds = cmds[:0]
				for _, b := range batches {
					cmds = append(cmds, addScript.EvalSha(ctx, p, b.keys(s), b.args()...))
				}
				return nil
			})
			return err
		})
		noscript := false
		for i, c := range cmds {
			switch n, cerr := c.Int(); {
			case cerr == nil:
				acked[batches[i]] = true
				if n == 1 {
					s.st.counterFlushes.Add(1)
				} else {
					s.st.counterDuplicates.Add(1)
				}
			case strings.HasPrefix(cerr.Error(), "NOSCRIPT"):
				noscript = true
			}
		}
		if !noscript || attempt > 0 {
			return acked, err
		}
		if lerr := s.roundTrip(ctx, func(ctx context.Context) error { return addScript.Load(ctx, s.rdb).Err() }); lerr != nil {
			return acked, lerr
		}
		rest := batches[:0:0]
		for _, b := range batches {
			if !acked[b] {
				rest = append(rest, b)
			}
		}
		batches = rest
	}
}

func (b *counterBatch) keys(s *Store) []string {
	return []string{s.counterKey(b.key), s.dedupeKey(b.key, b.seq)}
}

func (b *counterBatch) args() []any {
	a := make([]any, 0, 1+2*len(b.fields))
	a = append(a, dedupeTTL)
	for i, f := range b.fields {
		a = append(a, f, strconv.FormatFloat(b.deltas[i], 'g', -1, 64))
	}
	return a
}
