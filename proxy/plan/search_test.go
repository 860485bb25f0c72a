package plan

import (
	"reflect"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// Categories of the clothes shop TestSearchWholeCatalog searches.
const (
	catMen catalog.ID = 200 + iota
	catMenShirts
	catMenTrousers
	catWomen
	catWomenDresses
)

// TestSearchWholeCatalog: search results move by what the visitor put in
// the cart and bought as well as viewed, a category's parent lifts its
// products (less than their own category), and a product the proxy only
// ever saw on a category listing moves like one whose page it read.
func TestSearchWholeCatalog(t *testing.T) {
	t.Parallel()
	cfg := demo(t)
	week := 7 * 24 * time.Hour
	const (
		shirtDress catalog.ID = 300 + iota // women › dresses, its page read
		polo                               // men › shirts, only ever listed
		oxford                             // men › shirts, its page names no category: listed
		chinos                             // men › trousers, its page read
		tote                               // nothing known
	)
	cat := &fakeCatalog{
		products: map[catalog.ID]catalog.Product{
			shirtDress: product(shirtDress, "Shirt Dress", "/p/shirt-dress", 60, "EUR", catWomen, catWomenDresses),
			oxford:     product(oxford, "Oxford", "/p/oxford", 40, "EUR"),
			chinos:     product(chinos, "Chinos", "/p/chinos", 50, "EUR", catMen, catMenTrousers),
		},
		aliases: map[catalog.ID]catalog.ID{key(shirtDress): shirtDress, key(oxford): oxford, key(chinos): chinos},
		listed: map[catalog.ID][]catalog.ID{
			key(polo):   {catMen, catMenShirts},
			key(oxford): {catMen, catMenShirts},
			// A listing never overrides the product's own page.
			key(shirtDress): {catMen, catMenShirts},
		},
	}
	results := page.Region{Kind: page.Results, Prods: []catalog.ID{key(shirtDress), key(tote), key(polo), key(oxford), key(chinos)}}
	for _, c := range []struct {
		name string
		did  func(d *profile.Data)
		want Region
	}{
		{"men's trousers in the cart: men's shirts before the shirt dress", func(d *profile.Data) {
			d.AddToCart(chinos, 1, now.Add(-time.Minute))
			d.ProductInterest([]catalog.ID{catMen, catMenTrousers}, profile.CartWeight, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{4, 2, 3, 0, 1}}},
		{"a cart add outweighs a view", func(d *profile.Data) {
			d.ViewProduct(999, []catalog.ID{catWomen, catWomenDresses}, now.Add(-2*time.Minute), week)
			d.ProductInterest([]catalog.ID{catMen, catMenTrousers}, profile.CartWeight, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{4, 2, 3, 0, 1}}},
		{"views alone: the dress's own category beats men's, at ParentShare", func(d *profile.Data) {
			d.ViewProduct(998, []catalog.ID{catMen, catMenTrousers}, now.Add(-time.Minute), week)
			d.ViewProduct(999, []catalog.ID{catWomen, catWomenDresses}, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{0, 4, 2, 3, 1}}},
		{"bought shirts: the listed shirts first", func(d *profile.Data) {
			d.ProductInterest([]catalog.ID{catMen, catMenShirts}, profile.PurchaseWeight, now.Add(-time.Hour), week)
		}, Region{Action: Reorder, Order: []int{2, 3, 4, 0, 1}}},
		{"interest in men only: its children alike, in the shop's order", func(d *profile.Data) {
			d.ViewCategory([]catalog.ID{catMen}, now.Add(-time.Minute), week)
		}, Region{Action: Reorder, Order: []int{2, 3, 4, 0, 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			c.did(&d)
			in := input(cfg, regions(results), &d)
			in.Request.Type = rules.PageSearch
			in.Catalog = cat
			if got := Decide(in).Regions[0]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// BenchmarkDecideSearch measures deciding a search page of 24 results
// for a returning visitor with views and a cart: the re-ranking's cost
// per request.
func BenchmarkDecideSearch(b *testing.B) {
	cfg := demo(b)
	week := 7 * 24 * time.Hour
	cat := &fakeCatalog{products: map[catalog.ID]catalog.Product{}, aliases: map[catalog.ID]catalog.ID{}}
	for k, p := range testCatalog.products {
		cat.products[k] = p
	}
	results := page.Region{Kind: page.Results}
	cats := [][]catalog.ID{{catShoes, catBoots}, {catBags}, {catHats, catCaps}, {catHats}}
	for i := range 24 {
		id := catalog.ID(2000 + i)
		cat.products[id] = product(id, "P", "/p/x", 10, "EUR", cats[i%len(cats)]...)
		cat.aliases[key(id)] = id
		results.Prods = append(results.Prods, key(id))
	}
	d := returningProspect()
	d.ViewProduct(2003, []catalog.ID{catHats}, now.Add(-2*time.Minute), week)
	d.ViewProduct(prodBag, []catalog.ID{catBags}, now.Add(-time.Minute), week)
	d.AddToCart(prodBoots, 1, now.Add(-time.Minute))
	in := input(cfg, regions(results), &d)
	in.Request.Type = rules.PageSearch
	in.Catalog = cat
	b.ReportAllocs()
	for b.Loop() {
		pl := Decide(in)
		if pl.Regions[0].Action != Reorder {
			b.Fatalf("search results %+v, want reordered", pl.Regions[0])
		}
		pl.Release()
	}
}
