package catalog

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// Page is what the extractor reads from one HTML page.
type Page struct {
	// URL is the page's absolute URL; relative URLs in the page resolve
	// against it, and its origin is the shop's.
	URL string
	// JSONLD holds the contents of the page's JSON-LD script elements.
	JSONLD [][]byte
	// Meta holds the page's <meta> properties (property or name, content).
	Meta []Meta
	// Microdata is the page's first schema.org Product item, or nil.
	Microdata *Item
	// MicroCrumbs is the page's first schema.org BreadcrumbList item, or
	// nil; a JSON-LD BreadcrumbList is preferred.
	MicroCrumbs *Item
	// AssetHosts are the hosts besides the page's own that a product's
	// URL and image may point to (the shop's CDNs): "cdn.shop.com", or
	// "*.shopcdn.net" for any host under shopcdn.net. URLs elsewhere are
	// dropped.
	AssetHosts []string

	// ld is what FromDoc decoded of JSONLD, so that Extract and
	// Breadcrumbs on the same page do not decode every block again. It
	// answers only for the JSONLD it was decoded from (see nodes).
	ld *decodedLD
}

// Meta is one <meta property|name=... content=...>.
type Meta struct {
	Key, Content string
}

// Limits on what a product keeps of a page, in bytes: the catalog holds
// up to catalog.max_products of them.
const (
	maxName = 300
	maxText = 120 // SKU, brand, currency, category names
	maxURL  = 2048
)

// Extract reads the product a page describes: schema.org Product JSON-LD
// first, then its microdata, then OpenGraph product tags for what they
// lack, and the BreadcrumbList for the category path. ok is false when the
// page shows no product. Malformed JSON-LD blocks are skipped.
//
// The product's URL and image are http(s) URLs on the page's origin or on
// one of p.AssetHosts: an image elsewhere is dropped, and a product whose
// URL points elsewhere takes the page's URL (it was learned from that
// page, which shows it).
func Extract(p Page) (prod Product, ok bool) {
	lc := linker{hosts: p.AssetHosts}
	lc.base, _ = url.Parse(p.URL)
	ld := p.nodes()
	crumbNode := ld.crumbs
	if len(ld.products) > 0 {
		prod, ok = productFromLD(ld.products, lc), true
		if !prod.Rating.Valid() {
			prod.rateFromReviewed(ld.ratings)
		}
	}
	if p.Microdata != nil {
		if md := productFromMicrodata(p.Microdata, lc); !ok {
			prod, ok = md, md.Name != "" || md.Price != 0
		} else {
			prod.fillFrom(md)
		}
	}
	og := productFromOpenGraph(p.Meta, lc)
	if !ok {
		if og.Name == "" || !ogIsProduct(p.Meta) {
			return Product{}, false
		}
		prod = og
	} else {
		prod.fillFrom(og)
	}
	if prod.URL == "" && lc.base != nil && len(p.URL) <= maxURL {
		prod.URL = lc.base.String()
		prod.Sources.set(FieldURL, SourcePage)
	}
	if prod.Name == "" {
		return Product{}, false
	}
	switch {
	case crumbNode != nil:
		prod.Categories = categoryPath(breadcrumbs(crumbNode, lc.base), prod)
		if len(prod.Categories) > 0 {
			prod.Sources.set(FieldCategories, SourceJSONLD)
		}
	case p.MicroCrumbs != nil:
		prod.Categories = categoryPath(microBreadcrumbs(p.MicroCrumbs, lc.base), prod)
		if len(prod.Categories) > 0 {
			prod.Sources.set(FieldCategories, SourceMicrodata)
		}
	}
	prod.Key = prod.key()
	prod.ID = KeyOf(prod.Key)
	return prod, true
}

// Breadcrumbs returns the category path a page's BreadcrumbList gives, home
// and the page itself left out.
func Breadcrumbs(p Page) []Category {
	base, _ := url.Parse(p.URL)
	if node := p.nodes().crumbs; node != nil {
		return categoryPath(breadcrumbs(node, base), Product{URL: p.URL})
	}
	if p.MicroCrumbs != nil {
		return categoryPath(microBreadcrumbs(p.MicroCrumbs, base), Product{URL: p.URL})
	}
	return nil
}

