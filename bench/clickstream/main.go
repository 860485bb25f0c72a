// Command clickstream writes a synthetic clickstream over the demo shop's
// catalog, in the format `shopedge eval` reads:
//
//	session_id,timestamp,event,item_id,category_id
//
//	go run ./bench/clickstream -events 20000 -o proxy/recommend/testdata/sample.csv
//
// The shoppers are the demo shop's (shop.Catalog.Shoppers), who behave as
// on a real shop, so that the strategies have something to learn. Visits
// spread over 30 days; events are written in time order. The same seed
// writes the same file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
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

func write(w *bufio.Writer, n int, seed uint64) error {
	const span = 30 * 24 * 3600
	start := int64(1793491200) // 2026-10-31
	evs := shop.NewCatalog(1).Shoppers(n, seed, start, span)
	if _, err := w.WriteString("session_id,timestamp,event,item_id,category_id\n"); err != nil {
		return err
	}
	for _, e := range evs {
		fmt.Fprintf(w, "s%d,%d,%s,%s,%s\n", e.Session, e.At, e.Kind, e.Product.SKU, strings.ReplaceAll(e.Product.Category.Slug, "/", "-"))
	}
	return nil
}
