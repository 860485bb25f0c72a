package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

var targets = []string{"shop", "plain", "shopedge-pass", "shopedge", "shopedge-redis"}

// abTarget is a second shopedge binary (-shopedge-b) with the demo rules,
// measured beside "shopedge" (binary A) in the same rounds: an A/B of two
// builds, where two separate runs differ by more than a change does.
const abTarget = "shopedge-b"

var targetNames = map[string]string{
	"shop":           "shop (direct)",
	"plain":          "plain fasthttp proxy",
	"shopedge-pass":  "shopedge, no rules",
	"shopedge":       "shopedge, demo rules",
	"shopedge-redis": "shopedge, demo rules, Redis store",
	abTarget:         "shopedge B (-shopedge-b), demo rules",
	"redis-server":   "redis-server (of shopedge-redis)",
}

// caseKey names one cell of the matrix.
type caseKey struct {
	Target string `json:"target"`
	Pages  string `json:"pages"` // demo (~25-40 KB) or large (~400 KB product pages)
	Gzip   bool   `json:"gzip"`
}

func (k caseKey) String() string {
	c := "identity"
	if k.Gzip {
		c = "gzip"
	}
	return fmt.Sprintf("%s / %s pages / %s", targetNames[k.Target], k.Pages, c)
}

// measurement is one run of the load generator.
type measurement struct {
	caseKey
	Phase     string    `json:"phase"`
	Round     int       `json:"round"`
	Result    genResult `json:"result"`
	ServerCPU float64   `json:"server_cpu_s"`          // the server under test
	ShopCPU   float64   `json:"shop_cpu_s"`            // the shop behind a proxy
	RedisCPU  float64   `json:"redis_cpu_s,omitempty"` // redis-server, for shopedge-redis
	// AddedP50 and AddedP99 are from shopedge's own histogram of the time
	// it adds (waiting for the shop excluded), in µs.
	AddedP50 float64 `json:"shopedge_added_p50_us,omitempty"`
	AddedP99 float64 `json:"shopedge_added_p99_us,omitempty"`
}

// stat is a median with the smallest and largest of the rounds.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func statOf(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// summary is a case's figures over its rounds.
type summary struct {
	caseKey
	RPS          stat            `json:"rps"`
	VsPlain      float64         `json:"throughput_vs_plain"`
	ServerCPU1k  stat            `json:"server_cpu_s_per_1k"`
	ShopCPU1k    stat            `json:"shop_cpu_s_per_1k"`
	GenCPU1k     stat            `json:"loadgen_cpu_s_per_1k"`
	Latency      map[string]stat `json:"open_latency_us"`
	AddedP50     float64         `json:"added_p50_us"`
	AddedP99     float64         `json:"added_p99_us"`
	Errors       int64           `json:"errors"`
	OwnP50       stat            `json:"shopedge_added_p50_us"`
	OwnP99       stat            `json:"shopedge_added_p99_us"`
	OpenAchieved stat            `json:"open_rps"`
	BytesPerReq  float64         `json:"bytes_per_request"`
	RedisCPU1k   stat            `json:"redis_cpu_s_per_1k,omitempty"`
	// For shopedge-redis, against shopedge (in memory) on the same pages
	// and coding: throughput over its throughput, and the differences of
	// the added p99 (shopedge's own histogram) and of the client's p99, µs.
	VsMemory       float64 `json:"throughput_vs_in_memory,omitempty"`
	OwnP99VsMemory float64 `json:"shopedge_added_p99_minus_in_memory_us,omitempty"`
	P99VsMemory    float64 `json:"p99_minus_in_memory_us,omitempty"`
}

type check struct {
	What string `json:"what"`
	Want string `json:"want"`
	Got  string `json:"got"`
	OK   bool   `json:"ok"`
}

