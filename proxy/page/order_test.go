package page

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"shopedge/bench/shop"
	"shopedge/proxy/codec"
	"shopedge/rules"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, def string
		want          float64
		wantCur       string
		ok            bool
	}{
		{"plain", "1234.5", "", 1234.5, "", true},
		{"plain with default", "1234.5", "EUR", 1234.5, "EUR", true},
		{"german", "1.234,56 €", "", 1234.56, "EUR", true},
		{"us dollars", "$1,234.56", "", 1234.56, "USD", true},
		{"dollar is the default", "$1,234.56", "CAD", 1234.56, "CAD", true},
		{"us dollars by prefix", "US$ 1,234.56", "CAD", 1234.56, "USD", true},
		{"euro before", "€ 19,90", "", 19.9, "EUR", true},
		{"code after", "1 234,56 EUR", "", 1234.56, "EUR", true},
		{"no-break space", "1\u00a0234,56\u00a0€", "", 1234.56, "EUR", true},
		{"narrow no-break space", "1\u202f234,56 €", "", 1234.56, "EUR", true},
		{"swiss", "CHF 1'234.50", "", 1234.5, "CHF", true},
		{"swiss typographic", "CHF 1’234.50", "EUR", 1234.5, "CHF", true},
		{"indian", "₹1,23,456.00", "", 123456, "INR", true},
		{"pounds", "£87.11", "EUR", 87.11, "GBP", true},
		{"yen", "¥12,000", "", 12000, "JPY", true},
		{"thousands comma", "1,234", "", 1234, "", true},
		{"thousands dot", "1.234", "EUR", 1234, "EUR", true},
		{"three decimals", "KWD 1.234", "", 1.234, "KWD", true},
		{"millions", "1.234.567,89 €", "", 1234567.89, "EUR", true},
		{"millions comma", "1,234,567", "", 1234567, "", true},
		{"decimal comma", "12,5", "", 12.5, "", true},
		{"leading zero", "0.500", "", 0.5, "", true},
		{"zero", "0,00 €", "", 0, "EUR", true},
		{"in a sentence", "Total paid: €1.299,00 (incl. VAT)", "", 1299, "EUR", true},
		{"swiss dash", "CHF 12.–", "", 12, "CHF", true},
		{"zloty", "1 299,00 zł", "", 1299, "PLN", true},
		{"forint is a word", "Gift 100", "", 100, "", true},
		{"kronor", "499 kr", "", 499, "", true},
		{"kronor default", "499 kr", "SEK", 499, "SEK", true},
		{"lowercase word is no code", "all 12.00", "", 12, "", true},
		{"symbol elsewhere", "12,50 (€)", "", 12.5, "EUR", true},
		{"negative", "-12.50", "", 0, "", false},
		{"negative euro", "-€12.50", "", 0, "", false},
		{"minus sign", "− 12,50 €", "", 0, "", false},
		{"no number", "free", "", 0, "", false},
		{"empty", "", "EUR", 0, "", false},
		{"mixed grouping", "1.234,567.89", "", 0, "", false},
		{"bad groups", "12,34,5.00", "", 0, "", false},
		{"long first group", "12345,678.00", "", 0, "", false},
		{"space ends a number", "2 12,50", "", 2, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, cur, ok := ParseAmount(tt.in, tt.def)
			if ok != tt.ok || ok && (got != tt.want || cur != tt.wantCur) {
				t.Errorf("ParseAmount(%q, %q) = %v, %q, %v; want %v, %q, %v", tt.in, tt.def, got, cur, ok, tt.want, tt.wantCur, tt.ok)
			}
		})
	}
}

