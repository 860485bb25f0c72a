package catalog

import (
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fields is what the issue 9 tests compare of a product.
type fields struct {
	Name, Currency, SKU, GTIN, Brand, URL, Image string
	Price                                        float64
	Availability                                 Availability
}

func fieldsOf(p Product) fields {
	return fields{Name: p.Name, Currency: p.Currency, SKU: p.SKU, GTIN: p.GTIN, Brand: p.Brand, URL: p.URL,
		Image: p.Image, Price: p.Price, Availability: p.Availability}
}

func compareFields(t *testing.T, got, want fields) {
	t.Helper()
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("%s: got %q, want %q", field, got, want)
		}
	}
	check("name", got.Name, want.Name)
	check("currency", got.Currency, want.Currency)
	check("sku", got.SKU, want.SKU)
	check("gtin", got.GTIN, want.GTIN)
	check("brand", got.Brand, want.Brand)
	check("url", got.URL, want.URL)
	check("image", got.Image, want.Image)
	check("availability", got.Availability.String(), want.Availability.String())
	if math.Abs(got.Price-want.Price) > 1e-9 {
		t.Errorf("price: got %v, want %v", got.Price, want.Price)
	}
}

// TestExtractIssue9Fixtures reads pages cut from the real page corpus
// (testdata/issue9): each is one of the ways issue 9 found products read
// wrong.
func TestExtractIssue9Fixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, url string
		hosts           []string
		want            fields
	}{
		{
			// The breadcrumb, seller, review and brand items inside the
			// Product have names of their own: the product's is the h1.
			name: "nested microdata items keep their names", file: "ebay-nested-microdata.html",
			url: "https://www.ebay.ie/itm/223820586800", hosts: []string{"i.ebayimg.com"},
			want: fields{Name: "Details about BILLIE EILISH Graffiti Print Hoodie", Price: 25, Currency: "EUR",
				Availability: InStock, Brand: "Fruit of the Loom", URL: "https://www.ebay.ie/itm/223820586800",
				Image: "https://i.ebayimg.com/images/g/rKMAAOSw4TVeB40o/s-l300.png"},
		},
		{
			// Sizes out of stock and in stock: in stock, at the lowest
			// price asked for a size in stock (62.95 is for sizes sold out).
			name: "in stock when any offer is", file: "zalando-offers-by-size.html",
			url: "https://www.zalando.ie/mustang-winter-boots-graphit-mu312m00l-c11.html",
			want: fields{Name: "Lace-up ankle boots - graphit", Price: 70.5, Currency: "EUR", Availability: InStock,
				SKU: "MU312M00L-C11", Brand: "Mustang", URL: "https://www.zalando.ie/mustang-winter-boots-graphit-mu312m00l-c11.html"},
		},
		{
			name: "one Product per size", file: "zara-product-per-size.html",
			url: "https://www.zara.com/be/en/flat-over-the-knee-boots-with-track-soles-p11002710.html",
			want: fields{Name: "FLAT OVER-THE-KNEE BOOTS WITH TRACK SOLES", Price: 69.95, Currency: "EUR", Availability: InStock,
				SKU: "84518927-040-35", Brand: "ZARA", URL: "https://www.zara.com/be/en/flat-over-the-knee-boots-with-track-soles-p11002710.html"},
		},
		{
			name: "entities decoded in names", file: "currys-entities.html",
			url: "https://www.currys.ie/ieen/computing/tablets/apple-11-ipad-pro-2020-512-gb-silver-10206131-pdt.html",
			want: fields{Name: `11" iPad Pro (2020) - 512 GB, Silver`, Price: 1149, Currency: "EUR", Availability: InStock,
				SKU: "10206131", Brand: "APPLE", URL: "https://www.currys.ie/ieen/computing/tablets/apple-11-ipad-pro-2020-512-gb-silver-10206131-pdt.html"},
		},
		{
			name: "price specification, GTIN, image on an allowed CDN", file: "jumbo-price-specification.html",
			url: "https://www.jumbo.ch/de/servietten-bunte-eier-28110", hosts: []string{"media.jumbo.ch"},
			want: fields{Name: "Servietten BUNTE EIER", Price: 2.25, Currency: "CHF", Availability: InStock, SKU: "1357247",
				GTIN: "4022664223553", URL: "https://www.jumbo.ch/de/servietten-bunte-eier-28110",
				Image: "https://media.jumbo.ch/4022664223553/ab01gra-servietten_bunte_eier-4022664223553-pdfds.jpg?v=8dbf4120717fd945262a8941da92afa7"},
		},
		{
			name: "image on a host not allowed is dropped", file: "jumbo-price-specification.html",
			url: "https://www.jumbo.ch/de/servietten-bunte-eier-28110",
			want: fields{Name: "Servietten BUNTE EIER", Price: 2.25, Currency: "CHF", Availability: InStock, SKU: "1357247",
				GTIN: "4022664223553", URL: "https://www.jumbo.ch/de/servietten-bunte-eier-28110"},
		},
		{
			name: "sale offer beside the regular one", file: "paris-two-offers.html",
			url: "https://www.paris.cl/cama-eloisa-single-1.5-plazas-set-2-cajones-cic-579695999.html",
			want: fields{Name: "Cama Eloísa Single 1.5 Plazas + Set 2 Cajones Cic", Price: 229990, Currency: "CLP",
				Availability: InStock, SKU: "579695999", Brand: "CIC",
				URL: "https://www.paris.cl/cama-eloisa-single-1.5-plazas-set-2-cajones-cic-579695999.html"},
		},
		{
			// The related Product's name and price are its own; the GTIN
			// is the text of a table cell.
			name: "microdata GTIN, nested related product", file: "leroymerlin-microdata.html",
			url: "https://www.leroymerlin.pl/p466383.html",
			want: fields{Name: "Panel tapicerowany Ciemnoniebieski 60 x 30 cm", Price: 32, Currency: "PLN", SKU: "45979556",
				GTIN: "5901885533094", URL: "https://www.leroymerlin.pl/p466383.html"},
		},
		{
			name: "NOT SOLD and $15", file: "usedvictoria-not-sold.html",
			url: "https://www.usedvictoria.com/classified-ad/Casio-FX-991ES-PLUS-C-Scientific-Calculator_36029524",
			want: fields{Name: "$15 · Casio FX-991ES PLUS C Scientific Calculator", Price: 15, Currency: "CAD", Availability: InStock,
				SKU: "36029524", URL: "https://www.usedvictoria.com/classified-ad/Casio-FX-991ES-PLUS-C-Scientific-Calculator_36029524"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join("testdata", "issue9", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			page := pageFromHTML(tt.url, src)
			page.AssetHosts = tt.hosts
			got, ok := Extract(page)
			if !ok {
				t.Fatalf("no product found")
			}
			compareFields(t, fieldsOf(got), tt.want)
		})
	}
}

