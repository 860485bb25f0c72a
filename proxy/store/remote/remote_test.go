package remote

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"shopedge/proxy/store/redistest"
)

// testSink is a map-based store.Sink: the thing under test is the Redis
// store, not the proxy's state.
type testSink struct {
	mu          sync.Mutex
	profiles    map[string][]byte
	gens        map[string]uint64 // the generation of each profile's copy
	invalidated []string
	stale       []string // held profiles Stale made stale
	dropped     []string // profiles Invalidate dropped (older than the word)
	conflicts   []string // profiles whose write conflicted
	applied     []string
	state       string // what WriteState writes
	read        []string
}

func newSink() *testSink { return &testSink{profiles: map[string][]byte{}, gens: map[string]uint64{}} }

// Profile gives a profile's bytes and generation; its copy is always
// number 1 (the test sink keeps one copy of each).
func (k *testSink) Profile(id string, dst []byte) ([]byte, uint64, uint32, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, ok := k.profiles[id]
	return append(dst, p...), k.gens[id], 1, ok
}

func (k *testSink) Written(id string, _ uint32, gen uint64) {
	k.mu.Lock()
	k.gens[id] = gen
	k.mu.Unlock()
}

func (k *testSink) Conflict(id string, _ uint32) {
	k.mu.Lock()
	k.conflicts = append(k.conflicts, id)
	k.mu.Unlock()
}

// gen is the generation of the copy of id the sink holds.
func (k *testSink) gen(id string) uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gens[id]
}

// setGen makes the sink's copy of id one of generation g (as if read).
func (k *testSink) setGen(id string, g uint64) {
	k.mu.Lock()
	k.gens[id] = g
	k.mu.Unlock()
}

func (k *testSink) set(id, v string) {
	k.mu.Lock()
	k.profiles[id] = []byte(v)
	k.mu.Unlock()
}

// Invalidate records the word; the copy is dropped only if older (as the
// proxy's store does), so that a later Profile of it finds none.
func (k *testSink) Invalidate(id string, gen uint64) {
	k.mu.Lock()
	k.invalidated = append(k.invalidated, id)
	if gen == 0 || k.gens[id] < gen {
		k.dropped = append(k.dropped, id)
		delete(k.gens, id)
	}
	k.mu.Unlock()
}

func (k *testSink) Stale(keep func(string) bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id := range k.profiles {
		if !keep(id) {
			k.stale = append(k.stale, id)
		}
	}
}

func (k *testSink) Apply(c []byte) error {
	k.mu.Lock()
	k.applied = append(k.applied, string(c))
	k.mu.Unlock()
	return nil
}

func (k *testSink) WriteState(w io.Writer) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, err := io.WriteString(w, k.state)
	return err
}

func (k *testSink) ReadState(r *bufio.Reader) error {
	b, err := io.ReadAll(r)
	k.mu.Lock()
	k.read = append(k.read, string(b))
	k.mu.Unlock()
	return err
}

func (k *testSink) snapshot() (inv, applied, read []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.invalidated), slices.Clone(k.applied), slices.Clone(k.read)
}

