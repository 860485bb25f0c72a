package catalog

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestCardMatchesGet: on a random catalog (products with and without
// names, addresses, prices, categories and aliases, some evicted, and
// listings), Card and CardPath say what Get and Facts say of every ID,
// and PathOf what ResolveKey, Facts and Listed say together, as a search
// page's ranking read them.
func TestCardMatchesGet(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 5))
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c := New(150) // fewer than the products put: some are evicted
	var keys []ID
	for i := range 200 {
		p := Product{ID: ID(1000 + i), Key: "sku-" + strconv.Itoa(i), SKU: "sku-" + strconv.Itoa(i),
			Price: float64(r.IntN(5) * 10), Currency: []string{"", "EUR", "USD"}[r.IntN(3)],
			Availability: Availability(r.IntN(13))}
		if r.IntN(5) > 0 {
			p.Name = "Product " + strconv.Itoa(i)
		}
		if r.IntN(5) > 0 {
			p.URL = "/p/product-" + strconv.Itoa(i)
			keys = append(keys, KeyOf(p.URL))
		}
		for range r.IntN(6) {
			p.Categories = append(p.Categories, NewCategory("c", "/c/"+strconv.Itoa(r.IntN(30))))
		}
		c.Put(p, now.Add(time.Duration(r.IntN(1000))*time.Second))
		keys = append(keys, p.ID)
	}
	for range 20 {
		var listed []ID
		for range 10 {
			listed = append(listed, KeyOf("/p/product-"+strconv.Itoa(r.IntN(260))))
		}
		keys = append(keys, listed...)
		path := []ID{KeyOf("/c/" + strconv.Itoa(r.IntN(30)))}
		if r.IntN(2) == 0 {
			path = append([]ID{KeyOf("/c/top")}, path...)
		}
		c.PutListing(path, listed, now)
	}
	keys = append(keys, 0, 1, 99999)
	for _, id := range keys {
		p, ok := c.Get(id)
		card, cok := c.Card(id)
		path, pcard, pok := c.CardPath(id, []ID{7})
		facts, price, inStock, fok := c.Facts(id, []ID{7})
		if cok != ok || pok != ok || fok != ok {
			t.Fatalf("%d: Card ok %v, CardPath ok %v, Facts ok %v; Get ok %v", id, cok, pok, fok, ok)
		}
		if ok {
			want := Card{Price: p.Price, Currency: p.Currency, InStock: p.Recommendable(), Shows: p.Name != "" && p.URL != ""}
			if card != want || pcard != want {
				t.Errorf("%d: Card %+v, CardPath %+v; want %+v", id, card, pcard, want)
			}
			if price != p.Price || inStock != p.Recommendable() {
				t.Errorf("%d: Facts price %v in stock %v; Get %v %v", id, price, inStock, p.Price, p.Recommendable())
			}
		}
		if !slices.Equal(path, facts) {
			t.Errorf("%d: CardPath's path %v, Facts' %v", id, path, facts)
		}
		// PathOf, against the three lookups it stands for.
		wantID, wantOK := c.ResolveKey(id)
		var want []ID
		if wantOK {
			want, _, _, _ = c.Facts(wantID, []ID{7})
		}
		if len(want) <= 1 {
			want = c.Listed(id, []ID{7})
		}
		gotID, gotOK, got := c.PathOf(id, []ID{7})
		if gotOK != wantOK || wantOK && gotID != wantID || !slices.Equal(got, want) {
			t.Errorf("%d: PathOf = %d, %v, %v; want %d, %v, %v", id, gotID, gotOK, got, wantID, wantOK, want)
		}
	}
}