// TestMicrodataBreadcrumbs: without a JSON-LD BreadcrumbList, the
// microdata one gives the category path (eBay's, cut from a real page;
// and one whose entries are items with an itemid).
func TestMicrodataBreadcrumbs(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("testdata", "issue9", "ebay-nested-microdata.html"))
	if err != nil {
		t.Fatal(err)
	}
	itemid := []byte(`<html><body><ol itemscope itemtype="https://schema.org/BreadcrumbList">
	<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><meta itemprop="position" content="2">
	  <a itemscope itemtype="https://schema.org/WebPage" itemprop="item" itemid="/c/shoes/boots" href="/c/shoes/boots"><span itemprop="name">Boots</span></a></li>
	<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><meta itemprop="position" content="1">
	  <a itemprop="item" href="/c/shoes"><span itemprop="name">Shoes &amp; more</span></a></li>
	<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><meta itemprop="position" content="0">
	  <a itemprop="item" href="/"><span itemprop="name">Home</span></a></li>
	</ol><div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Boot</h1></div></body></html>`)
	tests := []struct {
		name, url string
		src       []byte
		want      []Category
	}{
		{"eBay", "https://www.ebay.ie/itm/223820586800", src, []Category{
			NewCategory("Clothes, Shoes & Accessories", "/sch/Clothes-Shoes-Accessories-/11450/i.html"),
			NewCategory("Men", "/b/Mens-Clothing/1059/bn_1841409")}},
		{"items with itemid, out of order", "https://shop.example/p/boot", itemid, []Category{
			NewCategory("Shoes & more", "/c/shoes"), NewCategory("Boots", "/c/shoes/boots")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page := pageFromHTML(tt.url, tt.src)
			got, ok := Extract(page)
			if !ok {
				t.Fatal("no product")
			}
			if !slices.Equal(got.Categories, tt.want) {
				t.Errorf("got %+v, want %+v", got.Categories, tt.want)
			}
			if got.Sources.Of(FieldCategories) != SourceMicrodata {
				t.Errorf("categories from %q, want microdata", got.Sources.Of(FieldCategories))
			}
			if crumbs := Breadcrumbs(page); !slices.Equal(crumbs, tt.want) {
				t.Errorf("Breadcrumbs: got %+v, want %+v", crumbs, tt.want)
			}
		})
	}
}