// open opens and starts a store on srv; a FlushInterval of an hour leaves
// the flushes to the test (tick).
func open(t testing.TB, srv *redistest.Server, instance string, sink *testSink, mod func(*Options)) *Store {
	t.Helper()
	o := Options{
		URL: srv.URL(), Prefix: "test:", Instance: instance, FlushInterval: time.Hour, StateInterval: time.Hour,
		// A generous budget: the functional tests share two busy cores;
		// TestRedisDown uses the default.
		Budget:  250 * time.Millisecond,
		Timeout: 500 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		o.Logger = slog.Default().With("instance", instance)
	}
	if mod != nil {
		mod(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if sink != nil {
		if err := s.Start(sink); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		select {
		case <-time.After(2 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatalf("%s: test ended", what)
		}
	}
}

// ready waits until the store's stream reader has read the stream once
// (its position is decided) and its subscriber is subscribed, so what is
// published next reaches them.
func ready(t testing.TB, s *Store) {
	t.Helper()
	eventually(t, "reader started", func() bool { _, ok := s.position(); return ok && s.subscribed.Load() })
}

func TestTwoInstances(t *testing.T) {
	tests := []struct {
		name    string
		cluster bool
	}{
		{name: "server"},
		{name: "cluster", cluster: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.StartWith(t, redistest.Config{Cluster: tt.cluster})
			twoInstances(t, srv, func(o *Options) { o.Cluster = tt.cluster })
		})
	}
}

// twoInstances is what instances a and b on srv tell each other.
func twoInstances(t *testing.T, srv *redistest.Server, mod func(*Options)) {
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, mod)
	b := open(t, srv, "b", kb, mod)
	ready(t, a)
	ready(t, b)

	// Profiles: written behind by A, read by B, invalidated on B only.
	ka.set("v1", "hello")
	a.Changed("v1")
	if _, _, found, err := b.Profile("v1", nil); err != nil || found {
		t.Fatalf("B Profile before the flush: found %v, err %v, want none", found, err)
	}
	a.tick()
	eventually(t, "B invalidated v1", func() bool { inv, _, _ := kb.snapshot(); return slices.Contains(inv, "v1") })
	got, _, found, err := b.Profile("v1", []byte("x:"))
	if err != nil || !found || string(got) != "x:hello" {
		t.Fatalf("B Profile: got %q, %v, %v, want x:hello", got, found, err)
	}
	// A copy read after a write is not invalidated by word of that write,
	// however late it comes.
	if n := b.Stats().Invalidations; n != 1 {
		t.Errorf("B counts %d invalidations, want 1", n)
	}
	ka.set("v1", "hello again")
	a.Changed("v1")
	a.tick()
	eventually(t, "B invalidated v1 again", func() bool { return b.Stats().Invalidations == 2 })
	// B writes v2: A receives that invalidation after any of its own.
	kb.set("v2", "world")
	b.Changed("v2")
	b.tick()
	eventually(t, "A invalidated v2", func() bool { inv, _, _ := ka.snapshot(); return slices.Contains(inv, "v2") })
	if inv, _, _ := ka.snapshot(); slices.Contains(inv, "v1") {
		t.Errorf("A got an invalidation of its own write: %q", inv)
	}
	if inv, _, _ := kb.snapshot(); slices.Contains(inv, "v2") {
		t.Errorf("B got an invalidation of its own write: %q", inv)
	}

	// Changes: A's reach B exactly; B's reach A; nobody applies its own.
	a.Publish([]byte("c1"))
	a.Publish([]byte{0, 1, 2, 0xff})
	a.Publish(nil)
	a.tick()
	want := []string{"c1", "\x00\x01\x02\xff", ""}
	eventually(t, "B applied A's changes", func() bool { _, ap, _ := kb.snapshot(); return len(ap) >= 3 })
	if _, ap, _ := kb.snapshot(); !slices.Equal(ap, want) {
		t.Errorf("B applied %q, want %q", ap, want)
	}
	b.Publish([]byte("b1"))
	b.tick()
	eventually(t, "A applied B's change", func() bool { _, ap, _ := ka.snapshot(); return len(ap) >= 1 })
	if _, ap, _ := ka.snapshot(); !slices.Equal(ap, []string{"b1"}) {
		t.Errorf("A applied %q, want [b1]", ap)
	}
	if _, ap, _ := kb.snapshot(); !slices.Equal(ap, want) {
		t.Errorf("B applied %q after its own publish, want %q", ap, want)
	}

	// Counters: summed over both, pending included.
	a.Add("exp", "x", 1)
	b.Add("exp", "x", 2)
	b.Add("exp", "y", 0.5)
	ctx := t.Context()
	if tot, shared, err := a.Totals(ctx, "exp"); err != nil || !shared || tot["x"] != 1 {
		t.Errorf("A Totals before the flush: got %v, %v, %v, want x:1 (pending)", tot, shared, err)
	}
	a.tick()
	b.tick()
	for name, s := range map[string]*Store{"A": a, "B": b} {
		tot, _, err := s.Totals(ctx, "exp")
		if err != nil || tot["x"] != 3 || tot["y"] != 0.5 || len(tot) != 2 {
			t.Errorf("%s Totals: got %v, %v, want x:3 y:0.5", name, tot, err)
		}
	}

	// Forget: gone for B, B told.
	if err := a.Forget(ctx, "v1"); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if _, _, found, err := b.Profile("v1", nil); err != nil || found {
		t.Errorf("B Profile after Forget: found %v, err %v, want none", found, err)
	}
	eventually(t, "B invalidated v1 once more", func() bool {
		inv, _, _ := kb.snapshot()
		n := 0
		for _, id := range inv {
			if id == "v1" {
				n++
			}
		}
		return n == 3
	})
	st := a.Stats()
	if st.ProfileWrites != 2 || st.BatchesWritten != 1 || st.CounterFlushes != 1 {
		t.Errorf("A Stats: %+v, want 2 profile writes, 1 batch, 1 counter flush", st)
	}
	if st := b.Stats(); st.ReadsFound != 1 || st.ReadsMissing != 2 || st.ChangesApplied != 3 || st.BatchesRead != 1 {
		t.Errorf("B Stats: %+v, want 1 found, 2 missing, 3 applied, 1 batch read", st)
	}
}

// Two instances change one visitor: the first write stands. The other
// hears of it and drops its older copy; its own write of that copy, had it
// gone out first, conflicts and is dropped too; read again, its next write
// goes over the first.
func TestConflictFirstWriteStands(t *testing.T) {
	srv := redistest.Start(t)
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, nil)
	b := open(t, srv, "b", kb, nil)
	ready(t, a)
	ka.set("v", "from a")
	kb.set("v", "from b")
	a.Changed("v")
	b.Changed("v")
	b.tick()
	bGen := kb.gen("v")
	if bGen == 0 {
		t.Errorf("B's copy after its write: generation %d, want the one written", bGen)
	}
	eventually(t, "A dropped its copy of v", func() bool {
		ka.mu.Lock()
		defer ka.mu.Unlock()
		return slices.Contains(ka.dropped, "v")
	})
	// A's write (the test sink keeps the bytes, as a request still
	// holding the profile would) goes over a copy older than B's: it
	// conflicts, and B's stands.
	a.tick()
	if got, _, _, _ := b.Profile("v", nil); string(got) != "from b" {
		t.Errorf("Profile v: got %q, want the first write, from b", got)
	}
	if n := a.Stats().Conflicts; n != 1 {
		t.Errorf("A counts %d conflicts, want 1", n)
	}
	// Read again, A's next write goes over B's.
	got, g, _, _ := a.Profile("v", nil)
	if string(got) != "from b" || g != bGen {
		t.Fatalf("A reads v: %q, generation %d", got, g)
	}
	ka.setGen("v", g)
	ka.set("v", "from a, after b")
	a.Changed("v")
	a.tick()
	if got, g2, _, _ := b.Profile("v", nil); string(got) != "from a, after b" || g2 <= g {
		t.Errorf("Profile v after A read it: got %q, generation %d", got, g)
	}
}

