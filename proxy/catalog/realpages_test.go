package catalog

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"shopedge/rewrite"
)

// pageFromHTML reads what Extract needs from an HTML page, as the proxy does.
func pageFromHTML(pageURL string, src []byte) Page {
	d := rewrite.Parse(src)
	defer d.Release()
	return FromDoc(d, pageURL)
}

// realPagesDir is the real page corpus: $SHOPEDGE_REALPAGES, or
// ../shared/realpages beside the project.
func realPagesDir() string {
	if d := os.Getenv("SHOPEDGE_REALPAGES"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "realpages")
}

// realPage is one page of the corpus with its hand labels.
type realPage struct {
	id, url string
	src     []byte
	labels  map[string]any
}

// label returns the hand labels of a field (several when the labeller
// accepted more than one answer), nil when there are none.
func (p realPage) label(field string) []string {
	vals, _ := p.labels[field].([]any)
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// loadRealPages reads the corpus, sorted by id. When the corpus is absent
// the test fails under CI (CI set), and is skipped elsewhere (a clone
// outside the team has no ../shared).
func loadRealPages(t testing.TB) []realPage {
	t.Helper()
	dir := realPagesDir()
	gt, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(dir)
		msg := fmt.Sprintf("no real pages in %s (%v): the corpus (ground-truth.json, pages.tsv, html/) is expected at ../shared/realpages beside the project, or at $SHOPEDGE_REALPAGES", abs, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("real pages: %v", err)
	}
	var labels map[string]map[string]any
	if err := json.Unmarshal(gt, &labels); err != nil {
		t.Fatalf("ground-truth.json: %v", err)
	}
	urls := map[string]string{}
	f, err := os.Open(filepath.Join(dir, "pages.tsv"))
	if err != nil {
		t.Fatalf("pages.tsv: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, u, ok := strings.Cut(sc.Text(), "\t"); ok {
			urls[id] = u
		}
	}
	var pages []realPage
	for id, lab := range labels {
		src, err := readGzip(filepath.Join(dir, "html", id+".html.gz"))
		if err != nil {
			continue
		}
		pages = append(pages, realPage{id: id, url: urls[id], src: src, labels: lab})
	}
	slices.SortFunc(pages, func(a, b realPage) int { return strings.Compare(a.id, b.id) })
	return pages
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}

// The fields measured, in the order the table shows them.
var realFields = []string{"name", "price", "currency", "availability", "stated availability", "recommendable", "sku", "gtin", "brand"}

// rightField reports whether the product's field matches the page's hand
// label; labelled is false when the page has no label for it ("name" has
// no label: it is judged by namePlausible).
func rightField(field string, prod Product, p realPage, pi pageText) (right, labelled bool) {
	if field == "name" {
		return namePlausible(prod.Name, pi), true
	}
	key := field
	switch field {
	case "recommendable":
		key = "availability"
	case "stated availability":
		// Availability where the page's markup states one.
		if prod.Availability == AvailabilityUnknown {
			return false, false
		}
		key, field = "availability", "availability"
	}
	labels := p.label(key)
	for _, want := range labels {
		if rightValue(field, want, prod) {
			return true, true
		}
	}
	return false, len(labels) > 0
}

func rightValue(field, want string, prod Product) bool {
	switch field {
	case "price":
		return samePrice(want, prod.Price)
	case "currency":
		return sameCurrency(want, prod.Currency)
	case "availability":
		// The labels say InStock or OutOfStock: LimitedAvailability,
		// OnlineOnly and InStoreOnly are in stock, SoldOut and
		// Discontinued out of it.
		switch want {
		case "InStock":
			return prod.Availability.Available()
		case "OutOfStock":
			return !prod.Availability.Offerable()
		}
		return prod.Availability.String() == want
	case "recommendable":
		return prod.Recommendable() == (want == "InStock")
	case "sku":
		return strings.EqualFold(prod.SKU, want)
	case "gtin":
		return prod.GTIN != "" && strings.TrimLeft(prod.GTIN, "0") == strings.TrimLeft(want, "0")
	case "brand":
		return strings.EqualFold(prod.Brand, want)
	}
	return false
}

// samePrice compares a price with its label. A label such as "23.450"
// (Rs 23,450 in Pakistan, $24.990 in Chile) is read both ways.
func samePrice(label string, got float64) bool {
	w, _ := ParsePrice(label)
	if math.Abs(got-w) < 0.01 {
		return true
	}
	if i := strings.LastIndexAny(label, ".,"); i >= 0 && len(label)-i-1 == 3 {
		w, _ := ParsePrice(strings.NewReplacer(".", "", ",", "").Replace(label))
		return math.Abs(got-w) < 0.01
	}
	return false
}

func fieldValue(field string, prod Product) any {
	switch field {
	case "name":
		return prod.Name
	case "price":
		return prod.Price
	case "currency":
		return prod.Currency
	case "availability":
		return prod.Availability.String()
	case "recommendable":
		return prod.Recommendable()
	case "stated availability":
		return prod.Availability.String()
	case "sku":
		return prod.SKU
	case "gtin":
		return prod.GTIN
	case "brand":
		return prod.Brand
	}
	return nil
}

// currencySymbols maps the symbols the labels use to ISO 4217 codes.
var currencySymbols = map[string][]string{
	"€": {"EUR"}, "£": {"GBP"}, "$": {"USD", "CAD", "AUD", "NZD", "MXN", "ARS", "SGD", "HKD", "CLP", "TWD"},
	"Rs": {"INR", "PKR", "LKR"}, "₹": {"INR"}, "ر.س": {"SAR"}, "zł": {"PLN"}, "тг.": {"KZT"},
	"₽": {"RUB", "RUR"}, "Kn": {"HRK"},
}

func sameCurrency(label, got string) bool {
	if strings.EqualFold(label, got) {
		return true
	}
	return slices.Contains(currencySymbols[label], strings.ToUpper(got))
}

// pageText is what the name check compares a product's name with.
type pageText struct {
	title  string   // <title>, and og:title
	site   []string // og:site_name, the host, its name without www. and TLD
	crumbs []string // names in the page's breadcrumb trails
}

// readPageText gathers the page's titles, site names and breadcrumb names.
func readPageText(pageURL string, src []byte) pageText {
	d := rewrite.Parse(src)
	defer d.Release()
	var pt pageText
	if ts := d.Find(tagMatcher("title")); len(ts) > 0 {
		pt.title = ts[0].Text()
	}
	for _, m := range d.Metas() {
		key, _ := m.Attr("property")
		content, _ := m.Attr("content")
		switch key {
		case "og:title":
			pt.title += " " + content
		case "og:site_name":
			pt.site = append(pt.site, content)
		}
	}
	if u, err := url.Parse(pageURL); err == nil {
		host := strings.TrimPrefix(u.Hostname(), "www.")
		pt.site = append(pt.site, u.Hostname(), host)
		if i := strings.IndexByte(host, '.'); i > 0 {
			pt.site = append(pt.site, host[:i])
		}
	}
	// The last entry of a trail is often the page itself: left out.
	crumbs := Breadcrumbs(Page{URL: pageURL, JSONLD: d.JSONLD()})
	for _, c := range crumbs[:max(len(crumbs)-1, 0)] {
		pt.crumbs = append(pt.crumbs, c.Name)
	}
	for _, list := range d.Find(itemtypeMatcher("breadcrumblist")) {
		names := list.Find(itempropMatcher("name"))
		for _, e := range names[:max(len(names)-1, 0)] {
			pt.crumbs = append(pt.crumbs, microValue(e))
		}
	}
	return pt
}

// namePlausible is how the corpus test judges a product's name, which has
// no hand label: a name is plausible when
//   - it is not empty and carries no undecoded entity or markup,
//   - it is not the site's name (og:site_name, the host, "elkor" of
//     elkor.lv) nor the name of a breadcrumb entry above the page itself
//     ("Baby", "Clothing, Shoes & Accessories"),
//   - and at least half of its words appear in the page's <title> or
//     og:title (shops title a product page after the product).
func namePlausible(name string, pt pageText) bool {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, "<>") || hasEntity(name) {
		return false
	}
	for _, s := range append(pt.site, pt.crumbs...) {
		if strings.EqualFold(name, strings.TrimSpace(s)) {
			return false
		}
	}
	words := wordsOf(name)
	if len(words) == 0 {
		return false
	}
	title := wordsOf(pt.title)
	in := 0
	for _, w := range words {
		if slices.Contains(title, w) {
			in++
		}
	}
	return in*2 >= len(words)
}

