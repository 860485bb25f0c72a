// Command load measures shopedge against the shop itself and a plain
// fasthttp reverse proxy, under the same simulated shoppers, in one run:
//
//	go run ./bench/load [-rounds 3] [-duration 4s] [-rate 1000] [-out bench/out] [-json]
//	       [-targets shop,plain,shopedge-pass,shopedge,shopedge-redis] [-pages demo,large] [-cpuprofile DIR]
//	       [-shopedge BINARY] [-shopedge-b BINARY]
//
// It starts the demo shop (memoized, so that the proxies are what is
// measured), the plain proxy of bench/plainproxy, shopedge with no rules
// (pass-through), shopedge with the demo rules (personalized) and the same
// with its state in a Redis the harness starts (redis-server from PATH),
// each as its own process, and drives each with the same workload: closed
// loop for throughput, open loop at a fixed rate for latency, with and
// without gzip, on the demo's pages and on ~400 KB product pages. On a
// machine with two cores or more, the server under test runs on core 0 and
// the shop, the load generator and redis-server on core 1 (taskset). Every
// figure is the median of -rounds rounds, with their minimum and maximum.
//
// With -shopedge-b, a second shopedge binary runs the demo rules beside
// the first in the same rounds (an A/B of two builds, paired round by
// round).
//
// It writes report.md, report.json and latency.svg to -out, and prints the
// markdown report (or the JSON, with -json).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"shopedge/bench/plainproxy"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[0] == "role" {
		return role(args[1], args[2:], stdout)
	}
	if len(args) > 0 && args[0] == "memory" {
		return memoryRun(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{}
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of each measurement (the report gives median, min and max)")
	fs.DurationVar(&o.duration, "duration", 4*time.Second, "length of each closed-loop and open-loop run")
	fs.IntVar(&o.rate, "rate", 1000, "requests per second in the open loop, demo pages")
	fs.IntVar(&o.rateLarge, "rate-large", 200, "requests per second in the open loop, ~400 KB pages")
	fs.IntVar(&o.workers, "workers", 32, "concurrent visits in the closed loop")
	fs.StringVar(&o.out, "out", "bench/out", "`directory` for report.md, report.json and latency.svg")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.BoolVar(&o.quick, "quick", false, "one short round on the demo pages only: checks the harness works")
	fs.StringVar(&o.shopedge, "shopedge", "", "shopedge `binary` to measure (default: build ./cmd/shopedge)")
	fs.StringVar(&o.shopedgeB, "shopedge-b", "", "a second shopedge `binary`, measured with the demo rules as target "+abTarget+" beside shopedge, in the same rounds, in turns first (an even -rounds, so that each goes first as often): the report adds B's server CPU per request against A's, round by round")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "`directory` for CPU profiles of each shopedge target, taken during the first closed-loop run of each case (TARGET-PAGES-CODING.pprof)")
	only := fs.String("targets", strings.Join(targets, ","), "comma-separated `targets` to measure (ratios need plain)")
	pages := fs.String("pages", "demo,large", "comma-separated page `sizes`: demo, large")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.targets = strings.Split(*only, ",")
	if o.shopedgeB != "" && !slices.Contains(o.targets, abTarget) {
		// Right after shopedge, so that A and B run one after the other.
		at := len(o.targets)
		if i := slices.Index(o.targets, "shopedge"); i >= 0 {
			at = i + 1
		}
		o.targets = slices.Insert(o.targets, at, abTarget)
	}
	if slices.Contains(o.targets, abTarget) {
		switch {
		case o.shopedgeB == "":
			return fmt.Errorf("target %s needs -shopedge-b BINARY (binary B)", abTarget)
		case !slices.Contains(o.targets, "shopedge"):
			return fmt.Errorf("target %s is measured against target shopedge (binary A): add it to -targets", abTarget)
		}
	}
	o.sizes = strings.Split(*pages, ",")
	o.warmup = time.Second
	if o.quick {
		o.rounds, o.duration, o.rate, o.rateLarge, o.warmup = 1, 400*time.Millisecond, 200, 50, 200*time.Millisecond
		o.sizes = []string{"demo"}
	}
	rep, err := measure(o, progressTo(stderr))
	if err != nil {
		return err
	}
	if err := rep.write(o.out); err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err = io.WriteString(stdout, rep.markdown())
	return err
}

