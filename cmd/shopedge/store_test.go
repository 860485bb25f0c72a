package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
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
// to Redis, by its own count (its /metrics: nothing waiting to be written,
// no backlog), is all there: a third instance, started afterwards with
// nothing in memory, shows it to the visitors who browsed the killed one
// only.
func TestKillOneInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv := redistest.Start(t)
	const token = "kill-test-admin-token"
	env := []string{"SHOPEDGE_SECRET=" + strings.Repeat("kill-test-secret-", 3), "SHOPEDGE_ADMIN_TOKEN=" + token}
	demo := func() (p *process, url, admin string) {
		p = start(t, env, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-store", srv.URL())
		url = p.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
		admin = p.waitFor(t, `admin:\s+(http://\S+)/metrics`)[1]
		return p, url, admin
	}
	a, urlA, adminA := demo()
	_, urlB, _ := demo()

	// The demo shop's products (the demo serves shop.New(1)), in stock:
	// recommendations leave out the others.
	var products []string
	for _, p := range shop.New(1).Catalog.Products {
		if p.InStock && len(products) < 8 {
			products = append(products, p.URL())
		}
	}
	x, y := products[0], products[1]

	// Load on both, round robin, from here to the end: shoppers with
	// cookies, so that profiles are written from both. A request to A
	// that fails goes to B, as a load balancer would send it.
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
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Timeout: 5 * time.Second, Jar: jar}
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
	// x then y on A.
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
	// Acknowledged: A, by its own count, has nothing left to write.
	proxytest.Eventually(t, 10*time.Second, func() (bool, string) {
		m := scrape(t, adminA, token)
		return metricValue(m, "shopedge_store_profiles_dirty") == "0" && metricValue(m, "shopedge_store_backlog_bytes") == "0" &&
				metricValue(m, "shopedge_store_profile_writes_total") != "0",
			"A has not written all it holds: " + metricValue(m, "shopedge_store_profiles_dirty") + " profiles, " + metricValue(m, "shopedge_store_backlog_bytes") + " bytes of changes waiting"
	})

	// SIGKILL: no shutdown, no last flush.
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	before := servedB.Load()
	proxytest.Eventually(t, 10*time.Second, func() (bool, string) {
		return servedB.Load() > before+50, "B serves no more requests after A died"
	})

	// A new instance, empty: everything A had written is in Redis. The
	// witnesses never went to B: what C shows them came from A's writes.
	_, urlC, _ := demo()
	recent := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="recently-viewed".*?</section>`)
	also := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="also-viewed".*?</section>`)
	for i, w := range witnesses {
		w.Base = urlC
		// A read through that misses C's budget (3ms, on a busy machine)
		// serves the visitor afresh once; C's write of that fresh copy
		// conflicts with A's, and the next page reads A's.
		proxytest.Eventually(t, 10*time.Second, func() (bool, string) {
			block := recent.FindString(w.Get("/").Body)
			return strings.Contains(block, x) && strings.Contains(block, products[2+i%2]),
				fmt.Sprintf("witness %d on C: recently viewed %q, want %s and %s, viewed on A", i, block, x, products[2+i%2])
		})
	}
	proxytest.Eventually(t, 10*time.Second, func() (bool, string) {
		block := also.FindString(proxytest.NewVisitor(t, urlC).Get(x).Body)
		return strings.Contains(block, y), "also viewed with " + x + " on C, want " + y + ": " + block
	})
	halt()
	if n := failedB.Load(); n != 0 {
		t.Errorf("%d requests to B failed (of %d)", n, servedB.Load()+n)
	}
	if failedA.Load() == 0 {
		t.Error("no request to A failed: it was not killed under load")
	}
	t.Logf("B served %d requests, none failed; %d sent to A failed after the kill and went to B", servedB.Load(), failedA.Load())
}

// scrape fetches /metrics from an admin listener.
func scrape(t *testing.T, admin, token string) string {
	t.Helper()
	return scrapePath(t, admin+"/metrics", token)
}

// scrapePath fetches a URL of an admin listener with its token.
func scrapePath(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue is the value of an unlabelled metric in a scrape, or "".
func metricValue(scrape, name string) string {
	if m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(scrape); m != nil {
		return m[1]
	}
	return ""
}
