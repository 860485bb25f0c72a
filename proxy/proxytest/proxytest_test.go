package proxytest_test

import (
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"shopedge/proxy"
	"shopedge/proxy/proxytest"
	"shopedge/rules"
)

// build is how a test outside package proxy makes its proxy.
func build(cfg *proxytest.Config) (*proxy.Proxy, error) {
	c, err := rules.Compile(cfg)
	if err != nil {
		return nil, err
	}
	return proxy.New(c, proxy.Options{Keys: proxytest.Keys(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestHarness: a visitor's first page sets the visitor cookie, the second
// carries it through the proxy to the shop, and the shop saw both
// requests; on a loopback port and in memory.
func TestHarness(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		inMemory bool
	}{{"loopback", false}, {"in memory", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := proxytest.Start(t, proxytest.Options{InMemory: tt.inMemory}, build)
			v := e.Visitor(t)
			first := v.Get("/")
			if first.Status != http.StatusOK {
				t.Fatalf("GET /: status %d", first.Status)
			}
			c := first.Cookie("se_vid")
			if c == nil {
				t.Fatalf("GET /: no visitor cookie; Set-Cookie %q", first.Header.Values("Set-Cookie"))
			}
			if got, ok := v.Cookie("se_vid"); !ok || got != c.Value {
				t.Fatalf("jar holds %q (%v), want %q", got, ok, c.Value)
			}
			if got, want := proxytest.NavOrder(first.Body), proxytest.Nav(e.Shop.Shop); !slices.Equal(got, want) {
				t.Errorf("menu %v, want the shop's %v", got, want)
			}
			second := v.Get("/c/women")
			if second.Status != http.StatusOK || !strings.Contains(second.Body, "</html>") {
				t.Fatalf("GET /c/women: status %d, %d bytes", second.Status, len(second.Body))
			}
			seen := e.Shop.Requests()
			var uris []string
			for _, r := range seen {
				uris = append(uris, r.URI)
			}
			if !slices.Equal(uris, []string{"/", "/c/women"}) {
				t.Fatalf("the shop saw %q, want / then /c/women", uris)
			}
			if got := seen[0].Header.Get("User-Agent"); got != proxytest.BrowserUA {
				t.Errorf("the shop saw User-Agent %q, want the visitor's", got)
			}
			if got := seen[0].Header.Get("Cookie"); strings.Contains(got, "se_vid=") {
				t.Errorf("the first request carried a visitor cookie: %q", got)
			}
			if got := seen[1].Header.Get("Cookie"); !strings.Contains(got, "se_vid="+c.Value) {
				t.Errorf("the second request reached the shop with Cookie %q, want se_vid=%s", got, c.Value)
			}
		})
	}
}

// TestDemoConfig: the demo configuration points at the given shop, listens
// on loopback with the operations listener off, and mutate runs last.
func TestDemoConfig(t *testing.T) {
	t.Parallel()
	cfg := proxytest.DemoConfig(t, "http://127.0.0.1:1", func(c *rules.Config) { c.Server.Listen = "127.0.0.1:2" })
	if cfg.Upstream.URL != "http://127.0.0.1:1" || cfg.Server.Listen != "127.0.0.1:2" || cfg.Admin.Listen != "" {
		t.Errorf("upstream %q, listen %q, admin %q", cfg.Upstream.URL, cfg.Server.Listen, cfg.Admin.Listen)
	}
}

// TestClock: Advance moves a Clock forward; Ticking moves a second a
// reading.
func TestClock(t *testing.T) {
	t.Parallel()
	var c proxytest.Clock
	before := time.Now()
	c.Advance(2 * time.Hour)
	if got := c.Now().Sub(before); got < 2*time.Hour || got > 2*time.Hour+time.Minute {
		t.Errorf("advanced by 2h, the clock is %v ahead", got)
	}
	tick := proxytest.Ticking()
	a, b := tick(), tick()
	if d := b.Sub(a); d != time.Second {
		t.Errorf("ticking moved %v between readings, want 1s", d)
	}
}