type options struct {
	rounds           int
	duration, warmup time.Duration
	rate, rateLarge  int
	workers          int
	out, shopedge    string
	shopedgeB        string
	cpuprofile       string
	json, quick      bool
	sizes, targets   []string
}

// role runs one of the harness's processes.
func role(name string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	upstream := fs.String("upstream", "", "upstream URL (plain)")
	switch name {
	case "gen":
		return gen(args, stdout)
	case "shop", "plain":
		if err := fs.Parse(args); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
		if name == "plain" {
			return plainproxy.Serve(ln, *upstream)
		}
		return serveShop(ln)
	}
	return fmt.Errorf("unknown role %q", name)
}

// proc is a process of the harness.
type proc struct {
	name    string
	cmd     *exec.Cmd
	lines   chan string
	stopped sync.Once
}

// pin prefixes a command with taskset when the machine has two cores or
// more: cpu "0" for the server under test, "1" for the rest.
func pin(cpu string, argv []string) []string {
	if runtime.NumCPU() < 2 {
		return argv
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return argv
	}
	return append([]string{"taskset", "-c", cpu}, argv...)
}

func start(name string, argv []string, env []string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	return p, nil
}

// await returns the first submatch of re in the process's output.
func (p *proc) await(re string) (string, error) {
	rx := regexp.MustCompile(re)
	timeout := time.After(60 * time.Second)
	var seen []string
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited: %s", p.name, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if m := rx.FindStringSubmatch(l); m != nil {
				return m[1], nil
			}
		case <-timeout:
			return "", fmt.Errorf("%s did not start: %s", p.name, strings.Join(seen, "\n"))
		}
	}
}

// stop interrupts the process and waits for it to end (killing it after
// 15 s). Later calls do nothing.
func (p *proc) stop() {
	p.stopped.Do(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	})
}