// TestExtractIssue9RealPages checks the pages issue 9 names in the real
// page corpus, when it is there.
func TestExtractIssue9RealPages(t *testing.T) {
	pages := map[string]realPage{}
	for _, p := range loadRealPages(t) {
		pages[p.id[:8]] = p
	}
	tests := []struct {
		name, id string
		check    func(Product) string // "" when right, else what is wrong
	}{
		{"eBay: the name is the listing's, not a breadcrumb's", "9edbb126", func(p Product) string {
			if !strings.Contains(p.Name, "BILLIE EILISH Graffiti Print Hoodie") {
				return "name " + p.Name
			}
			return ""
		}},
		{"eBay UK: not the category", "359ca699", func(p Product) string {
			if p.Name == "Sporting Goods" || !strings.Contains(p.Name, "Pony Cart Harness") {
				return "name " + p.Name
			}
			return ""
		}},
		{"Zalando: sizes in stock", "c3ed0221", func(p Product) string {
			if p.Availability != InStock || p.Price != 70.5 {
				return "availability " + p.Availability.String()
			}
			return ""
		}},
		{"Zalando FI: sizes in stock", "f7df67b3", func(p Product) string {
			if !p.Recommendable() || p.Availability != InStock {
				return "availability " + p.Availability.String()
			}
			return ""
		}},
		{"Zara: a Product per size", "52ea2c66", func(p Product) string {
			if p.Availability != InStock {
				return "availability " + p.Availability.String()
			}
			return ""
		}},
		{"Currys: entity decoded", "9df72c4e", func(p Product) string {
			if p.Name != `11" iPad Pro (2020) - 512 GB, Silver` {
				return "name " + p.Name
			}
			return ""
		}},
		{"usedvictoria: NOT SOLD is for sale", "5579758b", func(p Product) string {
			if p.Availability != InStock {
				return "availability " + p.Availability.String()
			}
			return ""
		}},
		{"otto: the name is not variationId", "e1c58cf2", func(p Product) string {
			if p.Name == "variationId" || !strings.Contains(p.Name, "Hamilton") {
				return "name " + p.Name
			}
			return ""
		}},
		{"jumbo: GTIN-13", "e51c765c", func(p Product) string {
			if p.GTIN != "4022664223553" {
				return "gtin " + p.GTIN
			}
			return ""
		}},
		{"otto: brand object, GTIN", "040c3ea5", func(p Product) string {
			if p.Brand != "KÄRCHER" || p.GTIN != "4054278533728" {
				return "brand " + p.Brand + ", gtin " + p.GTIN
			}
			return ""
		}},
		{"Leroy Merlin: GTIN in microdata", "7a838a16", func(p Product) string {
			if p.GTIN != "5901885533094" || p.Price != 32 {
				return "gtin " + p.GTIN
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := pages[tt.id]
			if !ok {
				t.Skipf("page %s not in the corpus", tt.id)
			}
			prod, ok := Extract(pageFromHTML(p.url, p.src))
			if !ok {
				t.Fatalf("%s: no product", p.url)
			}
			if msg := tt.check(prod); msg != "" {
				t.Errorf("%s: got %s (%+v)", p.url, msg, fieldsOf(prod))
			}
		})
	}
}

func TestParseAvailability(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Availability
	}{
		{"https://schema.org/InStock", InStock}, {"http://schema.org/InStock", InStock}, {"schema.org/InStock", InStock},
		{"schema:InStock", InStock}, {"InStock", InStock}, {"instock", InStock}, {"in_stock", InStock},
		{"in stock", InStock}, {" In Stock ", InStock}, {"in-stock", InStock}, {"available", InStock},
		{"NOT SOLD", InStock}, {"http://schema.org/OutOfStock", OutOfStock}, {"out of stock", OutOfStock},
		{"oos", OutOfStock}, {"SoldOut", SoldOut}, {"sold out", SoldOut}, {"PreOrder", PreOrder},
		{"pre-order", PreOrder}, {"BackOrder", BackOrder}, {"https://schema.org/Discontinued", Discontinued},
		{"LimitedAvailability", LimitedAvailability}, {"OnlineOnly", OnlineOnly}, {"InStoreOnly", InStoreOnly},
		{"PreSale", PreSale}, {"MadeToOrder", MadeToOrder}, {"ÉPUISÉ", OutOfStock},
		{"", AvailabilityUnknown}, {"maybe", AvailabilityUnknown}, {"https://schema.org/", AvailabilityUnknown},
		{"Call for price", AvailabilityUnknown}, {strings.Repeat("x", 100), AvailabilityUnknown},
	}
	for _, tt := range tests {
		if got := ParseAvailability(tt.in); got != tt.want {
			t.Errorf("ParseAvailability(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAvailabilityOfferable(t *testing.T) {
	t.Parallel()
	offerable := map[Availability]bool{
		AvailabilityUnknown: true, InStock: true, LimitedAvailability: true, OnlineOnly: true, InStoreOnly: true,
		PreOrder: true, PreSale: true, BackOrder: true, MadeToOrder: true, Reserved: true,
		OutOfStock: false, SoldOut: false, Discontinued: false,
	}
	for a := range numAvailabilities {
		if got, want := a.Offerable(), offerable[a]; got != want {
			t.Errorf("%q.Offerable() = %v, want %v", a, got, want)
		}
	}
	if got := Better(OutOfStock, InStock); got != InStock {
		t.Errorf("Better(OutOfStock, InStock) = %q, want InStock", got)
	}
	if got := Better(AvailabilityUnknown, OutOfStock); got != OutOfStock {
		t.Errorf("Better(unknown, OutOfStock) = %q, want OutOfStock", got)
	}
}

func TestNormGTIN(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"4022664223553": "4022664223553", " 4022664223553 ": "4022664223553", "4 022664 223553": "4022664223553",
		"099482467999": "099482467999", "96385074": "96385074", "10614141000415": "10614141000415",
		"ean:4022664223553": "4022664223553", "https://id.gs1.org/01/09780345418913": "09780345418913",
		"978-0-552-17374-2": "9780552173742",
		"4022664223554":     "", "12345": "", "abc": "", "": "", "40226642235531234": "", "B07FW264WL": "",
	}
	for in, want := range tests {
		if got := normGTIN(in); got != want {
			t.Errorf("normGTIN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	t.Parallel()
	patterns := []string{"cdn.shop.com", "*.shopcdn.net"}
	tests := map[string]bool{
		"cdn.shop.com": true, "CDN.Shop.com": true, "cdn.shop.com.": true, "img.shopcdn.net": true, "a.b.shopcdn.net": true,
		"shopcdn.net": false, "evilshopcdn.net": false, "shop.com": false, "cdn.shop.com.evil.example": false, "": false,
	}
	for host, want := range tests {
		if got := HostAllowed(host, patterns); got != want {
			t.Errorf("HostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestExtractConfinesURLs: a product's image and URL are http(s) on the
// page's origin or an allowed host (issue 9: https://evil.example/pixel.png
// reached other visitors' pages).
func TestExtractConfinesURLs(t *testing.T) {
	t.Parallel()
	const page = "https://shop.example/p/1"
	tests := []struct {
		name, image, url string
		wantImage        string
		wantURL          string
	}{
		{"own origin", "/img/1.jpg", "https://shop.example/p/1?c=red", "https://shop.example/img/1.jpg", "https://shop.example/p/1?c=red"},
		{"own host over http", "http://shop.example/img/1.jpg", "", "http://shop.example/img/1.jpg", page},
		{"allowed CDN", "https://cdn.shop.com/1.jpg", "", "https://cdn.shop.com/1.jpg", page},
		{"allowed wildcard", "https://eu.shopcdn.net/1.jpg", "", "https://eu.shopcdn.net/1.jpg", page},
		{"other host", "https://evil.example/pixel.png", "https://evil.example/p/1", "", page},
		{"protocol-relative elsewhere", "//evil.example/pixel.png", "//evil.example/p", "", page},
		{"javascript", "javascript:alert(1)", "javascript:alert(1)", "", page},
		{"data", "data:image/png;base64,iVBORw0KGgo=", "data:text/html,<script>", "", page},
		{"userinfo", "https://shop.example@evil.example/x.png", "", "", page},
		{"backslash", `https:\\evil.example\x.png`, "", "", page},
		{"other port", "https://shop.example:8443/x.png", "", "", page},
		{"ftp", "ftp://shop.example/x.png", "", "", page},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ld := `{"@type":"Product","name":"One","image":` + quote(tt.image) + `,"url":` + quote(tt.url) + `}`
			got, ok := Extract(Page{URL: page, JSONLD: [][]byte{[]byte(ld)}, AssetHosts: []string{"cdn.shop.com", "*.shopcdn.net"}})
			if !ok {
				t.Fatal("no product")
			}
			if got.Image != tt.wantImage {
				t.Errorf("image: got %q, want %q", got.Image, tt.wantImage)
			}
			if got.URL != tt.wantURL {
				t.Errorf("url: got %q, want %q", got.URL, tt.wantURL)
			}
		})
	}
	// An image refused in JSON-LD leaves room for an allowed one in
	// OpenGraph.
	got, _ := Extract(Page{URL: page, JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"One","image":"https://evil.example/pixel.png"}`)},
		Meta: []Meta{{"og:image", "/og.jpg"}}})
	if want := "https://shop.example/og.jpg"; got.Image != want {
		t.Errorf("image: got %q, want %q", got.Image, want)
	}
	if got.Sources.Of(FieldImage) != SourceOpenGraph || got.Sources.Of(FieldURL) != SourcePage {
		t.Errorf("sources: image %q, url %q; want opengraph, page", got.Sources.Of(FieldImage), got.Sources.Of(FieldURL))
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestExtractOffers covers the ways JSON-LD gives a price and
// availability.
func TestExtractOffers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, offers string
		price        float64
		currency     string
		avail        Availability
	}{
		{"single offer, price as text", `{"price":"1.299,00","priceCurrency":"eur","availability":"InStock"}`, 1299, "EUR", InStock},
		{"price with symbol", `{"price":"$87.11","priceCurrency":"USD"}`, 87.11, "USD", AvailabilityUnknown},
		{"aggregate low price", `{"@type":"AggregateOffer","lowPrice":"352.00","highPrice":"376.45","priceCurrency":"BYN"}`, 352, "BYN", AvailabilityUnknown},
		{"aggregate with offers, one in stock", `{"@type":"AggregateOffer","lowPrice":10,"offers":[{"price":10,"availability":"OutOfStock"},{"price":12,"availability":"https://schema.org/InStock"}]}`, 12, "", InStock},
		{"all out of stock", `[{"price":5,"availability":"OutOfStock"},{"price":6,"availability":"SoldOut"}]`, 5, "", OutOfStock},
		{"list price and sale price", `{"priceSpecification":[{"@type":"UnitPriceSpecification","priceType":"https://schema.org/ListPrice","price":40,"priceCurrency":"EUR"},{"@type":"UnitPriceSpecification","price":29.9,"priceCurrency":"EUR"}]}`, 29.9, "EUR", AvailabilityUnknown},
		{"unit price is not the price", `{"priceSpecification":[{"@type":"UnitPriceSpecification","price":12.5,"referenceQuantity":{"value":1,"unitCode":"KGM"}},{"@type":"UnitPriceSpecification","price":3.75}],"priceCurrency":"EUR"}`, 3.75, "EUR", AvailabilityUnknown},
		{"pre-order", `{"price":"20","availability":"https://schema.org/PreOrder"}`, 20, "", PreOrder},
		{"unknown word", `{"price":"20","availability":"Ask us"}`, 20, "", AvailabilityUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ld := `{"@type":"Product","name":"P","offers":` + tt.offers + `}`
			got, ok := Extract(Page{URL: "https://shop.example/p", JSONLD: [][]byte{[]byte(ld)}})
			if !ok {
				t.Fatal("no product")
			}
			if math.Abs(got.Price-tt.price) > 1e-9 || got.Currency != tt.currency || got.Availability != tt.avail {
				t.Errorf("got %v %q %q, want %v %q %q", got.Price, got.Currency, got.Availability, tt.price, tt.currency, tt.avail)
			}
		})
	}
}

// TestExtractBrandAndGTIN covers the forms brand and GTIN take, in JSON-LD,
// microdata and OpenGraph.
func TestExtractBrandAndGTIN(t *testing.T) {
	t.Parallel()
	md := func(props ...Prop) *Item { return &Item{Type: "Product", Props: props} }
	tests := []struct {
		name        string
		page        Page
		brand, gtin string
	}{
		{"string", Page{JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"P","brand":"Acme &amp; Co","gtin13":"4022664223553"}`)}}, "Acme & Co", "4022664223553"},
		{"Brand object", Page{JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"P","brand":{"@type":"Brand","name":"Norton"},"gtin":"96385074"}`)}}, "Norton", "96385074"},
		{"Organization in a list", Page{JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"P","brand":[{"@type":"Organization","name":"GANT"}],"gtin14":"10614141000415"}`)}}, "GANT", "10614141000415"},
		{"brand as a URL is no name", Page{JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"P","brand":{"@id":"https://shop.example/#brand"},"manufacturer":"Maker"}`)}}, "Maker", ""},
		{"GTIN in the offer", Page{JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"P","offers":{"price":1,"gtin12":"099482467999"}}`)}}, "", "099482467999"},
		{"wrong check digit", Page{JSONLD: [][]byte{[]byte(`{"@type":"Product","name":"P","gtin13":"4022664223554"}`)}}, "", ""},
		{"microdata Brand item", Page{Microdata: md(Prop{Name: "name", Value: "P"}, Prop{Name: "brand", Item: &Item{Type: "Brand", Props: []Prop{{Name: "name", Value: "Bosch"}}}}, Prop{Name: "gtin8", Value: "96385074"})}, "Bosch", "96385074"},
		{"microdata brand text with a label", Page{Microdata: md(Prop{Name: "name", Value: "P"}, Prop{Name: "brand", Value: "Ver mais artigos da Marca: Panasonic"})}, "Panasonic", ""},
		{"microdata GTIN in the offer", Page{Microdata: md(Prop{Name: "name", Value: "P"}, Prop{Name: "offers", Item: &Item{Type: "Offer", Props: []Prop{{Name: "gtin13", Value: "5901885533094"}}}})}, "", "5901885533094"},
		{"OpenGraph", Page{Meta: []Meta{{"og:type", "product"}, {"og:title", "P"}, {"product:brand", "Eglo"}, {"product:ean", "4022664223553"}}}, "Eglo", "4022664223553"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.page.URL = "https://shop.example/p"
			got, ok := Extract(tt.page)
			if !ok {
				t.Fatal("no product")
			}
			if got.Brand != tt.brand || got.GTIN != tt.gtin {
				t.Errorf("got brand %q gtin %q, want %q %q", got.Brand, got.GTIN, tt.brand, tt.gtin)
			}
		})
	}
}