// microBreadcrumbs reads a microdata BreadcrumbList: its ListItems' names
// and links (the item property, a link or an item with a url), in order of
// position.
func microBreadcrumbs(list *Item, base *url.URL) []Category {
	var cs []crumb
	for _, pr := range list.Props {
		if pr.Name != "itemListElement" || pr.Item == nil {
			continue
		}
		c := crumb{pos: float64(len(cs) + 1), name: cleanText(itemText(pr.Item, "name"), maxText)}
		if p, err := strconv.ParseFloat(itemText(pr.Item, "position"), 64); err == nil {
			c.pos = p
		}
		for _, ip := range pr.Item.Props {
			if ip.Name != "item" {
				continue
			}
			if ip.Item != nil {
				if c.name == "" {
					c.name = cleanText(itemText(ip.Item, "name"), maxText)
				}
				if c.url = itemText(ip.Item, "url"); c.url == "" {
					c.url = ip.Value // the item's itemid or href
				}
			} else {
				c.url = ip.Value
			}
			break
		}
		if c.url == "" {
			c.url = itemText(pr.Item, "url")
		}
		c.url = resolve(base, c.url)
		cs = append(cs, c)
	}
	return sortedCrumbs(cs)
}

// findJSONLD returns the page's Product (or ProductGroup) nodes and its
// BreadcrumbList: of each, those nested least deep (a Product in a
// WebPage's mainEntity, not one of its isRelatedTo); the first of them is
// the page's product, the others may be its variants (Zara lists one
// Product per size). It also returns the AggregateRating nodes that name
// the Product they rate (itemReviewed), which some shops write instead
// of a rating inside the Product.
func findJSONLD(blocks [][]byte) ldNodes {
	var ld ldNodes
	pDepth, cDepth := math.MaxInt, math.MaxInt
	for _, raw := range blocks {
		v, err := DecodeJSONLD(raw)
		if err != nil {
			continue
		}
		WalkJSONLD(v, 0, func(node map[string]any, depth int) {
			switch {
			case HasType(node, "Product") || HasType(node, "ProductGroup"):
				if depth < pDepth {
					ld.products, pDepth = ld.products[:0], depth
				}
				if depth == pDepth && len(ld.products) < maxVariants {
					ld.products = append(ld.products, node)
				}
			case HasType(node, "BreadcrumbList"):
				if depth < cDepth {
					ld.crumbs, cDepth = node, depth
				}
			case HasType(node, "AggregateRating"):
				if item, ok := node["itemReviewed"].(map[string]any); ok && len(ld.ratings) < maxVariants &&
					(HasType(item, "Product") || HasType(item, "ProductGroup")) {
					ld.ratings = append(ld.ratings, node)
				}
			}
		})
	}
	return ld
}

// ldNodes is what findJSONLD finds of a page's JSON-LD.
type ldNodes struct {
	products []map[string]any
	crumbs   map[string]any
	ratings  []map[string]any // AggregateRatings with a Product itemReviewed
}

// maxVariants bounds the sibling Products read as variants of the first.
const maxVariants = 200

// DecodeJSONLD parses a JSON-LD block, forgiving what shops commonly get
// wrong: wrappers around the JSON (<!-- -->, //<![CDATA[, /*<![CDATA[*/,
// a trailing semicolon) and raw control characters in strings.
func DecodeJSONLD(raw []byte) (any, error) {
	b := bytes.TrimSpace(raw)
	var v any
	err := json.Unmarshal(b, &v)
	if err == nil {
		return v, nil
	}
	// An object or a list inside whatever wraps it.
	for _, delim := range [2]string{"{}", "[]"} {
		start, end := bytes.IndexByte(b, delim[0]), bytes.LastIndexByte(b, delim[1])
		if start < 0 || end < start {
			continue
		}
		clean := make([]byte, end+1-start)
		for i, c := range b[start : end+1] {
			if c < 0x20 {
				c = ' '
			}
			clean[i] = c
		}
		if json.Unmarshal(clean, &v) == nil {
			return v, nil
		}
	}
	return nil, err
}

// WalkJSONLD calls f for every object in a JSON-LD value with its depth:
// the properties followed to reach it (@graph and lists do not count).
// Objects are visited in document order, an object's properties in
// sorted order, so that the result does not depend on map order.
func WalkJSONLD(v any, depth int, f func(map[string]any, int)) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			WalkJSONLD(e, depth, f)
		}
	case map[string]any:
		f(t, depth)
		var buf [16]string
		keys := buf[:0]
		for k, e := range t {
			switch e.(type) {
			case []any, map[string]any:
				if k != "@context" {
					keys = append(keys, k)
				}
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			d := depth + 1
			if k == "@graph" {
				d = depth
			}
			WalkJSONLD(t[k], d, f)
		}
	}
}