type report struct {
	When            time.Time           `json:"when"`
	Machine         string              `json:"machine"`
	Pinning         string              `json:"pinning"`
	Rounds          int                 `json:"rounds"`
	Duration        string              `json:"duration_per_run"`
	Rate            int                 `json:"open_rate"`
	RateLarge       int                 `json:"open_rate_large"`
	Workers         int                 `json:"closed_workers"`
	Runs            []measurement       `json:"runs"`
	Cases           []summary           `json:"cases"`
	PeakRSS         map[string]int64    `json:"peak_rss_bytes"`
	Memory          map[string]memStats `json:"shopedge_memory"`
	BytesPerProfile map[string]float64  `json:"bytes_per_profile"`
	BytesPerVisit   map[string]float64  `json:"engine_bytes_per_visit"`
	Redis           *redisStats         `json:"redis,omitempty"` // after the run, for shopedge-redis
	// StoreMetrics are shopedge-redis's shopedge_store_* samples from
	// /metrics at the end of the run.
	StoreMetrics map[string]float64 `json:"shopedge_redis_store_metrics,omitempty"`
	// AB is binary B against binary A (-shopedge-b), per case.
	AB       []abCase `json:"shopedge_b_vs_a,omitempty"`
	Visitors int      `json:"distinct_visitors"`
	Requests int64    `json:"requests"`
	Checks   []check  `json:"checks"`
}