// TestPathCategoryID: for random paths over an alphabet of what PathKey
// keeps and what it changes or refuses (escapes, spaces, a scheme's
// colon, a query, a fragment, doubled and trailing slashes, non-ASCII),
// and a few written out, PathKey (its way around url.Parse for a plain
// path) is the parsed key, and PathCategoryID is CategoryID of it.
func TestPathCategoryID(t *testing.T) {
	t.Parallel()
	paths := []string{"", "/", "//", "/c/men", "/c/men/", "//c/men", "/c//men", "c/men", "/c/men?x=1", "/c/men#top",
		"/c/m%C3%A9n", "/c/mén", " /c/men", "/c/men ", "/c/a:b", "http://x/c", "/c/a+b", "/c/~x/-_.", "/*", "*"}
	r := rand.New(rand.NewPCG(2, 9))
	const alphabet = "/aZ09-._~%:?# +*é\t/"
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if len(b) > 0 && r.IntN(2) == 0 {
			b[0] = '/'
		}
		paths = append(paths, string(b))
	}
	plain := 0
	for _, p := range paths {
		if got, want := PathKey(p), parsePathKey(p); got != want {
			t.Fatalf("PathKey(%q) = %q, parsed %q", p, got, want)
		}
		if got, want := PathCategoryID([]byte(p)), CategoryID(parsePathKey(p), ""); got != want {
			t.Fatalf("PathCategoryID(%q) = %d, want %d (PathKey %q)", p, got, want, parsePathKey(p))
		}
		if plainPath([]byte(p)) {
			plain++
		}
	}
	if plain < 1000 {
		t.Errorf("only %d of %d paths took the fast way", plain, len(paths))
	}
}

// categoriesOfRef is CategoriesOf as it was: Get, then Listed.
func (c *Catalog) categoriesOfRef(id ID, ident string, cats []ID) []ID {
	start := len(cats)
	p, ok := c.Get(id)
	if ok {
		for _, cat := range p.Categories {
			cats = append(cats, cat.ID)
		}
		ident = p.URL
	}
	if len(cats) > start {
		return cats
	}
	if !ok && id != 0 {
		if cats = c.Listed(id, cats); len(cats) > start {
			return cats
		}
	}
	if path := parsePathKey(ident); path != "" {
		cats = c.Listed(KeyOf(path), cats)
	}
	return cats
}

// TestCategoriesOfMatchesReference: on a random catalog and listings, for
// products held (with and without categories, listed or not) and not
// (kept by the KeyOf of their address, or named by it), CategoriesOf says
// what Get and Listed said.
func TestCategoriesOfMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 7))
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	c := New(100)
	for i := range 120 {
		p := Product{ID: ID(1 + i), Key: "sku-" + strconv.Itoa(i), Name: "P", URL: "/p/" + strconv.Itoa(i)}
		if r.IntN(3) == 0 {
			p.URL = "https://shop.example/p/" + strconv.Itoa(i) + "/"
		}
		for range r.IntN(3) {
			p.Categories = append(p.Categories, NewCategory("c", "/c/"+strconv.Itoa(r.IntN(20))))
		}
		c.Put(p, now)
	}
	for range 15 {
		var keys []ID
		for range 12 {
			keys = append(keys, KeyOf("/p/"+strconv.Itoa(r.IntN(160))))
		}
		c.PutListing([]ID{KeyOf("/c/top"), KeyOf("/c/" + strconv.Itoa(r.IntN(20)))}, keys, now)
	}
	for i := range 200 {
		path := "/p/" + strconv.Itoa(i)
		for _, q := range []struct {
			id    ID
			ident string
		}{{ID(1 + i), ""}, {ID(1 + i), path}, {KeyOf(path), path}, {KeyOf(path), ""}, {0, path}, {KeyOf(path), "https://shop.example" + path + "/"}} {
			got, want := c.CategoriesOf(q.id, q.ident, []ID{7}), c.categoriesOfRef(q.id, q.ident, []ID{7})
			if !slices.Equal(got, want) {
				t.Fatalf("CategoriesOf(%d, %q) = %v, want %v", q.id, q.ident, got, want)
			}
		}
	}
}