func TestExactlyOnce(t *testing.T) {
	srv := redistest.Start(t)
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, nil)
	b := open(t, srv, "b", kb, nil)
	ready(t, b)
	ctx := t.Context()

	t.Run("counters", func(t *testing.T) {
		cb := &counterBatch{key: "k", seq: 42, fields: []string{"f", "g"}, deltas: []float64{1.5, -2}}
		for i := range 2 {
			acked, err := a.sendCounters(ctx, []*counterBatch{cb})
			if err != nil || !acked[cb] {
				t.Fatalf("send %d: acked %v, err %v", i, acked[cb], err)
			}
		}
		tot, _, err := b.Totals(ctx, "k")
		if err != nil || tot["f"] != 1.5 || tot["g"] != -2 {
			t.Errorf("Totals: got %v, %v, want f:1.5 g:-2 (once)", tot, err)
		}
		if st := a.Stats(); st.CounterFlushes != 1 || st.CounterDuplicates != 1 {
			t.Errorf("Stats: %d flushes, %d duplicates, want 1 and 1", st.CounterFlushes, st.CounterDuplicates)
		}
	})

	t.Run("counters after the script is flushed", func(t *testing.T) {
		if err := a.rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		a.Add("k", "f", 1)
		a.tick()
		tot, _, err := b.Totals(ctx, "k")
		if err != nil || tot["f"] != 2.5 {
			t.Errorf("Totals: got %v, %v, want f:2.5", tot, err)
		}
	})

	t.Run("changes", func(t *testing.T) {
		bt := &batch{seq: a.seq.Add(1), blob: appendUvarint(nil, 4), n: 1}
		bt.blob = append(bt.blob, "once"...)
		for i := range 2 {
			if err := a.writeBatch(ctx, bt); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		a.Publish([]byte("next"))
		a.tick()
		eventually(t, "B applied next", func() bool { _, ap, _ := kb.snapshot(); return slices.Contains(ap, "next") })
		if _, ap, _ := kb.snapshot(); !slices.Equal(ap, []string{"once", "next"}) {
			t.Errorf("B applied %q, want [once next]", ap)
		}
		if st := b.Stats(); st.BatchesDuplicate != 1 {
			t.Errorf("B duplicates: got %d, want 1", st.BatchesDuplicate)
		}
	})
}