// HasType reports whether a JSON-LD node is of the schema.org type want
// ("Product", "schema:Product", "https://schema.org/Product", or a list
// holding one), without case.
func HasType(node map[string]any, want string) bool {
	match := func(s string) bool { return strings.EqualFold(schemaName(s), want) }
	switch t := node["@type"].(type) {
	case string:
		return match(t)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && match(s) {
				return true
			}
		}
	}
	return false
}

// text returns a JSON-LD value as a string: strings as they are, numbers
// formatted, the first element of a list, the name or @id of an object.
func text(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		for _, e := range t {
			if s := text(e); s != "" {
				return s
			}
		}
	case map[string]any:
		for _, k := range []string{"name", "url", "@id", "contentUrl", "value", "@value"} {
			if s := text(t[k]); s != "" {
				return s
			}
		}
	}
	return ""
}

// nameText returns a JSON-LD value that is a name (of a product, a brand,
// a category): a string, or an object's name, never a URL or @id.
func nameText(v any) string {
	switch t := v.(type) {
	case string:
		if looksLikeURL(t) {
			return ""
		}
		return cleanText(t, maxText)
	case []any:
		for _, e := range t {
			if s := nameText(e); s != "" {
				return s
			}
		}
	case map[string]any:
		return nameText(t["name"])
	}
	return ""
}

func looksLikeURL(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "//")
}

// cleanText makes a text fit to show: HTML entities decoded (shops often
// escape their JSON-LD as HTML, some twice: "11&amp;quot; iPad"), runs of
// white space collapsed, clipped to n bytes.
func cleanText(s string, n int) string {
	for range 2 {
		if !strings.Contains(s, "&") {
			break
		}
		s = html.UnescapeString(s)
	}
	if strings.IndexFunc(s, isSpaceRune) >= 0 {
		s = strings.Join(strings.Fields(s), " ")
	}
	return clip(strings.TrimSpace(s), n)
}

func isSpaceRune(r rune) bool {
	return r == '\n' || r == '\r' || r == '\t' || r == '\u00a0' || r == '\f' || r == '\v'
}

// linker resolves the URLs a page gives for a product and keeps those on
// the page's origin or on an allowed asset host.
type linker struct {
	base  *url.URL
	hosts []string
}

