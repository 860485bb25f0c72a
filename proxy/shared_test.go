package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/experiment"
	"shopedge/proxy/proxytest"
	"shopedge/proxy/store/redistest"
	"shopedge/proxy/store/remote"
	"shopedge/rules"

	"github.com/redis/go-redis/v9"
)

// sharedConfig points a configuration at a Redis, flushing often so that
// tests wait little.
func sharedConfig(url string) func(*rules.Config) {
	return func(c *rules.Config) {
		c.Store.URL = url
		c.Store.FlushInterval = rules.Duration(10 * time.Millisecond)
		// Far above a loopback round trip (and a TLS handshake), so that
		// a busy test machine does not make a read miss the budget (and a
		// visitor look new). The outage test sets its own.
		c.Store.Budget = rules.Duration(time.Second)
		c.Store.Timeout = rules.Duration(2 * time.Second)
	}
}

// flushed waits until a proxy's shared store has written what it holds.
func flushed(t testing.TB, p *Proxy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.shared.(interface{ Flush(context.Context) error }).Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// handoff flushes from's shared store and waits until to holds no copy
// of the visitor's profile (it heard of the write, and dropped its own):
// the visitor's next request, on to, sees what they did on from. (Two
// requests of one visitor on two instances closer together than that may
// not see each other: see "Consistency" in the README.)
func handoff(t testing.TB, from, to *env, visitorID string) {
	t.Helper()
	flushed(t, from.proxy)
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		_, held := to.proxy.profiles.Get(visitorID)
		return !held, fmt.Sprintf("the other instance still holds its copy: from %+v, to %+v",
			from.proxy.shared.(*remote.Store).Stats(), to.proxy.shared.(*remote.Store).Stats())
	})
}

// learnedFrom waits until to has read every batch of changes from wrote
// (what it learned of products among them): a product viewed on from is
// in to's catalog, to show in a block. (Flushes first.)
func learnedFrom(t testing.TB, from, to *env) {
	t.Helper()
	flushed(t, from.proxy)
	want := from.proxy.shared.(*remote.Store).Stats().BatchesWritten
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := to.proxy.shared.(*remote.Store).Stats().BatchesRead
		return got >= want, fmt.Sprintf("the other instance read %d batches of changes, of %d written", got, want)
	})
}

