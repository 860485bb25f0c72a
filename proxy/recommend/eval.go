package recommend

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"shopedge/proxy/catalog"
)

// EvalOptions tune an offline evaluation.
type EvalOptions struct {
	// Engine configures the engine trained on the clickstream.
	Engine Config
	// TestShare is the share of the time span whose starting sessions are
	// test sessions, when no test file is given. Default: 0.1.
	TestShare float64
	// Strategies, when not empty, limits the evaluation to these (by
	// their names in EvalResult).
	Strategies []string
}

// EvalResult is one strategy's accuracy at predicting the next product of
// test sessions.
type EvalResult struct {
	Strategy    string  `json:"strategy"`
	Predictions int     `json:"predictions"`
	HR10        float64 `json:"hr10"`
	MRR10       float64 `json:"mrr10"`
	HR20        float64 `json:"hr20"`
	MRR20       float64 `json:"mrr20"`
	Coverage    float64 `json:"coverage"`
	USPerPred   float64 `json:"us_per_prediction"` // mean
	USP50       float64 `json:"us_p50"`            // median
	// Params are the parameters the strategy ran with, for those that
	// have some (session, sknn baseline).
	Params string `json:"params,omitempty"`
}

// EvalStats describe the data an evaluation used.
type EvalStats struct {
	TrainEvents, TrainSessions, TestSessions, TestEvents, Items int
}

// clickEvent is one line of a clickstream.
type clickEvent struct {
	session string
	at      int64 // unix seconds
	// t is the timestamp as written (an integer as it is, RFC 3339 as
	// unix seconds with their fraction): the split and the order of a
	// test session's events use it, as reference.py does.
	t    float64
	kind Kind
	item ID
	cat  ID
}

// readClicks streams a clickstream CSV (session_id, timestamp, event,
// item_id, category_id, with that header), calling f for every event.
func readClicks(r io.Reader, name string, f func(clickEvent) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 5
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: read header: %w", name, err)
	}
	want := []string{"session_id", "timestamp", "event", "item_id", "category_id"}
	for i, h := range head {
		if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) != want[i] {
			return fmt.Errorf("%s:1: header is %q, want %q", name, strings.Join(head, ","), strings.Join(want, ","))
		}
	}
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line++
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		ev, err := parseClick(rec)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if err := f(ev); err != nil {
			return err
		}
	}
}

func parseClick(rec []string) (clickEvent, error) {
	ev := clickEvent{session: rec[0]}
	if ev.session == "" {
		return ev, errors.New("empty session_id")
	}
	ts := strings.TrimSpace(rec[1])
	if n, err := strconv.ParseInt(ts, 10, 64); err == nil {
		ev.t = float64(n)
		if n > 1e12 { // milliseconds, as some datasets write them
			n /= 1000
		}
		ev.at = n
	} else if t, err := time.Parse(time.RFC3339, ts); err == nil {
		ev.at = t.Unix()
		ev.t = float64(t.UnixNano()) / 1e9
	} else {
		return ev, fmt.Errorf("timestamp %q is neither unix seconds nor RFC 3339", ts)
	}
	switch strings.TrimSpace(rec[2]) {
	case "view":
		ev.kind = View
	case "cart":
		ev.kind = Cart
	case "purchase":
		ev.kind = Purchase
	default:
		return ev, fmt.Errorf("event %q is not view, cart or purchase", rec[2])
	}
	item := strings.TrimSpace(rec[3])
	if item == "" {
		return ev, errors.New("empty item_id")
	}
	ev.item = catalog.KeyOf(item)
	if c := strings.TrimSpace(rec[4]); c != "" {
		ev.cat = catalog.KeyOf("category:" + c)
	}
	return ev, nil
}

