package shop

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestPages(t *testing.T) {
	t.Parallel()
	s := New(1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	if n := len(s.Catalog.Products); n < 200 || n > 600 {
		t.Errorf("catalog has %d products, want a few hundred", n)
	}
	p := s.Catalog.Products[0]
	cases := []struct {
		path, want string
		minSize    int
	}{
		{"/", `<ul class="nav-menu">`, 20000},
		{"/c/women", `<h1>Women</h1>`, 20000},
		{"/c/shoes/boots", `<h1>Boots</h1>`, 15000},
		{p.URL(), `"@type":"Product"`, 15000},
		{"/search?q=jacket", `Results for`, 15000},
		{"/cart", `Your cart`, 10000},
		{"/nope", `Page not found`, 5000},
		{p.URL() + "?reviews=all", `Review 2300:`, 380000},
	}
	for _, c := range cases {
		resp, body := get(t, srv.Client(), srv.URL+c.path)
		if !strings.Contains(body, c.want) {
			t.Errorf("%s: body lacks %q", c.path, c.want)
		}
		if len(body) < c.minSize {
			t.Errorf("%s: %d bytes, want at least %d", c.path, len(body), c.minSize)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
	}
	_, home := get(t, srv.Client(), srv.URL+"/")
	if n := strings.Count(home, `<li class="nav-item`); n < 8 {
		t.Errorf("home has %d nav items, want at least 8", n)
	}
	if n := strings.Count(home, `<ul class="nav-sub">`); n < 2 {
		t.Errorf("home has %d submenus, want at least 2", n)
	}
	_, prod := get(t, srv.Client(), srv.URL+p.URL())
	for _, m := range regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindAllStringSubmatch(prod, -1) {
		var v map[string]any
		if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
			t.Errorf("JSON-LD does not parse: %v", err)
		}
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(New(1))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/c/men", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !strings.Contains(string(b), "<h1>Men</h1>") {
		t.Errorf("gzip body is not the page")
	}
}

func TestCartFlow(t *testing.T) {
	t.Parallel()
	s := New(1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	var p *Product
	for _, q := range s.Catalog.Products {
		if q.InStock {
			p = q
			break
		}
	}
	resp, err := c.PostForm(srv.URL+"/cart/add", url.Values{"sku": {p.SKU}, "qty": {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/cart" || !strings.Contains(string(b), p.Name) {
		t.Fatalf("after add: at %s, cart lists product: %v", resp.Request.URL.Path, strings.Contains(string(b), p.Name))
	}
	resp, err = c.PostForm(srv.URL+"/checkout/place", url.Values{"first": {"A"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/checkout/thank-you" || !strings.Contains(string(b), "Thank you for your order") {
		t.Fatalf("after order: at %s", resp.Request.URL.Path)
	}
	_, cart := get(t, c, srv.URL+"/cart")
	if !strings.Contains(cart, "Your cart is empty") {
		t.Errorf("cart not emptied by the order")
	}
}
