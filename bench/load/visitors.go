package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"go.yaml.in/yaml/v3"

	"shopedge/bench/shop"
)

// The memory run (issue 9): how much memory shopedge takes for many
// distinct visitors and for many slow readers, against what its
// configuration says.
//
//	go run ./bench/load memory [-visitors 300000] [-max-memory 256MiB] [-memory-limit ""] [-slow 0]
//
// It starts the memoized demo shop and one shopedge (demo rules) as
// processes of their own, makes -visitors distinct visitors each send
// -requests requests (a product page without a cookie, then pages with the
// cookie it got), then reads shopedge's /debug/memory (which collects
// garbage first) and its VmRSS and VmHWM from /proc/PID/status. With -slow
// N it then opens N connections that ask for a ~400 KB product page with a
// 4 KiB receive buffer and read nothing for -slow-hold, and reports RSS
// before, during and after them. Everything is on 127.0.0.1.

// memoryOptions are the flags of the memory run.
type memoryOptions struct {
	visitors, requests, conns int
	maxMemory, memoryLimit    string
	slow                      int
	slowHold                  time.Duration
	slowAccept                string
	shopedge                  string
}

func memoryRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("memory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o memoryOptions
	fs.IntVar(&o.visitors, "visitors", 300000, "distinct visitors")
	fs.IntVar(&o.requests, "requests", 2, "requests per visitor")
	fs.IntVar(&o.conns, "conns", 64, "concurrent visitors")
	fs.StringVar(&o.maxMemory, "max-memory", "256MiB", "profiles.max_memory")
	fs.StringVar(&o.memoryLimit, "memory-limit", "", "server.memory_limit (empty: the configuration's default)")
	fs.IntVar(&o.slow, "slow", 0, "slow-reading connections, after the visitors")
	fs.DurationVar(&o.slowHold, "slow-hold", 15*time.Second, "how long the slow connections read nothing")
	fs.StringVar(&o.slowAccept, "slow-accept", "application/octet-stream", "Accept header of the slow readers: text/html has the page personalized, anything else passes it through")
	fs.StringVar(&o.shopedge, "shopedge", "", "shopedge `binary` (default: build ./cmd/shopedge)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "shopedge-memory")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin := o.shopedge
	if bin == "" {
		bin = filepath.Join(tmp, "shopedge")
		fmt.Fprintln(stderr, "building shopedge ...")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/shopedge").CombinedOutput(); err != nil {
			return fmt.Errorf("build shopedge (run from the repository root): %v\n%s", err, out)
		}
	}
	shopProc, err := start("shop", pin("1", []string{self, "role", "shop"}), nil)
	if err != nil {
		return err
	}
	defer shopProc.stop()
	shopAddr, err := shopProc.await(`^listening (\S+)`)
	if err != nil {
		return err
	}
	cfg, err := memoryConfig(tmp, "http://"+shopAddr, o)
	if err != nil {
		return err
	}
	const token = "load-harness-admin-token"
	env := []string{"SHOPEDGE_SECRET=load-harness-secret-load-harness-secret", "SHOPEDGE_ADMIN_TOKEN=" + token}
	se, err := start("shopedge", pin("0", []string{bin, "serve", "-config", cfg}), env)
	if err != nil {
		return err
	}
	defer se.stop()
	target, err := se.await(`serving \S+ on http://(\S+)`)
	if err != nil {
		return err
	}
	admin, err := se.await(`^admin: (http://\S+)/metrics`)
	if err != nil {
		return err
	}
	pid := se.cmd.Process.Pid
	cat := shop.NewCatalog(1)

	fmt.Fprintf(stdout, "shopedge %s, profiles.max_memory %s, server.memory_limit %q\n", bin, o.maxMemory, o.memoryLimit)
	fmt.Fprintf(stdout, "at start: RSS %s\n", mib(rss(pid, "VmRSS")))
	t0, cpu0 := time.Now(), cpuSecondsOf(pid)
	res := driveVisitors(target, cat, o, stderr)
	fmt.Fprintf(stdout, "%d visitors, %d requests, %d errors, %d new cookies in %.0fs; shopedge used %.0f CPU seconds\n",
		o.visitors, res.requests.Load(), res.errors.Load(), res.cookies.Load(), time.Since(t0).Seconds(), cpuSecondsOf(pid)-cpu0)
	mem := rawMemory(admin, token)
	fmt.Fprintf(stdout, "after the visitors: RSS %s, peak RSS (VmHWM) %s\n", mib(rss(pid, "VmRSS")), mib(rss(pid, "VmHWM")))
	fmt.Fprintf(stdout, "/debug/memory: %s\n", mem)

	if o.slow > 0 {
		if err := slowRun(stdout, pid, target, admin, token, cat.Products[0].URL()+"?reviews=all", o); err != nil {
			return err
		}
	}
	return nil
}