func hasEntity(s string) bool {
	for _, e := range []string{"&quot;", "&amp;", "&#", "&lt;", "&gt;", "&apos;", "&nbsp;"} {
		if strings.Contains(s, e) {
			return true
		}
	}
	return false
}

// wordsOf splits text into lowercase words of letters and digits.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

type tagMatcher string

func (m tagMatcher) Match(n *html.Node) bool {
	return n.Type == html.ElementNode && n.Data == string(m)
}

type itemtypeMatcher string

func (m itemtypeMatcher) Match(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "itemtype" {
			return strings.HasSuffix(strings.TrimRight(strings.ToLower(a.Val), "/ "), "schema.org/"+string(m))
		}
	}
	return false
}

type itempropMatcher string

func (m itempropMatcher) Match(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "itemprop" {
			return slices.Contains(strings.Fields(a.Val), string(m))
		}
	}
	return false
}

// TestRealPagesExtraction measures extraction against the hand labels of
// the real page corpus (issue 9): on how many pages a product is found,
// and of those, how often each field is right. With -v it prints the
// table and every miss.
func TestRealPagesExtraction(t *testing.T) {
	pages := loadRealPages(t)
	type score struct{ labelled, right int }
	scores := map[string]*score{}
	for _, f := range realFields {
		scores[f] = &score{}
	}
	found := 0
	for _, p := range pages {
		prod, ok := Extract(pageFromHTML(p.url, p.src))
		if !ok {
			if testing.Verbose() {
				t.Logf("%s no product (%s)", p.id[:8], p.url)
			}
			continue
		}
		found++
		pt := readPageText(p.url, p.src)
		for _, field := range realFields {
			right, labelled := rightField(field, prod, p, pt)
			if !labelled {
				continue
			}
			s := scores[field]
			s.labelled++
			if right {
				s.right++
			} else if testing.Verbose() {
				t.Logf("%s %-19s want %q, got %q (%s)", p.id[:8], field, p.label(strings.TrimPrefix(strings.Replace(field, "recommendable", "availability", 1), "stated ")), fmt.Sprint(fieldValue(field, prod)), p.url)
			}
		}
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "\n| field | right / labelled | %% |\n|---|---|---|\n")
	fmt.Fprintf(&tbl, "| found | %d / %d pages | %.0f |\n", found, len(pages), pct(found, len(pages)))
	for _, f := range realFields {
		s := scores[f]
		fmt.Fprintf(&tbl, "| %s | %d / %d | %.0f |\n", f, s.right, s.labelled, pct(s.right, s.labelled))
	}
	t.Log(tbl.String())

	// Floors at the accuracy reached (issue 9): a change that loses
	// ground fails. Percentages of the pages where a product was found
	// and the field is labelled ("name" is judged on every such page).
	floors := map[string]float64{
		"found": 75, "name": 96, "price": 95, "currency": 95, "availability": 78,
		"stated availability": 94, "recommendable": 95, "sku": 53, "gtin": 55, "brand": 73,
	}
	if got := pct(found, len(pages)); got < floors["found"] {
		t.Errorf("a product was found on %d of %d pages (%.0f%%), want at least %.0f%%", found, len(pages), got, floors["found"])
	}
	for _, f := range realFields {
		s := scores[f]
		if floor, ok := floors[f]; ok && pct(s.right, s.labelled) < floor {
			t.Errorf("%s right on %d of %d (%.0f%%), want at least %.0f%%", f, s.right, s.labelled, pct(s.right, s.labelled), floor)
		}
	}
}

