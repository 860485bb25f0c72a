package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// snapCatalog returns a catalog of n products, seen a second apart, with
// categories, aliases, prices and availabilities.
func snapCatalog(n, max int) *Catalog {
	c := New(max)
	t0 := time.Unix(1764590400, 123)
	for i := range n {
		s := strconv.Itoa(i)
		p := Product{
			Key: "SKU-" + s, SKU: "SKU-" + s, GTIN: "4006381333931", Name: "Shoe " + s,
			URL: "https://shop.example/p/shoe-" + s + "/", Image: "https://shop.example/i/" + s + ".jpg",
			Price: 10 + float64(i)/4, Currency: "EUR", Availability: Availability(i % int(numAvailabilities)),
			Brand: "Acme", Categories: []Category{NewCategory("Shoes", "/c/shoes"), NewCategory("Size "+strconv.Itoa(i%3), "")},
			aliases: []string{"pid-" + s, "https://shop.example/#product-" + s},
		}
		p.ID = KeyOf(p.Key)
		p.Sources.set(FieldName, SourceJSONLD)
		if i%2 == 0 {
			p.Rating = Rating{Value: 3 + float64(i%5)/2, Best: 5, Worst: 1, Count: uint32(10 + i), Reviews: i%4 == 0}
			p.Sources.set(FieldRating, SourceMicrodata)
		}
		c.Put(p, t0.Add(time.Duration(i)*time.Second))
	}
	return c
}

func catalogSnapshot(t testing.TB, c *Catalog) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSnapshotRoundTrip: a fresh catalog read from a snapshot answers Get,
// Resolve, ResolveKey, Facts, Category and List as the original did, and
// reads exactly the snapshot's bytes.
func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"one", 1},
		{"several", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := snapCatalog(tc.n, 100)
			// A category of a product since replaced stays known.
			c.Put(Product{ID: KeyOf("gone"), Key: "gone", Categories: []Category{NewCategory("Old", "/c/old")}}, time.Unix(1, 0))
			c.Put(Product{ID: KeyOf("gone"), Key: "gone"}, time.Unix(2, 0))
			r := bufio.NewReader(io.MultiReader(bytes.NewReader(catalogSnapshot(t, c)), bytes.NewReader([]byte("NEXT"))))
			got := New(100)
			if err := got.ReadSnapshot(r); err != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "NEXT" {
				t.Fatalf("after ReadSnapshot, the stream holds %q, want %q", rest, "NEXT")
			}
			if got.Len() != c.Len() {
				t.Fatalf("Len %d, want %d", got.Len(), c.Len())
			}
			for i := range tc.n {
				s := strconv.Itoa(i)
				id := KeyOf("SKU-" + s)
				want, _ := c.Get(id)
				p, ok := got.Get(id)
				if !ok || !reflect.DeepEqual(p, want) {
					t.Fatalf("Get(%d): %+v, want %+v", i, p, want)
				}
				for _, ident := range []string{"SKU-" + s, "pid-" + s, "/p/shoe-" + s, "https://shop.example/p/shoe-" + s + "/?x=1"} {
					if rid, ok := got.Resolve(ident); !ok || rid != id {
						t.Fatalf("Resolve(%q): %v %v, want %v", ident, rid, ok, id)
					}
				}
				if rid, ok := got.ResolveKey(KeyOf("pid-" + s)); !ok || rid != id {
					t.Fatalf("ResolveKey(pid-%d): %v %v", i, rid, ok)
				}
				gc, gp, gs, gok := got.Facts(id, nil)
				wc, wp, ws, wok := c.Facts(id, nil)
				if !slices.Equal(gc, wc) || gp != wp || gs != ws || gok != wok {
					t.Fatalf("Facts(%d): %v %v %v %v, want %v %v %v %v", i, gc, gp, gs, gok, wc, wp, ws, wok)
				}
			}
			if _, ok := got.Category(NewCategory("Old", "/c/old").ID); !ok {
				t.Fatalf("a category seen before was not restored")
			}
			if len(got.Categories()) != len(c.Categories()) {
				t.Fatalf("%d categories, want %d", len(got.Categories()), len(c.Categories()))
			}
			gt, gpage := got.List("shoe", 0, 10)
			wt, wpage := c.List("shoe", 0, 10)
			if gt != wt || !reflect.DeepEqual(gpage, wpage) {
				t.Fatalf("List: %d %v, want %d %v", gt, gpage, wt, wpage)
			}
		})
	}
}