func newReport(o options) *report {
	pinning := "none (fewer than 2 cores, or no taskset)"
	if p := pin("0", []string{"x"}); len(p) > 1 {
		pinning = "server under test on CPU 0; demo shop and load generator on CPU 1 (taskset)"
		if slices.Contains(o.targets, "shopedge-redis") {
			pinning = "server under test on CPU 0; demo shop, load generator and redis-server on CPU 1 (taskset)"
		}
	}
	return &report{
		When:            time.Now().UTC(),
		Machine:         machine(),
		Pinning:         pinning,
		Rounds:          o.rounds,
		Duration:        o.duration.String(),
		Rate:            o.rate,
		RateLarge:       o.rateLarge,
		Workers:         o.workers,
		PeakRSS:         map[string]int64{},
		Memory:          map[string]memStats{},
		BytesPerProfile: map[string]float64{},
		BytesPerVisit:   map[string]float64{},
	}
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// finish computes the summaries and the checks against the targets.
func (r *report) finish() {
	byCase := map[caseKey][]measurement{}
	var keys []caseKey
	for _, x := range r.Runs {
		if _, ok := byCase[x.caseKey]; !ok {
			keys = append(keys, x.caseKey)
		}
		byCase[x.caseKey] = append(byCase[x.caseKey], x)
		r.Visitors += x.Result.Visitors
		r.Requests += x.Result.Requests
	}
	for _, k := range keys {
		s := summary{caseKey: k, Latency: map[string]stat{}}
		var rps, scpu, shcpu, gcpu, rcpu, open, bytes, own50, own99 []float64
		lat := map[string][]float64{}
		for _, x := range byCase[k] {
			res := x.Result
			s.Errors += res.Errors
			if x.Phase == "closed" {
				rps = append(rps, res.RPS)
				if n := float64(res.Requests) / 1000; n > 0 {
					scpu = append(scpu, x.ServerCPU/n)
					shcpu = append(shcpu, x.ShopCPU/n)
					gcpu = append(gcpu, res.CPU/n)
					if k.Target == "shopedge-redis" {
						rcpu = append(rcpu, x.RedisCPU/n)
					}
					bytes = append(bytes, float64(res.Bytes)/float64(res.Requests))
				}
				continue
			}
			open = append(open, res.RPS)
			if x.AddedP99 > 0 {
				own50 = append(own50, x.AddedP50)
				own99 = append(own99, x.AddedP99)
			}
			for name, v := range map[string]float64{"p50": res.Latency.P50, "p90": res.Latency.P90, "p99": res.Latency.P99, "p99.9": res.Latency.P999, "max": res.Latency.Max} {
				lat[name] = append(lat[name], v)
			}
		}
		s.RPS, s.ServerCPU1k, s.ShopCPU1k, s.GenCPU1k, s.OpenAchieved = statOf(rps), statOf(scpu), statOf(shcpu), statOf(gcpu), statOf(open)
		s.BytesPerReq = statOf(bytes).Median
		s.RedisCPU1k = statOf(rcpu)
		s.OwnP50, s.OwnP99 = statOf(own50), statOf(own99)
		for name, v := range lat {
			s.Latency[name] = statOf(v)
		}
		r.Cases = append(r.Cases, s)
	}
	find := func(target string, k caseKey) *summary {
		for i := range r.Cases {
			c := &r.Cases[i]
			if c.Target == target && c.Pages == k.Pages && c.Gzip == k.Gzip {
				return c
			}
		}
		return nil
	}
	for i := range r.Cases {
		c := &r.Cases[i]
		if p := find("plain", c.caseKey); p != nil && p.RPS.Median > 0 {
			c.VsPlain = c.RPS.Median / p.RPS.Median
			c.AddedP50 = c.Latency["p50"].Median - p.Latency["p50"].Median
			c.AddedP99 = c.Latency["p99"].Median - p.Latency["p99"].Median
		}
		if c.Target != "shopedge-redis" {
			continue
		}
		if m := find("shopedge", c.caseKey); m != nil && m.RPS.Median > 0 {
			c.VsMemory = c.RPS.Median / m.RPS.Median
			c.OwnP99VsMemory = c.OwnP99.Median - m.OwnP99.Median
			c.P99VsMemory = c.Latency["p99"].Median - m.Latency["p99"].Median
		}
	}
	for _, c := range r.Cases {
		switch c.Target {
		case "shopedge":
			// The goals of issue 15: 0.70× (identity) and 0.50× (gzip).
			want := 0.70
			if c.Gzip {
				want = 0.50
			}
			r.addCheck(fmt.Sprintf("personalized throughput, %s", c.caseKey), fmt.Sprintf("≥ %.2f× plain", want), c.VsPlain >= want, fmt.Sprintf("%.2f×", c.VsPlain))
			r.addCheck(fmt.Sprintf("p99 added latency at %d req/s, %s: client view (p99 minus the plain proxy's)", r.rateOf(c.Pages), c.caseKey), "≤ 1000 µs", c.AddedP99 <= 1000, fmt.Sprintf("%.0f µs", c.AddedP99))
			r.addCheck(fmt.Sprintf("p99 added latency at %d req/s, %s: shopedge's own histogram", r.rateOf(c.Pages), c.caseKey), "≤ 1000 µs", c.OwnP99.Median <= 1000, fmt.Sprintf("%.0f µs", c.OwnP99.Median))
		case "shopedge-pass":
			r.addCheck(fmt.Sprintf("pass-through throughput, %s", c.caseKey), "≥ 0.95× plain", c.VsPlain >= 0.95, fmt.Sprintf("%.2f×", c.VsPlain))
		case "shopedge-redis":
			if c.VsMemory == 0 { // shopedge (in memory) not measured
				continue
			}
			where := fmt.Sprintf("%s pages / %s", c.Pages, coding(c.Gzip))
			r.addCheck("throughput with the Redis store (shopedge-redis ÷ shopedge), "+where, "≥ 0.80× in memory", c.VsMemory >= 0.8, fmt.Sprintf("%.2f×", c.VsMemory))
			r.addCheck(fmt.Sprintf("added p99 at %d req/s with the Redis store minus in memory, %s: shopedge's own histogram", r.rateOf(c.Pages), where), "≤ +1000 µs", c.OwnP99VsMemory <= 1000, fmt.Sprintf("%+.0f µs", c.OwnP99VsMemory))
			r.addCheck(fmt.Sprintf("added p99 at %d req/s with the Redis store minus in memory, %s: client view (p99 minus shopedge's)", r.rateOf(c.Pages), where), "≤ +1000 µs", c.P99VsMemory <= 1000, fmt.Sprintf("%+.0f µs", c.P99VsMemory))
		}
	}
	r.AB = abCases(r.Runs)
	if b, ok := r.BytesPerProfile["shopedge"]; ok {
		r.addCheck("memory per visitor profile ((heap growth − engine growth) / profiles added)", "≤ 1024 B", b <= 1024, fmt.Sprintf("%.0f B", b))
	}
	if m, ok := r.Memory["shopedge"]; ok && m.Profiles > 0 {
		r.addCheck("profile memory within its bound (profiles.max_memory)", "≤ 256 MiB charged", m.Budget <= 256<<20, fmt.Sprintf("%.1f MiB", float64(m.Budget)/(1<<20)))
	}
	if x := r.Redis; x != nil {
		r.addCheck("visitor profiles in Redis after the run (keys PREFIX{ID}:p; reported, no goal)", "> 0", x.ProfileKeys > 0, fmt.Sprintf("%d, %.0f B each", x.ProfileKeys, x.PerProfile))
	}
}

// abCase is binary B against binary A (shopedge, demo rules) on one case:
// the server CPU per request of each, closed loop, and their difference
// round by round (each round runs both on the same workload, one after
// the other, in turns first), so that the machine's drift between
// rounds does not count.
type abCase struct {
	Pages string `json:"pages"`
	Gzip  bool   `json:"gzip"`
	A     stat   `json:"a_server_cpu_us_per_request"`
	B     stat   `json:"b_server_cpu_us_per_request"`
	Diff  stat   `json:"b_minus_a_us_per_request"`
	// Throughput is B's over A's, round by round.
	Throughput stat `json:"b_over_a_throughput"`
	Rounds     int  `json:"rounds"`
}

// abCases pairs the closed-loop runs of shopedge and shopedge-b by case
// and round.
func abCases(runs []measurement) []abCase {
	type cell struct {
		pages string
		gzip  bool
		round int
	}
	a, b := map[cell]measurement{}, map[cell]measurement{}
	var order []cell
	for _, x := range runs {
		if x.Phase != "closed" || x.Result.Requests == 0 {
			continue
		}
		c := cell{x.Pages, x.Gzip, x.Round}
		switch x.Target {
		case "shopedge":
			a[c] = x
		case abTarget:
			b[c] = x
			order = append(order, c)
		}
	}
	var out []abCase
	type caseOf struct {
		pages string
		gzip  bool
	}
	idx := map[caseOf]int{}
	var as, bs, diffs, tput [][]float64
	for _, c := range order {
		xa, ok := a[c]
		if !ok {
			continue
		}
		xb := b[c]
		k := caseOf{c.pages, c.gzip}
		i, seen := idx[k]
		if !seen {
			i = len(out)
			idx[k] = i
			out = append(out, abCase{Pages: c.pages, Gzip: c.gzip})
			as, bs, diffs, tput = append(as, nil), append(bs, nil), append(diffs, nil), append(tput, nil)
		}
		ua := xa.ServerCPU / float64(xa.Result.Requests) * 1e6
		ub := xb.ServerCPU / float64(xb.Result.Requests) * 1e6
		as[i], bs[i], diffs[i] = append(as[i], ua), append(bs[i], ub), append(diffs[i], ub-ua)
		if xa.Result.RPS > 0 {
			tput[i] = append(tput[i], xb.Result.RPS/xa.Result.RPS)
		}
	}
	for i := range out {
		out[i].A, out[i].B, out[i].Diff, out[i].Throughput = statOf(as[i]), statOf(bs[i]), statOf(diffs[i]), statOf(tput[i])
		out[i].Rounds = len(diffs[i])
	}
	return out
}

func (r *report) rateOf(pages string) int {
	if pages == "large" {
		return r.RateLarge
	}
	return r.Rate
}

func (r *report) addCheck(what, want string, ok bool, got string) {
	r.Checks = append(r.Checks, check{What: what, Want: want, Got: got, OK: ok})
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# shopedge load report\n\n%s · %s\n\nPinning: %s. Each figure: median of %d rounds [min–max]; runs of %s; closed loop with %d concurrent visits; open loop at %d req/s (demo pages) and %d req/s (~400 KB pages). %d requests, %d distinct visitors.\n\n",
		r.When.Format(time.RFC3339), r.Machine, r.Pinning, r.Rounds, r.Duration, r.Workers, r.Rate, r.RateLarge, r.Requests, r.Visitors)
	b.WriteString("## Throughput (closed loop)\n\n| target | pages | coding | req/s | vs plain | server CPU s/1k req | shop CPU s/1k | load gen CPU s/1k | KB/resp | errors |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.sorted() {
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f [%.0f–%.0f] | %s | %.3f | %.3f | %.3f | %.1f | %d |\n",
			targetNames[c.Target], c.Pages, coding(c.Gzip), c.RPS.Median, c.RPS.Min, c.RPS.Max, ratio(c), c.ServerCPU1k.Median, c.ShopCPU1k.Median, c.GenCPU1k.Median, c.BytesPerReq/1024, c.Errors)
	}
	if len(r.AB) > 0 {
		b.WriteString("\n## Binary B against A (-shopedge-b; shopedge, demo rules)\n\nServer CPU per request in the closed loop, µs: median [min–max] of the rounds; B − A paired round by round (both on the same workload, in turns first).\n\n| pages | coding | A | B | B − A | B ÷ A throughput | rounds |\n|---|---|---|---|---|---|---|\n")
		for _, c := range r.AB {
			fmt.Fprintf(&b, "| %s | %s | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] | %+.1f [%+.1f–%+.1f] | %.3f× [%.3f–%.3f] | %d |\n",
				c.Pages, coding(c.Gzip), c.A.Median, c.A.Min, c.A.Max, c.B.Median, c.B.Min, c.B.Max, c.Diff.Median, c.Diff.Min, c.Diff.Max,
				c.Throughput.Median, c.Throughput.Min, c.Throughput.Max, c.Rounds)
		}
	}
	fmt.Fprintf(&b, "\n## Latency at a fixed rate (open loop, from the intended send time), µs\n\n| target | pages | coding | p50 | p90 | p99 | p99.9 | max | added p50 | added p99 |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.sorted() {
		l := c.Latency
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f [%.0f–%.0f] | %.0f | %.0f [%.0f–%.0f] | %.0f | %.0f | %s | %s |\n",
			targetNames[c.Target], c.Pages, coding(c.Gzip), l["p50"].Median, l["p50"].Min, l["p50"].Max, l["p90"].Median,
			l["p99"].Median, l["p99"].Min, l["p99"].Max, l["p99.9"].Median, l["max"].Median, added(c, c.AddedP50), added(c, c.AddedP99))
	}
	b.WriteString("\n## Time shopedge adds (its own histogram, waiting for the shop excluded, open loop), µs\n\n| target | pages | coding | p50 | p99 |\n|---|---|---|---|---|\n")
	for _, c := range r.sorted() {
		if c.OwnP99.Median > 0 {
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f [%.0f–%.0f] | %.0f [%.0f–%.0f] |\n", targetNames[c.Target], c.Pages, coding(c.Gzip),
				c.OwnP50.Median, c.OwnP50.Min, c.OwnP50.Max, c.OwnP99.Median, c.OwnP99.Min, c.OwnP99.Max)
		}
	}
	r.redisMarkdown(&b)
	b.WriteString("\n## Memory\n\n| process | peak RSS |\n|---|---|\n")
	for _, t := range append(append([]string(nil), targets...), "shop (upstream)", "redis-server") {
		if v, ok := r.PeakRSS[t]; ok {
			name := targetNames[t]
			if name == "" {
				name = t
			}
			fmt.Fprintf(&b, "| %s | %.1f MiB |\n", name, float64(v)/(1<<20))
		}
	}
	if m, ok := r.Memory["shopedge"]; ok {
		fmt.Fprintf(&b, "\nshopedge (demo rules) after the run: %d profiles created, %d held (%d evicted, the least recently seen first), %.0f bytes of heap per profile added, %.1f MiB charged against profiles.max_memory; %d products learned; page analyses reused %d times, made %d times; %d pages personalized. The recommendation engine keeps %d past visits (bounded by recommendations.max_sessions) in %.1f MiB, %.0f bytes per visit added.\n",
			m.Created, m.Profiles, m.Evicted, r.BytesPerProfile["shopedge"], float64(m.Budget)/(1<<20), m.Products, m.PageHits, m.PageMiss, m.Rewrites,
			m.EngineVisits, float64(m.EngineBytes)/(1<<20), r.BytesPerVisit["shopedge"])
	}
	b.WriteString("\n## Targets\n\n| | want | got | |\n|---|---|---|---|\n")
	for _, c := range r.Checks {
		mark := "met"
		if !c.OK {
			mark = "**not met**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.What, c.Want, c.Got, mark)
	}
	return b.String()
}

