package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// genResult is what one load generator run measured.
type genResult struct {
	Requests  int64     `json:"requests"`
	Errors    int64     `json:"errors"`
	Elapsed   float64   `json:"elapsed_s"`
	RPS       float64   `json:"rps"`
	Latency   latencies `json:"latency_us"`
	Visitors  int       `json:"new_visitors"`
	Returning int       `json:"returning_visits"`
	CPU       float64   `json:"cpu_s"`
	Bytes     int64     `json:"bytes"`
}

// latencies are percentiles in microseconds.
type latencies struct {
	P50, P90, P99, P999, Max float64
}

// gen is the load generator role: it drives one target with simulated
// shoppers and prints a genResult as JSON.
func gen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	target := fs.String("target", "", "base URL of the server under test")
	phase := fs.String("phase", "closed", "closed (as fast as it goes) or open (fixed rate)")
	duration := fs.Duration("duration", 4*time.Second, "how long to drive")
	rate := fs.Int("rate", 1000, "requests per second, open phase")
	workers := fs.Int("workers", 32, "concurrent visits, closed phase")
	gz := fs.Bool("gzip", false, "send Accept-Encoding: gzip")
	large := fs.Bool("large", false, "product pages of ~400 KB")
	seed := fs.Uint64("seed", 1, "workload seed")
	sizes := fs.String("sizes", "demo", "page sizes to warm, phase warm")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bad -target %q", *target)
	}
	g := &generator{
		w:    newWorkload(*seed, *large),
		gzip: *gz,
		host: u.Host,
		client: &fasthttp.HostClient{
			Addr:                      u.Host,
			MaxConns:                  4096,
			ReadBufferSize:            64 << 10,
			NoDefaultUserAgentHeader:  true,
			MaxIdemponentCallAttempts: 1,
		},
	}
	cpu0 := cpuSeconds()
	var res genResult
	switch *phase {
	case "closed":
		res = g.closed(*workers, *duration)
	case "open":
		res = g.open(*rate, *duration)
	case "warm":
		res = g.warm(strings.Split(*sizes, ","))
	default:
		return fmt.Errorf("unknown -phase %q", *phase)
	}
	res.CPU = cpuSeconds() - cpu0
	res.Visitors, res.Returning = g.w.counts()
	return json.NewEncoder(stdout).Encode(res)
}

// cpuSeconds is this process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

type generator struct {
	w      *workload
	gzip   bool
	host   string
	client *fasthttp.HostClient

	requests, errors, bytes atomic.Int64
	mu                      sync.Mutex
	lat                     []time.Duration
}

// do sends a visit's next step; the latency counts from intended.
func (g *generator) do(v *visit, intended time.Time) { g.send(v, intended, g.gzip) }

func (g *generator) send(v *visit, intended time.Time, gzip bool) {
	st := v.steps[v.next]
	v.next++
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(st.method)
	req.SetRequestURI(st.path)
	req.Header.SetHost(g.host)
	req.Header.SetUserAgent(browserUA)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if c := v.who.cookieHeader(nil); len(c) > 0 {
		req.Header.SetBytesV("Cookie", c)
	}
	if st.form != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(st.form)
	}
	err := g.client.DoTimeout(req, resp, 30*time.Second)
	d := time.Since(intended)
	g.requests.Add(1)
	if err != nil || resp.StatusCode() >= 400 {
		g.errors.Add(1)
	}
	if err == nil {
		v.who.store(resp)
		g.bytes.Add(int64(len(resp.Body())))
	}
	g.mu.Lock()
	g.lat = append(g.lat, d)
	g.mu.Unlock()
}

// closed runs workers visits at a time, each request as soon as the last
// one answered: the throughput a server reaches.
func (g *generator) closed(workers int, d time.Duration) genResult {
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				v := g.w.newVisit()
				for v.next < len(v.steps) && time.Now().Before(stop) {
					g.do(v, time.Now())
				}
			}
		}()
	}
	wg.Wait()
	return g.result(time.Since(start))
}

// open sends requests at a fixed rate whatever the answers do: each
// request's latency counts from when it was due, so a slow server's
// queueing shows (no coordinated omission). Each visit has one request in
// flight at a time; a due request takes a waiting visit or starts one.
func (g *generator) open(rate int, d time.Duration) genResult {
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	due := make(chan time.Time, n)
	idle := make(chan *visit, 1<<16)
	var wg sync.WaitGroup
	for range 1024 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range due {
				var v *visit
				select {
				case v = <-idle:
				default:
					v = g.w.newVisit()
				}
				g.do(v, t)
				if v.next < len(v.steps) {
					select {
					case idle <- v:
					default:
					}
				}
			}
		}()
	}
	start := time.Now()
	for i := range n {
		t := start.Add(time.Duration(i) * interval)
		if w := time.Until(t); w > 0 {
			time.Sleep(w)
		}
		due <- t
	}
	close(due)
	wg.Wait()
	return g.result(time.Since(start))
}

// warm requests every URL the workload can make, in both codings, so that
// the shop has rendered them all before anything is measured.
func (g *generator) warm(sizes []string) genResult {
	start := time.Now()
	var urls []string
	for _, size := range sizes {
		urls = append(urls, g.w.allPaths(size == "large")...)
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				for _, gz := range []bool{false, true} {
					g.send(&visit{who: &visitor{}, steps: []step{{method: "GET", path: u}}}, time.Now(), gz)
				}
			}
		}()
	}
	for _, u := range urls {
		work <- u
	}
	close(work)
	wg.Wait()
	return g.result(time.Since(start))
}

func (g *generator) result(elapsed time.Duration) genResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	sort.Slice(g.lat, func(i, j int) bool { return g.lat[i] < g.lat[j] })
	pct := func(p float64) float64 {
		if len(g.lat) == 0 {
			return 0
		}
		i := min(int(p*float64(len(g.lat))), len(g.lat)-1)
		return float64(g.lat[i]) / 1e3
	}
	r := genResult{
		Requests: g.requests.Load(),
		Errors:   g.errors.Load(),
		Elapsed:  elapsed.Seconds(),
		Bytes:    g.bytes.Load(),
		Latency:  latencies{P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), P999: pct(0.999), Max: pct(1)},
	}
	r.RPS = float64(r.Requests) / r.Elapsed
	return r
}
