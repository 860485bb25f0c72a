// Command datasets converts public e-commerce clickstreams to the format
// `shopedge eval` reads:
//
//	session_id,timestamp,event,item_id,category_id
//
// in time order. Two datasets are known:
//
//	# RetailRocket (kaggle.com/datasets/retailrocket/ecommerce-dataset):
//	# visitors' events, split into sessions at 30 minutes of inactivity;
//	# categories from the item properties, when given.
//	go run ./bench/datasets -format retailrocket -o rr.csv \
//	    events.csv item_properties_part1.csv item_properties_part2.csv
//
//	# Diginetica (CIKM Cup 2016): item views, and purchases when given;
//	# categories from product-categories.csv.
//	go run ./bench/datasets -format diginetica -o dn.csv \
//	    train-item-views.csv product-categories.csv train-purchases.csv
//
// Files are recognised by their header, in any order. Then:
//
//	go run ./cmd/shopedge eval -events rr.csv
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	format := flag.String("format", "", "dataset: retailrocket or diginetica")
	out := flag.String("o", "-", "output `file` (- for standard output)")
	gap := flag.Duration("gap", 30*time.Minute, "retailrocket: inactivity that ends a session")
	flag.Parse()
	if err := run(*format, *out, *gap, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "datasets:", err)
		os.Exit(1)
	}
}

func run(format, out string, gap time.Duration, files []string) error {
	if len(files) == 0 {
		return errors.New("no input files (see go doc ./bench/datasets)")
	}
	var readers []namedReader
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		readers = append(readers, namedReader{name, bufio.NewReaderSize(f, 1<<20)})
	}
	var evs []event
	var err error
	switch format {
	case "retailrocket":
		evs, err = retailRocket(readers, gap)
	case "diginetica":
		evs, err = diginetica(readers)
	default:
		return fmt.Errorf("-format %q: want retailrocket or diginetica", format)
	}
	if err != nil {
		return err
	}
	w := os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := write(bw, evs); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d events written\n", len(evs))
	return nil
}

type namedReader struct {
	name string
	r    io.Reader
}

// event is one line of the output.
type event struct {
	session string
	at      int64 // unix seconds
	kind    string
	item    string
	cat     string
}

// write writes events in time order (a session's events keep their order).
func write(w io.Writer, evs []event) error {
	slices.SortStableFunc(evs, func(a, b event) int { return int(a.at - b.at) })
	if _, err := io.WriteString(w, "session_id,timestamp,event,item_id,category_id\n"); err != nil {
		return err
	}
	for _, e := range evs {
		if _, err := fmt.Fprintf(w, "%s,%d,%s,%s,%s\n", e.session, e.at, e.kind, e.item, e.cat); err != nil {
			return err
		}
	}
	return nil
}

// table reads a delimited file with a header, calling row with each
// record by column name.
func table(nr namedReader, sep rune, row func(get func(string) string) error) ([]string, error) {
	r := csv.NewReader(nr.r)
	r.Comma = sep
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", nr.name, err)
	}
	head = slices.Clone(head)
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	if row == nil {
		return head, nil
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return head, nil
		}
		if err != nil {
			return head, fmt.Errorf("%s:%d: %w", nr.name, line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if err := row(get); err != nil {
			return head, fmt.Errorf("%s:%d: %w", nr.name, line, err)
		}
	}
}

// sniff returns a file's header line, and a reader that still yields it.
func sniff(nr namedReader) (string, namedReader, error) {
	br := bufio.NewReader(nr.r)
	head, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", nr, fmt.Errorf("%s: %w", nr.name, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(head, "\ufeff")), namedReader{nr.name, io.MultiReader(strings.NewReader(head), br)}, nil
}