func coding(gz bool) string {
	if gz {
		return "gzip"
	}
	return "identity"
}

func ratio(c summary) string {
	if c.Target == "plain" || c.VsPlain == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", c.VsPlain)
}

func added(c summary, v float64) string {
	if c.Target == "plain" || c.Target == "shop" {
		return "–"
	}
	return fmt.Sprintf("%+.0f", v)
}

func (r *report) sorted() []summary {
	order := map[string]int{}
	for i, t := range targets {
		order[t] = i
	}
	order[abTarget] = order["shopedge"] // just after it (a stable sort)
	s := append([]summary(nil), r.Cases...)
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Pages != b.Pages {
			return a.Pages < b.Pages
		}
		if a.Gzip != b.Gzip {
			return !a.Gzip
		}
		return order[a.Target] < order[b.Target]
	})
	return s
}

// write puts report.md, report.json and latency.svg in dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"report.md":   []byte(r.markdown()),
		"report.json": j,
		"latency.svg": []byte(r.svg()),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var colors = map[string]string{"shop": "#6b7280", "plain": "#2563eb", "shopedge-pass": "#16a34a", "shopedge": "#dc2626", "shopedge-redis": "#9333ea", abTarget: "#ea580c"}

// svg draws the open-loop latency percentiles of the targets, one
// panel per page size and coding, on a logarithmic scale.
func (r *report) svg() string {
	type panel struct {
		pages string
		gzip  bool
	}
	var panels []panel
	seen := map[panel]bool{}
	for _, c := range r.sorted() {
		p := panel{c.Pages, c.Gzip}
		if !seen[p] {
			seen[p] = true
			panels = append(panels, p)
		}
	}
	const pw, ph, left, top = 360.0, 240.0, 60.0, 40.0
	cols := 2
	rows := (len(panels) + cols - 1) / cols
	w, h := float64(cols)*(pw+left+20)+20, float64(rows)*(ph+top+50)+60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="20" y="22" font-size="14" font-weight="bold">Latency percentiles in the open loop, ms, log scale</text>`)
	pcts := []string{"p50", "p90", "p99", "p99.9", "max"}
	lo, hi := math.Inf(1), 0.0
	for _, c := range r.Cases {
		for _, p := range pcts {
			v := c.Latency[p].Median / 1000
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		return b.String() + "</svg>"
	}
	lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	y := func(v float64) float64 {
		return ph - (math.Log10(math.Max(v, lo))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*ph
	}
	for i, p := range panels {
		ox := 20 + float64(i%cols)*(pw+left+20) + left
		oy := 40 + float64(i/cols)*(ph+top+50) + top
		fmt.Fprintf(&b, `<g transform="translate(%.0f,%.0f)"><text x="0" y="-12" font-weight="bold">%s pages, %s, %d req/s</text>`, ox, oy, p.pages, coding(p.gzip), r.rateOf(p.pages))
		fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`, pw, ph)
		for d := lo; d <= hi*1.0001; d *= 10 {
			fmt.Fprintf(&b, `<line x1="0" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="-6" y="%.1f" text-anchor="end">%g</text>`, pw, y(d), y(d), y(d)+4, d)
		}
		for j, name := range pcts {
			x := float64(j) / float64(len(pcts)-1) * pw
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, x, ph+16, name)
		}
		for _, c := range r.Cases {
			if c.Pages != p.pages || c.Gzip != p.gzip {
				continue
			}
			var pts []string
			for j, name := range pcts {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(j)/float64(len(pcts)-1)*pw, y(c.Latency[name].Median/1000)))
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), colors[c.Target])
		}
		b.WriteString("</g>")
	}
	for i, t := range targets {
		x := 20 + float64(i)*175
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="14" height="4" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`, x, h-24, colors[t], x+20, h-19, targetNames[t])
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// redisMarkdown writes the comparison of shopedge-redis with shopedge (in
// memory), and what Redis holds per visitor profile.
func (r *report) redisMarkdown(b *strings.Builder) {
	var rows []summary
	for _, c := range r.sorted() {
		if c.Target == "shopedge-redis" {
			rows = append(rows, c)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## Redis store against in memory (shopedge, demo rules)\n\n" +
		"Added p50 and p99: shopedge's own histogram (open loop), µs. Δ p99: Redis minus in memory, of the added p99 and of the client's p99.\n\n" +
		"| pages | coding | req/s in memory | req/s Redis | vs in memory | added p50 in memory | added p50 Redis | added p99 in memory | added p99 Redis | Δ added p99 | Δ client p99 | Redis CPU s/1k req |\n" +
		"|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range rows {
		var m summary
		for _, x := range r.Cases {
			if x.Target == "shopedge" && x.Pages == c.Pages && x.Gzip == c.Gzip {
				m = x
			}
		}
		vs, d99, dc99 := "–", "–", "–"
		if c.VsMemory > 0 {
			vs, d99, dc99 = fmt.Sprintf("%.2f×", c.VsMemory), fmt.Sprintf("%+.0f", c.OwnP99VsMemory), fmt.Sprintf("%+.0f", c.P99VsMemory)
		}
		fmt.Fprintf(b, "| %s | %s | %.0f | %.0f [%.0f–%.0f] | %s | %.0f | %.0f | %.0f | %.0f [%.0f–%.0f] | %s | %s | %.3f |\n",
			c.Pages, coding(c.Gzip), m.RPS.Median, c.RPS.Median, c.RPS.Min, c.RPS.Max, vs, m.OwnP50.Median, c.OwnP50.Median,
			m.OwnP99.Median, c.OwnP99.Median, c.OwnP99.Min, c.OwnP99.Max, d99, dc99, c.RedisCPU1k.Median)
	}
	if x := r.Redis; x != nil && x.ProfileKeys == 0 {
		fmt.Fprintf(b, "\nRedis after the run: %d keys, **no visitor profile** (no key %s{ID}:p): shopedge-redis wrote none.\n", x.Keys, redisPrefix)
	} else if x != nil {
		m := r.Memory["shopedge-redis"]
		fmt.Fprintf(b, "\nRedis after the run (shopedge-redis stopped, so that it wrote all it held): %d keys, %d of them visitor profiles (shopedge-redis created %d profiles, held %d at the end). "+
			"used_memory grew from %.1f MiB (the empty server) to %.1f MiB. "+
			"Per visitor profile: **%.0f bytes** with the other %d keys (the state instances start from, counters, published changes: %.1f MiB by MEMORY USAGE) taken out, %.0f bytes with all the growth charged to profiles; "+
			"MEMORY USAGE of %d profile keys: median %.0f bytes [%.0f–%.0f], of which the value shopedge wrote (STRLEN) %.0f bytes [%.0f–%.0f] and the key %.0f.\n",
			x.Keys, x.ProfileKeys, m.Created, m.Profiles, float64(x.Baseline)/(1<<20), float64(x.Used)/(1<<20),
			x.PerProfile, x.Keys-x.ProfileKeys, float64(x.OtherBytes)/(1<<20), x.PerProfileAll,
			x.Sampled, x.Usage.Median, x.Usage.Min, x.Usage.Max, x.Value.Median, x.Value.Min, x.Value.Max, x.KeyLen.Median)
	}
	if m := r.StoreMetrics; len(m) > 0 {
		g := func(name string) float64 { return m[name] }
		fmt.Fprintf(b, "\nshopedge-redis's store over the run (its /metrics): returning visitors' profiles read through %.0f times found, %.0f missing, %.0f failed (the store down or past store.budget); %.0f profiles written behind, %.0f still waiting; %.0f failed round trips, %.1f s without the store, %.0f changes dropped.\n",
			g(`shopedge_store_profile_reads_total{result="found"}`), g(`shopedge_store_profile_reads_total{result="missing"}`), g(`shopedge_store_profile_reads_total{result="failed"}`),
			g("shopedge_store_profile_writes_total"), g("shopedge_store_profiles_dirty"), g("shopedge_store_errors_total"), g("shopedge_store_down_seconds_total"), g("shopedge_store_dropped_total"))
	}
}