// TestRealPagesRatings: on the real page corpus, the ratings extracted
// are those read by hand from each page (testdata/realpages-ratings.tsv),
// and pages without one get none.
func TestRealPagesRatings(t *testing.T) {
	pages := loadRealPages(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "realpages-ratings.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		r   Rating
		src string
	}
	want := map[string]row{}
	for i, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 8 {
			t.Fatalf("realpages-ratings.tsv:%d: %d fields, want 8", i+1, len(f))
		}
		var r Rating
		var count int
		_, err := fmt.Sscan(strings.Join(f[1:5], " "), &r.Value, &r.Best, &r.Worst, &count)
		if err != nil {
			t.Fatalf("realpages-ratings.tsv:%d: %v", i+1, err)
		}
		r.Count, r.Reviews = uint32(count), f[5] == "reviews"
		want[f[0]] = row{r, f[6]}
	}
	right := 0
	for _, p := range pages {
		prod, _ := Extract(pageFromHTML(p.url, p.src))
		w, rated := want[p.id[:8]]
		switch {
		case !rated && prod.Rating != (Rating{}):
			t.Errorf("%s: rating %+v, want none (%s)", p.id[:8], prod.Rating, p.url)
		case rated && (prod.Rating != w.r || prod.Sources.Of(FieldRating).String() != w.src):
			t.Errorf("%s: rating %+v from %q, want %+v from %q (%s)", p.id[:8], prod.Rating, prod.Sources.Of(FieldRating), w.r, w.src, p.url)
		case rated:
			right++
		}
	}
	t.Logf("ratings right on %d of the %d pages that carry one", right, len(want))
	if right != len(want) {
		t.Errorf("%d of %d ratings right", right, len(want))
	}
}
