// Command clickstream writes a synthetic clickstream over the demo shop's
// catalog, in the format `shopedge eval` reads:
//
//	session_id,timestamp,event,item_id,category_id
//
//	go run ./bench/clickstream -events 20000 -o proxy/recommend/testdata/sample.csv
//
// Shoppers behave as on a real shop, so that the strategies have something
// to learn: each visit keeps to a category chosen by Zipf-distributed
// preference, starts on a popular product, and moves on mostly to related
// products (same subcategory and brand or colour), sometimes to others of
// the subcategory or the category, sometimes elsewhere; some views repeat;
// some visits add to the cart, and some of those buy. Visits spread over
// 30 days; events are written in time order. The same seed writes the same
// file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"

	"shopedge/bench/shop"
)

func main() {
	events := flag.Int("events", 20000, "number of events to write (about)")
	out := flag.String("o", "-", "output `file` (- for standard output)")
	seed := flag.Uint64("seed", 7, "random seed")
	flag.Parse()
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "clickstream:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if err := write(bw, *events, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "clickstream:", err)
		os.Exit(1)
	}
}

type event struct {
	session int
	at      int64
	kind    string
	item    *shop.Product
}

func write(w *bufio.Writer, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1))
	cat := shop.NewCatalog(1)
	var tops []*shop.Category
	for _, c := range cat.Top {
		if len(c.Products) > 0 && c.Slug != "sale" {
			tops = append(tops, c)
		}
	}
	// Popularity: a random order of each category's products, Zipf over it.
	order := map[*shop.Category][]*shop.Product{}
	zipf := map[*shop.Category]*rand.Zipf{}
	var cats []*shop.Category
	for _, c := range cat.Categories {
		if len(c.Products) > 1 {
			cats = append(cats, c)
		}
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i].Slug < cats[j].Slug })
	for _, c := range cats {
		ps := append([]*shop.Product(nil), c.Products...)
		r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		order[c] = ps
		zipf[c] = rand.NewZipf(r, 1.2, 2, uint64(len(ps)-1))
	}
	pick := func(c *shop.Category) *shop.Product { return order[c][zipf[c].Uint64()] }
	// Related products: same subcategory and brand or colour.
	related := map[*shop.Product][]*shop.Product{}
	for _, p := range cat.Products {
		for _, q := range p.Category.Products {
			if q != p && (q.Brand == p.Brand || q.Color == p.Color) {
				related[p] = append(related[p], q)
			}
		}
	}
	topZipf := rand.NewZipf(r, 1.1, 1, uint64(len(tops)-1))

	const span = 30 * 24 * 3600
	start := int64(1793491200) // 2026-10-31
	var evs []event
	for s := 1; len(evs) < n; s++ {
		top := tops[topZipf.Uint64()]
		cur := pick(top)
		at := start + r.Int64N(span)
		length := 1 + int(r.ExpFloat64()*4)
		carted := false
		for i := 0; i < length && len(evs) < n; i++ {
			evs = append(evs, event{s, at, "view", cur})
			if !carted && cur.InStock && r.IntN(12) == 0 {
				at += 20 + r.Int64N(40)
				evs = append(evs, event{s, at, "cart", cur})
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
				if e.session == s && e.kind == "cart" {
					evs = append(evs, event{s, at + 60, "purchase", e.item})
				}
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	if _, err := w.WriteString("session_id,timestamp,event,item_id,category_id\n"); err != nil {
		return err
	}
	for _, e := range evs {
		fmt.Fprintf(w, "s%d,%d,%s,%s,%s\n", e.session, e.at, e.kind, e.item.SKU, strings.ReplaceAll(e.item.Category.Slug, "/", "-"))
	}
	return nil
}