// link resolves ref against the page and returns it when it is an
// http(s) URL on the page's origin or an asset host, "" otherwise.
func (l linker) link(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > maxURL || strings.ContainsAny(ref, "\\\x00\t\r\n") {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if l.base != nil {
		u = l.base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	if !(l.base != nil && strings.EqualFold(u.Host, l.base.Host)) && !HostAllowed(u.Hostname(), l.hosts) {
		return ""
	}
	s := u.String()
	if len(s) > maxURL {
		return ""
	}
	return s
}

// HostAllowed reports whether host is one of patterns: a host name
// ("cdn.shop.com"), or "*." and a domain for any host under it
// ("*.shopcdn.net" allows img.shopcdn.net, not shopcdn.net). Case does
// not matter.
func HostAllowed(host string, patterns []string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, p := range patterns {
		if dom, ok := strings.CutPrefix(p, "*."); ok {
			if len(host) > len(dom)+1 && host[len(host)-len(dom)-1] == '.' && strings.EqualFold(host[len(host)-len(dom):], dom) {
				return true
			}
		} else if strings.EqualFold(host, p) {
			return true
		}
	}
	return false
}

// offer is what one offer says, from any markup.
type offer struct {
	price        float64
	currency     string
	availability Availability
	sku, gtin    string
}

// takeMicro reads a microdata property of an offer (or one written on the
// product itself): price, currency, availability. It reports whether name
// was one of them.
func (o *offer) takeMicro(name, v string) bool {
	switch name {
	case "price", "lowPrice":
		if o.price == 0 {
			o.price, _ = ParsePrice(v)
		}
	case "priceCurrency":
		if o.currency == "" {
			o.currency = strings.TrimSpace(v)
		}
	case "availability":
		o.availability = Better(o.availability, ParseAvailability(v))
	default:
		return false
	}
	return true
}

// bestOffer combines a product's offers: the availability is the most
// buyable of them (a product sold in several sizes is in stock when one
// size is), the price the lowest asked at that availability (a sale
// offer beside the regular one, the smallest size).
func bestOffer(offers []offer) offer {
	var best offer
	for _, o := range offers {
		best.availability = Better(best.availability, o.availability)
	}
	pick := func(match func(offer) bool) {
		for _, o := range offers {
			if o.price > 0 && match(o) && (best.price == 0 || o.price < best.price) {
				best.price, best.currency = o.price, o.currency
			}
		}
	}
	pick(func(o offer) bool { return o.availability == best.availability })
	if best.price == 0 {
		pick(func(offer) bool { return true })
	}
	for _, o := range offers {
		if best.currency == "" {
			best.currency = o.currency
		}
		if best.sku == "" {
			best.sku = o.sku
		}
		if best.gtin == "" {
			best.gtin = o.gtin
		}
	}
	return best
}

// setOffer fills p's offer fields from o, marking them as from src.
func (p *Product) setOffer(o offer, src Source) {
	set := func(f Field, dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = v
			p.Sources.set(f, src)
		}
	}
	if o.price > 0 {
		p.Price = o.price
		p.Sources.set(FieldPrice, src)
	}
	set(FieldCurrency, &p.Currency, currencyCode(o.currency))
	if o.availability != AvailabilityUnknown {
		p.Availability = o.availability
		p.Sources.set(FieldAvailability, src)
	}
	set(FieldSKU, &p.SKU, o.sku)
	set(FieldGTIN, &p.GTIN, o.gtin)
}

// set fills a text field of p from src when it is empty.
func (p *Product) set(f Field, dst *string, v string, src Source) {
	if *dst == "" && v != "" {
		*dst = v
		p.Sources.set(f, src)
	}
}

// productFromLD reads the first of nodes, a Product or ProductGroup; the
// offers of the others count as its own when they have its name (one
// Product per size or colour).
func productFromLD(nodes []map[string]any, lc linker) Product {
	node := nodes[0]
	var p Product
	const src = SourceJSONLD
	p.set(FieldName, &p.Name, cleanText(text(node["name"]), maxName), src)
	p.set(FieldSKU, &p.SKU, cleanText(firstText(node, "sku", "productID", "mpn"), maxText), src)
	p.set(FieldGTIN, &p.GTIN, ldGTIN(node), src)
	p.set(FieldBrand, &p.Brand, nameText(node["brand"]), src)
	p.set(FieldBrand, &p.Brand, nameText(node["manufacturer"]), src)
	p.set(FieldURL, &p.URL, lc.link(text(node["url"])), src)
	p.set(FieldImage, &p.Image, lc.link(imageText(node["image"])), src)
	if r, ok := ldRating(node["aggregateRating"]); ok {
		p.Rating = r
		p.Sources.set(FieldRating, src)
	}
	if id := text(node["@id"]); id != "" && len(id) <= maxURL {
		p.aliases = append(p.aliases, id)
	}
	if pid := text(node["productID"]); pid != "" && pid != p.SKU && len(pid) <= maxText {
		p.aliases = append(p.aliases, pid)
	}
	offers := ldOffers(node["offers"], nil, 0)
	if vs, ok := node["hasVariant"].([]any); ok {
		// ProductGroup: its variants' offers.
		for _, v := range vs {
			if vm, ok := v.(map[string]any); ok {
				offers = ldOffers(vm["offers"], offers, 0)
			}
		}
	}
	for _, sib := range nodes[1:] {
		if p.Name != "" && strings.EqualFold(cleanText(text(sib["name"]), maxName), p.Name) {
			offers = ldOffers(sib["offers"], offers, 0)
		}
	}
	p.setOffer(bestOffer(offers), src)
	return p
}

// ldOffers appends the offers of a JSON-LD offers value: an Offer, a list
// of them, or an AggregateOffer (its own low price and availability, then
// the offers it lists).
func ldOffers(v any, out []offer, depth int) []offer {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = ldOffers(e, out, depth)
		}
	case map[string]any:
		o := offer{
			currency:     text(t["priceCurrency"]),
			availability: ParseAvailability(text(t["availability"])),
			sku:          cleanText(text(t["sku"]), maxText),
			gtin:         ldGTIN(t),
		}
		o.price, o.currency = ldPrice(t, o.currency)
		out = append(out, o)
		if inner, ok := t["offers"]; ok && depth < 2 {
			out = ldOffers(inner, out, depth+1)
		}
	}
	return out
}

