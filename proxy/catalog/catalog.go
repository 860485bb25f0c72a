package catalog

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// ID identifies a product or a category: a hash of its key (a product's SKU
// or URL path, a category's URL path or name). Profiles and counters hold
// IDs, not strings, to stay small.
type ID uint64

// KeyOf returns the ID of a key.
func KeyOf(key string) ID { return ID(xxhash.Sum64String(key)) }

// Product is what the catalog knows of one product. The catalog holds up
// to catalog.max_products of them: fields are kept small (texts clipped,
// availability and sources in a few bits).
type Product struct {
	ID           ID
	Key          string // the SKU, or the URL path when there is none
	SKU          string
	GTIN         string // GTIN-8, -12, -13 or -14 digits, check digit verified
	Name         string
	URL          string
	Image        string
	Price        float64
	Currency     string
	Availability Availability
	Sources      Sources // which markup each field came from
	Brand        string
	Rating       Rating     // the shop's aggregateRating; Count 0 when it has none
	Categories   []Category // outermost first
	SeenAt       time.Time

	aliases []string // other identifiers the shop uses (productID, @id)
}

// Recommendable reports whether the product may be offered to visitors:
// not known to be out of stock, sold out or discontinued. A product whose
// availability is unknown may be offered: many shops do not mark it up.
func (p *Product) Recommendable() bool { return p.Availability.Offerable() }

// aliasKeys returns the IDs of the other names the shop uses for p.
func (p *Product) aliasKeys() []ID {
	keys := make([]ID, 0, len(p.aliases)+1)
	for _, a := range p.aliases {
		keys = append(keys, KeyOf(a))
	}
	if path := PathKey(p.URL); path != "" {
		keys = append(keys, KeyOf(path))
	}
	return keys
}

func (p *Product) key() string {
	if p.SKU != "" {
		return p.SKU
	}
	return PathKey(p.URL)
}

// fillFrom completes p with what o knows and p does not, noting where
// each field it takes came from.
func (p *Product) fillFrom(o Product) {
	fill := func(f Field, dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = v
			p.Sources.set(f, o.Sources.Of(f))
		}
	}
	fill(FieldName, &p.Name, o.Name)
	fill(FieldURL, &p.URL, o.URL)
	fill(FieldImage, &p.Image, o.Image)
	fill(FieldBrand, &p.Brand, o.Brand)
	fill(FieldSKU, &p.SKU, o.SKU)
	fill(FieldGTIN, &p.GTIN, o.GTIN)
	if p.Price == 0 && o.Price != 0 {
		p.Price = o.Price
		p.Sources.set(FieldPrice, o.Sources.Of(FieldPrice))
		// A currency belongs with its price.
		if o.Currency != "" {
			p.Currency = o.Currency
			p.Sources.set(FieldCurrency, o.Sources.Of(FieldCurrency))
		}
	}
	fill(FieldCurrency, &p.Currency, o.Currency)
	if p.Availability == AvailabilityUnknown && o.Availability != AvailabilityUnknown {
		p.Availability = o.Availability
		p.Sources.set(FieldAvailability, o.Sources.Of(FieldAvailability))
	}
	if !p.Rating.Valid() && o.Rating.Valid() {
		p.Rating = o.Rating
		p.Sources.set(FieldRating, o.Sources.Of(FieldRating))
	}
	p.aliases = append(p.aliases, o.aliases...)
}

// Rating is a product's schema.org AggregateRating as the shop states it:
// the average of Count ratings (or reviews) on a scale from Worst to Best.
// The zero Rating is no rating. Extract and DecodeProduct keep only ratings
// that Valid accepts, so what a card shows a shopper is the shop's own
// figure, never a guess.
type Rating struct {
	Value       float64 // ratingValue
	Best, Worst float64 // bestRating (schema.org's default 5) and worstRating (default 1)
	Count       uint32  // reviewCount or, without one, ratingCount; at least 1
	Reviews     bool    // Count is a reviewCount (written reviews), not a ratingCount
}

// maxRatingCount bounds a rating's count: a figure beyond it is not one
// a shop shows, but a mistake in its markup.
const maxRatingCount = 100_000_000

// Valid reports whether r is a rating to show: a count of at least one, a
// scale whose best is above its worst (both finite, at most 100), and a
// value on that scale.
func (r Rating) Valid() bool {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	return r.Count >= 1 && r.Count <= maxRatingCount &&
		finite(r.Value) && finite(r.Best) && finite(r.Worst) &&
		r.Worst >= 0 && r.Best > r.Worst && r.Best <= 100 &&
		r.Value >= r.Worst && r.Value <= r.Best
}