// slowRun opens o.slow slow readers of path and reports what they cost:
// resident memory and live heap (after a collection) per connection while
// they are open, and what stays once they have read their page and closed.
func slowRun(stdout io.Writer, pid int, target, admin, token, path string, o memoryOptions) error {
	heap0, rss0 := liveHeap(admin, token), rss(pid, "VmRSS")
	fmt.Fprintf(stdout, "before %d slow readers: RSS %s, live heap %s\n", o.slow, mib(rss0), mib(heap0))
	conns, err := openSlow(target, path, o.slowAccept, o.slow)
	if err != nil {
		return err
	}
	n := float64(len(conns))
	perConn := func(b int64) float64 { return float64(b) / 1024 / n }
	// Let the server do what it does for them (a personalized page is
	// read from the shop and rewritten; the rest waits on the socket).
	peak := rss0
	for deadline := time.Now().Add(o.slowHold); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		peak = max(peak, rss(pid, "VmRSS"))
	}
	during := rss(pid, "VmRSS")
	heap1 := liveHeap(admin, token)
	fmt.Fprintf(stdout, "%d slow readers of %s (Accept: %s), %s open: RSS %s (peak %s), %+.0f KiB per connection (peak %+.0f); live heap %s, %+.1f KiB per connection\n",
		len(conns), path, o.slowAccept, o.slowHold, mib(during), mib(peak), perConn(during-rss0), perConn(peak-rss0), mib(heap1), perConn(heap1-heap0))
	drained, statuses := drainSlow(conns)
	for _, wait := range []time.Duration{2 * time.Second, 30 * time.Second} {
		time.Sleep(wait)
		after := rss(pid, "VmRSS")
		fmt.Fprintf(stdout, "%s after they read %.1f MiB (statuses %v; 0: none) and closed: RSS %s, %+.0f KiB per connection kept\n",
			wait, float64(drained)/(1<<20), statuses, mib(after), perConn(after-rss0))
	}
	fmt.Fprintf(stdout, "/debug/memory: %s\n", rawMemory(admin, token))
	return nil
}

// liveHeap is the heap after a collection, as /debug/memory reports it.
func liveHeap(admin, token string) int64 {
	var m struct {
		HeapAlloc int64 `json:"heap_alloc_bytes"`
	}
	_ = json.Unmarshal([]byte(rawMemory(admin, token)), &m)
	return m.HeapAlloc
}

// memoryConfig writes the demo configuration with the run's bounds.
func memoryConfig(dir, shopURL string, o memoryOptions) (string, error) {
	b, err := os.ReadFile("configs/demo.yaml")
	if err != nil {
		return "", fmt.Errorf("run from the repository root: %w", err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return "", err
	}
	server := map[string]any{"listen": "127.0.0.1:0"}
	if o.memoryLimit != "" {
		server["memory_limit"] = o.memoryLimit
	}
	// Enough connections to the shop for every slow reader of a page that
	// passes through: each holds one while it streams.
	cfg["upstream"] = map[string]any{"url": shopURL, "max_conns": 4096}
	cfg["server"] = server
	cfg["admin"] = map[string]any{"listen": "127.0.0.1:0"}
	cfg["log"] = map[string]any{"level": "warn"}
	cfg["profiles"] = map[string]any{"max_memory": o.maxMemory}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "memory.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

type visitorsResult struct {
	requests, errors, cookies atomic.Int64
}

// driveVisitors makes o.visitors distinct visitors: visitor i asks for
// product i (round the catalog) without a cookie, then for its category
// and the next product with the cookie it was given.
func driveVisitors(target string, cat *shop.Catalog, o memoryOptions, log io.Writer) *visitorsResult {
	c := &fasthttp.HostClient{Addr: target, MaxConns: o.conns, ReadBufferSize: 64 << 10, NoDefaultUserAgentHeader: true}
	var res visitorsResult
	var next atomic.Int64
	var wg sync.WaitGroup
	products := cat.Products
	for range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for {
				i := int(next.Add(1)) - 1
				if i >= o.visitors {
					return
				}
				if i > 0 && i%50000 == 0 {
					fmt.Fprintf(log, "%d visitors ...\n", i)
				}
				p := products[i%len(products)]
				paths := []string{p.URL(), p.Category.URL(), products[(i+1)%len(products)].URL()}
				var cookie string
				for r := range o.requests {
					req.Reset()
					resp.Reset()
					req.SetRequestURI(paths[r%len(paths)])
					req.Header.SetHost(target)
					req.Header.SetUserAgent(browserUA)
					req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
					if cookie != "" {
						req.Header.SetCookie("se_vid", cookie)
					}
					err := c.DoTimeout(req, resp, 30*time.Second)
					res.requests.Add(1)
					if err != nil || resp.StatusCode() >= 400 {
						res.errors.Add(1)
						continue
					}
					if v := resp.Header.PeekCookie("se_vid"); len(v) > 0 {
						var ck fasthttp.Cookie
						if ck.ParseBytes(v) == nil {
							cookie = string(ck.Value())
							res.cookies.Add(1)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	return &res
}

// openSlow opens n connections with a small receive buffer, each asking
// for path once.
func openSlow(target, path, accept string, n int) ([]net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + target + "\r\nUser-Agent: " + browserUA + "\r\nAccept: " + accept + "\r\n\r\n"
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := d.Dial("tcp", target)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("slow connection %d: %w", len(conns), err)
		}
		if _, err := io.WriteString(c, req); err != nil {
			c.Close()
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// drainSlow reads each connection's response and closes it. It returns
// the bytes of the bodies read and the count of each status (0: no
// response).
func drainSlow(conns []net.Conn) (int64, map[int]int) {
	var total atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			var resp fasthttp.Response
			status := 0
			if err := resp.Read(bufio.NewReader(c)); err == nil {
				total.Add(int64(len(resp.Body())))
				status = resp.StatusCode()
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total.Load(), statuses
}

// rss reads a field (VmRSS, VmHWM) of a process's status, in bytes.
func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// rawMemory returns shopedge's /debug/memory answer, compacted.
func rawMemory(admin, token string) string {
	req, _ := httpRequest(admin+"/debug/memory", token)
	var resp fasthttp.Response
	if err := fasthttp.DoTimeout(req, &resp, 60*time.Second); err != nil {
		return "error: " + err.Error()
	}
	var v any
	if json.Unmarshal(resp.Body(), &v) != nil {
		return string(resp.Body())
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func httpRequest(u, token string) (*fasthttp.Request, error) {
	if _, err := url.Parse(u); err != nil {
		return nil, err
	}
	req := &fasthttp.Request{}
	req.SetRequestURI(u)
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}