// TestExtractOpenGraphPrice: og:price:amount and product:price:amount,
// and a sale price below the price.
func TestExtractOpenGraphPrice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		meta  []Meta
		price float64
	}{
		{"og:price:amount", []Meta{{"og:price:amount", "11.99"}}, 11.99},
		{"product:price:amount", []Meta{{"product:price:amount", "1.299,00"}}, 1299},
		{"sale price", []Meta{{"product:price:amount", "36.49"}, {"product:sale_price:amount", "32.00"}}, 32},
		{"sale price above the price is not taken", []Meta{{"product:price:amount", "30"}, {"product:sale_price:amount", "32.00"}}, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			meta := append([]Meta{{"og:type", "product"}, {"og:title", "P"}}, tt.meta...)
			got, ok := Extract(Page{URL: "https://shop.example/p", Meta: meta})
			if !ok || math.Abs(got.Price-tt.price) > 1e-9 {
				t.Errorf("got %v (found %v), want %v", got.Price, ok, tt.price)
			}
		})
	}
}

// TestSources: each field says which markup it came from.
func TestSources(t *testing.T) {
	t.Parallel()
	page := Page{
		URL:       "https://shop.example/p/1",
		JSONLD:    [][]byte{[]byte(`{"@type":"Product","name":"One","sku":"S1"}`)},
		Microdata: &Item{Type: "Product", Props: []Prop{{Name: "name", Value: "Other"}, {Name: "offers", Item: &Item{Props: []Prop{{Name: "price", Value: "9"}, {Name: "priceCurrency", Value: "EUR"}}}}}},
		Meta:      []Meta{{"og:image", "/1.jpg"}, {"product:availability", "in stock"}},
	}
	got, ok := Extract(page)
	if !ok {
		t.Fatal("no product")
	}
	want := map[Field]Source{
		FieldName: SourceJSONLD, FieldSKU: SourceJSONLD, FieldPrice: SourceMicrodata, FieldCurrency: SourceMicrodata,
		FieldImage: SourceOpenGraph, FieldAvailability: SourceOpenGraph, FieldURL: SourcePage, FieldGTIN: SourceNone,
		FieldBrand: SourceNone, FieldCategories: SourceNone,
	}
	for f := range NumFields {
		if g := got.Sources.Of(f); g != want[f] {
			t.Errorf("source of %s: got %q, want %q", f, g, want[f])
		}
	}
	if got.Name != "One" || got.Price != 9 {
		t.Errorf("got name %q price %v, want One 9", got.Name, got.Price)
	}
}