// cpuTicks reads a process's user+system CPU time in seconds from /proc.
func cpuSecondsOf(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// peakRSS reads a process's peak resident memory in bytes from /proc.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// server is a target's process and addresses.
type server struct {
	name, url, admin string
	proc             *proc // nil for the shop itself
	mem              []memStats
}

// measure runs the whole matrix. All targets run at once, idle but for the
// one being measured, and the rounds go round the targets, so that the
// machine's slow moments fall on all of them alike.
func measure(o options, log io.Writer) (*report, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "shopedge-load")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := o.shopedge
	if bin == "" {
		bin = filepath.Join(tmp, "shopedge")
		fmt.Fprintln(log, "building shopedge ...")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/shopedge").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build shopedge (run from the repository root): %v\n%s", err, out)
		}
	}

	shopProc, err := start("shop", pin("1", []string{self, "role", "shop"}), nil)
	if err != nil {
		return nil, err
	}
	defer shopProc.stop()
	shopAddr, err := shopProc.await(`^listening (\S+)`)
	if err != nil {
		return nil, err
	}
	shopURL := "http://" + shopAddr
	fmt.Fprintln(log, "rendering every page of the workload once ...")
	if _, err := o.gen(self, shopURL, "warm", 0, false, strings.Join(o.sizes, ","), 0); err != nil {
		return nil, err
	}

	// Redis starts before the targets and stops after them (the deferred
	// calls run in reverse), so that shopedge-redis writes what it holds
	// when it stops.
	var rdb *redisServer
	for _, t := range o.targets {
		if t == "shopedge-redis" {
			if rdb, err = startRedis(tmp); err != nil {
				return nil, err
			}
			defer rdb.stop()
			break
		}
	}

	const token = "load-harness-admin-token"
	env := []string{"SHOPEDGE_SECRET=load-harness-secret-load-harness-secret", "SHOPEDGE_ADMIN_TOKEN=" + token}
	var servers []*server
	defer func() {
		for _, s := range servers {
			if s.proc != nil {
				s.proc.stop()
			}
		}
	}()
	for _, t := range o.targets {
		s := &server{name: t, url: shopURL}
		switch t {
		case "plain":
			if s.proc, err = start(t, pin("0", []string{self, "role", "plain", "-upstream", shopURL}), nil); err != nil {
				return nil, err
			}
			addr, err := s.proc.await(`^listening (\S+)`)
			if err != nil {
				return nil, err
			}
			s.url = "http://" + addr
		case "shopedge-pass", "shopedge", "shopedge-redis", abTarget:
			storeURL := ""
			if rdb != nil {
				storeURL = rdb.url()
			}
			cfg, err := shopedgeConfig(tmp, t, shopURL, storeURL)
			if err != nil {
				return nil, err
			}
			b := bin
			if t == abTarget {
				b = o.shopedgeB
			}
			if s.proc, err = start(t, pin("0", []string{b, "serve", "-config", cfg}), env); err != nil {
				return nil, err
			}
			if s.url, err = s.proc.await(`serving \S+ on (http://\S+)`); err != nil {
				return nil, err
			}
			if s.admin, err = s.proc.await(`^admin: (http://\S+)/metrics`); err != nil {
				return nil, err
			}
		case "shop":
		default:
			return nil, fmt.Errorf("unknown target %q (targets: %s)", t, strings.Join(targets, ", "))
		}
		servers = append(servers, s)
	}
	pid := func(s *server) int {
		if s.proc == nil {
			return shopProc.cmd.Process.Pid
		}
		return s.proc.cmd.Process.Pid
	}

	rep := newReport(o)
	seed := uint64(0)
	for _, size := range o.sizes {
		for _, gz := range []bool{false, true} {
			for _, s := range servers {
				if _, err := o.gen(self, s.url, "closed", o.warmup, gz, size, 0); err != nil {
					return nil, err
				}
			}
			for round := range o.rounds {
				seed++
				for _, s := range inTurn(servers, round) {
					key := caseKey{Target: s.name, Pages: size, Gzip: gz}
					fmt.Fprintf(log, "%s, round %d ...\n", key, round+1)
					for _, phase := range []string{"closed", "open"} {
						srv0, shop0 := cpuSecondsOf(pid(s)), cpuSecondsOf(shopProc.cmd.Process.Pid)
						redis0 := 0.0
						if s.name == "shopedge-redis" {
							redis0 = cpuSecondsOf(rdb.proc.cmd.Process.Pid)
						}
						var h0 []bucket
						if s.admin != "" {
							h0 = addedHistogram(s.admin, token)
						}
						var profiled chan error
						if o.cpuprofile != "" && s.admin != "" && round == 0 && phase == "closed" {
							profiled = make(chan error, 1)
							path := filepath.Join(o.cpuprofile, fmt.Sprintf("%s-%s-%s.pprof", s.name, size, coding(gz)))
							go cpuProfile(s.admin, token, path, o.duration, profiled)
						}
						res, err := o.gen(self, s.url, phase, o.duration, gz, size, seed)
						if profiled != nil {
							if perr := <-profiled; perr != nil && err == nil {
								err = perr
							}
						}
						if err != nil {
							return nil, err
						}
						r := measurement{caseKey: key, Phase: phase, Round: round, Result: res,
							ServerCPU: cpuSecondsOf(pid(s)) - srv0,
							ShopCPU:   cpuSecondsOf(shopProc.cmd.Process.Pid) - shop0}
						if s.admin != "" {
							d := diffBuckets(addedHistogram(s.admin, token), h0)
							r.AddedP50, r.AddedP99 = quantile(d, 0.5)*1e6, quantile(d, 0.99)*1e6
						}
						if s.proc == nil {
							r.ShopCPU = 0
						}
						if s.name == "shopedge-redis" {
							r.RedisCPU = cpuSecondsOf(rdb.proc.cmd.Process.Pid) - redis0
						}
						rep.Runs = append(rep.Runs, r)
					}
				}
			}
			for _, s := range servers {
				if s.admin != "" {
					s.mem = append(s.mem, memory(s.admin+"/debug/memory?clear=pages", token))
				}
			}
		}
	}
	for _, s := range servers {
		rep.PeakRSS[s.name] = peakRSS(pid(s))
		if len(s.mem) > 1 {
			// The heap a profile costs: growth of the heap (page cache
			// emptied) over growth of the profiles held, from the second
			// case to the last, when the bounded caches of tokens and user
			// agents, the catalog and the buffers have filled, so that
			// fixed costs do not count. The recommendation engine's past
			// visits are a store of their own, with its own bound: its
			// growth (as the engine reckons it) is taken out and told
			// apart, per visit it keeps.
			first, last := s.mem[min(1, len(s.mem)-2)], s.mem[len(s.mem)-1]
			rep.Memory[s.name] = last
			engine := last.EngineBytes - first.EngineBytes
			if d := last.Profiles - first.Profiles; d > 0 {
				rep.BytesPerProfile[s.name] = float64(last.HeapAlloc-first.HeapAlloc-engine) / float64(d)
			}
			if d := last.EngineVisits - first.EngineVisits; d > 0 {
				rep.BytesPerVisit[s.name] = float64(engine) / float64(d)
			}
		}
	}
	rep.PeakRSS["shop (upstream)"] = peakRSS(shopProc.cmd.Process.Pid)
	if rdb != nil {
		// shopedge-redis stops first: it writes what it holds, and its
		// connections (and their buffers) are gone from used_memory.
		for _, s := range servers {
			if s.name == "shopedge-redis" {
				rep.StoreMetrics = storeMetrics(s.admin, token)
				s.proc.stop()
			}
		}
		rep.PeakRSS["redis-server"] = peakRSS(rdb.proc.cmd.Process.Pid)
		st, err := rdb.stats()
		if err != nil {
			return nil, err
		}
		rep.Redis = &st
	}
	rep.finish()
	return rep, nil
}

