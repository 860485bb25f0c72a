package catalog

import (
	"errors"
	"math"
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

// TestProductCodec: a product's bytes decode to the same product; bytes
// cut short, followed by more, or holding what no product holds are
// refused with ErrProduct.
func TestProductCodec(t *testing.T) {
	t.Parallel()
	want := codecProduct()
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
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"cut short", b[:len(b)-1]},
		{"one byte more", append(append([]byte(nil), b...), 0)},
		{"unknown availability", bad},
		{"string beyond the bound", append(make([]byte, 8), 0xff, 0xff, 0xff, 0x7f)},
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

// FuzzDecodeProduct: DecodeProduct never panics, and a product it accepts
// encodes to bytes that decode to the same product.
func FuzzDecodeProduct(f *testing.F) {
	p := codecProduct()
	f.Add(AppendProduct(nil, &p))
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