// TestSharedInstances (issue 13): two instances on one Redis, no
// stickiness. A visitor who browses through A gets, through B, the menu
// order, the recently viewed block and the cart reminder their views on A
// earned; what A learned of products (also viewed, popular, people who
// viewed) shows on B for a visitor B never saw.
func TestSharedInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	clock := new(proxytest.Clock)
	shared := sharedConfig(srv.URL())
	a := newShopEnvAt(t, shared, clock.Now)
	b := startProxyAt(t, demoConfig(t, a.upstream, shared), clock.Now)

	// Through A only: three shoes, and one of them in the cart.
	v := a.visitor()
	shoes := a.productsIn("shoes", 3)
	id := visitorID(t, a, v.get(a.url+shoes[0]))
	for _, p := range shoes[1:] {
		v.get(a.url + p)
	}
	sku := regexp.MustCompile(`name="sku" value="([^"]+)"`).FindStringSubmatch(v.get(a.url + shoes[0]).body)
	if sku == nil {
		t.Fatal("no SKU on the demo product page")
	}
	v.addToCart(a.url, sku[1], 1)
	flushed(t, a.proxy)

	home := v.get(b.url + "/")
	if nav := navOrder(home.body); len(nav) == 0 || nav[0] != "/c/shoes" {
		t.Errorf("B's menu for a visitor who browsed shoes on A: %v, want /c/shoes first", nav)
	}
	block := recentBlock(home.body)
	for _, p := range shoes[1:] { // the first is in the cart: not shown
		if !strings.Contains(block, p) {
			t.Errorf("B's recently viewed block lacks %s, viewed on A:\n%s", p, block)
		}
	}
	// A later visit, through B: the cart of A.
	clock.Advance(3 * time.Hour)
	if got := overlays(v.get(b.url + "/").body); len(got) != 1 || got[0] != "cart-reminder" {
		t.Errorf("B, a visitor who left a cart on A: overlays %v, want the cart reminder", got)
	}
	handoff(t, b, a, id)
	// Round robin from here: each instance sees what the other did last.
	bags := a.productsIn("bags-accessories", 2)
	for i, p := range bags {
		via, next := []*env{a, b}[i%2], []*env{b, a}[i%2]
		v.get(via.url + p)
		handoff(t, via, next, id)
	}
	for i, via := range []*env{a, b} {
		block := recentBlock(v.get(via.url + "/").body)
		if !strings.Contains(block, bags[0]) || !strings.Contains(block, bags[1]) {
			t.Errorf("%s after views on both: recently viewed lacks %v:\n%s", via.url, bags, block)
		}
		handoff(t, via, []*env{b, a}[i], id)
	}

	// What A learns of products: viewed together by people on A only.
	pair := a.productsIn("beauty", 2)
	for range 6 {
		p := a.visitor()
		p.get(a.url + pair[0])
		p.get(a.url + pair[0]) // the cookie comes back: a person
		p.get(a.url + pair[1])
	}
	flushed(t, a.proxy)
	fresh := b.visitor()
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		body := fresh.get(b.url + pair[0]).body
		also := blockOf(body, "also-viewed")
		viewers := bannerText(body, "viewers")
		return strings.Contains(also, pair[1]) && viewers != "",
			"B's page of " + pair[0] + " for a new visitor: also viewed " + also + ", viewers banner " + viewers
	})
	pid, ok := b.proxy.catalog.Resolve(catalog.PathKey(pair[0]))
	if !ok {
		t.Fatalf("B's catalog lacks %s, learned on A", pair[0])
	}
	if got := b.proxy.views.Get(pid, clock.Now()); got.Day < 6 {
		t.Errorf("B counts %d people viewing %s today, want at least the 6 of A", got.Day, pair[0])
	}
}

// TestSharedExperimentCounts (issue 13): an experiment's counts are those
// of every instance: each reports the visitors both exposed.
func TestSharedExperimentCounts(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	shared := func(c *rules.Config) {
		sharedConfig(srv.URL())(c)
		c.Experiments.GlobalControl = 50
	}
	a := newShopEnv(t, shared)
	b := startProxy(t, demoConfig(t, a.upstream, shared))
	for i := range 10 {
		via := []*env{a, b}[i%2]
		via.visitor().get(via.url + "/")
	}
	flushed(t, a.proxy)
	flushed(t, b.proxy)
	ra, err := a.proxy.experiments.reports(context.Background(), a.proxy.conf.Load().cfg)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.proxy.experiments.reports(context.Background(), b.proxy.conf.Load().cfg)
	if err != nil {
		t.Fatal(err)
	}
	visitors := func(r []experiment.Report) int64 { return r[0].Arms[0].Visitors + r[0].Arms[1].Visitors }
	if visitors(ra) != 10 || visitors(rb) != 10 {
		t.Errorf("global control visitors: A reports %d, B %d; want the 10 who came through either", visitors(ra), visitors(rb))
	}
	if ra[0].Arms[0].Visitors != rb[0].Arms[0].Visitors {
		t.Errorf("the control arm: A reports %d, B %d", ra[0].Arms[0].Visitors, rb[0].Arms[0].Visitors)
	}
}