func TestRedisDown(t *testing.T) {
	tests := []struct {
		name   string
		cfg    redistest.Config
		wantX  float64 // the counter after recovery
		reason string
	}{
		{name: "restarted empty", wantX: 2, reason: "the server lost the first increment; the queued one is there"},
		{name: "append only", cfg: redistest.Config{AppendOnly: true}, wantX: 3, reason: "both increments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			redisDown(t, redistest.StartWith(t, tt.cfg), tt.wantX, tt.reason)
		})
	}
}

// redisDown stops srv under two stores and starts it again.
func redisDown(t *testing.T, srv *redistest.Server, wantX float64, reason string) {
	ka, kb := newSink(), newSink()
	fast := func(o *Options) {
		o.FlushInterval, o.Timeout, o.Budget = 10*time.Millisecond, 200*time.Millisecond, DefaultBudget
	}
	a := open(t, srv, "a", ka, fast)
	b := open(t, srv, "b", kb, fast)
	ready(t, a)
	ready(t, b)
	a.Add("exp", "x", 1)
	eventually(t, "first counter flush", func() bool { return a.Stats().CounterFlushes == 1 })

	srv.Stop()
	const bound = 50 * time.Millisecond
	for i := range 20 {
		start := time.Now()
		_, _, found, err := a.Profile("v", nil)
		if d := time.Since(start); d > bound {
			t.Errorf("Profile %d with redis down took %v, want under %v", i, d, bound)
		}
		if err == nil || found {
			t.Errorf("Profile %d with redis down: found %v, err %v, want an error", i, found, err)
		}
	}
	eventually(t, "A down", func() bool { return !a.Health().Up })
	if h := a.Health(); h.Err == "" || !h.Shared {
		t.Errorf("Health while down: %+v, want an error", h)
	}
	if _, _, _, err := a.Profile("v", nil); err != ErrDown {
		t.Errorf("Profile while down: got %v, want ErrDown", err)
	}
	ka.set("v", "kept")
	a.Changed("v")
	a.Publish([]byte("queued"))
	a.Add("exp", "x", 2)
	eventually(t, "A's flusher tried", func() bool { return a.Stats().BacklogBytes > 0 })

	srv.Restart()
	eventually(t, "A up", func() bool { return a.Health().Up })
	eventually(t, "B up", func() bool { return b.Health().Up })
	if h := a.Health(); h.Down <= 0 {
		t.Errorf("Health after recovery: Down %v, want > 0", h.Down)
	}
	eventually(t, "B reads A's profile", func() bool {
		v, _, found, _ := b.Profile("v", nil)
		return found && string(v) == "kept"
	})
	eventually(t, "B applied the queued change", func() bool { _, ap, _ := kb.snapshot(); return slices.Contains(ap, "queued") })
	eventually(t, "counters flushed", func() bool { return a.Stats().CounterFlushes == 2 })
	if tot, _, err := b.Totals(t.Context(), "exp"); err != nil || tot["x"] != wantX {
		t.Errorf("Totals after recovery: got %v, %v, want x:%v (%s)", tot, err, wantX, reason)
	}
	// The subscription came back: B's writes invalidate A's copy again.
	// (B writes again until then: what is published before A has
	// subscribed again is not seen.)
	kb.set("w", "after")
	eventually(t, "A invalidated w", func() bool {
		b.Changed("w")
		inv, _, _ := ka.snapshot()
		return slices.Contains(inv, "w")
	})
	if st := a.Stats(); st.BacklogBytes != 0 || st.Dirty != 0 || st.ReadsSkipped == 0 {
		t.Errorf("A Stats after recovery: %+v, want an empty backlog and skipped reads", st)
	}
}

