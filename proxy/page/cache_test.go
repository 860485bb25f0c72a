package page

import (
	"bytes"
	"testing"

	"shopedge/proxy/codec"
	"shopedge/rules"
)

// TestKey: a page's key changes with any byte of its body, its length,
// its encoding, its Content-Type, its page type and the configuration's
// generation.
func TestKey(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("<li><a href=/c/shoes>Shoes</a></li>"), 300)
	ct := []byte("text/html; charset=utf-8")
	base := Key(body, codec.Identity, ct, rules.PageCategory, 7)
	if again := Key(bytes.Clone(body), codec.Identity, ct, rules.PageCategory, 7); again != base {
		t.Fatalf("the same page's key changed: %x, then %x", base, again)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(body)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name string
		key  uint64
	}{
		{"first byte", Key(flip(0), codec.Identity, ct, rules.PageCategory, 7)},
		{"middle byte", Key(flip(len(body)/2), codec.Identity, ct, rules.PageCategory, 7)},
		{"last byte", Key(flip(len(body)-1), codec.Identity, ct, rules.PageCategory, 7)},
		{"one byte shorter (the body's hash changes too)", Key(body[:len(body)-1], codec.Identity, ct, rules.PageCategory, 7)},
		{"one byte longer", Key(append(bytes.Clone(body), ' '), codec.Identity, ct, rules.PageCategory, 7)},
		{"encoding", Key(body, codec.Gzip, ct, rules.PageCategory, 7)},
		{"content type's charset", Key(body, codec.Identity, []byte("text/html; charset=iso-8859-1"), rules.PageCategory, 7)},
		{"no content type", Key(body, codec.Identity, nil, rules.PageCategory, 7)},
		{"page type", Key(body, codec.Identity, ct, rules.PageSearch, 7)},
		{"generation", Key(body, codec.Identity, ct, rules.PageCategory, 8)},
	} {
		if tc.key == base {
			t.Errorf("%s changed: the key did not (%x)", tc.name, base)
		}
	}
	// Every page type its own key.
	seen := map[uint64]rules.PageType{}
	for _, pt := range []rules.PageType{rules.PageOther, rules.PageHome, rules.PageCategory, rules.PageProduct,
		rules.PageSearch, rules.PageCart, rules.PageCheckout, rules.PagePurchase} {
		k := Key(body, codec.Identity, ct, pt, 7)
		if other, ok := seen[k]; ok {
			t.Errorf("page types %q and %q share a key", other, pt)
		}
		seen[k] = pt
	}
}

// TestCache: what is put is found under its key for a body of its length,
// and not otherwise; Bytes counts it; Clear forgets it.
func TestCache(t *testing.T) {
	t.Parallel()
	pc, err := NewCache(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	body := bytes.Repeat([]byte("<p>a product</p>"), 1000)
	key := Key(body, codec.Identity, []byte("text/html"), rules.PageProduct, 1)
	put := &Analysis{RawLen: len(body), Regions: []Region{{Bytes: []byte("<ul><li>Shoes</li></ul>")}}}
	if _, ok := pc.Get(key, len(body)); ok {
		t.Fatal("an empty cache found an analysis")
	}
	pc.Put(key, put)
	pc.Wait() // ristretto's Set lands asynchronously
	if a, ok := pc.Get(key, len(body)); !ok || a != put {
		t.Fatalf("Get after Put: found %v (the analysis put: %v)", ok, a == put)
	}
	if _, ok := pc.Get(key, len(body)+1); ok {
		t.Error("found under the key for a body of another length")
	}
	if _, ok := pc.Get(key^1, len(body)); ok {
		t.Error("found under another key")
	}
	if got := pc.Bytes(); got < put.Cost() {
		t.Errorf("Bytes = %d with an analysis of cost %d kept", got, put.Cost())
	}
	pc.Clear()
	if _, ok := pc.Get(key, len(body)); ok {
		t.Error("found after Clear")
	}
	if got := pc.Bytes(); got != 0 {
		t.Errorf("Bytes after Clear = %d, want 0", got)
	}
}
