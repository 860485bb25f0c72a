package learn

import (
	"math"
	"slices"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// TestPageListing: a category page's analysis, the first time its bytes
// are seen, lists its products in its path (its trail and its own
// address); a page seen before teaches nothing again (the analysis is
// cached: learning is once per analysis); a product's own page keeps its
// categories.
func TestPageListing(t *testing.T) {
	t.Parallel()
	men, shirts := catalog.KeyOf("/c/men"), catalog.KeyOf("/c/men/shirts")
	polo, oxford := catalog.KeyOf("/p/polo"), catalog.KeyOf("/p/oxford")
	v := facts("v1", rules.PageCategory, "/c/men/shirts")
	a := &page.Analysis{Crumbs: []catalog.ID{men}, Listed: []catalog.ID{polo, oxford}}

	r := newRecorder(t)
	if ev := r.Page(v, a, false, t0); !slices.Equal(ev.Categories, []catalog.ID{men, shirts}) {
		t.Errorf("event %v, want men, men › shirts", ev.Categories)
	}
	if r.Catalog.Listings() != 0 {
		t.Errorf("a page seen before (not fresh) taught %d listed products", r.Catalog.Listings())
	}
	r.Page(v, a, true, t0)
	for _, k := range []catalog.ID{polo, oxford} {
		if got := r.Catalog.Listed(k, nil); !slices.Equal(got, []catalog.ID{men, shirts}) {
			t.Errorf("listed %v, want men, men › shirts", got)
		}
	}
	// The sale page, as deep as men: the latest; men's shirts stay deeper.
	r.Page(facts("v1", rules.PageCategory, "/c/men"), &page.Analysis{Listed: []catalog.ID{polo}}, true, t0)
	if got := r.Catalog.Listed(polo, nil); !slices.Equal(got, []catalog.ID{men, shirts}) {
		t.Errorf("after men's own listing: %v, want the deeper men › shirts", got)
	}
}

// TestCartPurchaseInterest: a cart add gives the product's categories
// CartWeight (its parents a tenth less each level, as views do), a
// purchase PurchaseWeight; a product never opened, only listed, gets its
// listing's categories.
func TestCartPurchaseInterest(t *testing.T) {
	t.Parallel()
	r := newRecorder(t)
	half := 7 * 24 * time.Hour
	men, trousers := catalog.KeyOf("/c/men"), catalog.KeyOf("/c/men/trousers")
	r.Catalog.Put(catalog.Product{ID: catalog.KeyOf("CH-1"), Key: "CH-1", SKU: "CH-1", Name: "Chinos", URL: "/p/chinos",
		Categories: []catalog.Category{{ID: men}, {ID: trousers}}}, t0)
	r.Catalog.PutListing([]catalog.ID{men, trousers}, []catalog.ID{catalog.KeyOf("/p/joggers")}, t0)
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-6 }
	for _, tt := range []struct {
		name, ident string
	}{
		{"a product whose page was read, by its SKU", "CH-1"},
		{"a product only ever listed, by its address", "/p/joggers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := facts(tt.name, rules.PageOther, "/cart/add")
			if !r.CartAdd(v, tt.ident, 1, t0) {
				t.Fatal("cart add not recorded")
			}
			prof, _ := r.Profiles.Load(v.VisitorID)
			d := prof.Snapshot()
			if got := d.Interest(trousers, t0, half); !near(got, profile.CartWeight) {
				t.Errorf("interest in trousers %v, want CartWeight %v", got, profile.CartWeight)
			}
			if got := d.Interest(men, t0, half); !near(got, 0.9*profile.CartWeight) {
				t.Errorf("interest in men %v, want %v", got, 0.9*profile.CartWeight)
			}
			r.View(facts(tt.name, rules.PagePurchase, "/thanks"), Event{}, t0)
			d = prof.Snapshot()
			if got := d.Interest(trousers, t0, half); !near(got, profile.CartWeight+profile.PurchaseWeight) {
				t.Errorf("after the purchase, interest in trousers %v, want %v", got, profile.CartWeight+profile.PurchaseWeight)
			}
		})
	}
}