// TestFromDocMicrodata: each property belongs to the nearest item around
// it; nested items are read as items of their own (issue 9).
func TestFromDocMicrodata(t *testing.T) {
	t.Parallel()
	src := []byte(`<!DOCTYPE html><html><head><title>Trail Shoe</title></head><body>
	<div itemscope itemtype="http://schema.org/WebPage">
	  <span itemprop="name">Shop of shoes</span>
	  <div itemprop="mainEntity" itemscope itemtype="https://schema.org/Product">
	    <ol itemprop="breadcrumb" itemscope itemtype="https://schema.org/BreadcrumbList">
	      <li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><span itemprop="name">Baby</span></li>
	    </ol>
	    <div itemscope itemtype="https://schema.org/Organization"><span itemprop="name">elkor.lv</span></div>
	    <h1 itemprop="http://schema.org/name headline">Trail Shoe &amp; Sock</h1>
	    <div itemprop="brand" itemscope itemtype="https://schema.org/Brand"><meta itemprop="name" content="Acme"></div>
	    <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
	      <meta itemprop="price" content="59.00"><meta itemprop="priceCurrency" content="EUR">
	      <link itemprop="availability" href="https://schema.org/OutOfStock"><span itemprop="name">Size 40</span>
	    </div>
	    <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
	      <meta itemprop="price" content="64.00"><meta itemprop="priceCurrency" content="EUR">
	      <link itemprop="availability" href="http://schema.org/InStock"><meta itemprop="gtin13" content="4022664223553">
	    </div>
	    <div itemprop="review" itemscope itemtype="https://schema.org/Review"><span itemprop="name">Great</span>
	      <div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><meta itemprop="price" content="1"></div></div>
	  </div>
	</div></body></html>`)
	page := pageFromHTML("https://shop.example/p/trail", src)
	if page.Microdata == nil || page.Microdata.Type != "Product" {
		t.Fatalf("got item %+v, want the Product", page.Microdata)
	}
	var names []string
	for _, p := range page.Microdata.Props {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, " "), "name brand offers offers"; got != want { // the rest are not read
		t.Errorf("product properties: got %q, want %q", got, want)
	}
	got, ok := Extract(page)
	if !ok {
		t.Fatal("no product")
	}
	compareFields(t, fieldsOf(got), fields{Name: "Trail Shoe & Sock", Brand: "Acme", Price: 64, Currency: "EUR",
		Availability: InStock, GTIN: "4022664223553", URL: "https://shop.example/p/trail"})
}