// Category is one level of a product's category path.
type Category struct {
	ID   ID
	Name string
	Path string // the category page's URL path, or "" when unknown
}

// NewCategory makes a category from its name and page URL. Its ID comes
// from the URL path when there is one, so that links to it in the shop's
// menu can be recognised, and from the name otherwise.
func NewCategory(name, rawURL string) Category {
	c := Category{Name: strings.TrimSpace(name), Path: PathKey(rawURL)}
	c.ID = CategoryID(c.Path, c.Name)
	return c
}

// CategoryID returns the ID of a category from its URL path or, without
// one, its name.
func CategoryID(path, name string) ID {
	if path != "" {
		return KeyOf(path)
	}
	return KeyOf("name:" + strings.ToLower(strings.TrimSpace(name)))
}

// PathCategoryID is CategoryID(PathKey(string(path)), ""), the ID of the
// category whose page is at path, for a request's path: one already in
// PathKey's form (a slash, then letters, digits, "-._~" and single
// slashes, no slash at the end) is its own key, with no string made of it
// and no URL parsed.
func PathCategoryID(path []byte) ID {
	if plainPath(path) {
		return ID(xxhash.Sum64(path))
	}
	return CategoryID(PathKey(string(path)), "")
}

// plainPath reports whether PathKey leaves path as it is: it starts with
// one slash (two would start a host), ends with none (but for "/") and
// holds nothing url.Parse reads otherwise or EscapedPath escapes.
func plainPath[T string | []byte](path T) bool {
	n := len(path)
	if n == 0 || path[0] != '/' || n > 1 && (path[1] == '/' || path[n-1] == '/') {
		return false
	}
	for i := range n {
		switch c := path[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '/' || c == '-' || c == '.' || c == '_' || c == '~':
		default:
			return false
		}
	}
	return true
}

// PathKey reduces a URL (absolute or a path) to the form categories and
// products are known by: the path, without a trailing slash, query or
// fragment. It returns "" for what is not a URL of a page.
func PathKey(raw string) string {
	if plainPath(raw) {
		return raw // most paths a shop links: no URL to parse
	}
	return parsePathKey(raw)
}

// parsePathKey is PathKey, parsing raw as a URL.
func parsePathKey(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "#") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

// Catalog holds the products learned from the shop's pages, bounded in
// number; when full, the least recently seen of a few sampled products
// makes room. It is safe for concurrent use.
type Catalog struct {
	mu       sync.RWMutex
	max      int
	products map[ID]*Product
	aliases  map[ID]ID // SKU, productID, @id and URL path -> product ID
	cats     map[ID]Category
	listed   map[ID]listing // path key -> the category listing it was shown in (listing.go)
}

// New returns an empty catalog holding at most max products.
func New(max int) *Catalog {
	return &Catalog{
		max:      max,
		products: make(map[ID]*Product),
		aliases:  make(map[ID]ID),
		cats:     make(map[ID]Category),
	}
}

// Put adds or updates a product. The catalog keeps its own copy.
func (c *Catalog) Put(p Product, now time.Time) {
	cp := p
	cp.Categories = append([]Category(nil), p.Categories...)
	cp.SeenAt = now
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.products[cp.ID]; !ok && len(c.products) >= c.max {
		c.evictLocked()
	}
	c.products[cp.ID] = &cp
	for _, a := range cp.aliasKeys() {
		c.aliases[a] = cp.ID
	}
	for _, cat := range cp.Categories {
		c.cats[cat.ID] = cat
	}
}

// evictLocked removes the least recently seen of a few products.
func (c *Catalog) evictLocked() {
	var victim *Product
	n := 0
	for _, p := range c.products { // map order is random: a sample
		if victim == nil || p.SeenAt.Before(victim.SeenAt) {
			victim = p
		}
		if n++; n == 8 {
			break
		}
	}
	if victim == nil {
		return
	}
	delete(c.products, victim.ID)
	for _, a := range victim.aliasKeys() {
		if c.aliases[a] == victim.ID {
			delete(c.aliases, a)
		}
	}
}

// Get returns a copy of the product with the given ID.
func (c *Catalog) Get(id ID) (Product, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[id]
	if !ok {
		return Product{}, false
	}
	return *p, true
}