// blockOf is a recommendation block's markup in a page, or "".
func blockOf(body, id string) string {
	m := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="` + regexp.QuoteMeta(id) + `".*?</section>`).FindString(body)
	return m
}

// TestSharedStoreDown (issue 13): Redis stopped mid-run and started
// again. No request fails or waits on the store past its budget;
// personalization goes on from each instance's own state; what was
// learned while it was down reaches the other instance once it is back;
// the time it was down shows in /metrics.
func TestSharedStoreDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	down := func(c *rules.Config) {
		sharedConfig(srv.URL())(c)
		c.Store.Budget = rules.Duration(200 * time.Millisecond) // what no request may wait past
	}
	h := proxytest.Start(t, proxytest.Options{Mutate: down}, func(cfg *proxytest.Config) (*Proxy, error) {
		return newTestProxy(cfg, nil, log)
	})
	a := &env{t: t, proxy: h.Proxy, url: h.URL, upstream: h.Shop.URL, shop: h.Shop.Shop, served: h.Served}
	b := startProxyLogged(t, demoConfig(t, a.upstream, down), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))

	v := a.visitor()
	shoes := a.productsIn("shoes", 2)
	id := visitorID(t, a, v.get(a.url+shoes[0]))
	handoff(t, a, b, id)
	// B reads the visitor through (the profile view on its admin listener
	// changes nothing): B holds A's copy when Redis goes.
	if resp, body := adminCall(t, "GET", startAdmin(t, b, "admin-token")+"/profiles/"+id, "admin-token"); resp.StatusCode != 200 || !strings.Contains(string(body), "recent") {
		t.Fatalf("before the outage, B does not read the visitor A wrote: %d %s", resp.StatusCode, body)
	}
	if _, held := b.proxy.profiles.Get(id); !held {
		t.Fatal("B does not hold the visitor it read")
	}

	// Another visitor, known to A only: their first request to B reads
	// through.
	u := a.visitor()
	u.get(a.url + shoes[1])
	flushed(t, a.proxy)

	srv.Stop()
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		return !a.proxy.shared.Health().Up && !b.proxy.shared.Health().Up, "the instances do not notice that Redis is down"
	})
	// Down: a read through does not wait (B gives up on the store at
	// once, and u is served as a visitor B does not know).
	failed := b.proxy.metrics.storeReads.failed.Load()
	t0 := time.Now()
	if pg := u.get(b.url + shoes[1]); pg.resp.StatusCode != 200 {
		t.Fatalf("a read through during the outage: %d", pg.resp.StatusCode)
	}
	readThrough := time.Since(t0)
	if b.proxy.metrics.storeReads.failed.Load() != failed+1 {
		t.Error("the request did not try the store")
	}
	// Every request is served, none waits on the store, and A
	// personalizes from what it holds. The visitor browses through A
	// (two instances that both change one profile while they cannot
	// share it: the first write stands, see "Consistency" in the README),
	// others through B.
	bags := a.productsIn("bags-accessories", 3)
	w := b.visitor()
	slowest := time.Duration(0)
	for i := range 30 {
		for _, via := range []*visitor{v, w} {
			base := a.url
			if via == w {
				base = b.url
			}
			t0 := time.Now()
			pg := via.get(base + bags[i%len(bags)])
			if d := time.Since(t0); d > slowest {
				slowest = d
			}
			if pg.resp.StatusCode != 200 {
				t.Fatalf("%s during the outage: %d", base, pg.resp.StatusCode)
			}
		}
	}
	// No request waited on the store past its budget (200ms here); the
	// slowest request, the shop's time and a busy machine's included, is
	// only logged (and bounded, against a hang).
	for _, e := range []*env{a, b} {
		if d := time.Duration(e.proxy.metrics.storeLongest.Load()); d > 250*time.Millisecond {
			t.Errorf("%s: a request waited %s on the store, past its budget", e.url, d)
		}
	}
	if slowest > 5*time.Second {
		t.Errorf("slowest request while Redis was down: %s", slowest)
	}
	if block := recentBlock(v.get(a.url + "/").body); !strings.Contains(block, bags[0]) {
		t.Errorf("A during the outage does not show the recently viewed from its own state:\n%s", block)
	}
	if !strings.Contains(logs.String(), "serving from local state") {
		t.Errorf("the outage is not logged:\n%s", logs.String())
	}
	// Once per change of state, not per request (a restarted Redis may
	// drop a pooled connection once more as it comes back).
	if n := strings.Count(logs.String(), "serving from local state"); n > 3 {
		t.Errorf("the outage is logged %d times, for 61 requests", n)
	}

	// Back: A writes what it kept, and B shows it.
	v.get(a.url + shoes[1]) // last viewed on A, during the outage
	srv.Restart()
	proxytest.Eventually(t, 10*time.Second, func() (bool, string) {
		return a.proxy.shared.Health().Up && b.proxy.shared.Health().Up, "the instances do not notice Redis is back"
	})
	flushed(t, a.proxy)
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		block := recentBlock(v.get(b.url + "/").body)
		return strings.Contains(block, shoes[1]) && strings.Contains(block, bags[0]),
			fmt.Sprintf("after the outage B shows:\n%s\nB: %+v", block, b.proxy.shared.(*remote.Store).Stats())
	})
	if h := a.proxy.shared.Health(); h.Down <= 0 {
		t.Errorf("A's health after the outage: %+v, want time down", h)
	}
	m := scrapeMetrics(t, a)
	if !regexp.MustCompile(`(?m)^shopedge_store_down_seconds_total [0-9.e+-]+$`).MatchString(m) || strings.Contains(m, "shopedge_store_down_seconds_total 0\n") {
		t.Errorf("no time down in /metrics:\n%s", grepLines(m, "shopedge_store"))
	}
	if !strings.Contains(m, "shopedge_store_up 1") {
		t.Errorf("store not up in /metrics:\n%s", grepLines(m, "shopedge_store"))
	}
	value := func(name string) string {
		if v := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(m); v != nil {
			return v[1]
		}
		return "none"
	}
	t.Logf("Redis down: 61 requests served, the slowest in %s; a read through given up in a request of %s; the longest wait on the store %s (A), %s (B); A's /metrics after: down %ss, %s profiles written",
		slowest.Round(time.Microsecond), readThrough.Round(time.Microsecond),
		time.Duration(a.proxy.metrics.storeLongest.Load()).Round(time.Microsecond), time.Duration(b.proxy.metrics.storeLongest.Load()).Round(time.Microsecond),
		value("shopedge_store_down_seconds_total"), value("shopedge_store_profile_writes_total"))
}

// TestSharedErasure (issue 13): a visitor erased on one instance is gone
// from every instance: the other drops its copy, and the recently viewed
// block it showed is gone on both.
func TestSharedErasure(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a := newShopEnv(t, sharedConfig(srv.URL()))
	b := startProxy(t, demoConfig(t, a.upstream, sharedConfig(srv.URL())))
	v := a.visitor()
	shoes := a.productsIn("shoes", 2)
	id := visitorID(t, a, v.get(a.url+shoes[0]))
	v.get(a.url + shoes[1])
	handoff(t, a, b, id)
	if !strings.Contains(recentBlock(v.get(b.url+"/").body), shoes[1]) {
		t.Fatal("B does not show what the visitor viewed on A")
	}
	flushed(t, b.proxy)

	if resp, body := adminCall(t, "DELETE", startAdmin(t, a, "admin-token")+"/profiles/"+id, "admin-token"); resp.StatusCode != 204 {
		t.Fatalf("DELETE /profiles/%s on A: %d %s", id, resp.StatusCode, body)
	}
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		_, held := b.proxy.profiles.Get(id)
		return !held, "B still holds the erased profile"
	})
	for _, via := range []*env{b, a} {
		if block := recentBlock(v.get(via.url + "/").body); block != "" {
			t.Errorf("%s after the erasure shows:\n%s", via.url, block)
		}
	}
}

// TestSharedOtherLayout (issue 13): a profile another build wrote, of a
// layout this one cannot read (a deploy under way), is started afresh
// over: this build's writes of the visitor go out, and another instance
// of it reads them.
func TestSharedOtherLayout(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a := newShopEnv(t, sharedConfig(srv.URL()))
	b := startProxy(t, demoConfig(t, a.upstream, sharedConfig(srv.URL())))
	v := a.visitor()
	shoes := a.productsIn("shoes", 2)
	id := visitorID(t, a, v.get(a.url+shoes[0]))
	flushed(t, a.proxy)
	// Another build's bytes in the profile's place, of the generation
	// after A's (as a write of theirs would be: generations only grow, so
	// word of A's write reaching B late cannot make B drop what it read).
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	key := storePrefix(b.proxy.conf.Load().cfg) + "{" + id + "}:p"
	cur, err := rdb.Get(context.Background(), key).Result()
	if err != nil || len(cur) < 16 {
		t.Fatalf("A's write of the profile: %q, %v", cur, err)
	}
	gen, err := strconv.ParseUint(cur[:16], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(context.Background(), key, fmt.Sprintf("%016x", gen+1)+"abcdef0100000001"+"\x00a profile of an earlier layout", 0).Err(); err != nil {
		t.Fatal(err)
	}
	v.get(b.url + shoes[1]) // B has never held the visitor: it reads through
	if n := b.proxy.metrics.storeReads.refused.Load(); n != 1 {
		t.Fatalf("B refused %d profiles, want the one of another layout", n)
	}
	flushed(t, b.proxy)
	handoff(t, b, a, id)
	if block := recentBlock(v.get(a.url + "/").body); !strings.Contains(block, shoes[1]) {
		t.Errorf("A after B wrote over another build's profile: recently viewed %q, want %s", block, shoes[1])
	}
}

// TestSharedPassword (issue 13): with a server that wants a password, the
// password in store.url is used; a wrong one leaves each instance serving
// from its own state, and no log line shows either.
func TestSharedPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWith(t, redistest.Config{Password: "s3cret-pw"})
	a := newShopEnv(t, sharedConfig(srv.URL()))
	b := startProxy(t, demoConfig(t, a.upstream, sharedConfig(srv.URL())))
	v := a.visitor()
	shoes := a.productsIn("shoes", 1)
	id := visitorID(t, a, v.get(a.url+shoes[0]))
	handoff(t, a, b, id)
	if !strings.Contains(recentBlock(v.get(b.url+"/").body), shoes[0]) {
		t.Error("B does not show what the visitor viewed on A, through a Redis with a password")
	}

	var logs logBuffer
	wrong := strings.Replace(srv.URL(), "s3cret-pw", "wrong-pw", 1)
	c := startProxyLogged(t, demoConfig(t, a.upstream, sharedConfig(wrong)), nil, slog.New(slog.NewTextHandler(&logs, nil)))
	w := c.visitor()
	if pg := w.get(c.url + shoes[0]); pg.resp.StatusCode != 200 {
		t.Fatalf("with a wrong password: %d", pg.resp.StatusCode)
	}
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		return !c.proxy.shared.Health().Up, "an instance with a wrong password says the store is up"
	})
	if home := w.get(c.url + "/"); !strings.Contains(recentBlock(home.body), shoes[0]) {
		t.Error("with a wrong password the instance does not personalize from its own state")
	}
	if strings.Contains(logs.String(), "wrong-pw") || strings.Contains(logs.String(), "s3cret-pw") {
		t.Errorf("a password in the logs:\n%s", logs.String())
	}
}

// TestSharedTLS (issue 13): rediss:// with store.tls.ca_file: the
// instances share through TLS; one that does not trust the server's
// authority serves from its own state.
func TestSharedTLS(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWith(t, redistest.Config{TLS: true})
	withCA := func(c *rules.Config) {
		sharedConfig(srv.URL())(c)
		c.Store.TLS.CAFile = srv.CAFile()
	}
	a := newShopEnv(t, withCA)
	b := startProxy(t, demoConfig(t, a.upstream, withCA))
	v := a.visitor()
	shoes := a.productsIn("shoes", 1)
	id := visitorID(t, a, v.get(a.url+shoes[0]))
	handoff(t, a, b, id)
	learnedFrom(t, a, b)
	if !strings.Contains(recentBlock(v.get(b.url+"/").body), shoes[0]) {
		t.Errorf("B does not show what the visitor viewed on A, through TLS: B %+v", b.proxy.shared.(*remote.Store).Stats())
	}
	c := startProxy(t, demoConfig(t, a.upstream, sharedConfig(srv.URL()))) // the system's authorities only
	if pg := c.visitor().get(c.url + shoes[0]); pg.resp.StatusCode != 200 {
		t.Fatalf("an instance that does not trust the server: %d", pg.resp.StatusCode)
	}
	proxytest.Eventually(t, 5*time.Second, func() (bool, string) {
		h := c.proxy.shared.Health()
		return !h.Up && strings.Contains(h.Err, "certificate"), "an instance that does not trust the server: " + fmt.Sprint(h)
	})
}