// retailRocket converts events.csv (timestamp in ms, visitorid, event
// view/addtocart/transaction, itemid, transactionid) and, optionally, the
// item property files (timestamp, itemid, property, value; the latest
// "categoryid" counts).
func retailRocket(files []namedReader, gap time.Duration) ([]event, error) {
	type visitorEvent struct {
		visitor string
		event
	}
	var raw []visitorEvent
	cats := map[string]string{}
	catAt := map[string]int64{}
	for _, f := range files {
		head, f, err := sniff(f)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(head, "timestamp,visitorid,event,itemid"):
			_, err = table(f, ',', func(get func(string) string) error {
				ms, err := strconv.ParseInt(get("timestamp"), 10, 64)
				if err != nil {
					return fmt.Errorf("timestamp: %w", err)
				}
				kind := map[string]string{"view": "view", "addtocart": "cart", "transaction": "purchase"}[get("event")]
				if kind == "" {
					return fmt.Errorf("unknown event %q", get("event"))
				}
				raw = append(raw, visitorEvent{get("visitorid"), event{at: ms / 1000, kind: kind, item: get("itemid")}})
				return nil
			})
		case strings.HasPrefix(head, "timestamp,itemid,property,value"):
			_, err = table(f, ',', func(get func(string) string) error {
				if get("property") != "categoryid" {
					return nil
				}
				ms, _ := strconv.ParseInt(get("timestamp"), 10, 64)
				if item := get("itemid"); ms >= catAt[item] {
					cats[item], catAt[item] = get("value"), ms
				}
				return nil
			})
		default:
			err = fmt.Errorf("%s: not a RetailRocket file (header %q)", f.name, head)
		}
		if err != nil {
			return nil, err
		}
	}
	// Sessions: a visitor's events, split where they pause longer than gap.
	slices.SortStableFunc(raw, func(a, b visitorEvent) int {
		if c := strings.Compare(a.visitor, b.visitor); c != 0 {
			return c
		}
		return int(a.at - b.at)
	})
	evs := make([]event, 0, len(raw))
	n, last, visitor := 0, int64(0), ""
	for _, r := range raw {
		if r.visitor != visitor || r.at-last > int64(gap/time.Second) {
			n++
			visitor = r.visitor
		}
		last = r.at
		r.session, r.cat = "s"+strconv.Itoa(n), cats[r.item]
		evs = append(evs, r.event)
	}
	return evs, nil
}

// diginetica converts train-item-views.csv (sessionId;userId;itemId;
// timeframe in ms since the session began;eventdate) and, optionally,
// train-purchases.csv (sessionId;userId;timeframe;eventdate;ordernumber;
// itemId) and product-categories.csv (itemId;categoryId).
func diginetica(files []namedReader) ([]event, error) {
	var evs []event
	cats := map[string]string{}
	add := func(kind string) func(get func(string) string) error {
		return func(get func(string) string) error {
			day, err := time.Parse("2006-01-02", get("eventdate"))
			if err != nil {
				return fmt.Errorf("eventdate: %w", err)
			}
			ms, err := strconv.ParseInt(get("timeframe"), 10, 64)
			if err != nil {
				return fmt.Errorf("timeframe: %w", err)
			}
			evs = append(evs, event{session: "s" + get("sessionId"), at: day.Unix() + ms/1000, kind: kind, item: get("itemId")})
			return nil
		}
	}
	for _, f := range files {
		head, f, err := sniff(f)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(head, "sessionId;userId;itemId;timeframe;eventdate"):
			_, err = table(f, ';', add("view"))
		case strings.HasPrefix(head, "sessionId;userId;timeframe;eventdate;ordernumber;itemId"):
			_, err = table(f, ';', add("purchase"))
		case strings.HasPrefix(head, "itemId;categoryId"):
			_, err = table(f, ';', func(get func(string) string) error {
				cats[get("itemId")] = get("categoryId")
				return nil
			})
		default:
			err = fmt.Errorf("%s: not a Diginetica file (header %q)", f.name, head)
		}
		if err != nil {
			return nil, err
		}
	}
	for i := range evs {
		evs[i].cat = cats[evs[i].item]
	}
	return evs, nil
}