// ldPrice returns the price an offer asks: price, else lowPrice, else its
// price specification's.
func ldPrice(o map[string]any, currency string) (float64, string) {
	for _, k := range []string{"price", "lowPrice"} {
		if v, ok := ParsePrice(text(o[k])); ok && v > 0 {
			return v, currency
		}
	}
	var specs []priceSpec
	var collect func(v any, depth int)
	collect = func(v any, depth int) {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				collect(e, depth)
			}
		case map[string]any:
			s := priceSpec{currency: text(t["priceCurrency"]), kind: text(t["priceType"]), unit: t["referenceQuantity"] != nil}
			s.price, _ = ParsePrice(text(t["price"]))
			specs = append(specs, s)
			if inner, ok := t["priceComponent"]; ok && depth < 2 { // CompoundPriceSpecification
				collect(inner, depth+1)
			}
		}
	}
	collect(o["priceSpecification"], 0)
	if s, ok := offeredPrice(specs); ok {
		if s.currency != "" {
			currency = s.currency
		}
		return s.price, currency
	}
	return 0, currency
}

// priceSpec is one PriceSpecification (or UnitPriceSpecification).
type priceSpec struct {
	price    float64
	currency string
	kind     string // priceType: ListPrice, StrikethroughPrice, SalePrice, ...
	unit     bool   // a price per reference quantity (per kg), not the product's
}

// offeredPrice picks the price a shop asks among an offer's
// specifications: not a list, strikethrough or recommended retail price,
// not a price per unit of measure; the lowest such.
func offeredPrice(specs []priceSpec) (priceSpec, bool) {
	var best priceSpec
	found := false
	for _, s := range specs {
		if s.price <= 0 || s.unit {
			continue
		}
		switch strings.ToLower(schemaName(s.kind)) {
		case "listprice", "strikethroughprice", "srp", "msrp", "rrp", "invoiceprice", "minimumadvertisedprice":
			continue
		}
		if !found || s.price < best.price {
			best, found = s, true
		}
	}
	return best, found
}

// ldGTIN returns the GTIN a JSON-LD node gives, in any of its properties.
func ldGTIN(node map[string]any) string {
	for _, k := range []string{"gtin13", "gtin", "gtin14", "gtin12", "gtin8", "isbn"} {
		if g := normGTIN(text(node[k])); g != "" {
			return g
		}
	}
	return ""
}

// normGTIN returns the digits of a GTIN-8, -12, -13 or -14 whose check
// digit is right, "" for anything else. It accepts spaces and dashes
// between digits, an "ean:"-style prefix, and GS1 Digital Link URLs
// (https://id.gs1.org/01/<gtin>).
func normGTIN(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "/01/"); i >= 0 {
		s = s[i+4:]
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && i <= 5 {
		s = s[i+1:]
	}
	var d [14]byte
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return ""
			}
			d[n] = c
			n++
		case c == ' ' || c == '-':
		default:
			return ""
		}
	}
	switch n {
	case 8, 12, 13, 14:
	default:
		return ""
	}
	// GS1 check digit: from the right, weights 3 and 1 alternating.
	sum := 0
	for i := n - 2; i >= 0; i-- {
		w := 1
		if (n-2-i)%2 == 0 {
			w = 3
		}
		sum += int(d[i]-'0') * w
	}
	if (10-sum%10)%10 != int(d[n-1]-'0') {
		return ""
	}
	return string(d[:n])
}

// currencyCode returns an ISO 4217 code upper-cased, anything else (a
// symbol) as written.
func currencyCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 3 && isLetters(s) {
		return strings.ToUpper(s)
	}
	return clip(s, 8)
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func firstText(node map[string]any, keys ...string) string {
	if node == nil {
		return ""
	}
	for _, k := range keys {
		if s := text(node[k]); s != "" {
			return s
		}
	}
	return ""
}

func imageText(v any) string {
	switch t := v.(type) {
	case map[string]any:
		return firstText(t, "url", "contentUrl", "@id")
	case []any:
		for _, e := range t {
			if s := imageText(e); s != "" {
				return s
			}
		}
	}
	return text(v)
}

