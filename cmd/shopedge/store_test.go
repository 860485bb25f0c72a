package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shopedge/bench/shop"
	"shopedge/proxy/proxytest"
	"shopedge/proxy/store/redistest"
)

// TestKillOneInstance (issue 13): two demo processes on one Redis behind
// a round-robin client, and one of them killed with SIGKILL under load.
// The other serves every request it gets; what the killed one had written
// to Redis (visitors' profiles, what it learned of products) is all there:
// a third instance, started afterwards with nothing in memory, shows it.
func TestKillOneInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv := redistest.Start(t)
	env := []string{"SHOPEDGE_SECRET=" + strings.Repeat("kill-test-secret-", 3)}
	demo := func() (*process, string) {
		p := start(t, env, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-store", srv.URL())
		return p, p.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
	}
	a, urlA := demo()
	_, urlB := demo()

	// The demo shop's products (the demo serves shop.New(1)), in stock:
	// recommendations leave out the others.
	var products []string
	for _, p := range shop.New(1).Catalog.Products {
		if p.InStock && len(products) < 8 {
			products = append(products, p.URL())
		}
	}
	x, y := products[0], products[1]

	// Load on both, round robin, from here to the end. A client whose
	// request to A fails sends it to B, as a load balancer would.
	var (
		stop             = make(chan struct{})
		wg               sync.WaitGroup
		servedB, failedB atomic.Int64
		failedA          atomic.Int64
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; i < 5000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := products[(w+i)%len(products)]
				if i%2 == 0 {
					if resp, err := client.Get(urlA + path); err == nil {
						resp.Body.Close()
						continue
					}
					failedA.Add(1)
				}
				resp, err := client.Get(urlB + path)
				if err != nil || resp.StatusCode != 200 {
					failedB.Add(1)
					if err == nil {
						resp.Body.Close()
					}
					continue
				}
				resp.Body.Close()
				servedB.Add(1)
			}
		}()
	}
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer halt()

	// Witnesses: visitors who browse through A only, and people who view
	// x then y on A. Once B shows what they did, A has written it.
	witnesses := make([]*proxytest.Visitor, 3)
	for i := range witnesses {
		w := proxytest.NewVisitor(t, urlA)
		w.Get(products[2+i%2])
		w.Get(x)
		witnesses[i] = w
	}
	for range 6 {
		p := proxytest.NewVisitor(t, urlA)
		p.Get(x)
		p.Get(x) // the cookie comes back: a person
		p.Get(y)
	}
	recent := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="recently-viewed".*?</section>`)
	also := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="also-viewed".*?</section>`)
	written := func(base string) (bool, string) {
		for i, w := range witnesses {
			w.Base = base
			if block := recent.FindString(w.Get("/").Body); !strings.Contains(block, x) {
				return false, fmt.Sprintf("witness %d at %s: recently viewed %q", i, base, block)
			}
		}
		if block := also.FindString(proxytest.NewVisitor(t, base).Get(x).Body); !strings.Contains(block, y) {
			return false, "also viewed with " + x + " at " + base + ", want " + y + ": " + block + "\nat A: " + also.FindString(proxytest.NewVisitor(t, urlA).Get(x).Body)
		}
		return true, ""
	}
	eventually(t, 10*time.Second, func() (bool, string) { return written(urlB) })

	// SIGKILL: no shutdown, no last flush.
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	before := servedB.Load()
	eventually(t, 10*time.Second, func() (bool, string) {
		return servedB.Load() > before+50, "B serves no more requests after A died"
	})

	// A new instance, empty: everything A had written is in Redis.
	_, urlC := demo()
	eventually(t, 10*time.Second, func() (bool, string) { return written(urlC) })
	halt()
	if n := failedB.Load(); n != 0 {
		t.Errorf("%d requests to B failed (of %d)", n, servedB.Load()+n)
	}
	if failedA.Load() == 0 {
		t.Error("no request to A failed: it was not killed under load")
	}
}

// eventually polls cond until it holds or d has passed; then the test
// fails with what cond last said.
func eventually(t *testing.T, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