// TestSnapshotFormat1: a snapshot written before ratings (the committed
// testdata/format1/snapshot.bin, written then from snapCatalog(3, 100))
// loads: the same products, categories and aliases, none with a rating.
func TestSnapshotFormat1(t *testing.T) {
	t.Parallel()
	old, err := os.ReadFile("testdata/format1/snapshot.bin")
	if err != nil {
		t.Fatal(err)
	}
	if old[0] != 1 {
		t.Fatalf("the fixture is of format %d, want 1", old[0])
	}
	got := New(100)
	r := bufio.NewReader(io.MultiReader(bytes.NewReader(old), strings.NewReader("NEXT")))
	if err := got.ReadSnapshot(r); err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "NEXT" {
		t.Fatalf("after ReadSnapshot, the stream holds %q, want %q", rest, "NEXT")
	}
	c := snapCatalog(3, 100)
	if got.Len() != 3 || len(got.Categories()) != len(c.Categories()) {
		t.Fatalf("%d products, %d categories; want 3, %d", got.Len(), len(got.Categories()), len(c.Categories()))
	}
	for i := range 3 {
		id := KeyOf("SKU-" + strconv.Itoa(i))
		want, _ := c.Get(id)
		want.Rating = Rating{}
		want.Sources.set(FieldRating, SourceNone)
		if p, ok := got.Get(id); !ok || !reflect.DeepEqual(p, want) {
			t.Errorf("Get(%d): %+v, want %+v", i, p, want)
		}
		if rid, ok := got.Resolve("pid-" + strconv.Itoa(i)); !ok || rid != id {
			t.Errorf("Resolve(pid-%d): %v %v, want %v", i, rid, ok, id)
		}
	}
	// Written again, it is of the current format, and loads the same.
	again := catalogSnapshot(t, got)
	if again[0] != snapshotFormat {
		t.Errorf("written as format %d, want %d", again[0], snapshotFormat)
	}
	back := New(100)
	if err := back.ReadSnapshot(bufio.NewReader(bytes.NewReader(again))); err != nil || back.Len() != 3 {
		t.Errorf("rewritten snapshot: %v, %d products", err, back.Len())
	}
}

// TestSnapshotIntoSmallerCatalog: a catalog of a smaller bound keeps at
// most its bound.
func TestSnapshotIntoSmallerCatalog(t *testing.T) {
	t.Parallel()
	got := New(10)
	if err := got.ReadSnapshot(bufio.NewReader(bytes.NewReader(catalogSnapshot(t, snapCatalog(50, 100))))); err != nil {
		t.Fatal(err)
	}
	if got.Len() != 10 {
		t.Fatalf("Len %d, want 10", got.Len())
	}
}

// readCatalogInto reads snap into a catalog holding one product and checks
// that on error it is as it was.
func readCatalogInto(t *testing.T, snap []byte) error {
	t.Helper()
	c := snapCatalog(1, 100)
	err := c.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap)))
	if err != nil {
		if !errors.Is(err, ErrSnapshot) {
			t.Fatalf("error %v does not wrap ErrSnapshot", err)
		}
		if _, ok := c.Resolve("SKU-0"); !ok || c.Len() != 1 {
			t.Fatalf("after a refused snapshot, the catalog changed")
		}
	}
	return err
}

// TestSnapshotTruncatedRefused: a snapshot cut anywhere is refused.
func TestSnapshotTruncatedRefused(t *testing.T) {
	t.Parallel()
	snap := catalogSnapshot(t, snapCatalog(3, 100))
	for cut := range len(snap) {
		if err := readCatalogInto(t, snap[:cut]); err == nil {
			t.Fatalf("a snapshot cut at %d of %d bytes was accepted", cut, len(snap))
		}
	}
}

// TestSnapshotCorruptRefusedOrHarmless: any byte flipped is refused or
// read as products; nothing panics.
func TestSnapshotCorruptRefusedOrHarmless(t *testing.T) {
	t.Parallel()
	snap := catalogSnapshot(t, snapCatalog(3, 100))
	for i := range snap {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(snap)
			bad[i] ^= flip
			_ = readCatalogInto(t, bad)
		}
	}
}

// TestSnapshotForeignRefused: another format and counts or lengths beyond
// the bounds are refused.
func TestSnapshotForeignRefused(t *testing.T) {
	t.Parallel()
	product := AppendProduct(nil, &Product{ID: 1, Key: "k"})
	for _, tc := range []struct {
		name string
		snap []byte
	}{
		{"empty stream", nil},
		{"another format", []byte{snapshotFormat + 1, 0, 0}},
		{"too many products", []byte{snapshotFormat, 0x80, 0x80, 0x80, 0x80, 0x01}},
		{"many products claimed, none there", []byte{snapshotFormat, 0x80, 0x80, 0x80, 0x01}},
		{"string beyond bound", append([]byte{snapshotFormat, 1, 1, 0, 0, 0, 0, 0, 0, 0}, 0x81, 0x80, 0x04)},
		{"unknown availability", func() []byte {
			b := append([]byte{snapshotFormat, 1}, AppendProduct(nil, &Product{ID: 1, Availability: numAvailabilities})...)
			return append(b, 0)
		}()},
		{"product without the categories' count", append([]byte{snapshotFormat, 1}, product...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := readCatalogInto(t, tc.snap); err == nil {
				t.Fatalf("accepted")
			}
		})
	}
}

// FuzzReadSnapshot: no input panics ReadSnapshot; what it accepts, it
// writes back and reads again.
func FuzzReadSnapshot(f *testing.F) {
	f.Add(catalogSnapshot(f, snapCatalog(3, 100)))
	f.Add(catalogSnapshot(f, New(10)))
	f.Fuzz(func(t *testing.T, snap []byte) {
		c := New(100)
		if err := c.ReadSnapshot(bufio.NewReader(bytes.NewReader(snap))); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		if err := New(100).ReadSnapshot(bufio.NewReader(bytes.NewReader(catalogSnapshot(t, c)))); err != nil {
			t.Fatalf("an accepted snapshot, written again, is refused: %v", err)
		}
	})
}