// sessionParams describes the session strategy's parameters.
func (c Config) sessionParams() string {
	f := func(v float64) string {
		if v <= 0 {
			return "off"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	recency := f(c.RecencyDecay)
	if c.RecencyDecay <= 0 {
		recency = "linear"
	}
	td := "off"
	if c.TimeDecay > 0 {
		td = fmt.Sprintf("%gd", c.TimeDecay.Hours()/24)
	}
	return fmt.Sprintf("K %d, sample %d, recency decay %s, time decay %s, position decay %s, insert decay %s, IDF %s, remind %s, remind repeat %s, blend %s",
		c.K, c.Sample, recency, td, f(c.PositionDecay), f(c.InsertDecay), f(c.IDF), f(c.Remind), f(c.RemindRepeat), f(c.Blend))
}

// testSessions returns the sessions that start (first is each one's
// first timestamp, as written) in the last share of the time span
// [lo, hi]: those whose first event is at or after
// cut = hi - (hi - lo)·share, computed in float64 as reference.py does
// (receval.split), the timestamps unrounded.
func testSessions(first map[string]float64, lo, hi, share float64) map[string]bool {
	cut := hi - (hi-lo)*share
	out := map[string]bool{}
	for s, t := range first {
		if t >= cut {
			out[s] = true
		}
	}
	return out
}

// evalCatalog knows the products seen in training: all in stock.
type evalCatalog map[ID]ID // item -> category

func (c evalCatalog) Product(id ID) (Product, bool) {
	cat, ok := c[id]
	if !ok {
		return Product{}, false
	}
	p := Product{InStock: true}
	if cat != 0 {
		p.Categories = []ID{cat}
	}
	return p, true
}

// Evaluate trains an engine on a clickstream and measures, for every
// prefix of every test session, how well each strategy predicts the next
// product. Without test, sessions starting in the last TestShare of the
// time span are the test sessions; events must then be seekable, as it is
// read twice. Test products unknown to training are dropped, and test
// sessions left with fewer than two events are skipped.
func Evaluate(events io.ReadSeeker, eventsName string, test io.Reader, testName string, o EvalOptions) ([]EvalResult, EvalStats, error) {
	if o.TestShare <= 0 {
		o.TestShare = 0.1
	}
	var st EvalStats
	isTest := map[string]bool{}
	if test == nil {
		// First pass: the time span and when each session starts.
		first := map[string]float64{}
		lo, hi := math.Inf(1), math.Inf(-1)
		err := readClicks(events, eventsName, func(ev clickEvent) error {
			lo, hi = min(lo, ev.t), max(hi, ev.t)
			if t, ok := first[ev.session]; !ok || ev.t < t {
				first[ev.session] = ev.t
			}
			return nil
		})
		if err != nil {
			return nil, st, err
		}
		isTest = testSessions(first, lo, hi, o.TestShare)
		if _, err := events.Seek(0, io.SeekStart); err != nil {
			return nil, st, fmt.Errorf("%s: %w", eventsName, err)
		}
	}

	// Training: replay through the engine, as the proxy feeds it.
	e := New(o.Engine)
	known := evalCatalog{}
	counts := map[ID]int{}
	var trainEnd int64
	trainSessions := map[string]bool{}
	testEvents := map[string][]clickEvent{}
	err := readClicks(events, eventsName, func(ev clickEvent) error {
		if isTest[ev.session] {
			testEvents[ev.session] = append(testEvents[ev.session], ev)
			return nil
		}
		var cats []ID
		if ev.cat != 0 {
			cats = []ID{ev.cat}
		}
		e.Record(Event{Session: xxhash.Sum64String(ev.session), Item: ev.item, Categories: cats, Kind: ev.kind, Time: time.Unix(ev.at, 0)})
		if c, ok := known[ev.item]; !ok || c == 0 {
			known[ev.item] = ev.cat
		}
		counts[ev.item]++
		trainEnd = max(trainEnd, ev.at)
		trainSessions[ev.session] = true
		st.TrainEvents++
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	if test != nil {
		if err := readClicks(test, testName, func(ev clickEvent) error {
			testEvents[ev.session] = append(testEvents[ev.session], ev)
			return nil
		}); err != nil {
			return nil, st, err
		}
	}
	st.TrainSessions, st.Items = len(trainSessions), len(known)

	// Test sessions, in order of their start, items known to training.
	type testSession struct {
		start float64
		items []ID
	}
	var sessions []testSession
	for _, evs := range testEvents {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
		var items []ID
		for _, ev := range evs {
			if _, ok := known[ev.item]; ok {
				items = append(items, ev.item)
			}
		}
		if len(items) >= 2 {
			sessions = append(sessions, testSession{evs[0].t, items})
			st.TestEvents += len(items)
		}
	}
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].start < sessions[j].start })
	st.TestSessions = len(sessions)

	// The baseline: most products by training events, not decayed.
	var base []Scored
	for id, n := range counts {
		base = append(base, Scored{id, float64(n)})
	}
	sort.Slice(base, func(i, j int) bool {
		if base[i].Score != base[j].Score {
			return base[i].Score > base[j].Score
		}
		return base[i].ID < base[j].ID
	})
	if len(base) > 20 {
		base = base[:20]
	}

	type candidateFunc func(ctx Context) []Scored
	strategies := []struct {
		name string
		f    candidateFunc
	}{
		{"popularity baseline", func(Context) []Scored { return base }},
		{"sknn baseline", func(ctx Context) []Scored {
			sc := &scratch{scores: map[ID]float64{}}
			e.mu.RLock()
			// As receval.py's SKNN: k 100 of the 500 most recent.
			e.sessionKNN(sc, ctx.Views, 0, Uniform, 100, 500, 0)
			e.mu.RUnlock()
			for id, v := range sc.scores {
				sc.out = append(sc.out, Scored{id, v})
			}
			return best(sc.out, 20)
		}},
	}
	for _, s := range []Strategy{Session, AlsoViewed, AlsoBought, RecentlyViewed, Popular, Trending} {
		strategies = append(strategies, struct {
			name string
			f    candidateFunc
		}{string(s), func(ctx Context) []Scored { return e.Candidates(s, ctx, known) }})
	}

	var results []EvalResult
	for _, strat := range strategies {
		if len(o.Strategies) > 0 && !slices.Contains(o.Strategies, strat.name) {
			continue
		}
		r := EvalResult{Strategy: strat.name}
		switch strat.name {
		case string(Session):
			r.Params = e.cfg.sessionParams()
		case "sknn baseline":
			r.Params = "K 100, sample 500, uniform weights, cosine"
		}
		shown := map[ID]bool{}
		var spent time.Duration
		took := make([]time.Duration, 0, 1024)
		for _, ts := range sessions {
			for k := 1; k < len(ts.items); k++ {
				prefix := ts.items[:k]
				recent := slices.Clone(prefix)
				slices.Reverse(recent)
				// The model is the one training left: its clock stops there.
				ctx := Context{Now: time.Unix(trainEnd, 0), Views: prefix, Recent: recent}
				t := time.Now()
				cands := strat.f(ctx)
				d := time.Since(t)
				spent += d
				took = append(took, d)
				if len(cands) > 20 {
					cands = cands[:20]
				}
				for _, c := range cands {
					shown[c.ID] = true
				}
				r.Predictions++
				target := ts.items[k]
				for rank, c := range cands {
					if c.ID != target {
						continue
					}
					if rank < 10 {
						r.HR10++
						r.MRR10 += 1 / float64(rank+1)
					}
					r.HR20++
					r.MRR20 += 1 / float64(rank+1)
					break
				}
			}
		}
		if r.Predictions > 0 {
			n := float64(r.Predictions)
			r.HR10, r.MRR10, r.HR20, r.MRR20 = r.HR10/n, r.MRR10/n, r.HR20/n, r.MRR20/n
			r.USPerPred = float64(spent.Microseconds()) / n
			slices.Sort(took)
			r.USP50 = float64(took[len(took)/2].Nanoseconds()) / 1e3
		}
		if len(known) > 0 {
			r.Coverage = float64(len(shown)) / float64(len(known))
		}
		results = append(results, r)
	}
	return results, st, nil
}
