package plan

import (
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/rules"
)

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