func TestStartReadsState(t *testing.T) {
	srv := redistest.Start(t)
	ka := newSink()
	ka.state = "STATE-A"
	a := open(t, srv, "a", ka, nil)
	ready(t, a)
	a.Publish([]byte("before"))
	a.tick()
	eventually(t, "A read its own batch", func() bool { p, _ := a.position(); return p != "0" })
	var buf bytes.Buffer
	if err := a.saveState(&buf); err != nil {
		t.Fatalf("saveState: %v", err)
	}
	a.Publish([]byte("after"))
	a.tick()

	kc := newSink()
	c := open(t, srv, "c", kc, nil)
	if _, _, read := kc.snapshot(); !slices.Equal(read, []string{"STATE-A"}) {
		t.Fatalf("C ReadState at Start: got %q, want [STATE-A]", read)
	}
	eventually(t, "C applied after", func() bool { _, ap, _ := kc.snapshot(); return len(ap) > 0 })
	// One more batch read proves the reader went past "after" alone.
	a.Publish([]byte("last"))
	a.tick()
	eventually(t, "C applied last", func() bool { _, ap, _ := kc.snapshot(); return slices.Contains(ap, "last") })
	if _, ap, _ := kc.snapshot(); !slices.Equal(ap, []string{"after", "last"}) {
		t.Errorf("C applied %q, want [after last]", ap)
	}
	if st := c.Stats(); st.StateReads != 1 {
		t.Errorf("C StateReads: got %d, want 1", st.StateReads)
	}
	// Only one instance saves per interval: the lock is A's.
	if err := c.saveState(&buf); err != nil || c.Stats().StateWrites != 0 {
		t.Errorf("C saved the state under A's lock: %v, %d writes", err, c.Stats().StateWrites)
	}
}

func TestStartWithoutState(t *testing.T) {
	srv := redistest.Start(t)
	ka := newSink()
	a := open(t, srv, "a", ka, nil)
	a.Publish([]byte("one"))
	a.tick()
	kc := newSink()
	c := open(t, srv, "c", kc, nil)
	eventually(t, "C read the whole stream", func() bool { _, ap, _ := kc.snapshot(); return slices.Equal(ap, []string{"one"}) })
	if _, _, read := kc.snapshot(); len(read) != 0 {
		t.Errorf("C ReadState: got %q, want none", read)
	}
	_ = c
}