// inTurn is the order of the servers in a round: as given, but for an A/B
// (shopedge and shopedge-b), whose order alternates from round to round,
// so that neither always runs right after the other.
func inTurn(servers []*server, round int) []*server {
	i := slices.IndexFunc(servers, func(s *server) bool { return s.name == "shopedge" })
	j := slices.IndexFunc(servers, func(s *server) bool { return s.name == abTarget })
	if i < 0 || j < 0 || round%2 == 0 {
		return servers
	}
	out := slices.Clone(servers)
	out[i], out[j] = out[j], out[i]
	return out
}

// gen runs the load generator once and reads its result.
func (o options) gen(self, url, phase string, d time.Duration, gz bool, size string, seed uint64) (genResult, error) {
	rate := o.rate
	if size == "large" {
		rate = o.rateLarge
	}
	argv := []string{self, "role", "gen", "-target", url, "-phase", phase, "-duration", d.String(),
		"-rate", strconv.Itoa(rate), "-workers", strconv.Itoa(o.workers), "-seed", strconv.FormatUint(seed, 10)}
	if gz {
		argv = append(argv, "-gzip")
	}
	switch size {
	case "large":
		argv = append(argv, "-large")
	case "demo":
	default: // warm: every size
		argv = append(argv, "-sizes", size)
	}
	argv = pin("1", argv)
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return genResult{}, fmt.Errorf("load generator: %v: %s", err, ee.Stderr)
		}
		return genResult{}, fmt.Errorf("load generator: %w", err)
	}
	var res genResult
	if err := json.Unmarshal(out, &res); err != nil {
		return genResult{}, fmt.Errorf("load generator said %q: %w", out, err)
	}
	return res, nil
}