// ParsePrice reads a price written as a number or as text such as
// "1,299.00", "1.299,00", "$87.11" or "€ 19,90".
func ParsePrice(s string) (float64, bool) {
	// The first run of digits and separators: "€ 19,90", "10.75 - 11.95".
	start := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if start < 0 {
		return 0, false
	}
	end := start
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == ',') {
		end++
	}
	s = strings.Trim(s[start:end], ".,")
	if s == "" {
		return 0, false
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	switch {
	case lastDot >= 0 && lastComma >= 0:
		if lastComma > lastDot { // 1.299,00
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		} else { // 1,299.00
			s = strings.ReplaceAll(s, ",", "")
		}
	case lastComma >= 0:
		// 19,90 is a decimal comma; 1,299 and 1,299,000 use thousands
		// separators.
		if len(s)-lastComma-1 == 3 || strings.Count(s, ",") > 1 {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.ReplaceAll(s, ",", ".")
		}
	case strings.Count(s, ".") > 1: // 1.299.000
		s = strings.ReplaceAll(s, ".", "")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// crumb is one BreadcrumbList entry.
type crumb struct {
	pos  float64
	name string
	url  string
}

func breadcrumbs(node map[string]any, base *url.URL) []Category {
	list, _ := node["itemListElement"].([]any)
	var cs []crumb
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		c := crumb{pos: float64(i + 1)}
		if p, err := strconv.ParseFloat(text(m["position"]), 64); err == nil {
			c.pos = p
		}
		c.name = nameText(m["name"])
		switch it := m["item"].(type) {
		case string:
			c.url = it
		case map[string]any:
			if c.name == "" {
				c.name = nameText(it["name"])
			}
			c.url = firstText(it, "@id", "url")
		}
		if c.url == "" {
			c.url = text(m["url"])
		}
		c.url = resolve(base, c.url)
		cs = append(cs, c)
	}
	return sortedCrumbs(cs)
}

// sortedCrumbs orders a trail by position and makes its categories.
func sortedCrumbs(cs []crumb) []Category {
	slices.SortStableFunc(cs, func(a, b crumb) int {
		switch {
		case a.pos < b.pos:
			return -1
		case a.pos > b.pos:
			return 1
		}
		return 0
	})
	out := make([]Category, 0, len(cs))
	for _, c := range cs {
		out = append(out, NewCategory(c.name, c.url))
	}
	return out
}

// resolve resolves ref against base; "" unless it is an http(s) URL.
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}

// categoryPath drops from a breadcrumb trail the home entry and the entry
// for the product itself.
func categoryPath(crumbs []Category, p Product) []Category {
	var out []Category
	self := PathKey(p.URL)
	for _, c := range crumbs {
		switch {
		case c.Path == "/":
			continue // home
		case c.Path != "" && c.Path == self:
			continue
		case c.Path == "" && strings.EqualFold(c.Name, p.Name):
			continue
		case c.Name == "" && c.Path == "":
			continue
		}
		out = append(out, c)
	}
	return out
}

// productFromMicrodata reads a schema.org Product microdata item. Only
// the item's own properties count: a name inside its offers, brand,
// review or breadcrumb belongs to that item.
func productFromMicrodata(it *Item, lc linker) Product {
	var p Product
	const src = SourceMicrodata
	var offers []offer
	var direct offer // price and availability written on the product itself
	for _, pr := range it.Props {
		v := pr.Value
		switch pr.Name {
		case "name":
			p.set(FieldName, &p.Name, cleanText(v, maxName), src)
		case "sku", "productID", "mpn":
			if pr.Name == "productID" && p.SKU != "" {
				break
			}
			p.set(FieldSKU, &p.SKU, cleanText(v, maxText), src)
		case "gtin", "gtin8", "gtin12", "gtin13", "gtin14":
			p.set(FieldGTIN, &p.GTIN, normGTIN(v), src)
		case "brand", "manufacturer":
			if pr.Item != nil {
				v = itemText(pr.Item, "name")
			} else if looksLikeURL(v) {
				v = ""
			} else if i := strings.LastIndex(v, ": "); i >= 0 {
				v = v[i+2:] // a label written in the element: "Marca: Panasonic"
			}
			p.set(FieldBrand, &p.Brand, cleanText(v, maxText), src)
		case "image":
			if pr.Item != nil {
				v = itemText(pr.Item, "url", "contentUrl")
			}
			p.set(FieldImage, &p.Image, lc.link(v), src)
		case "url":
			p.set(FieldURL, &p.URL, lc.link(v), src)
		case "offers":
			if pr.Item != nil {
				offers = microOffers(pr.Item, offers, 0)
			}
		case "aggregateRating":
			if pr.Item == nil || p.Rating.Valid() {
				break
			}
			it := pr.Item
			if r, ok := parseRating(ratingText{
				value: itemText(it, "ratingValue"), best: itemText(it, "bestRating"), worst: itemText(it, "worstRating"),
				reviews: itemText(it, "reviewCount"), ratings: itemText(it, "ratingCount"),
			}); ok {
				p.Rating = r
				p.Sources.set(FieldRating, src)
			}
		default:
			direct.takeMicro(pr.Name, v)
		}
	}
	if direct != (offer{}) {
		offers = append(offers, direct)
	}
	p.setOffer(bestOffer(offers), src)
	return p
}

