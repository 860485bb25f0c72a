package catalog

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"
	"time"
)

func codecProduct() Product {
	p := Product{
		ID: KeyOf("SKU-1"), Key: "SKU-1", SKU: "SKU-1", GTIN: "4006381333931", Name: "Boots",
		URL: "https://shop.example/p/boots", Image: "https://shop.example/i/boots.jpg", Price: 79.5,
		Currency: "EUR", Availability: InStock, Brand: "Acme",
		Categories: []Category{NewCategory("Shoes", "/c/shoes"), NewCategory("Boots", "/c/shoes/boots")},
		SeenAt:     time.Unix(1764590400, 123),
		aliases:    []string{"pid-1", "https://shop.example/#product-1"},
	}
	p.Sources.set(FieldName, SourceJSONLD)
	return p
}

// ratedProduct is codecProduct with the rating its JSON-LD gave.
func ratedProduct() Product {
	p := codecProduct()
	p.Rating = Rating{Value: 4.5, Best: 5, Worst: 1, Count: 132, Reviews: true}
	p.Sources.set(FieldRating, SourceJSONLD)
	return p
}

// TestProductCodec: a product's bytes decode to the same product; bytes
// cut short, followed by more, or holding what no product holds are
// refused with ErrProduct.
func TestProductCodec(t *testing.T) {
	t.Parallel()
	want := ratedProduct()
	b := AppendProduct([]byte("prefix"), &want)[len("prefix"):]
	got, err := DecodeProduct(b)
	if err != nil {
		t.Fatalf("DecodeProduct: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	availability := 8 + 8 + len(want.Key) + len(want.SKU) + len(want.GTIN) + len(want.Name) + len(want.URL) +
		len(want.Image) + len(want.Currency) + len(want.Brand) + 8
	bad := append([]byte(nil), b...)
	bad[availability] = byte(numAvailabilities)
	// with changes the byte at i of b (i counted from the end when negative).
	with := func(i int, v byte) []byte {
		c := append([]byte(nil), b...)
		if i < 0 {
			i += len(c)
		}
		c[i] = v
		return c
	}
	sources := availability + 1
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"cut short", b[:len(b)-1]},
		{"one byte more", append(append([]byte(nil), b...), 0)},
		{"unknown availability", bad},
		{"string beyond the bound", append(make([]byte, 8), 0xff, 0xff, 0xff, 0x7f)},
		{"unknown bit in the sources word", with(sources+3, b[sources+3]|0x40)},
		{"rating source unknown", with(-1, 7)},
		{"rating flags unknown", with(-2, 2)},
		{"extensions announced, none follow", func() []byte {
			p := codecProduct()
			old := AppendProduct(nil, &p)
			old[sources+3] |= 0x80
			return append(old, 0)
		}()},
		{"rating value above best", func() []byte {
			p := ratedProduct()
			p.Rating.Best = 4 // Valid refuses it, so the rating is written by hand
			plain := codecProduct()
			old := AppendProduct(nil, &plain)
			old[sources+3] |= 0x80
			return appendRating(binary.AppendUvarint(old, 1), p.Rating, SourceJSONLD)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeProduct(tt.b); !errors.Is(err, ErrProduct) {
				t.Errorf("got %v, want an error wrapping ErrProduct", err)
			}
		})
	}
	for n := range len(b) {
		if _, err := DecodeProduct(b[:n]); !errors.Is(err, ErrProduct) {
			t.Fatalf("cut at %d: got %v, want an error wrapping ErrProduct", n, err)
		}
	}
}

// TestProductCodecFormat1: a product written before ratings (the
// committed testdata/format1/product.bin, written by the encoder of that
// time from codecProduct) decodes to the same product, with no rating;
// re-encoded, it gives the same bytes (a product without a rating is
// written as before).
func TestProductCodecFormat1(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile("testdata/format1/product.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeProduct(old)
	if err != nil {
		t.Fatalf("DecodeProduct: %v", err)
	}
	if want := codecProduct(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got.Rating != (Rating{}) || got.Sources.Of(FieldRating) != SourceNone {
		t.Errorf("rating %+v from %q, want none", got.Rating, got.Sources.Of(FieldRating))
	}
	if again := AppendProduct(nil, &got); string(again) != string(old) {
		t.Errorf("re-encoded: %x, want %x", again, old)
	}
}

// TestProductCodecUnknownExtension: an extension a later version added is
// skipped, and the rating beside it still read.
func TestProductCodecUnknownExtension(t *testing.T) {
	t.Parallel()
	want := ratedProduct()
	b := AppendProduct(nil, &want)
	// The rating extension is the last part: put an unknown one before it.
	plain := codecProduct()
	head := AppendProduct(nil, &plain)
	rating := b[len(head)+1:] // after the count of extensions
	var c []byte
	c = append(c, b[:len(head)]...)
	c = binary.AppendUvarint(c, 2)
	c = append(c, 9, 3, 'n', 'e', 'w')
	c = append(c, rating...)
	got, err := DecodeProduct(c)
	if err != nil {
		t.Fatalf("DecodeProduct: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// FuzzDecodeProduct: DecodeProduct never panics, and a product it accepts
// encodes to bytes that decode to the same product.
func FuzzDecodeProduct(f *testing.F) {
	p := codecProduct()
	f.Add(AppendProduct(nil, &p))
	rated := ratedProduct()
	f.Add(AppendProduct(nil, &rated))
	f.Add(AppendProduct(nil, &Product{}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeProduct(b)
		if err != nil {
			if !errors.Is(err, ErrProduct) {
				t.Fatalf("error %v does not wrap ErrProduct", err)
			}
			return
		}
		again, err := DecodeProduct(AppendProduct(nil, &got))
		if err != nil {
			t.Fatalf("re-encoded product refused: %v", err)
		}
		// A NaN price is not equal to itself: compare its bits.
		if math.Float64bits(again.Price) != math.Float64bits(got.Price) {
			t.Fatalf("re-encoded price %v, want %v", again.Price, got.Price)
		}
		again.Price, got.Price = 0, 0
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("re-encoded product %+v, want %+v", again, got)
		}
	})
}
