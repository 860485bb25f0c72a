package catalog

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Page is what the extractor reads from one HTML page.
type Page struct {
	// URL is the page's absolute URL; relative URLs in the page resolve
	// against it.
	URL string
	// JSONLD holds the contents of the page's JSON-LD script elements.
	JSONLD [][]byte
	// Meta holds the page's <meta> properties (property or name, content).
	Meta []Meta
	// Microdata holds the itemprop values inside the page's first
	// schema.org Product item, in document order.
	Microdata []Meta
}

// Meta is one <meta property|name=... content=...>.
type Meta struct {
	Key, Content string
}

// Extract reads the product a page describes: schema.org Product JSON-LD
// first, OpenGraph product tags for what it lacks, and the BreadcrumbList
// for the category path. ok is false when the page shows no product.
// Malformed JSON-LD blocks are skipped.
func Extract(p Page) (prod Product, ok bool) {
	base, _ := url.Parse(p.URL)
	var crumbs []Category
	for _, raw := range p.JSONLD {
		v, err := decodeJSONLD(raw)
		if err != nil {
			continue
		}
		walkJSONLD(v, func(node map[string]any) {
			switch {
			case hasType(node, "Product") || hasType(node, "ProductGroup"):
				if !ok {
					prod, ok = productFromLD(node, base), true
				}
			case hasType(node, "BreadcrumbList"):
				if crumbs == nil {
					crumbs = breadcrumbs(node, base)
				}
			}
		})
	}
	if md := microProduct(p.Microdata, base); md.Name != "" || md.Price != 0 {
		if !ok {
			prod, ok = md, true
		} else {
			prod.fillFrom(md)
		}
	}
	og := ogProduct(p.Meta, base)
	if !ok {
		if og.Name == "" || !ogIsProduct(p.Meta) {
			return Product{}, false
		}
		prod, ok = og, true
	} else {
		prod.fillFrom(og)
	}
	if prod.URL == "" && base != nil {
		prod.URL = base.String()
	}
	if prod.Name == "" {
		return Product{}, false
	}
	prod.Categories = categoryPath(crumbs, prod)
	prod.Key = prod.key()
	prod.ID = KeyOf(prod.Key)
	return prod, true
}

// Breadcrumbs returns the category path a page's BreadcrumbList gives, home
// and the page itself left out.
func Breadcrumbs(p Page) []Category {
	base, _ := url.Parse(p.URL)
	for _, raw := range p.JSONLD {
		v, err := decodeJSONLD(raw)
		if err != nil {
			continue
		}
		var crumbs []Category
		walkJSONLD(v, func(node map[string]any) {
			if crumbs == nil && hasType(node, "BreadcrumbList") {
				crumbs = breadcrumbs(node, base)
			}
		})
		if crumbs != nil {
			return categoryPath(crumbs, Product{URL: p.URL})
		}
	}
	return nil
}

// decodeJSONLD parses a JSON-LD block, forgiving what shops commonly get
// wrong: HTML comment or CDATA wrappers and raw control characters in
// strings.
func decodeJSONLD(raw []byte) (any, error) {
	b := bytes.TrimSpace(raw)
	for _, w := range [][2]string{{"<!--", "-->"}, {"//<![CDATA[", "//]]>"}, {"<![CDATA[", "]]>"}} {
		if bytes.HasPrefix(b, []byte(w[0])) {
			b = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(b[len(w[0]):]), []byte(w[1])))
		}
	}
	var v any
	err := json.Unmarshal(b, &v)
	if err == nil {
		return v, nil
	}
	clean := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 {
			c = ' '
		}
		clean[i] = c
	}
	if err2 := json.Unmarshal(clean, &v); err2 != nil {
		return nil, err
	}
	return v, nil
}

// walkJSONLD calls f for every object in a JSON-LD value, @graph and nested
// values included.
func walkJSONLD(v any, f func(map[string]any)) {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			walkJSONLD(e, f)
		}
	case map[string]any:
		f(t)
		for k, e := range t {
			if k == "@context" {
				continue
			}
			walkJSONLD(e, f)
		}
	}
}

func hasType(node map[string]any, want string) bool {
	match := func(s string) bool {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "http://schema.org/"), "https://schema.org/")
		s = strings.TrimPrefix(s, "schema:")
		return strings.EqualFold(s, want)
	}
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
		for _, k := range []string{"name", "url", "@id", "contentUrl", "value"} {
			if s := text(t[k]); s != "" {
				return s
			}
		}
	}
	return ""
}

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