// Resolve finds the product a shop identifier names: its key (SKU or URL
// path), another identifier from its markup, or its URL path.
func (c *Catalog) Resolve(ident string) (ID, bool) {
	id := KeyOf(ident)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if _, ok := c.products[id]; ok {
		return id, true
	}
	if target, ok := c.aliases[id]; ok {
		return target, true
	}
	if path := PathKey(ident); path != "" && path != ident {
		if target, ok := c.aliases[KeyOf(path)]; ok {
			return target, true
		}
	}
	return 0, false
}

// ResolveKey finds the product whose key, identifier or URL path has the
// given ID (KeyOf of it).
func (c *Catalog) ResolveKey(key ID) (ID, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if _, ok := c.products[key]; ok {
		return key, true
	}
	id, ok := c.aliases[key]
	return id, ok
}

// Facts returns what ranking needs of a product without copying it: its
// category IDs (appended to cats, outermost first), its price, and whether
// it may be offered (Recommendable).
func (c *Catalog) Facts(id ID, cats []ID) (_ []ID, price float64, inStock, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[id]
	if !ok {
		return cats, 0, false, false
	}
	for _, cat := range p.Categories {
		cats = append(cats, cat.ID)
	}
	return cats, p.Price, p.Recommendable(), true
}

// Card is what choosing products to show reads of one (Catalog.Card).
type Card struct {
	Price    float64
	Currency string
	InStock  bool // Recommendable
	Shows    bool // it has a name and an address, which a product's card needs
}

// CardOf is a product's Card.
func CardOf(p *Product) Card {
	return Card{Price: p.Price, Currency: p.Currency, InStock: p.Recommendable(), Shows: p.Name != "" && p.URL != ""}
}

// Card returns what choosing products to show reads of a product, without
// copying it (Get copies every field).
func (c *Catalog) Card(id ID) (_ Card, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[id]
	if !ok {
		return Card{}, false
	}
	return CardOf(p), true
}

// CardPath is Card and the product's category IDs, appended to cats
// (outermost first), in one lookup.
func (c *Catalog) CardPath(id ID, cats []ID) (_ []ID, _ Card, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[id]
	if !ok {
		return cats, Card{}, false
	}
	for _, cat := range p.Categories {
		cats = append(cats, cat.ID)
	}
	return cats, CardOf(p), true
}

// Category returns a category seen in a product's path.
func (c *Catalog) Category(id ID) (Category, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cat, ok := c.cats[id]
	return cat, ok
}

// Categories returns the categories seen in products' paths.
func (c *Catalog) Categories() []Category {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Category, 0, len(c.cats))
	for _, cat := range c.cats {
		out = append(out, cat)
	}
	return out
}

// List returns the products whose name, SKU, GTIN, brand or URL contains q
// (ignoring case; every product when q is ""), ordered by key, skipping
// offset of them and at most limit; and how many match in all.
func (c *Catalog) List(q string, offset, limit int) (total int, page []Product) {
	q = strings.TrimSpace(q)
	c.mu.RLock()
	match := make([]*Product, 0, len(c.products))
	for _, p := range c.products {
		if q == "" || ContainsFold(p.Name, q) || ContainsFold(p.SKU, q) || ContainsFold(p.GTIN, q) ||
			ContainsFold(p.Brand, q) || ContainsFold(p.URL, q) {
			match = append(match, p)
		}
	}
	c.mu.RUnlock()
	// A stored product is never changed (Put stores a new one), so the
	// sorting and copying need no lock.
	slices.SortFunc(match, func(a, b *Product) int {
		if k := strings.Compare(a.Key, b.Key); k != 0 {
			return k
		}
		return cmp.Compare(a.ID, b.ID)
	})
	total = len(match)
	offset = min(max(offset, 0), total)
	end := min(offset+max(limit, 0), total)
	page = make([]Product, 0, end-offset)
	for _, p := range match[offset:end] {
		page = append(page, *p)
	}
	return total, page
}

// ContainsFold reports whether sub is in s, ignoring case (as
// strings.EqualFold does, for the bytes of sub's length), without
// allocating.
func ContainsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// Len returns the number of products held.
func (c *Catalog) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.products)
}

// Has reports whether the catalog holds the product with the given ID.
func (c *Catalog) Has(id ID) bool {
	c.mu.RLock()
	_, ok := c.products[id]
	c.mu.RUnlock()
	return ok
}