// shopedgeConfig writes the configuration of a shopedge target: the demo
// rules for "shopedge", the same with store.url set to storeURL for
// "shopedge-redis", none for "shopedge-pass".
func shopedgeConfig(dir, target, shopURL, storeURL string) (string, error) {
	b, err := os.ReadFile("configs/demo.yaml")
	if err != nil {
		return "", fmt.Errorf("run from the repository root: %w", err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return "", err
	}
	cfg["upstream"] = map[string]any{"url": shopURL}
	cfg["server"] = map[string]any{"listen": "127.0.0.1:0"}
	cfg["admin"] = map[string]any{"listen": "127.0.0.1:0"}
	cfg["log"] = map[string]any{"level": "warn"}
	if target == "shopedge-redis" {
		cfg["store"] = map[string]any{"url": storeURL, "prefix": redisPrefix}
	}
	if target == "shopedge-pass" {
		// No rules at all: nothing to learn, so every request is
		// forwarded and every response passed through. (Until 2026-12-03
		// the demo's content swaps stayed, and with them the tracking
		// of every page view: "no rules" measured a proxy that learned.)
		for _, k := range []string{"pages", "events", "segments", "navigation", "recommendations", "search", "content", "overlays", "experiments"} {
			delete(cfg, k)
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, target+".yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// memStats is what shopedge's /debug/memory reports.
type memStats struct {
	HeapAlloc    int64 `json:"heap_alloc_bytes"`
	Profiles     int64 `json:"profiles_held"`
	Created      int64 `json:"profiles_created"`
	Evicted      int64 `json:"profiles_evicted"`
	Budget       int64 `json:"profiles_bytes_budget"`
	Products     int64 `json:"catalog_products"`
	EngineVisits int64 `json:"engine_visits"`
	EngineBytes  int64 `json:"engine_bytes"`
	PageHits     int64 `json:"page_cache_hits"`
	PageMiss     int64 `json:"page_cache_misses"`
	Rewrites     int64 `json:"rewrites"`
}

func memory(url, token string) memStats {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return memStats{}
	}
	defer resp.Body.Close()
	var m memStats
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// bucket is a cumulative histogram bucket: requests at most le seconds.
type bucket struct {
	le    float64
	count int64
}

var bucketLine = regexp.MustCompile(`^shopedge_added_seconds_bucket\{le="([^"]+)"\} (\d+)$`)

// addedHistogram reads shopedge's histogram of the time it adds to
// requests (the time waiting for the shop excluded).
func addedHistogram(adminURL, token string) []bucket {
	req, _ := http.NewRequest("GET", adminURL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out []bucket
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		m := bucketLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		le, err := strconv.ParseFloat(m[1], 64)
		if m[1] == "+Inf" {
			le, err = math.Inf(1), nil
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		if err == nil {
			out = append(out, bucket{le, n})
		}
	}
	return out
}

func diffBuckets(after, before []bucket) []bucket {
	out := append([]bucket(nil), after...)
	for i := range out {
		if i < len(before) {
			out[i].count -= before[i].count
		}
	}
	return out
}

// quantile estimates a quantile from cumulative buckets, interpolating
// within the bucket it falls in.
func quantile(b []bucket, q float64) float64 {
	if len(b) == 0 || b[len(b)-1].count == 0 {
		return 0
	}
	rank := q * float64(b[len(b)-1].count)
	lo, below := 0.0, int64(0)
	for _, x := range b {
		if float64(x.count) >= rank {
			if math.IsInf(x.le, 1) {
				return lo
			}
			in := float64(x.count - below)
			if in == 0 {
				return x.le
			}
			return lo + (x.le-lo)*(rank-float64(below))/in
		}
		lo, below = x.le, x.count
	}
	return lo
}

// progressTo is where the run says how far it has gone: w when it is a
// terminal, else nowhere (piped, redirected, under CI: the report says
// it all).
func progressTo(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("CI") != "" {
		return io.Discard
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return io.Discard
	}
	return w
}
