package shop

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
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

// TestOrderJSONLD places an order of a real cart and reads the
// confirmation page's schema.org Order JSON-LD: its number, total (what
// the cart cost), currency and lines.
func TestOrderJSONLD(t *testing.T) {
	t.Parallel()
	s := New(1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	var bought []*Product
	for _, q := range s.Catalog.Products {
		if q.InStock {
			bought = append(bought, q)
		}
		if len(bought) == 2 {
			break
		}
	}
	qty := map[string]int{bought[0].SKU: 2, bought[1].SKU: 1}
	var want float64
	for _, p := range bought {
		resp, err := c.PostForm(srv.URL+"/cart/add", url.Values{"sku": {p.SKU}, "qty": {strconv.Itoa(qty[p.SKU])}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want += float64(qty[p.SKU]) * p.Price
	}
	want = math.Round(want*100) / 100
	resp, err := c.PostForm(srv.URL+"/checkout/place", url.Values{"first": {"A"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	number := resp.Request.URL.Query().Get("order")
	lds := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindAllStringSubmatch(string(b), -1)
	if len(lds) != 1 {
		t.Fatalf("confirmation page has %d JSON-LD blocks, want 1", len(lds))
	}
	var ld struct {
		Type            string `json:"@type"`
		OrderNumber     string `json:"orderNumber"`
		OrderStatus     string `json:"orderStatus"`
		Price           string `json:"price"`
		PriceCurrency   string `json:"priceCurrency"`
		TotalPaymentDue struct {
			Price         string `json:"price"`
			PriceCurrency string `json:"priceCurrency"`
		} `json:"totalPaymentDue"`
		AcceptedOffer []struct {
			ItemOffered struct {
				SKU  string `json:"sku"`
				Name string `json:"name"`
			} `json:"itemOffered"`
			Price            string `json:"price"`
			EligibleQuantity struct {
				Value int `json:"value"`
			} `json:"eligibleQuantity"`
		} `json:"acceptedOffer"`
		OrderedItem []struct {
			Type          string `json:"@type"`
			OrderQuantity int    `json:"orderQuantity"`
			OrderedItem   struct {
				SKU string `json:"sku"`
			} `json:"orderedItem"`
		} `json:"orderedItem"`
	}
	if err := json.Unmarshal([]byte(lds[0][1]), &ld); err != nil {
		t.Fatalf("Order JSON-LD does not parse: %v", err)
	}
	wantTotal := strconv.FormatFloat(want, 'f', 2, 64)
	for _, c := range []struct{ name, got, want string }{
		{"@type", ld.Type, "Order"},
		{"orderNumber", ld.OrderNumber, number},
		{"orderStatus", ld.OrderStatus, "https://schema.org/OrderProcessing"},
		{"price", ld.Price, wantTotal},
		{"priceCurrency", ld.PriceCurrency, "EUR"},
		{"totalPaymentDue.price", ld.TotalPaymentDue.Price, wantTotal},
		{"totalPaymentDue.priceCurrency", ld.TotalPaymentDue.PriceCurrency, "EUR"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(ld.AcceptedOffer) != len(bought) || len(ld.OrderedItem) != len(bought) {
		t.Fatalf("got %d offers and %d items, want %d of each", len(ld.AcceptedOffer), len(ld.OrderedItem), len(bought))
	}
	var sum float64
	for i, o := range ld.AcceptedOffer {
		p := s.Catalog.BySKU[o.ItemOffered.SKU]
		if p == nil || o.ItemOffered.Name != p.Name || o.Price != p.PriceText() || o.EligibleQuantity.Value != qty[p.SKU] {
			t.Errorf("acceptedOffer[%d] = %+v, not a line of the cart", i, o)
			continue
		}
		price, err := strconv.ParseFloat(o.Price, 64)
		if err != nil {
			t.Errorf("acceptedOffer[%d].price %q: %v", i, o.Price, err)
		}
		sum += price * float64(o.EligibleQuantity.Value)
		if it := ld.OrderedItem[i]; it.Type != "OrderItem" || it.OrderedItem.SKU != p.SKU || it.OrderQuantity != qty[p.SKU] {
			t.Errorf("orderedItem[%d] = %+v, want %s × %d", i, it, p.SKU, qty[p.SKU])
		}
	}
	if got := strconv.FormatFloat(math.Round(sum*100)/100, 'f', 2, 64); got != wantTotal {
		t.Errorf("lines add up to %s, want the total %s", got, wantTotal)
	}
	if o, ok := s.Order(number); !ok || o.Total != want || o.Items() != 3 {
		t.Errorf("Order(%q) = %+v, %v; want a total of %v and 3 items", number, o, ok, want)
	}
	if !strings.Contains(string(b), `<strong class="order-total">&euro;`+wantTotal+`</strong>`) {
		t.Errorf("confirmation page does not show the total %s", wantTotal)
	}
	_, unknown := get(t, c, srv.URL+"/checkout/thank-you?order=NW1")
	if strings.Contains(unknown, "application/ld+json") || !strings.Contains(unknown, "Thank you for your order") {
		t.Errorf("confirmation of an unknown order: want the thanks without JSON-LD")
	}
}

// TestProductRatings: many products, not all, carry a schema.org
// aggregateRating in their JSON-LD, with a value from 1 to 5 and a count
// of reviews the page also shows; the others show no rating and their
// JSON-LD gives none. The same seed gives the same ratings.
func TestProductRatings(t *testing.T) {
	t.Parallel()
	s := New(1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	ldRe := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
	rated := 0
	for _, p := range s.Catalog.Products {
		_, body := get(t, srv.Client(), srv.URL+p.URL())
		var rating map[string]any
		for _, m := range ldRe.FindAllStringSubmatch(body, -1) {
			var ld map[string]any
			if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
				t.Fatalf("%s: JSON-LD: %v", p.SKU, err)
			}
			if ld["@type"] == "Product" {
				rating, _ = ld["aggregateRating"].(map[string]any)
			}
		}
		if rating == nil {
			if !strings.Contains(body, "No reviews yet") {
				t.Errorf("%s: no aggregateRating, and the page does not say it has no reviews", p.SKU)
			}
			continue
		}
		rated++
		value, _ := rating["ratingValue"].(float64)
		count, _ := rating["reviewCount"].(float64)
		if value < 1 || value > 5 || count < 1 || count != math.Trunc(count) {
			t.Errorf("%s: rating %v of %v reviews, want 1 to 5 of a positive whole number", p.SKU, rating["ratingValue"], rating["reviewCount"])
		}
		if shown := "&#9733; " + strconv.FormatFloat(value, 'f', -1, 64) + " &middot; " + strconv.Itoa(int(count)) + " reviews"; !strings.Contains(body, shown) &&
			!strings.Contains(body, strings.ReplaceAll(strings.ReplaceAll(shown, "&#9733;", "★"), "&middot;", "·")) {
			t.Errorf("%s: the page does not show %q", p.SKU, shown)
		}
	}
	n := len(s.Catalog.Products)
	if rated < n/2 || rated > n*9/10 {
		t.Errorf("%d of %d products rated, want many but not all", rated, n)
	}
	again := New(1)
	for i, p := range s.Catalog.Products {
		if q := again.Catalog.Products[i]; q.Rating != p.Rating || q.Reviews != p.Reviews {
			t.Fatalf("%s: rating %v (%d) then %v (%d) from the same seed", p.SKU, p.Rating, p.Reviews, q.Rating, q.Reviews)
		}
	}
	t.Logf("%d of %d products rated", rated, n)
}
