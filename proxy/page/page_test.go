package page

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"shopedge/bench/shop"
	"shopedge/configs"
	"shopedge/proxy/codec"
	"shopedge/rewrite"
	"shopedge/rules"
)

// fetch returns the body of a page of the demo shop.
func fetch(tb testing.TB, url string) []byte {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// demoConfig is the demo shop's configuration.
func demoConfig(tb testing.TB) *rules.Compiled {
	tb.Helper()
	cfg, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// withHosts is cfg with server.hosts and catalog.asset_hosts set.
func withHosts(tb testing.TB, cfg *rules.Compiled, hosts, assets []string) *rules.Compiled {
	tb.Helper()
	settings := *cfg.Config
	settings.Server.Hosts, settings.Catalog.AssetHosts = hosts, assets
	c, err := rules.Compile(&settings)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestBreadcrumbMarks: which lists are breadcrumb trails, by the marks
// shops put on them.
func TestBreadcrumbMarks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, page string
		want       bool
	}{
		{name: "microdata", page: `<ol itemscope itemtype="https://schema.org/BreadcrumbList"><li class=x><a href="/">Home</a><li class=x><a href="/c/a">A</a></ol>`, want: true},
		{name: "data-vocabulary", page: `<div><ul><li class=x itemscope itemtype="http://data-vocabulary.org/Breadcrumb"><a href="/">Home</a></li><li class=x itemscope itemtype="http://data-vocabulary.org/Breadcrumb"><a href="/c/a">A</a></li></ul></div>`, want: true},
		{name: "rdfa", page: `<ol vocab="https://schema.org/" typeof="BreadcrumbList"><li class=x><a href="/">Home</a></li><li class=x><a href="/c/a">A</a></li></ol>`, want: true},
		{name: "nav aria-label", page: `<nav aria-label="Breadcrumb"><ol><li class=x><a href="/">Home</a></li><li class=x><a href="/c/a">A</a></li></ol></nav>`, want: true},
		{name: "german aria-label", page: `<nav aria-label="Brotkrümelnavigation"><ol><li class=x><a href="/">Start</a></li><li class=x><a href="/c/a">A</a></li></ol></nav>`, want: true},
		{name: "bootstrap classes", page: `<ol class="breadcrumb"><li class="x breadcrumb-item"><a href="/">Home</a></li><li class="x breadcrumb-item"><a href="/c/a">A</a></li></ol>`, want: true},
		{name: "wrapper id", page: `<div id="Breadcrumbs"><div class="inner"><ul><li class=x><a href="/">Home</a></li><li class=x><a href="/c/a">A</a></li></ul></div></div>`, want: true},
		{name: "main menu", page: `<nav aria-label="Main"><ul class="menu"><li class=x><a href="/c/a">A</a></li><li class=x><a href="/c/b">B</a></li></ul></nav>`},
		{name: "a page layout class is not a mark", page: `<div class="layout has-breadcrumbs"><header><nav class="main"><ul><li class=x><a href="/c/a">A</a></li><li class=x><a href="/c/b">B</a></li></ul></nav></header></div>`},
		{name: "far above", page: `<div class="crumbs-and-menu"><div><div><div><div><ul><li class=x><a href="/c/a">A</a></li><li class=x><a href="/c/b">B</a></li></ul></div></div></div></div></div>`},
	}
	item, err := rules.CompileSelector("li.x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := rewrite.Parse([]byte("<!DOCTYPE html><html><head></head><body>" + tt.page + "</body></html>"))
			defer doc.Release()
			items := doc.Find(item)
			if len(items) != 2 {
				t.Fatalf("found %d entries, want 2", len(items))
			}
			if got := breadcrumb(items); got != tt.want {
				t.Errorf("breadcrumb = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAnalyzeHostsCostNothing: the hosts a product's image may be on
// (server.hosts, catalog.asset_hosts) are listed once per configuration
// (rules.Compiled.AssetHosts): analysing a product page allocates no more with them configured than
// without (issue 9).
func TestAnalyzeHostsCostNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under the race detector")
	}
	srv := httptest.NewServer(shop.New(1))
	defer srv.Close()
	body := fetch(t, srv.URL+"/p/essential-grey-slip-dress-se-10001")
	cfg := demoConfig(t)
	allocs := func(cfg *rules.Compiled) float64 {
		in := Input{
			Config: cfg, Type: rules.PageProduct, Raw: body, Encoding: codec.Identity,
			ContentType: []byte("text/html; charset=utf-8"), URL: "http://shop.example/p/essential-grey-slip-dress-se-10001",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		return testing.AllocsPerRun(20, func() {
			a, err := Analyze(in)
			if err != nil || !a.HasProduct {
				t.Fatalf("analyze: %v, product found: %v", err, a != nil && a.HasProduct)
			}
		})
	}
	without := allocs(cfg)
	with := allocs(withHosts(t, cfg, []string{"shop.example", "www.shop.example"}, []string{"cdn.shop.example"}))
	if with != without {
		t.Errorf("analysing a product page: %v allocations with hosts configured, %v without; want the same", with, without)
	}
}

// TestProductLocal: the product a page describes keeps its address, and
// an image on the host the page was read for, as paths on the shop (a
// shop that echoes the Host header in absolute URLs must not put a
// visitor's Host in the catalog); an image on an asset host keeps its
// URL.
func TestProductLocal(t *testing.T) {
	t.Parallel()
	cfg := withHosts(t, demoConfig(t), nil, []string{"cdn.example"})
	for _, tt := range []struct {
		name, url, image, wantImage string
	}{
		{"image on the page's host", "http://evil.example/p/boots", "http://evil.example/img/boots.jpg", "/img/boots.jpg"},
		{"image on an asset host", "http://shop.example/p/boots", "https://cdn.example/img/boots.jpg", "https://cdn.example/img/boots.jpg"},
		{"image as a path", "http://shop.example/p/boots", "/img/boots.jpg", "/img/boots.jpg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `<!DOCTYPE html><html><head><title>Boots</title><script type="application/ld+json">` +
				`{"@context":"https://schema.org","@type":"Product","name":"Boots","sku":"B1","url":"` + tt.url + `","image":"` + tt.image + `",` +
				`"offers":{"@type":"Offer","price":"80.00","priceCurrency":"EUR","availability":"https://schema.org/InStock"}}` +
				`</script></head><body><main><h1>Boots</h1></main></body></html>`
			a, err := Analyze(Input{
				Config: cfg, Type: rules.PageProduct, Raw: []byte(body), Encoding: codec.Identity,
				ContentType: []byte("text/html; charset=utf-8"), URL: tt.url,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil || !a.HasProduct {
				t.Fatalf("analyze: %v, product found: %v", err, a != nil && a.HasProduct)
			}
			if a.Product.URL != "/p/boots" || a.Product.Image != tt.wantImage {
				t.Errorf("product URL %q, image %q; want /p/boots, %q", a.Product.URL, a.Product.Image, tt.wantImage)
			}
		})
	}
}