// A Redis started again empty (or another server) has a stream that ends
// before the reader's position: the reader starts again from 0.
func TestRestartedEmpty(t *testing.T) {
	srv := redistest.Start(t)
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, nil)
	b := open(t, srv, "b", kb, nil)
	ready(t, b)
	// An entry from a clock ahead: the position moves past any id the
	// restarted server gives.
	blob := append(appendUvarint(nil, 6), "future"...)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	if err := raw.XAdd(t.Context(), &redis.XAddArgs{Stream: "test:{changes}", ID: "99999999999999-0",
		Values: []any{"o", "x", "s", 1, "b", blob}}).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B applied future", func() bool { _, ap, _ := kb.snapshot(); return slices.Contains(ap, "future") })

	srv.Restart()
	a.Publish([]byte("now"))
	eventually(t, "A wrote now", func() bool { a.tick(); return a.Stats().BatchesWritten == 1 })
	eventually(t, "B applied now", func() bool { _, ap, _ := kb.snapshot(); return slices.Contains(ap, "now") })
	if st := b.Stats(); st.StreamResets == 0 {
		t.Errorf("B StreamResets: got 0, want the reader started again")
	}
}

func TestBacklogDropsOldest(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "a", nil, func(o *Options) { o.Backlog = 3 * (maxBatch + 8) })
	big := make([]byte, maxBatch)
	for range 5 {
		a.Publish(big)
	}
	st := a.Stats()
	if st.BatchesDropped != 2 || st.ChangesDropped != 2 || st.BacklogBytes > 3*maxBatch+16 {
		t.Errorf("Stats: %d batches and %d changes dropped, %d bytes queued; want 2, 2, at most 3 batches",
			st.BatchesDropped, st.ChangesDropped, st.BacklogBytes)
	}
}

func TestChangedBounded(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "a", nil, func(o *Options) { o.MaxDirty = 2 })
	for _, id := range []string{"a", "b", "a", "c"} {
		a.Changed(id)
	}
	if st := a.Stats(); st.Dirty != 2 || st.ProfilesDropped != 1 {
		t.Errorf("Stats: %d dirty, %d dropped, want 2 and 1", st.Dirty, st.ProfilesDropped)
	}
}

// failSink refuses changes starting with "bad".
type failSink struct{ *testSink }

func (f failSink) Apply(c []byte) error {
	if bytes.HasPrefix(c, []byte("bad")) {
		return io.ErrUnexpectedEOF
	}
	return f.testSink.Apply(c)
}

func TestApplyErrorCountedAndSkipped(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "a", newSink(), nil)
	kb := newSink()
	b, err := Open(Options{URL: srv.URL(), Prefix: "test:", Instance: "b", FlushInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(t.Context())
	if err := b.Start(failSink{kb}); err != nil {
		t.Fatal(err)
	}
	a.Publish([]byte("bad one"))
	a.Publish([]byte("good"))
	a.tick()
	eventually(t, "B applied good", func() bool { _, ap, _ := kb.snapshot(); return slices.Contains(ap, "good") })
	if st := b.Stats(); st.ChangesFailed != 1 || st.ChangesApplied != 1 {
		t.Errorf("B Stats: %d failed, %d applied, want 1 and 1", st.ChangesFailed, st.ChangesApplied)
	}
}

func TestCloseWritesQueued(t *testing.T) {
	srv := redistest.Start(t)
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, nil)
	b := open(t, srv, "b", kb, nil)
	ka.set("v", "last")
	a.Changed("v")
	a.Publish([]byte("bye"))
	a.Add("k", "f", 7)
	if err := a.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if v, _, found, err := b.Profile("v", nil); err != nil || !found || string(v) != "last" {
		t.Errorf("B Profile after A's Close: got %q, %v, %v", v, found, err)
	}
	eventually(t, "B applied bye", func() bool { _, ap, _ := kb.snapshot(); return slices.Contains(ap, "bye") })
	if tot, _, err := b.Totals(t.Context(), "k"); err != nil || tot["f"] != 7 {
		t.Errorf("B Totals after A's Close: got %v, %v, want f:7", tot, err)
	}
}

