package catalog

import (
	"testing"
)

// TestExtractRatingJSONLD: a Product's aggregateRating is read with its
// scale and count, and dropped whole when any figure is not real.
func TestExtractRatingJSONLD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rating string // the aggregateRating value
		want   Rating // the zero Rating: dropped
	}{
		{"strings, reviewCount", `{"@type":"AggregateRating","ratingValue":"4.5","reviewCount":"132"}`,
			Rating{Value: 4.5, Best: 5, Worst: 1, Count: 132, Reviews: true}},
		{"numbers, ratingCount", `{"@type":"AggregateRating","ratingValue":4.7,"ratingCount":1234}`,
			Rating{Value: 4.7, Best: 5, Worst: 1, Count: 1234}},
		{"scale of ten from zero", `{"ratingValue":"8.6","bestRating":"10","worstRating":"0","ratingCount":"57"}`,
			Rating{Value: 8.6, Best: 10, Worst: 0, Count: 57}},
		{"decimal comma, grouped thousands", `{"ratingValue":"4,3","reviewCount":"1.204"}`,
			Rating{Value: 4.3, Best: 5, Worst: 1, Count: 1204, Reviews: true}},
		{"a list of one", `[{"ratingValue":5,"bestRating":5,"reviewCount":1}]`,
			Rating{Value: 5, Best: 5, Worst: 1, Count: 1, Reviews: true}},
		{"both counts: the ratings the value averages", `{"ratingValue":"4.5","ratingCount":"75","reviewCount":"4"}`,
			Rating{Value: 4.5, Best: 5, Worst: 1, Count: 75}},
		{"no ratings count but reviews", `{"ratingValue":"4.1","ratingCount":"0","reviewCount":"6"}`,
			Rating{Value: 4.1, Best: 5, Worst: 1, Count: 6, Reviews: true}},
		{"no reviews but ratings", `{"ratingValue":"3.9","reviewCount":0,"ratingCount":12}`,
			Rating{Value: 3.9, Best: 5, Worst: 1, Count: 12}},
		{"value above best", `{"ratingValue":"5.5","reviewCount":"10"}`, Rating{}},
		{"value below worst", `{"ratingValue":"0","reviewCount":"3"}`, Rating{}},
		{"value above a stated best", `{"ratingValue":"9","bestRating":"5","worstRating":"1","reviewCount":"3"}`, Rating{}},
		{"no count", `{"ratingValue":"4.2"}`, Rating{}},
		{"count zero", `{"ratingValue":"4.2","reviewCount":"0"}`, Rating{}},
		{"count not whole", `{"ratingValue":"4.2","reviewCount":12.5}`, Rating{}},
		{"count negative", `{"ratingValue":"4.2","ratingCount":"-3"}`, Rating{}},
		{"count with words", `{"ratingValue":"4.2","reviewCount":"132 reviews"}`, Rating{}},
		{"count badly grouped", `{"ratingValue":"4.2","reviewCount":"1,23"}`, Rating{}},
		{"value not a number", `{"ratingValue":"great","reviewCount":"5"}`, Rating{}},
		{"value NaN", `{"ratingValue":"NaN","reviewCount":"5"}`, Rating{}},
		{"value an object", `{"ratingValue":{"x":1},"reviewCount":"5"}`, Rating{}},
		{"best not a number", `{"ratingValue":"4","bestRating":"five","reviewCount":"5"}`, Rating{}},
		{"best below worst", `{"ratingValue":"3","bestRating":"1","worstRating":"5","reviewCount":"5"}`, Rating{}},
		{"empty value", `{"ratingValue":"","reviewCount":"5"}`, Rating{}},
		{"not an object", `"4.5 stars"`, Rating{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page := Page{URL: "https://shop.example/p/1", JSONLD: [][]byte{
				[]byte(`{"@type":"Product","name":"One","sku":"S1","aggregateRating":` + tt.rating + `}`)}}
			got, ok := Extract(page)
			if !ok {
				t.Fatal("no product")
			}
			if got.Rating != tt.want {
				t.Errorf("got %+v, want %+v", got.Rating, tt.want)
			}
			wantSrc := SourceJSONLD
			if tt.want == (Rating{}) {
				wantSrc = SourceNone
			}
			if src := got.Sources.Of(FieldRating); src != wantSrc {
				t.Errorf("source %q, want %q", src, wantSrc)
			}
		})
	}
}

