package catalog

import (
	"strings"

	"golang.org/x/net/html"

	"shopedge/rewrite"
)

// Item is one microdata item (an element with itemscope): its schema.org
// type and the properties that belong to it, in document order. A
// property belongs to the nearest item around it, so the name of a
// breadcrumb, review or brand nested in a Product is that item's, not the
// Product's.
type Item struct {
	// Type is the item's schema.org type without its prefix ("Product",
	// "Offer", "Brand"), or "" when it has none.
	Type  string
	Props []Prop
}

// Prop is one microdata property of an item.
type Prop struct {
	// Name is the property's name without a schema.org prefix ("price").
	Name string
	// Value is the property's value (content, the URL of links and media,
	// or the text); for a property that is an item of its own, its itemid
	// or link ("" when it has none).
	Value string
	// Item is the nested item, for a property whose element has itemscope
	// (offers, brand, priceSpecification).
	Item *Item
}

// Limits on what FromDoc reads of a page's microdata, so that a page with
// thousands of properties costs a bounded amount.
const (
	maxItemDepth = 6
	maxItemProps = 256
	maxPropValue = 2048
)

// microProps are the properties the extractor reads, each mapped to
// itself: a Prop's Name is the table's string, never a view of the page.
// Others are skipped without reading their text.
var microProps = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{
		"name", "sku", "mpn", "productID", "gtin", "gtin8", "gtin12", "gtin13", "gtin14",
		"brand", "manufacturer", "image", "url", "offers", "price", "lowPrice", "highPrice",
		"priceCurrency", "availability", "priceSpecification", "priceType",
		// AggregateRating
		"aggregateRating", "ratingValue", "bestRating", "worstRating", "reviewCount", "ratingCount",
		// BreadcrumbList
		"itemListElement", "item", "position",
	} {
		m[name] = name
	}
	return m
}()

// FromDoc gathers from an indexed HTML page what Extract reads: JSON-LD
// blocks, meta properties and the microdata of its first schema.org
// Product and BreadcrumbList. The JSON-LD is decoded here, once, for both
// Extract and Breadcrumbs.
// The Page holds copies, every string of it: it stays valid after the Doc
// is released and the page's bytes are reused.
func FromDoc(d *rewrite.Doc, pageURL string) Page {
	p := Page{URL: pageURL}
	for _, b := range d.JSONLD() {
		p.JSONLD = append(p.JSONLD, append([]byte(nil), b...))
	}
	if len(p.JSONLD) > 0 {
		p.ld = decodeLD(p.JSONLD)
	}
	for _, m := range d.Metas() {
		key, ok := m.Attr("property")
		if !ok {
			key, ok = m.Attr("name")
		}
		content, has := m.Attr("content")
		if ok && has {
			// Clones: the Doc's strings are views of the page's bytes
			// (strings.ToLower returns a lowercase key as it is).
			p.Meta = append(p.Meta, Meta{Key: strings.Clone(strings.ToLower(key)), Content: strings.Clone(content)})
		}
	}
	product, crumbs := firstItems(d.Root(), nil, nil)
	if product != nil {
		budget := maxItemProps
		p.Microdata = readItem(d, product, 0, &budget)
	}
	if crumbs != nil {
		budget := maxItemProps
		p.MicroCrumbs = readItem(d, crumbs, 0, &budget)
	}
	return p
}

// decodedLD is a page's JSON-LD as findJSONLD reads it. Its maps are only
// read, never changed, so copies of a Page may share it.
type decodedLD struct {
	src [][]byte // the JSONLD it was decoded from
	ldNodes
}

// decodeLD decodes a page's JSON-LD blocks once, for Extract and
// Breadcrumbs.
func decodeLD(blocks [][]byte) *decodedLD {
	return &decodedLD{src: blocks, ldNodes: findJSONLD(blocks)}
}

