package shop

import (
	"math/rand/v2"
	"sort"
)

// Visit is one thing a simulated shopper did: a product viewed, put in the
// cart or bought, in a visit (Session), at a unix time.
type Visit struct {
	Session int
	At      int64
	Kind    string // "view", "cart" or "purchase"
	Product *Product
}

// Shoppers simulates about n events of shoppers on the catalog, over span
// seconds from start, in time order; the same seed makes the same events.
// They behave as on a real shop: each visit keeps to a category chosen by
// Zipf-distributed preference, starts on a popular product, and moves on
// mostly to related products (same subcategory and brand or colour),
// sometimes to others of the subcategory or the category, sometimes
// elsewhere; some views repeat; some visits add to the cart, and some of
// those buy.
func (cat *Catalog) Shoppers(n int, seed uint64, start, span int64) []Visit {
	r := rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1))
	var tops []*Category
	for _, c := range cat.Top {
		if len(c.Products) > 0 && c.Slug != "sale" {
			tops = append(tops, c)
		}
	}
	// Popularity: a random order of each category's products, Zipf over it.
	order := map[*Category][]*Product{}
	zipf := map[*Category]*rand.Zipf{}
	var cats []*Category
	for _, c := range cat.Categories {
		if len(c.Products) > 1 {
			cats = append(cats, c)
		}
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i].Slug < cats[j].Slug })
	for _, c := range cats {
		ps := append([]*Product(nil), c.Products...)
		r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		order[c] = ps
		zipf[c] = rand.NewZipf(r, 1.2, 2, uint64(len(ps)-1))
	}
	pick := func(c *Category) *Product { return order[c][zipf[c].Uint64()] }
	// Related products: same subcategory and brand or colour.
	related := map[*Product][]*Product{}
	for _, p := range cat.Products {
		for _, q := range p.Category.Products {
			if q != p && (q.Brand == p.Brand || q.Color == p.Color) {
				related[p] = append(related[p], q)
			}
		}
	}
	topZipf := rand.NewZipf(r, 1.1, 1, uint64(len(tops)-1))

	var evs []Visit
	for s := 1; len(evs) < n; s++ {
		top := tops[topZipf.Uint64()]
		cur := pick(top)
		at := start + r.Int64N(span)
		length := 1 + int(r.ExpFloat64()*4)
		carted := false
		for i := 0; i < length && len(evs) < n; i++ {
			evs = append(evs, Visit{s, at, "view", cur})
			if !carted && cur.InStock && r.IntN(12) == 0 {
				at += 20 + r.Int64N(40)
				evs = append(evs, Visit{s, at, "cart", cur})
				carted = true
			}
			at += 30 + r.Int64N(90)
			switch x := r.IntN(100); {
			case x < 10: // a repeated view
			case x < 55 && len(related[cur]) > 0:
				rel := related[cur]
				cur = rel[min(int(r.ExpFloat64()*2), len(rel)-1)]
			case x < 80:
				cur = pick(cur.Category)
			case x < 90:
				cur = pick(top)
			default:
				top = tops[topZipf.Uint64()]
				cur = pick(top)
			}
		}
		if carted && r.IntN(10) < 4 {
			for _, e := range evs[len(evs)-length:] {
				if e.Session == s && e.Kind == "cart" {
					evs = append(evs, Visit{s, at + 60, "purchase", e.Product})
				}
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	return evs
}
