package proxytest

import (
	"testing"

	"shopedge/rules"
)

// Options say how Start sets up a test's shop and proxy.
type Options struct {
	// Shop changes the demo shop.
	Shop ShopOptions
	// Mutate changes the demo configuration (DemoConfig) before the proxy
	// is built. Default: none.
	Mutate func(*rules.Config)
	// InMemory serves the proxy on fasthttp's in-memory listener instead
	// of a loopback port. Default: loopback.
	InMemory bool
}

// Env is the demo shop with a proxy in front of it, for one test.
type Env[S Server] struct {
	// Shop is the demo shop the proxy forwards to.
	Shop *Shop
	// Config is what the proxy was built from.
	Config *Config
	// Proxy is what build returned.
	Proxy S
	// Served is where the proxy listens; Served.URL is its base URL.
	*Served
}

// Start runs the demo shop on 127.0.0.1, builds a proxy for the demo
// configuration pointed at it with build, and serves the proxy on a
// loopback port (or in memory). Everything stops when the test ends. A
// build error fails the test.
func Start[S Server](t testing.TB, o Options, build func(*Config) (S, error)) *Env[S] {
	t.Helper()
	s := StartShop(t, o.Shop)
	cfg := DemoConfig(t, s.URL, o.Mutate)
	p, err := build(cfg)
	if err != nil {
		t.Fatalf("proxytest: build the proxy: %v", err)
	}
	e := &Env[S]{Shop: s, Config: cfg, Proxy: p}
	if o.InMemory {
		e.Served = ServeInMemory(t, p)
	} else {
		e.Served = Serve(t, p)
	}
	return e
}