// TestFromDocBounded: a page with thousands of properties costs a bounded
// amount.
func TestFromDocBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`<html><body><div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">` + strings.Repeat("x", 5000) + `</h1>`)
	for range 5000 {
		b.WriteString(`<span itemprop="sku">s</span>`)
	}
	for range 20 {
		b.WriteString(`<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">`)
	}
	b.WriteString(`</body></html>`)
	page := pageFromHTML("https://shop.example/p", []byte(b.String()))
	n := 0
	var count func(it *Item, depth int)
	count = func(it *Item, depth int) {
		if depth >= maxItemDepth {
			t.Errorf("items nested %d deep", depth)
		}
		for _, p := range it.Props {
			n++
			if len(p.Value) > maxPropValue {
				t.Errorf("a value of %d bytes", len(p.Value))
			}
			if p.Item != nil {
				count(p.Item, depth+1)
			}
		}
	}
	count(page.Microdata, 0)
	if n > maxItemProps {
		t.Errorf("got %d properties, want at most %d", n, maxItemProps)
	}
	if got, _ := Extract(page); len(got.Name) > maxName {
		t.Errorf("name of %d bytes, want at most %d", len(got.Name), maxName)
	}
}

// FuzzExtract: whatever a page holds, extraction does not panic, keeps
// its bounds, and yields URLs only on the page's host or an allowed one.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "issue9", "*.html"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<script type="application/ld+json">{"@type":"Product","name":"a","image":"//x.example/i","offers":[{"price":"1,5"}]}</script>`))
	f.Fuzz(func(t *testing.T, src []byte) {
		page := pageFromHTML("https://shop.example/p/1", src)
		page.AssetHosts = []string{"cdn.example"}
		p, ok := Extract(page)
		if !ok {
			return
		}
		if len(p.Name) > maxName || len(p.Brand) > maxText || len(p.SKU) > maxText || len(p.URL) > maxURL {
			t.Errorf("unbounded field: %d %d %d %d bytes", len(p.Name), len(p.Brand), len(p.SKU), len(p.URL))
		}
		for _, u := range []string{p.URL, p.Image} {
			if u == "" {
				continue
			}
			pu, err := url.Parse(u)
			if err != nil {
				t.Errorf("URL %q does not parse: %v", u, err)
				continue
			}
			host := strings.ToLower(strings.TrimSuffix(pu.Host, "."))
			if (pu.Scheme != "http" && pu.Scheme != "https") || (host != "shop.example" && host != "cdn.example") {
				t.Errorf("URL %q escapes the shop", u)
			}
		}
	})
}