// TestExtractRatingMicrodata: itemprop="aggregateRating" on a Product
// item, in meta content or element text; a review's own rating is not
// the product's.
func TestExtractRatingMicrodata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string // inside the Product item
		want Rating
	}{
		{"meta content", `<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
			<meta itemprop="ratingValue" content="4.6"><meta itemprop="reviewCount" content="88"></div>`,
			Rating{Value: 4.6, Best: 5, Worst: 1, Count: 88, Reviews: true}},
		{"element text and a scale", `<p itemprop="aggregateRating" itemscope itemtype="http://schema.org/AggregateRating">
			Rated <span itemprop="ratingValue">17</span> of <span itemprop="bestRating">20</span>
			(<span itemprop="ratingCount">1 024</span> ratings)</p>`,
			Rating{Value: 17, Best: 20, Worst: 1, Count: 1024}},
		{"value out of range dropped", `<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
			<meta itemprop="ratingValue" content="6"><meta itemprop="reviewCount" content="4"></div>`, Rating{}},
		{"count missing dropped", `<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
			<meta itemprop="ratingValue" content="4"></div>`, Rating{}},
		{"a review's rating is the review's", `<div itemprop="review" itemscope itemtype="https://schema.org/Review">
			<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating"><meta itemprop="ratingValue" content="5"></div>
			<meta itemprop="reviewCount" content="1"></div>`, Rating{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := `<!DOCTYPE html><html><head><title>Lamp</title></head><body>
				<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Lamp</h1>` + tt.body + `</div></body></html>`
			got, ok := Extract(pageFromHTML("https://shop.example/p/lamp", []byte(src)))
			if !ok {
				t.Fatal("no product")
			}
			if got.Rating != tt.want {
				t.Errorf("got %+v, want %+v", got.Rating, tt.want)
			}
			wantSrc := SourceMicrodata
			if tt.want == (Rating{}) {
				wantSrc = SourceNone
			}
			if s := got.Sources.Of(FieldRating); s != wantSrc {
				t.Errorf("source %q, want %q", s, wantSrc)
			}
		})
	}
}

// TestExtractRatingMicrodataCompletesJSONLD: a JSON-LD Product without a
// rating takes the microdata's, noted as from microdata; one with a
// rating keeps its own.
func TestExtractRatingMicrodataCompletesJSONLD(t *testing.T) {
	t.Parallel()
	micro := `<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Lamp</span>
		<div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
		<meta itemprop="ratingValue" content="3.5"><meta itemprop="ratingCount" content="9"></div></div>`
	for _, tc := range []struct {
		name, ld string
		want     Rating
		src      Source
	}{
		{"JSON-LD without a rating", `{"@type":"Product","name":"Lamp"}`, Rating{Value: 3.5, Best: 5, Worst: 1, Count: 9}, SourceMicrodata},
		{"JSON-LD with one", `{"@type":"Product","name":"Lamp","aggregateRating":{"ratingValue":4,"reviewCount":2}}`,
			Rating{Value: 4, Best: 5, Worst: 1, Count: 2, Reviews: true}, SourceJSONLD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := `<!DOCTYPE html><html><head><script type="application/ld+json">` + tc.ld + `</script></head><body>` + micro + `</body></html>`
			got, ok := Extract(pageFromHTML("https://shop.example/p/lamp", []byte(src)))
			if !ok || got.Rating != tc.want || got.Sources.Of(FieldRating) != tc.src {
				t.Errorf("got %+v from %q (found %v), want %+v from %q", got.Rating, got.Sources.Of(FieldRating), ok, tc.want, tc.src)
			}
		})
	}
}

// TestExtractRatingItemReviewed: an AggregateRating written beside the
// Product, naming it as its itemReviewed (mediamarkt.pt), is the
// product's; one that rates another product is not.
func TestExtractRatingItemReviewed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		blocks []string
		want   Rating
	}{
		{"the Product inside", []string{`{"@context":"http://schema.org/","@type":"AggregateRating","reviewCount":"1","ratingValue":"5.0",
			"itemReviewed":{"@type":"Product","name":"Microondas 800W","offers":{"@type":"AggregateOffer","lowPrice":"109.0","priceCurrency":"EUR"}}}`},
			Rating{Value: 5, Best: 5, Worst: 1, Count: 1, Reviews: true}},
		{"a Product of its own, named", []string{`{"@type":"Product","name":"Microondas 800W","sku":"M1"}`,
			`{"@type":"AggregateRating","ratingValue":"4.2","ratingCount":"31","itemReviewed":{"@type":"Product","name":"Microondas 800W"}}`},
			Rating{Value: 4.2, Best: 5, Worst: 1, Count: 31}},
		{"another product's", []string{`{"@type":"Product","name":"Microondas 800W","sku":"M1"}`,
			`{"@type":"AggregateRating","ratingValue":"4.2","ratingCount":"31","itemReviewed":{"@type":"Product","name":"Kettle"}}`},
			Rating{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page := Page{URL: "https://shop.example/p/m"}
			for _, b := range tc.blocks {
				page.JSONLD = append(page.JSONLD, []byte(b))
			}
			got, ok := Extract(page)
			if !ok || got.Name != "Microondas 800W" {
				t.Fatalf("product %q (found %v), want Microondas 800W", got.Name, ok)
			}
			if got.Rating != tc.want {
				t.Errorf("got %+v, want %+v", got.Rating, tc.want)
			}
		})
	}
}