// microOffers appends the offers of a microdata Offer or AggregateOffer
// item.
func microOffers(it *Item, out []offer, depth int) []offer {
	var o offer
	var specs []priceSpec
	var inner []*Item
	for _, pr := range it.Props {
		v := pr.Value
		if o.takeMicro(pr.Name, v) {
			continue
		}
		switch pr.Name {
		case "sku":
			if o.sku == "" {
				o.sku = cleanText(v, maxText)
			}
		case "gtin", "gtin8", "gtin12", "gtin13", "gtin14":
			if o.gtin == "" {
				o.gtin = normGTIN(v)
			}
		case "priceSpecification":
			if pr.Item != nil {
				s := priceSpec{currency: itemText(pr.Item, "priceCurrency"), kind: itemText(pr.Item, "priceType")}
				s.price, _ = ParsePrice(itemText(pr.Item, "price"))
				specs = append(specs, s)
			}
		case "offers":
			if pr.Item != nil {
				inner = append(inner, pr.Item)
			}
		}
	}
	if o.price == 0 {
		if s, ok := offeredPrice(specs); ok {
			o.price = s.price
			if s.currency != "" {
				o.currency = s.currency
			}
		}
	}
	out = append(out, o)
	if depth < 2 {
		for _, in := range inner {
			out = microOffers(in, out, depth+1)
		}
	}
	return out
}

// itemText returns the first of the named properties an item has.
func itemText(it *Item, names ...string) string {
	for _, n := range names {
		for _, pr := range it.Props {
			if pr.Name == n && pr.Item == nil && strings.TrimSpace(pr.Value) != "" {
				return strings.TrimSpace(pr.Value)
			}
		}
	}
	return ""
}

func ogIsProduct(meta []Meta) bool {
	for _, m := range meta {
		switch {
		case m.Key == "og:type" && strings.Contains(strings.ToLower(m.Content), "product"):
			return true
		case strings.HasPrefix(m.Key, "product:price"):
			return true
		}
	}
	return false
}

// productFromOpenGraph reads OpenGraph's og: and product: properties
// (Facebook's product object, Pinterest's rich pins).
func productFromOpenGraph(meta []Meta, lc linker) Product {
	var p Product
	const src = SourceOpenGraph
	get := func(keys ...string) string {
		for _, k := range keys {
			for _, m := range meta {
				if m.Key == k && strings.TrimSpace(m.Content) != "" {
					return strings.TrimSpace(m.Content)
				}
			}
		}
		return ""
	}
	p.set(FieldName, &p.Name, cleanText(get("og:title", "twitter:title"), maxName), src)
	p.set(FieldURL, &p.URL, lc.link(get("og:url")), src)
	p.set(FieldImage, &p.Image, lc.link(get("og:image", "og:image:url", "og:image:secure_url", "twitter:image")), src)
	p.set(FieldBrand, &p.Brand, cleanText(get("product:brand", "og:brand"), maxText), src)
	p.set(FieldSKU, &p.SKU, cleanText(get("product:retailer_item_id", "product:sku"), maxText), src)
	p.set(FieldGTIN, &p.GTIN, normGTIN(get("product:ean", "product:upc", "product:gtin", "product:isbn")), src)
	o := offer{
		currency:     get("product:price:currency", "og:price:currency"),
		availability: ParseAvailability(get("product:availability", "og:availability")),
	}
	o.price, _ = ParsePrice(get("product:price:amount", "og:price:amount"))
	// A sale price below the price is the price asked.
	if sale, ok := ParsePrice(get("product:sale_price:amount")); ok && sale > 0 && (o.price == 0 || sale < o.price) {
		o.price = sale
		if c := get("product:sale_price:currency"); c != "" {
			o.currency = c
		}
	}
	p.setOffer(o, src)
	return p
}

