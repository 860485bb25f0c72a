package proxytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"shopedge/bench/shop"
)

// ShopOptions change the demo shop a test runs.
type ShopOptions struct {
	// CSP makes every page carry a strict Content-Security-Policy with a
	// nonce (shop.Shop.CSP). Default: off.
	CSP bool
}

// Shop is the demo shop served on a loopback port for one test, stopped
// when the test ends. It remembers the requests that reached it.
type Shop struct {
	*shop.Shop
	// URL is the shop's base URL, http://127.0.0.1:port.
	URL string

	mu   sync.Mutex
	seen []Request
}

// Request is what of a request reached the shop.
type Request struct {
	Method string
	Host   string
	// URI is the request's path and query.
	URI    string
	Header http.Header
}

// StartShop serves the demo shop (catalog seed 1) on 127.0.0.1.
func StartShop(t testing.TB, o ShopOptions) *Shop {
	t.Helper()
	s := &Shop{Shop: shop.New(1)}
	s.CSP = o.CSP
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, Request{Method: r.Method, Host: r.Host, URI: r.URL.RequestURI(), Header: r.Header.Clone()})
		s.mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns the requests the shop has received, oldest first.
func (s *Shop) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Nav is the demo shop's own main menu: its top categories' paths, in
// order.
func Nav(s *shop.Shop) []string {
	var out []string
	for _, c := range s.Catalog.Top {
		out = append(out, c.URL())
	}
	return out
}

// ProductsIn returns the paths of the first n products of a demo shop's
// category, in the shop's order, in stock or not.
func ProductsIn(s *shop.Shop, slug string, n int) []string {
	var out []string
	for _, p := range s.Catalog.Categories[slug].Products {
		if len(out) < n {
			out = append(out, p.URL())
		}
	}
	return out
}

// Direct fetches url (a shop's page) the way a proxy would, with host as
// the Host header, and returns the body (decompressed when the shop
// compressed it: Go's transport asks for gzip).
func Direct(t testing.TB, url, host string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	req.Host = host
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("proxytest: GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("proxytest: GET %s: read body: %v", url, err)
	}
	return string(b)
}

var navLink = regexp.MustCompile(`<li class="nav-item[^"]*">\s*<a href="([^"]+)"`)

// NavOrder returns the hrefs of a demo shop page's main menu entries, in
// page order.
func NavOrder(body string) []string {
	var out []string
	for _, m := range navLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
