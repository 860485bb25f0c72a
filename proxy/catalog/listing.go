package catalog

import "time"

// What the shop's category listings say: a product card on /c/men/shirts
// belongs to men › shirts, though nobody opened its page. Listings are
// the weaker fact: a product's own categories (its page's JSON-LD or
// breadcrumbs, in Product.Categories) always win, and listings fill in
// for the products whose pages were never seen or name no category.
//
// They are kept by the ID of the product's path key (KeyOf(PathKey(its
// URL))), the form search results and cards link products by, in a table
// bounded like the products (catalog.max_products entries; when full, the
// oldest of a few sampled makes room). They are learned from traffic again
// after a restart (the page cache starts empty, so every listing is
// analysed afresh): snapshots and replicas carry products only.

// Bounds of what listings teach.
const (
	// MaxListed is how many products one listing page teaches, in page
	// order: the first page of a category, or of its sorts, is plenty.
	MaxListed = 100
	// MaxListedDepth is how many levels of a listing's category path are
	// kept, the deepest ones (a path of five is a shop's whole tree).
	MaxListedDepth = 4
)

// listing is the category path one listing showed a product under.
type listing struct {
	cats [MaxListedDepth]ID // outermost first
	n    uint8
	at   uint32 // unix seconds: when it was last listed there
}

// PutListing records that the category listing of path (its category
// path, outermost first: the page's own category last) lists the products
// whose path keys have the IDs in keys (at most MaxListed of them are
// read). A product keeps the deeper of the paths it was listed under (a
// card on /c/men/shirts says more than one on /c/men or /c/sale); of two
// as deep, the latest listing. A path deeper than MaxListedDepth keeps
// its deepest levels.
func (c *Catalog) PutListing(path []ID, keys []ID, now time.Time) {
	if len(path) == 0 || len(keys) == 0 {
		return
	}
	var l listing
	path = path[max(0, len(path)-MaxListedDepth):]
	l.n = uint8(copy(l.cats[:], path))
	l.at = uint32(now.Unix())
	keys = keys[:min(len(keys), MaxListed)]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listed == nil {
		c.listed = make(map[ID]listing)
	}
	for _, k := range keys {
		if k == 0 {
			continue
		}
		old, ok := c.listed[k]
		switch {
		case ok && old.n > l.n:
			continue // a deeper listing says more
		case !ok && len(c.listed) >= c.max:
			c.evictListingLocked()
		}
		c.listed[k] = l
	}
}

// evictListingLocked removes the oldest of a few listings.
func (c *Catalog) evictListingLocked() {
	var victim ID
	var oldest uint32
	n := 0
	for k, l := range c.listed { // map order is random: a sample
		if n == 0 || l.at < oldest {
			victim, oldest = k, l.at
		}
		if n++; n == 8 {
			break
		}
	}
	if n > 0 {
		delete(c.listed, victim)
	}
}

// Listed appends to cats the category path (outermost first) the shop's
// listings showed the product whose path key has the ID key under, and
// returns it; cats unchanged when no listing showed it.
func (c *Catalog) Listed(key ID, cats []ID) []ID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.listedLocked(key, cats)
}

// listedLocked is Listed with c.mu held.
func (c *Catalog) listedLocked(key ID, cats []ID) []ID {
	if l, ok := c.listed[key]; ok {
		cats = append(cats, l.cats[:l.n]...)
	}
	return cats
}

// PathOf appends to cats the category path (outermost first) of the
// product whose key, identifier or URL path has the ID key: the product's
// own (ResolveKey, then Facts) or, when it names none, the one the shop's
// listings showed key under (Listed). id and ok are ResolveKey's. One
// lookup under one lock, for each of a search page's results.
func (c *Catalog) PathOf(key ID, cats []ID) (id ID, ok bool, _ []ID) {
	start := len(cats)
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok = key, false
	if _, held := c.products[key]; held {
		ok = true
	} else {
		id, ok = c.aliases[key]
	}
	if ok {
		if p := c.products[id]; p != nil {
			for _, cat := range p.Categories {
				cats = append(cats, cat.ID)
			}
		}
	}
	if len(cats) == start {
		if l, listed := c.listed[key]; listed {
			cats = append(cats, l.cats[:l.n]...)
		}
	}
	return id, ok, cats
}

// Listings returns how many products listings have taught.
func (c *Catalog) Listings() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.listed)
}

// CategoriesOf appends to cats a product's category path, outermost
// first: its own (from its page) or, when it has none, the one its
// listings showed it under, by its address. A product the catalog does
// not hold is looked for as an address: its id (a cart keeps a product
// not seen yet by KeyOf its identifier, which some shops' cart forms make
// the product's URL path), then ident, the identifier the shop gave, when
// not "". One lookup under one lock, for cart adds and purchases.
func (c *Catalog) CategoriesOf(id ID, ident string, cats []ID) []ID {
	start := len(cats)
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.products[id]
	if ok {
		for _, cat := range p.Categories {
			cats = append(cats, cat.ID)
		}
		ident = p.URL
	}
	if len(cats) > start {
		return cats
	}
	if !ok && id != 0 {
		if cats = c.listedLocked(id, cats); len(cats) > start {
			return cats
		}
	}
	if path := PathKey(ident); path != "" {
		cats = c.listedLocked(KeyOf(path), cats)
	}
	return cats
}