// A Redis slower than the budget fails the read within about the budget
// and leaves the store up: only background work marks it down.
func TestSlowRedis(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "a", newSink(), func(o *Options) { o.Budget = DefaultBudget })
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	if err := raw.Do(t.Context(), "CLIENT", "PAUSE", "300", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	const bound = 50 * time.Millisecond
	start := time.Now()
	_, _, found, err := a.Profile("v", nil)
	if d := time.Since(start); d > bound {
		t.Errorf("Profile with redis paused took %v, want under %v", d, bound)
	}
	if err == nil || found || !isTimeout(err) {
		t.Errorf("Profile with redis paused: found %v, err %v, want a timeout", found, err)
	}
	if !a.Health().Up {
		t.Error("Health: down after one slow read, want up")
	}
}

func TestStateSavedEveryInterval(t *testing.T) {
	srv := redistest.Start(t)
	ka := newSink()
	ka.state = "periodic"
	a := open(t, srv, "a", ka, func(o *Options) { o.StateInterval = 20 * time.Millisecond })
	eventually(t, "A saved the state", func() bool { return a.Stats().StateWrites >= 1 })
	kc := newSink()
	open(t, srv, "c", kc, nil)
	if _, _, read := kc.snapshot(); !slices.Equal(read, []string{"periodic"}) {
		t.Errorf("C ReadState: got %q, want [periodic]", read)
	}
	if st := a.Stats(); st.Errors != 0 {
		t.Errorf("A errors: %d, want none (state save and stream trim)", st.Errors)
	}
}

// An erased profile stays erased: a copy read before the erasure, written
// afterwards by an instance that did not hear of it, conflicts with the
// tombstone; a profile begun afresh is written over it.
func TestForgetTombstone(t *testing.T) {
	srv := redistest.Start(t)
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, nil)
	b := open(t, srv, "b", kb, nil)
	ready(t, a)
	ready(t, b)
	ka.set("v", "before")
	a.Changed("v")
	a.tick()
	told := func() int {
		inv, _, _ := kb.snapshot()
		return len(slices.DeleteFunc(slices.Clone(inv), func(id string) bool { return id != "v" }))
	}
	eventually(t, "B told of the write", func() bool { return told() == 1 })
	if got, _, _, _ := b.Profile("v", nil); string(got) != "before" {
		t.Fatalf("B reads %q", got)
	}
	if err := a.Forget(t.Context(), "v"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B told of the erasure", func() bool { return told() == 2 })
	// B, as if it had not heard: its copy of before, written now.
	kb.setGen("v", 1)
	kb.set("v", "stale")
	b.Changed("v")
	b.tick()
	if got, _, found, _ := a.Profile("v", nil); found {
		t.Errorf("after the erasure a stale copy came back: %q", got)
	}
	if n := b.Stats().Conflicts; n != 1 {
		t.Errorf("B counts %d conflicts, want 1", n)
	}
	// Afresh: the visitor browses on, and their new profile, begun here
	// over the tombstone (it takes the tombstone's generation, as the
	// proxy's read through does), is written over it.
	_, tomb, found, err := a.Profile("v", nil)
	if found || err != nil || tomb < 2 {
		t.Fatalf("the tombstone reads as found %v, generation %d, %v; want none, generation 2 or more", found, tomb, err)
	}
	ka.setGen("v", tomb)
	ka.set("v", "afresh")
	a.Changed("v")
	a.tick()
	if got, _, _, _ := b.Profile("v", nil); string(got) != "afresh" {
		t.Errorf("a profile begun after the erasure: B reads %q", got)
	}
}

// A write whose reply was lost, sent again with the changes since, goes
// over this instance's own write: no conflict, and the changes stay.
func TestWriteAfterLostReply(t *testing.T) {
	srv := redistest.Start(t)
	ka := newSink()
	a := open(t, srv, "a", ka, nil)
	ready(t, a)
	ka.set("v", "one")
	a.Changed("v")
	a.tick()
	first := ka.gen("v")
	// As if the reply had been lost: the copy here still says 0.
	ka.setGen("v", 0)
	ka.set("v", "two")
	a.Changed("v")
	a.tick()
	got, g, _, _ := a.Profile("v", nil)
	if string(got) != "two" || g <= first {
		t.Errorf("stored: %q, generation %d; want two, above %d", got, g, first)
	}
	if n := a.Stats().Conflicts; n != 0 {
		t.Errorf("%d conflicts with its own write", n)
	}
	if mine := ka.gen("v"); mine != g {
		t.Errorf("the copy here: generation %d, want the stored %d", mine, g)
	}
}

