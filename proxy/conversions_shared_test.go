package proxy

import (
	"context"
	"encoding/binary"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"shopedge/proxy/store/redistest"
)

// TestSharedConversion: two instances on one Redis. A click on a block
// through A travels with the visitor's profile: their order through B is
// the block's conversion, counted by B.
func TestSharedConversion(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	clock := newMovable()
	shared := sharedConfig(srv.URL())
	a := &conversionEnv{env: newShopEnvAt(t, shared, clock.Now), clock: clock}
	a.admin = startAdmin(t, a.env, "t0ken")
	b := &conversionEnv{env: startProxyAt(t, demoConfig(t, a.upstream, shared), clock.Now), clock: clock}
	b.shop = a.shop
	b.admin = startAdmin(t, b.env, "t0ken")

	v := a.visitor()
	id := visitorID(t, a.env, v.get(a.url+a.productsIn("shoes", 1)[0]))
	a.clickRecommended(t, v)
	handoff(t, a.env, b.env, id)
	_, total := b.checkout(t, v, b.inStock(t, 0), 1)
	b.wantConversions(t, "block", "recently-viewed", 1, total)
	a.wantConversions(t, "block", "recently-viewed", 0, 0)
}

// TestSharedProfileOfLayout1: a profile the build before the last click
// wrote to the shared store (layout 1: the committed fixture of package
// profile) is read through and held, not refused: the visitor keeps what
// that build knew of them.
func TestSharedProfileOfLayout1(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile("profile/testdata/layout-v1.profile")
	if err != nil {
		t.Fatal(err)
	}
	// Last seen now, as if that build had written it just before: the
	// fixture's own time would pass the TTL one day.
	binary.LittleEndian.PutUint32(old[9:], uint32(time.Now().Unix()))
	srv := redistest.Start(t)
	a := newShopEnv(t, sharedConfig(srv.URL()))
	b := startProxy(t, demoConfig(t, a.upstream, sharedConfig(srv.URL())))
	v := a.visitor()
	id := visitorID(t, a, v.get(a.url+a.productsIn("shoes", 1)[0]))
	flushed(t, a.proxy)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	key := storePrefix(b.proxy.conf.Load().cfg) + "{" + id + "}:p"
	if err := rdb.Set(context.Background(), key, "0000000000000007"+"abcdef0100000001"+string(old), 0).Err(); err != nil {
		t.Fatal(err)
	}
	v.get(b.url + "/") // B has never held the visitor: it reads through
	if n := b.proxy.metrics.storeReads.refused.Load(); n != 0 {
		t.Fatalf("B refused %d profiles, want none", n)
	}
	p, ok := b.proxy.profiles.Get(id)
	if !ok {
		t.Fatal("B holds no profile of the visitor")
	}
	d := p.Snapshot()
	// Layout 1's visitor-0: one visit, four searches (two fit), two
	// lines in the cart; this request is a visit of its own.
	if got, want := d.Searches(), []string{"gift", "waterproof hiking boots for women"}; !slices.Equal(got, want) || d.Visits != 2 || len(d.Cart()) != 2 {
		t.Errorf("B holds searches %q, %d visits, cart %v; want layout 1's %q, 1 visit before this one, 2 lines", got, d.Visits, d.Cart(), want)
	}
	if _, ok := d.LastClick(); ok {
		t.Error("a layout-1 profile has a last click")
	}
}
