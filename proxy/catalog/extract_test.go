package catalog

import (
	"math"
	"testing"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page Page
		want Product
		ok   bool
	}{
		{
			name: "product and breadcrumbs",
			page: Page{URL: "https://shop.example/p/red-shoe", JSONLD: [][]byte{[]byte(`{
				"@context":"https://schema.org","@type":"Product","name":"Red Shoe","sku":"RS-1",
				"image":["/img/rs.jpg"],"brand":{"@type":"Brand","name":"Acme"},
				"offers":{"@type":"Offer","price":"59.90","priceCurrency":"EUR","availability":"https://schema.org/InStock"}}`),
				[]byte(`{"@context":"https://schema.org","@type":"BreadcrumbList","itemListElement":[
				{"@type":"ListItem","position":1,"name":"Home","item":"https://shop.example/"},
				{"@type":"ListItem","position":3,"name":"Sneakers","item":"https://shop.example/c/shoes/sneakers/"},
				{"@type":"ListItem","position":2,"name":"Shoes","item":{"@id":"/c/shoes","name":"Shoes"}},
				{"@type":"ListItem","position":4,"name":"Red Shoe"}]}`)}},
			want: Product{Key: "RS-1", SKU: "RS-1", Name: "Red Shoe", URL: "https://shop.example/p/red-shoe",
				Image: "https://shop.example/img/rs.jpg", Price: 59.90, Currency: "EUR", Availability: InStock, Brand: "Acme",
				Categories: []Category{NewCategory("Shoes", "/c/shoes"), NewCategory("Sneakers", "/c/shoes/sneakers")}},
			ok: true,
		},
		{
			name: "graph, aggregate offer, type list",
			page: Page{URL: "https://shop.example/p/x", JSONLD: [][]byte{[]byte(`{"@graph":[{"@type":"WebPage"},
				{"@type":["Product","Thing"],"name":"X","offers":{"@type":"AggregateOffer","lowPrice":12,"priceCurrency":"USD","offers":[{"availability":"OutOfStock"}]}}]}`)}},
			want: Product{Key: "/p/x", Name: "X", URL: "https://shop.example/p/x", Price: 12, Currency: "USD", Availability: OutOfStock},
			ok:   true,
		},
		{
			name: "malformed block skipped, control characters forgiven",
			page: Page{URL: "https://shop.example/p/y", JSONLD: [][]byte{[]byte(`{"@type":"Product",`),
				[]byte("<!-- {\"@type\":\"Product\",\"name\":\"Multi\nline\",\"sku\":\"Y\"} -->")}},
			want: Product{Key: "Y", SKU: "Y", Name: "Multi line", URL: "https://shop.example/p/y"},
			ok:   true,
		},
		{
			name: "OpenGraph fallback",
			page: Page{URL: "https://shop.example/p/z", AssetHosts: []string{"cdn.example"}, Meta: []Meta{{"og:type", "product"}, {"og:title", "Zed"},
				{"og:image", "https://cdn.example/z.png"}, {"product:price:amount", "1.299,00"}, {"product:price:currency", "EUR"},
				{"product:availability", "out of stock"}}},
			want: Product{Key: "/p/z", Name: "Zed", URL: "https://shop.example/p/z", Image: "https://cdn.example/z.png",
				Price: 1299, Currency: "EUR", Availability: OutOfStock},
			ok: true,
		},
		{
			name: "OpenGraph completes JSON-LD",
			page: Page{URL: "https://shop.example/p/w", JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"W","sku":"W1"}`)},
				Meta: []Meta{{"og:image", "/w.jpg"}, {"product:price:amount", "5"}}},
			want: Product{Key: "W1", SKU: "W1", Name: "W", URL: "https://shop.example/p/w", Image: "https://shop.example/w.jpg", Price: 5},
			ok:   true,
		},
		{name: "article is not a product", page: Page{URL: "https://shop.example/blog", Meta: []Meta{{"og:type", "article"}, {"og:title", "News"}}}},
		{name: "javascript image refused", page: Page{URL: "https://shop.example/p/j", JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"J","image":"javascript:alert(1)"}`)}},
			want: Product{Key: "/p/j", Name: "J", URL: "https://shop.example/p/j"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Extract(tt.page)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			tt.want.ID = KeyOf(tt.want.Key)
			got.aliases = nil
			if !sameProduct(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func sameProduct(a, b Product) bool {
	if a.ID != b.ID || a.Key != b.Key || a.SKU != b.SKU || a.GTIN != b.GTIN || a.Name != b.Name || a.URL != b.URL || a.Image != b.Image ||
		math.Abs(a.Price-b.Price) > 1e-9 || a.Currency != b.Currency || a.Availability != b.Availability ||
		a.Brand != b.Brand || len(a.Categories) != len(b.Categories) {
		return false
	}
	for i := range a.Categories {
		if a.Categories[i] != b.Categories[i] {
			return false
		}
	}
	return true
}

func TestParsePrice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"59.90", 59.90, true}, {"1,299.00", 1299, true}, {"1.299,00", 1299, true}, {"19,90", 19.90, true},
		{"€ 19,90", 19.90, true}, {"1,299", 1299, true}, {"1.299.000", 1299000, true}, {"$87.11", 87.11, true},
		{"free", 0, false}, {"", 0, false}, {"10.75 - 11.95", 10.75, true}, {"from 9", 9, true},
	}
	for _, tt := range tests {
		got, ok := ParsePrice(tt.in)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("ParsePrice(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPathKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://shop.example/c/shoes/": "/c/shoes", "/c/shoes?page=2#top": "/c/shoes", "/": "/",
		"https://shop.example": "/", "#menu": "", "mailto:a@b": "", "": "", "/c/Caf%C3%A9": "/c/Caf%C3%A9",
	}
	for in, want := range tests {
		if got := PathKey(in); got != want {
			t.Errorf("PathKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalogBoundAndResolve(t *testing.T) {
	t.Parallel()
	c := New(3)
	for i, sku := range []string{"a", "b", "c", "d", "e"} {
		p := Product{Key: sku, SKU: sku, Name: sku, URL: "https://s/p/" + sku, aliases: []string{"pid-" + sku}}
		p.ID = KeyOf(p.Key)
		c.Put(p, timeAt(i))
	}
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	if _, ok := c.Get(KeyOf("e")); !ok {
		t.Errorf("newest product was evicted")
	}
	for _, ident := range []string{"e", "pid-e", "/p/e", "https://s/p/e"} {
		if id, ok := c.Resolve(ident); !ok || id != KeyOf("e") {
			t.Errorf("Resolve(%q) = %v, %v", ident, id, ok)
		}
	}
	if _, ok := c.Resolve("nope"); ok {
		t.Errorf("Resolve(nope) found something")
	}
	for _, key := range []string{"e", "/p/e", "pid-e"} {
		if id, ok := c.ResolveKey(KeyOf(key)); !ok || id != KeyOf("e") {
			t.Errorf("ResolveKey(KeyOf(%q)) = %v, %v", key, id, ok)
		}
	}
}

func TestFacts(t *testing.T) {
	t.Parallel()
	c := New(10)
	shoes, boots := NewCategory("Shoes", "/c/shoes"), NewCategory("Boots", "/c/shoes/boots")
	c.Put(Product{ID: 1, Key: "1", Price: 80, Categories: []Category{shoes, boots}}, timeAt(0))
	c.Put(Product{ID: 2, Key: "2", Price: 20, Availability: OutOfStock}, timeAt(0))
	cats, price, inStock, ok := c.Facts(1, nil)
	if !ok || price != 80 || !inStock || len(cats) != 2 || cats[0] != shoes.ID || cats[1] != boots.ID {
		t.Errorf("Facts(1) = %v, %v, %v, %v", cats, price, inStock, ok)
	}
	if _, _, inStock, ok := c.Facts(2, nil); !ok || inStock {
		t.Errorf("Facts(2): in stock %v, found %v; want out of stock", inStock, ok)
	}
	if _, _, _, ok := c.Facts(3, nil); ok {
		t.Errorf("Facts(3) found an unknown product")
	}
}