func TestOrderFromJSONLD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		blocks []string
		def    string
		want   Order
		ok     bool
	}{
		{
			// As Shopify's order-status apps and Google's order markup
			// print it: the Order's price, acceptedOffer lines.
			name: "shopify-like",
			blocks: []string{`{"@context":"http://schema.org","@type":"Order","merchant":{"@type":"Organization","name":"Shop"},
				"orderNumber":"#1042","priceCurrency":"USD","price":"129.90",
				"acceptedOffer":[{"@type":"Offer","itemOffered":{"@type":"Product","name":"Tee","sku":"T1"},"price":"29.95","priceCurrency":"USD","eligibleQuantity":{"@type":"QuantitativeValue","value":2}},
				{"@type":"Offer","itemOffered":{"@type":"Product","name":"Cap","sku":"C1"},"price":"70.00","priceCurrency":"USD","eligibleQuantity":{"@type":"QuantitativeValue","value":1}}],
				"orderStatus":"http://schema.org/OrderProcessing"}`},
			want: Order{Number: "#1042", Total: 129.9, Currency: "USD", Items: 3, Source: OrderJSONLD},
			ok:   true,
		},
		{
			// WooCommerce plugins: totalPaymentDue as a PriceSpecification,
			// orderedItem as OrderItems, numbers as numbers.
			name: "woocommerce-like",
			blocks: []string{`{"@context":"https://schema.org/","@type":"Order","orderNumber":5123,
				"totalPaymentDue":{"@type":"PriceSpecification","price":59.5,"priceCurrency":"EUR"},
				"orderedItem":[{"@type":"OrderItem","orderQuantity":3,"orderedItem":{"@type":"Product","name":"Mug","sku":"M1","offers":{"@type":"Offer","price":"19.83","priceCurrency":"EUR"}}}]}`},
			want: Order{Number: "5123", Total: 59.5, Currency: "EUR", Items: 3, Source: OrderJSONLD},
			ok:   true,
		},
		{
			// Magento extensions: an Invoice referencing the Order, the
			// total as a MonetaryAmount.
			name: "magento-like invoice",
			blocks: []string{`{"@context":"https://schema.org","@type":"Invoice","confirmationNumber":"INV-000000031",
				"totalPaymentDue":{"@type":"MonetaryAmount","value":"1.299,00","currency":"eur"},
				"referencesOrder":{"@type":"Order","orderNumber":"000000031","orderedItem":[{"@type":"OrderItem","orderQuantity":"2"},{"@type":"OrderItem"}]}}`},
			want: Order{Number: "000000031", Total: 1299, Currency: "EUR", Items: 3, Source: OrderJSONLD},
			ok:   true,
		},
		{
			name: "in @graph, after a WebPage",
			blocks: []string{`{"@context":"https://schema.org","@graph":[{"@type":"WebPage","name":"Thank you"},
				{"@type":["Order","Thing"],"orderNumber":"A-1","totalPaymentDue":42,"priceCurrency":"GBP"}]}`},
			want: Order{Number: "A-1", Total: 42, Currency: "GBP", Source: OrderJSONLD},
			ok:   true,
		},
		{
			name:   "a top-level array, schema: prefix",
			blocks: []string{`[{"@type":"BreadcrumbList"},{"@type":"schema:Order","orderNumber":"Z9","totalPaymentDue":{"price":"10.00","priceCurrency":"CHF"}}]`},
			want:   Order{Number: "Z9", Total: 10, Currency: "CHF", Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "the order in a WebPage's mainEntity, beside a product",
			blocks: []string{`{"@type":"Product","name":"Other"}`, `{"@type":"WebPage","mainEntity":{"@type":"Order","orderNumber":"W1","price":5,"priceCurrency":"EUR"}}`},
			want:   Order{Number: "W1", Total: 5, Currency: "EUR", Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "missing currency takes the default",
			blocks: []string{`{"@type":"Order","orderNumber":"N1","totalPaymentDue":{"@type":"PriceSpecification","price":"19.99"}}`},
			def:    "SEK",
			want:   Order{Number: "N1", Total: 19.99, Currency: "SEK", Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "missing currency, no default",
			blocks: []string{`{"@type":"Order","orderNumber":"N1","totalPaymentDue":"19.99"}`},
			want:   Order{Number: "N1", Total: 19.99, Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "currency written as a symbol",
			blocks: []string{`{"@type":"Order","price":"19.99","priceCurrency":"€"}`},
			want:   Order{Total: 19.99, Currency: "EUR", Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "total from the lines",
			blocks: []string{`{"@type":"Order","orderNumber":"L1","acceptedOffer":[{"@type":"Offer","price":"10.10","priceCurrency":"EUR","eligibleQuantity":3},{"@type":"Offer","priceSpecification":{"price":"0.70","priceCurrency":"EUR"}}]}`},
			want:   Order{Number: "L1", Total: 31, Currency: "EUR", Items: 4, Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "a line without a price: no total",
			blocks: []string{`{"@type":"Order","orderNumber":"L2","acceptedOffer":[{"@type":"Offer","price":"10.10"},{"@type":"Offer"}]}`},
			want:   Order{Number: "L2", Items: 2},
		},
		{
			name:   "wrapped in a comment, with a raw newline in a string",
			blocks: []string{"<!--\n{\"@type\":\"Order\",\"orderNumber\":\"C\n1\",\"price\":\"7.50\",\"priceCurrency\":\"usd\"};\n-->"},
			want:   Order{Number: "C 1", Total: 7.5, Currency: "USD", Source: OrderJSONLD},
			ok:     true,
		},
		{
			name:   "invalid JSON is skipped",
			blocks: []string{`{"@type":"Order","price":`, `{"@type":"Order","orderNumber":"OK","price":"1.00","priceCurrency":"EUR"}`},
			want:   Order{Number: "OK", Total: 1, Currency: "EUR", Source: OrderJSONLD},
			ok:     true,
		},
		{name: "only invalid JSON", blocks: []string{`{"@type":"Order",`}},
		{name: "no order", blocks: []string{`{"@type":"Product","name":"Boots","offers":{"price":"80.00"}}`}},
		{name: "negative total", blocks: []string{`{"@type":"Order","price":-5,"priceCurrency":"EUR"}`}},
		{name: "absurd total", blocks: []string{`{"@type":"Order","price":1e300}`}},
		{name: "text total that is no amount", blocks: []string{`{"@type":"Order","orderNumber":"X","totalPaymentDue":"see email"}`}, want: Order{Number: "X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var blocks [][]byte
			for _, b := range tt.blocks {
				blocks = append(blocks, []byte(b))
			}
			got, ok := OrderFromJSONLD(blocks, tt.def)
			if ok != tt.ok || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// purchaseConfig is the demo configuration with events.purchase set.
func purchaseConfig(tb testing.TB, p *rules.Purchase) *rules.Compiled {
	tb.Helper()
	settings := *demoConfig(tb).Config
	settings.Events.Purchase = p
	c, err := rules.Compile(&settings)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustSelector(tb testing.TB, s string) rules.Selector {
	tb.Helper()
	sel, err := rules.CompileSelector(s)
	if err != nil {
		tb.Fatal(err)
	}
	return sel
}

func mustRegexp(tb testing.TB, s string) rules.Regexp {
	tb.Helper()
	var re rules.Regexp
	var err error
	re.Regexp, err = regexp.Compile(s)
	if err != nil {
		tb.Fatal(err)
	}
	return re
}

// TestOrderFallback reads the total from the page's text with
// events.purchase, when the JSON-LD has none.
func TestOrderFallback(t *testing.T) {
	t.Parallel()
	const page = `<!DOCTYPE html><html><head><title>Thanks</title>%s</head><body>
<h1>Thank you!</h1><p class="num">Order 5521</p>
<div class="summary"><span>Subtotal 100,00 €</span><strong class="total">Total: 119,00&nbsp;€</strong></div>
<script>dataLayer.push({"event":"purchase","ecommerce":{"transaction_id":"5521","value":"119.00","currency":"EUR"}});</script>
</body></html>`
	withLD := `<script type="application/ld+json">{"@type":"Order","orderNumber":"5521","orderedItem":[{"@type":"OrderItem","orderQuantity":2}]}</script>`
	tests := []struct {
		name     string
		ld       string
		purchase *rules.Purchase
		want     Order
		ok       bool
	}{
		{"no fallback", "", nil, Order{}, false},
		{"selector", "", &rules.Purchase{Selector: mustSelector(t, ".summary .total")}, Order{Total: 119, Currency: "EUR", Source: OrderSelector}, true},
		{"selector and pattern", "", &rules.Purchase{Selector: mustSelector(t, ".summary"), Pattern: mustRegexp(t, `Total: ([0-9.,]+)`)},
			Order{Total: 119, Currency: "EUR", Source: OrderSelector}, true},
		{"pattern over the HTML", "", &rules.Purchase{Pattern: mustRegexp(t, `"value":\s*"?([0-9.,]+)`), Currency: "USD"},
			Order{Total: 119, Currency: "USD", Source: OrderPattern}, true},
		{"selector finds nothing", "", &rules.Purchase{Selector: mustSelector(t, ".grand-total")}, Order{}, false},
		{"pattern does not match", "", &rules.Purchase{Selector: mustSelector(t, ".summary"), Pattern: mustRegexp(t, `Grand total: ([0-9.,]+)`)}, Order{}, false},
		{"JSON-LD without a total: number and items kept", withLD, &rules.Purchase{Selector: mustSelector(t, ".total")},
			Order{Number: "5521", Total: 119, Currency: "EUR", Items: 2, Source: OrderSelector}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := purchaseConfig(t, tt.purchase)
			a, err := Analyze(Input{
				Config: cfg, Type: rules.PagePurchase, Raw: []byte(fmt.Sprintf(page, tt.ld)), Encoding: codec.Identity,
				ContentType: []byte("text/html; charset=utf-8"), URL: "https://shop.example/checkout/thank-you",
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.HasOrder != tt.ok || tt.ok && a.Order != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", a.Order, a.HasOrder, tt.want, tt.ok)
			}
		})
	}
}

// TestDemoShopOrder buys through the demo shop and analyses its real
// confirmation page, identity and gzip: the order read is the cart that
// was checked out. Other page types never read an order.
func TestDemoShopOrder(t *testing.T) {
	t.Parallel()
	s := shop.New(1)
	srv := httptest.NewServer(s)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	n := 0
	for _, p := range s.Catalog.Products {
		if !p.InStock {
			continue
		}
		resp, err := c.PostForm(srv.URL+"/cart/add", url.Values{"sku": {p.SKU}, "qty": {"2"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n++; n == 3 {
			break
		}
	}
	resp, err := c.PostForm(srv.URL+"/checkout/place", url.Values{"first": {"A"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	number := resp.Request.URL.Query().Get("order")
	placed, ok := s.Order(number)
	if !ok {
		t.Fatalf("the shop does not know order %q", number)
	}
	want := Order{Number: number, Total: placed.Total, Currency: "EUR", Items: 6, Source: OrderJSONLD}
	cfg := demoConfig(t)
	for _, enc := range []codec.Encoding{codec.Identity, codec.Gzip} {
		req, _ := http.NewRequest("GET", srv.URL+"/checkout/thank-you?order="+url.QueryEscape(number), nil)
		if enc == codec.Gzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, pt := range []rules.PageType{rules.PagePurchase, rules.PageCheckout} {
			a, err := Analyze(Input{
				Config: cfg, Type: pt, Raw: raw, Encoding: enc,
				ContentType: []byte(resp.Header.Get("Content-Type")), URL: srv.URL + "/checkout/thank-you",
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if pt != rules.PagePurchase {
				if a.HasOrder {
					t.Errorf("%v, %s page: read an order", enc, pt)
				}
				continue
			}
			if !a.HasOrder || a.Order != want {
				t.Errorf("%v: got %+v, %v; want %+v", enc, a.Order, a.HasOrder, want)
			}
		}
	}
	// The page's visible total, through the selector fallback, agrees
	// once the JSON-LD is gone; with it, the JSON-LD wins.
	cfg = purchaseConfig(t, &rules.Purchase{Selector: mustSelector(t, ".order-summary .order-total")})
	raw := fetch(t, srv.URL+"/checkout/thank-you?order="+url.QueryEscape(number))
	noLD := regexp.MustCompile(`<script type="application/ld\+json">.*?</script>`).ReplaceAll(raw, nil)
	for _, tt := range []struct {
		name string
		raw  []byte
		src  OrderSource
	}{{"with JSON-LD", raw, OrderJSONLD}, {"without", noLD, OrderSelector}} {
		a, err := Analyze(Input{Config: cfg, Type: rules.PagePurchase, Raw: tt.raw, Encoding: codec.Identity,
			ContentType: []byte("text/html; charset=utf-8"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if !a.HasOrder || a.Order.Total != placed.Total || a.Order.Currency != "EUR" || a.Order.Source != tt.src {
			t.Errorf("%s: got %+v, %v; want %v EUR from %v", tt.name, a.Order, a.HasOrder, placed.Total, tt.src)
		}
	}
}

func TestOrderSourceString(t *testing.T) {
	t.Parallel()
	for s, want := range map[OrderSource]string{OrderNone: "none", OrderJSONLD: "jsonld", OrderSelector: "selector", OrderPattern: "pattern", 9: "source(9)"} {
		if got := s.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// FuzzOrderFromJSONLD: any JSON-LD reads without a panic, and an order
// read is one the proxy may count: a total in bounds, an ISO 4217
// currency or none, a short printable number.
func FuzzOrderFromJSONLD(f *testing.F) {
	for _, s := range []string{
		`{"@type":"Order","orderNumber":"1","totalPaymentDue":{"@type":"PriceSpecification","price":"1.234,56","priceCurrency":"EUR"}}`,
		`{"@graph":[{"@type":"Invoice","referencesOrder":{"@type":"Order","acceptedOffer":[{"price":"2","eligibleQuantity":{"value":3}}]}}]}`,
		`[{"@type":"Order","price":1e308,"orderedItem":[{"@type":"OrderItem","orderQuantity":1e9}]}]`,
		`<!-- {"@type":"Order","price":"$1,000.00","orderNumber":{"value":"\u0000x"}} -->`,
		`{"@type":["Order"],"totalPaymentDue":[[[{"value":{"@value":"5"}}]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, ok := OrderFromJSONLD([][]byte{b}, "EUR")
		if ok && (o.Total < 0 || o.Total > maxTotal || o.Total != o.Total || o.Source != OrderJSONLD) {
			t.Errorf("total %v from %v", o.Total, o.Source)
		}
		if o.Currency != "" && !rules.IsCurrency(o.Currency) {
			t.Errorf("currency %q", o.Currency)
		}
		if len(o.Number) > maxOrderNumber || !utf8.ValidString(o.Number) || strings.ContainsFunc(o.Number, unicode.IsControl) {
			t.Errorf("number %q", o.Number)
		}
		if o.Items < 0 || o.Items > maxItems {
			t.Errorf("items %d", o.Items)
		}
	})
}

// FuzzParseAmount: any text reads without a panic, to a finite amount
// that is not negative and an ISO 4217 currency or none.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.234,56 €", "$1,234.56", "CHF 1'234.50", "₹1,23,456.00", "-5", "1\u00a0234,56", "KWD 1.234", "0.500", "9" + strings.Repeat("9", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, cur, ok := ParseAmount(s, "")
		if ok && (v < 0 || v != v || v > 1e308) {
			t.Errorf("ParseAmount(%q) = %v", s, v)
		}
		if cur != "" && !rules.IsCurrency(cur) {
			t.Errorf("ParseAmount(%q): currency %q", s, cur)
		}
	})
}

// TestCurrencySymbols: every symbol stands for a currency IsCurrency
// knows (or, shared, for none).
func TestCurrencySymbols(t *testing.T) {
	t.Parallel()
	for _, c := range currencySymbols {
		if !rules.IsCurrency(c.code) && (c.code != "" || !c.shared) {
			t.Errorf("symbol %q: code %q is not an ISO 4217 code", c.sym, c.code)
		}
	}
}

func ExampleParseAmount() {
	for _, s := range []string{"1.234,56 €", "$1,234.56", "CHF 1'234.50", "1234.5"} {
		v, cur, ok := ParseAmount(s, "")
		fmt.Println(v, cur, ok)
	}
	// Output:
	// 1234.56 EUR true
	// 1234.56 USD true
	// 1234.5 CHF true
	// 1234.5  true
}

func ExampleOrderFromJSONLD() {
	ld := `{"@context":"https://schema.org","@type":"Order","orderNumber":"NW100001",
		"totalPaymentDue":{"@type":"PriceSpecification","price":"89.97","priceCurrency":"EUR"},
		"acceptedOffer":[{"@type":"Offer","price":"29.99","eligibleQuantity":{"value":3}}]}`
	o, ok := OrderFromJSONLD([][]byte{[]byte(ld)}, "")
	fmt.Println(o.Number, o.Total, o.Currency, o.Items, o.Source, ok)
	// Output: NW100001 89.97 EUR 3 jsonld true
}
