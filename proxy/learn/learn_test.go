package learn

import (
	"slices"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newRecorder(t testing.TB) *Recorder {
	t.Helper()
	profiles, err := profile.NewStore(8<<20, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(profiles.Close)
	return &Recorder{
		Profiles: profiles,
		Catalog:  catalog.New(100),
		Engine:   recommend.New(recommend.Config{}),
		Views:    live.New(100),
		Carts:    live.New(100),
	}
}

func facts(id string, page rules.PageType, path string) *Facts {
	return &Facts{VisitorID: id, Returning: true, Page: page, Path: []byte(path),
		VisitGap: 30 * time.Minute, HalfLife: 7 * 24 * time.Hour}
}

// product is a product page's analysis, as page.Analyze gives it.
func product(id catalog.ID, url, image string) *page.Analysis {
	return &page.Analysis{HasProduct: true, Product: catalog.Product{
		ID: id, Key: url, Name: "Boots", URL: url, Image: image, Price: 80, Currency: "EUR",
		Categories: []catalog.Category{{ID: 7, Name: "Shoes", Path: "/c/shoes"}},
	}}
}

// TestPage: a product page's product goes into the catalog as the
// analysis describes it; a page seen before is
// not learned again unless the catalog forgot it; the event is the
// product and its categories, or for a category page its path.
func TestPage(t *testing.T) {
	t.Parallel()
	r := newRecorder(t)
	v := facts("v1", rules.PageProduct, "/p/boots")
	a := product(42, "/p/boots?x=1", "https://cdn.example/img/boots.jpg")
	ev := r.Page(v, a, true, t0)
	if ev.Product != 42 || !slices.Equal(ev.Categories, []catalog.ID{7}) {
		t.Errorf("event = %+v, want product 42 in category 7", ev)
	}
	got, ok := r.Catalog.Get(42)
	if !ok || got.URL != "/p/boots?x=1" || got.Image != "https://cdn.example/img/boots.jpg" || got.SeenAt != t0 {
		t.Fatalf("catalog has %+v (%v), want the analysis's product", got, ok)
	}
	// Seen before: the catalog's copy stays (a renamed product in the same
	// bytes is impossible; the page cache keys by bytes).
	renamed := product(42, "/p/boots", "")
	renamed.Product.Name = "Other"
	r.Page(v, renamed, false, t0)
	if got, _ := r.Catalog.Get(42); got.Name != "Boots" {
		t.Errorf("a page seen before was learned again: %q", got.Name)
	}
	// Forgotten since (evicted): learned again.
	r.Page(v, product(43, "/p/socks", ""), false, t0)
	if !r.Catalog.Has(43) {
		t.Errorf("a product the catalog did not have was not learned")
	}
	cat := facts("v1", rules.PageCategory, "/c/shoes/boots")
	ev = r.Page(cat, &page.Analysis{Crumbs: []catalog.ID{7}}, true, t0)
	if want := []catalog.ID{7, catalog.CategoryID("/c/shoes/boots", "")}; !slices.Equal(ev.Categories, want) {
		t.Errorf("category event = %v, want %v", ev.Categories, want)
	}
}

// TestView: what each page type records in the profile, the engine and
// the live counts.
func TestView(t *testing.T) {
	t.Parallel()
	r := newRecorder(t)
	v := facts("v1", rules.PageProduct, "/p/boots")
	r.Catalog.Put(product(42, "/p/boots", "").Product, t0)
	d := r.View(v, Event{Product: 42, Categories: []catalog.ID{7}}, t0).Snapshot()
	if !slices.Equal(d.Recent(), []catalog.ID{42}) || d.Interest(7, t0, v.HalfLife) <= 0 {
		t.Errorf("after a product view: recent %v, interest %v", d.Recent(), d.Interest(7, t0, v.HalfLife))
	}
	if n := r.Views.Get(42, t0).Day; n != 1 {
		t.Errorf("viewers today = %d, want 1", n)
	}
	if st := r.Engine.Stats(); st.Items != 1 {
		t.Errorf("engine tracks %d products, want 1", st.Items)
	}

	search := facts("v1", rules.PageSearch, "/search")
	search.Query = "red boots"
	d = r.View(search, r.FromURL(search), t0.Add(time.Minute)).Snapshot()
	if !slices.Equal(d.Searches(), []string{"red boots"}) {
		t.Errorf("searches %v", d.Searches())
	}

	prefetch := facts("v2", rules.PageProduct, "/p/boots")
	prefetch.Prefetch = true
	d = r.View(prefetch, Event{Product: 42}, t0).Snapshot()
	if len(d.Recent()) != 0 || r.Views.Get(42, t0).Day != 1 {
		t.Errorf("a prefetch was recorded as a view: recent %v", d.Recent())
	}

	if !r.CartAdd(v, "/p/boots", 2, t0.Add(2*time.Minute)) {
		t.Fatal("cart add not recorded")
	}
	buy := facts("v1", rules.PagePurchase, "/thanks")
	d = r.View(buy, Event{}, t0.Add(3*time.Minute)).Snapshot()
	if len(d.Cart()) != 0 || !slices.Equal(d.Purchased(), []catalog.ID{42}) || d.BoughtAt != uint32(t0.Add(3*time.Minute).Unix()) {
		t.Errorf("after the purchase: cart %v, purchased %v, bought at %d", d.Cart(), d.Purchased(), d.BoughtAt)
	}
}

// TestCartAdd: an add of a product not seen yet is kept by its
// identifier; a new visitor's add is held for social proof until the
// cookie comes back; nothing is recorded without an identifier.
func TestCartAdd(t *testing.T) {
	t.Parallel()
	r := newRecorder(t)
	v := facts("v1", rules.PageOther, "/cart/add")
	v.Returning = false
	if r.CartAdd(v, "", 1, t0) {
		t.Error("an add without a product was recorded")
	}
	if !r.CartAdd(v, "SKU-9", 1, t0) {
		t.Fatal("cart add not recorded")
	}
	prof, _ := r.Profiles.Load("v1")
	d := prof.Snapshot()
	if !d.InCart(catalog.KeyOf("SKU-9")) || d.CartAt != uint32(t0.Unix()) {
		t.Errorf("cart %v, cart at %d", d.Cart(), d.CartAt)
	}
	if n := r.Carts.Get(catalog.KeyOf("SKU-9"), t0).Day; n != 0 {
		t.Errorf("a new visitor's add counted at once: %d", n)
	}
	back := facts("v1", rules.PageHome, "/")
	r.View(back, Event{}, t0.Add(2*time.Second))
	if n := r.Carts.Get(catalog.KeyOf("SKU-9"), t0.Add(2*time.Second)).Day; n != 1 {
		t.Errorf("the add held for the visitor was not counted when the cookie came back: %d", n)
	}
}
