package render

import (
	"path/filepath"
	"shopedge/rewrite/golden"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
)

// TestCardsGolden: the built-in block's cards as a shopper gets them,
// byte for byte (testdata/cards/*.html, rewritten with -update): image,
// brand, name, price, and the stars with their words when the catalog
// holds a rating; no stars where it holds none or one it would not show.
func TestCardsGolden(t *testing.T) {
	t.Parallel()
	rated := func(p catalog.Product, r catalog.Rating) catalog.Product { p.Rating = r; return p }
	lamp := catalog.Product{ID: 1, Name: "Arc Floor Lamp", URL: "/p/arc-lamp", Image: "/img/lamp.jpg", Price: 149, Currency: "EUR", Brand: "Lumo"}
	tests := []struct {
		name  string
		prods []catalog.Product
		// What a shopper must find, and must not, in the block.
		has, lacks []string
	}{
		{
			name:  "rated",
			prods: []catalog.Product{rated(lamp, catalog.Rating{Value: 4.5, Best: 5, Worst: 1, Count: 132, Reviews: true})},
			has: []string{`aria-label="Rated 4.5 out of 5, 132 reviews"`, `<svg width="108" height="24" viewBox="0 0 108 24">`,
				`<span class="se-rec-brand">Lumo</span>`, `<span class="se-rec-name">Arc Floor Lamp</span>`, `<span class="se-rec-price">€149.00</span>`},
		},
		{
			name: "scales-and-counts",
			prods: []catalog.Product{
				rated(lamp, catalog.Rating{Value: 8.66, Best: 10, Worst: 1, Count: 11}),
				rated(catalog.Product{ID: 2, Name: "Desk Lamp", URL: "/p/desk", Price: 39.5, Currency: "EUR"},
					catalog.Rating{Value: 5, Best: 5, Worst: 1, Count: 1, Reviews: true}),
				rated(catalog.Product{ID: 3, Name: "Lamp Shade", URL: "/p/shade", Brand: "Lumo"},
					catalog.Rating{Value: 4.757894736842105, Best: 5, Worst: 0, Count: 190}),
			},
			has: []string{`aria-label="Rated 8.7 out of 10, 11 ratings"`, `aria-label="Rated 5 out of 5, 1 review"`,
				`aria-label="Rated 4.8 out of 5, 190 ratings"`, `<svg width="120" height="24"`},
		},
		{
			name: "unrated",
			prods: []catalog.Product{
				lamp,
				// Not one the catalog would keep: shown without stars.
				rated(catalog.Product{ID: 2, Name: "Desk Lamp", URL: "/p/desk"}, catalog.Rating{Value: 4, Best: 5, Worst: 1}),
				rated(catalog.Product{ID: 3, Name: "Lamp Shade", URL: "/p/shade"}, catalog.Rating{Value: 7, Best: 5, Worst: 1, Count: 3}),
			},
			has:   []string{`<span class="se-rec-name">Desk Lamp</span>`, `<span class="se-rec-name">Lamp Shade</span>`},
			lacks: []string{"se-rec-rating", "Rated", "<svg"},
		},
	}
	regions := []page.Region{{Kind: page.Block, Index: 0}}
	a := &page.Analysis{Regions: regions, Injects: true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cat := fakeCatalog{}
			var ids []catalog.ID
			for _, p := range tt.prods {
				cat[p.ID] = p
				ids = append(ids, p.ID)
			}
			r := demoRenderer(t, cat)
			pl := &plan.Plan{Stylesheet: -1, Regions: []plan.Region{{Action: plan.Block, Products: ids}}}
			var buf []byte
			out := r.Render(&buf, pl, a, csp.AllowAll, time.Unix(1764590400, 0))
			got := string(out.Contents[0])
			if got == "" {
				t.Fatal("no block")
			}
			for _, w := range tt.has {
				if !strings.Contains(got, w) {
					t.Errorf("block lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.lacks {
				if strings.Contains(got, w) {
					t.Errorf("block holds %q:\n%s", w, got)
				}
			}
			golden.Check(t, filepath.Join("testdata", "cards", tt.name+".html"), got)
		})
	}
}