// ratingText is what a page writes for an AggregateRating, each property
// as text ("" when it is absent).
type ratingText struct {
	value, best, worst, reviews, ratings string
}

// rateFromReviewed takes the rating of the first AggregateRating node
// whose itemReviewed has p's name: the rating of p, written beside it.
func (p *Product) rateFromReviewed(ratings []map[string]any) {
	if p.Name == "" {
		return
	}
	for _, node := range ratings {
		item, _ := node["itemReviewed"].(map[string]any)
		if !strings.EqualFold(cleanText(text(item["name"]), maxName), p.Name) {
			continue
		}
		if r, ok := ldRating(node); ok {
			p.Rating = r
			p.Sources.set(FieldRating, SourceJSONLD)
			return
		}
	}
}

// ldRating reads a JSON-LD aggregateRating: an AggregateRating object, or
// a list whose first object is one.
func ldRating(v any) (Rating, bool) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				return ldRating(m)
			}
		}
	case map[string]any:
		return parseRating(ratingText{
			value: ldNumber(t["ratingValue"]), best: ldNumber(t["bestRating"]), worst: ldNumber(t["worstRating"]),
			reviews: ldNumber(t["reviewCount"]), ratings: ldNumber(t["ratingCount"]),
		})
	}
	return Rating{}, false
}

// ldNumber returns a JSON-LD number or numeric string as text; anything
// else (an object, a list, true) as text no number parses from.
func ldNumber(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return "?"
}

// parseRating reads an AggregateRating the way a shopper would be shown
// it, and only when every figure is real: the value must parse and lie
// between worstRating (default 1) and bestRating (default 5), and there
// must be a count of ratings (ratingCount) or, without one, of reviews
// (reviewCount) that is a positive whole number. Anything else gives no
// rating at all, rather than a made-up one.
func parseRating(rt ratingText) (Rating, bool) {
	r := Rating{Best: 5, Worst: 1}
	var ok bool
	if r.Value, ok = ratingNumber(rt.value); !ok {
		return Rating{}, false
	}
	if rt.best != "" {
		if r.Best, ok = ratingNumber(rt.best); !ok {
			return Rating{}, false
		}
	}
	if rt.worst != "" {
		if r.Worst, ok = ratingNumber(rt.worst); !ok {
			return Rating{}, false
		}
	}
	// The value averages the ratings; reviews are those of them with a
	// text, so the count of ratings is preferred.
	if n, ok := ratingCount(rt.ratings); ok {
		r.Count = n
	} else if n, ok := ratingCount(rt.reviews); ok {
		r.Count, r.Reviews = n, true
	}
	if !r.Valid() {
		return Rating{}, false
	}
	return r, true
}

// ratingNumber parses a rating's value or bound: "4.5", or "4,5" as
// shops that write a decimal comma give it.
func ratingNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if s == "" || strings.ContainsAny(s, "xXpP_") { // no hex, no digit separators
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// ratingCount parses a count of reviews or ratings: a positive whole
// number, its thousands perhaps grouped ("1,234", "1.234", "1 234"), at
// most maxRatingCount.
func ratingCount(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 16 {
		return 0, false
	}
	digits := make([]byte, 0, len(s))
	group := -1 // digits since the last separator; -1 before the first
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			if group >= 0 {
				group++
			}
		case c == ',' || c == '.' || c == ' ':
			// A separator groups thousands: 1 to 3 digits before the
			// first, exactly 3 between and after.
			if group == -1 && (len(digits) == 0 || len(digits) > 3) || group >= 0 && group != 3 {
				return 0, false
			}
			group = 0
		default:
			return 0, false
		}
	}
	if group >= 0 && group != 3 || len(digits) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || n < 1 || n > maxRatingCount {
		return 0, false
	}
	return uint32(n), true
}