func productFromLD(node map[string]any, base *url.URL) Product {
	p := Product{
		Name:  text(node["name"]),
		SKU:   firstText(node, "sku", "productID", "mpn"),
		Brand: text(node["brand"]),
		URL:   resolve(base, text(node["url"])),
		Image: resolve(base, imageText(node["image"])),
	}
	if p.Brand == "" {
		p.Brand = text(node["manufacturer"])
	}
	if id := text(node["@id"]); id != "" {
		p.aliases = append(p.aliases, id)
	}
	if pid := text(node["productID"]); pid != "" && pid != p.SKU {
		p.aliases = append(p.aliases, pid)
	}
	offer := firstOffer(node["offers"])
	if offer == nil {
		// ProductGroup: the first variant's offer.
		if vs, ok := node["hasVariant"].([]any); ok && len(vs) > 0 {
			if v, ok := vs[0].(map[string]any); ok {
				offer = firstOffer(v["offers"])
			}
		}
	}
	if offer != nil {
		price := firstText(offer, "price", "lowPrice", "highPrice")
		if price == "" {
			if ps, ok := offer["priceSpecification"]; ok {
				price = firstText(asObject(ps), "price")
				if p.Currency == "" {
					p.Currency = firstText(asObject(ps), "priceCurrency")
				}
			}
		}
		p.Price, _ = ParsePrice(price)
		if c := text(offer["priceCurrency"]); c != "" {
			p.Currency = c
		}
		p.Availability = normAvailability(text(offer["availability"]))
		if p.SKU == "" {
			p.SKU = text(offer["sku"])
		}
	}
	return p
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

func asObject(v any) map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return t
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				return m
			}
		}
	}
	return nil
}

func firstOffer(v any) map[string]any {
	o := asObject(v)
	if o == nil {
		return nil
	}
	// AggregateOffer may carry its offers in "offers".
	if inner, ok := o["offers"]; ok && firstText(o, "price", "lowPrice") == "" {
		if io := asObject(inner); io != nil {
			return io
		}
	}
	return o
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
// "1,299.00", "1.299,00" or "€ 19,90".
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
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

var availabilities = map[string]string{
	"instock": InStock, "available": InStock, "limitedavailability": "LimitedAvailability",
	"instoreonly": "InStoreOnly", "onlineonly": "OnlineOnly",
	"outofstock": OutOfStock, "soldout": OutOfStock, "discontinued": OutOfStock, "unavailable": OutOfStock,
	"preorder": "PreOrder", "presale": "PreOrder", "backorder": "BackOrder",
}

// normAvailability maps schema.org availability values ("InStock",
// "http://schema.org/OutOfStock", "in stock") to their short names.
func normAvailability(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	k := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s))
	if v, ok := availabilities[k]; ok {
		return v
	}
	return s
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
		c.name = text(m["name"])
		switch it := m["item"].(type) {
		case string:
			c.url = it
		case map[string]any:
			if c.name == "" {
				c.name = text(it["name"])
			}
			c.url = firstText(it, "@id", "url")
		}
		if c.url == "" {
			c.url = text(m["url"])
		}
		c.url = resolve(base, c.url)
		cs = append(cs, c)
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].pos < cs[j].pos })
	out := make([]Category, 0, len(cs))
	for _, c := range cs {
		out = append(out, NewCategory(c.name, c.url))
	}
	return out
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

// microProduct reads schema.org Product microdata properties.
func microProduct(props []Meta, base *url.URL) Product {
	var p Product
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = strings.TrimSpace(v)
		}
	}
	for _, m := range props {
		switch m.Key {
		case "name":
			set(&p.Name, m.Content)
		case "sku", "productID", "mpn":
			set(&p.SKU, m.Content)
		case "brand", "manufacturer":
			set(&p.Brand, m.Content)
		case "image":
			set(&p.Image, resolve(base, m.Content))
		case "url":
			set(&p.URL, resolve(base, m.Content))
		case "price", "lowPrice":
			if p.Price == 0 {
				p.Price, _ = ParsePrice(m.Content)
			}
		case "priceCurrency":
			set(&p.Currency, m.Content)
		case "availability":
			set(&p.Availability, normAvailability(m.Content))
		}
	}
	return p
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

func ogProduct(meta []Meta, base *url.URL) Product {
	var p Product
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
	p.Name = get("og:title", "twitter:title")
	p.URL = resolve(base, get("og:url"))
	p.Image = resolve(base, get("og:image", "og:image:url", "og:image:secure_url", "twitter:image"))
	p.Price, _ = ParsePrice(get("product:price:amount", "og:price:amount", "product:sale_price:amount"))
	p.Currency = get("product:price:currency", "og:price:currency")
	p.Availability = normAvailability(get("product:availability", "og:availability"))
	p.Brand = get("product:brand", "og:brand")
	p.SKU = get("product:retailer_item_id", "product:sku")
	return p
}