// A Redis that comes back without its data: the profiles held here stay,
// and their next writes go where none is; one that kept its data: the
// copies held are dropped to be read again (Sink.Stale).
func TestBackWithoutData(t *testing.T) {
	for _, tt := range []struct {
		name       string
		appendOnly bool
	}{{"empty", false}, {"persisted", true}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.StartWith(t, redistest.Config{AppendOnly: tt.appendOnly})
			ka := newSink()
			a := open(t, srv, "a", ka, nil)
			ready(t, a)
			ka.set("v", "held")
			a.Changed("v")
			a.tick()
			srv.Stop()
			a.tick() // finds it down
			srv.Restart()
			eventually(t, "A back", func() bool { a.tick(); return a.Health().Up && a.Stats().Resyncs == 1 })
			ka.mu.Lock()
			stale := len(ka.stale)
			ka.mu.Unlock()
			if tt.appendOnly {
				if stale != 1 {
					t.Errorf("%d made stale; want the one held", stale)
				}
				return
			}
			if stale != 0 {
				t.Errorf("%d made stale after an empty restart; want none (no copy is anywhere else)", stale)
			}
			ka.set("v", "held, then changed")
			a.Changed("v") // the visitor's next request
			a.tick()
			if got, g, found, err := a.Profile("v", nil); string(got) != "held, then changed" || g == 0 || !found || err != nil {
				t.Errorf("after the empty restart Redis holds %q (generation %d, %v, %v), want the held profile", got, g, found, err)
			}
			if n := a.Stats().Conflicts; n != 0 {
				t.Errorf("%d conflicts writing where nothing is", n)
			}
		})
	}
}

// After Redis lost a profile's key, an erasure still erases: its
// tombstone is above every copy's generation, and a copy read before does
// not write over it. And a copy from before the loss does not write over
// what another instance wrote after it: generations are not reused.
func TestGenerationsAfterLoss(t *testing.T) {
	srv := redistest.Start(t)
	ka, kb := newSink(), newSink()
	a := open(t, srv, "a", ka, nil)
	b := open(t, srv, "b", kb, nil)
	ready(t, a)
	ready(t, b)
	ka.set("v", "before")
	a.Changed("v")
	a.tick()
	held := ka.gen("v")
	if err := a.rdb.Del(t.Context(), a.profileKey("v")).Err(); err != nil { // lost
		t.Fatal(err)
	}
	if err := b.Forget(t.Context(), "v"); err != nil {
		t.Fatal(err)
	}
	ka.setGen("v", held) // as if A had not heard
	ka.set("v", "stale")
	a.Changed("v")
	a.tick()
	if got, _, found, _ := b.Profile("v", nil); found {
		t.Errorf("an erasure after the key was lost is undone: %q", got)
	}

	ka.set("w", "from a")
	a.Changed("w")
	a.tick()
	aGen := ka.gen("w")
	if err := a.rdb.FlushDB(t.Context()).Err(); err != nil { // Redis lost everything
		t.Fatal(err)
	}
	kb.set("w", "from b, after the loss")
	b.Changed("w")
	b.tick()
	ka.set("w", "from a, stale")
	a.Changed("w")
	a.tick()
	if got, g, _, _ := b.Profile("w", nil); string(got) != "from b, after the loss" || g <= aGen {
		t.Errorf("after the loss: stored %q, generation %d (A's copy was %d); want B's, above A's", got, g, aGen)
	}
	if n := a.Stats().Conflicts; n != 2 {
		t.Errorf("A counts %d conflicts, want 2 (the tombstone, B's write)", n)
	}
}