// nodes returns the page's Product nodes, BreadcrumbList and rating nodes (see
// findJSONLD): those FromDoc decoded, or, for a Page built otherwise or
// whose JSONLD was replaced since, decoded now.
func (p *Page) nodes() ldNodes {
	if ld := p.ld; ld != nil && len(ld.src) == len(p.JSONLD) && (len(p.JSONLD) == 0 || &ld.src[0] == &p.JSONLD[0]) {
		return ld.ldNodes
	}
	return findJSONLD(p.JSONLD)
}

// firstItems returns the first elements under n, in document order, that
// are a schema.org Product item and a BreadcrumbList item (found is what
// was found before n).
func firstItems(n, product, crumbs *html.Node) (_, _ *html.Node) {
	for c := n.FirstChild; c != nil && (product == nil || crumbs == nil); c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if product == nil && isItemOf(c, "Product", "ProductGroup") {
			product = c
		}
		if crumbs == nil && isItemOf(c, "BreadcrumbList") {
			crumbs = c
		}
		product, crumbs = firstItems(c, product, crumbs)
	}
	return product, crumbs
}

// readItem reads the item whose element is n: the properties of its
// descendants, down to (and including) nested items, which are read
// separately.
func readItem(d *rewrite.Doc, n *html.Node, depth int, budget *int) *Item {
	it := &Item{Type: strings.Clone(schemaName(attr(n, "itemtype")))}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || *budget <= 0 {
				continue
			}
			scope := isItem(c)
			if props, ok := attrOK(c, "itemprop"); ok {
				for _, name := range strings.Fields(props) {
					name, known := microProps[schemaName(name)]
					if !known || *budget <= 0 {
						continue
					}
					*budget--
					prop := Prop{Name: name} // the table's string, not the page's
					if scope {
						prop.Value = clip(strings.Clone(itemLink(c)), maxPropValue)
						if depth+1 < maxItemDepth {
							prop.Item = readItem(d, c, depth+1, budget)
						}
					} else if e, ok := d.Element(c); ok {
						prop.Value = clip(strings.Clone(microValue(e)), maxPropValue)
					}
					it.Props = append(it.Props, prop)
				}
			}
			if scope {
				continue // what is inside belongs to the nested item
			}
			walk(c)
		}
	}
	walk(n)
	return it
}

// schemaName strips a schema.org prefix from a type or property name:
// "https://schema.org/Offer" is "Offer".
func schemaName(s string) string {
	s = strings.TrimSpace(s)
	if f := strings.Fields(s); len(f) > 1 {
		s = f[0] // itemtype may list several types: the first
	}
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimPrefix(s, "schema:")
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// itemLink is the URL an element that is an item stands for: its itemid,
// or the link of an a or link element.
func itemLink(n *html.Node) string {
	if v, ok := attrOK(n, "itemid"); ok {
		return v
	}
	switch n.Data {
	case "a", "link", "area":
		return attr(n, "href")
	}
	return ""
}

// isItem reports whether n is a microdata item: it has itemscope, or an
// itemtype (which shops sometimes write without itemscope).
func isItem(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "itemscope" || a.Key == "itemtype" {
			return true
		}
	}
	return false
}

// isItemOf reports whether n's itemtype is one of types.
func isItemOf(n *html.Node, types ...string) bool {
	for _, t := range strings.Fields(attr(n, "itemtype")) {
		for _, want := range types {
			if strings.EqualFold(schemaName(t), want) {
				return true
			}
		}
	}
	return false
}

// microValue is a microdata property's value: content, then the URL of
// links and media, then the text.
func microValue(e rewrite.Element) string {
	if v, ok := e.Attr("content"); ok {
		return v
	}
	switch e.Tag() {
	case "a", "link", "area":
		v, _ := e.Attr("href")
		return v
	case "img", "source", "video", "audio", "iframe", "embed":
		v, _ := e.Attr("src")
		return v
	case "meta":
		return ""
	case "data", "meter":
		if v, ok := e.Attr("value"); ok {
			return v
		}
	case "time":
		if v, ok := e.Attr("datetime"); ok {
			return v
		}
	}
	return e.Text()
}
