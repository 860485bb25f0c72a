package render

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"shopedge/proxy/catalog"
	"shopedge/proxy/plan"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// block appends a recommendation block of the given products to dst. ok
// is false when fewer than the block's minimum can be shown (or the
// template failed, which the log tells). origin, when not "", goes in
// front of the block's root-relative URLs (a page whose <base href> points
// elsewhere); such a block is rendered for the request and never kept, so
// that no other Host gets this one's links.
//
// For a block of the built-in template, cuts (when not nil) gets the
// offsets in dst where its head and each card end (see Rendered.Cuts).
func (r *Renderer) block(dst []byte, index, variant int, ids []catalog.ID, now int64, origin string, cuts *[]int) (_ []byte, ok bool) {
	if r.cfg.Blocks[index].Parsed == nil {
		return r.assembleBlock(dst, index, variant, ids, now, origin, cuts)
	}
	var html []byte
	key := index + variant<<16 // a variant's block has its own title
	if origin != "" {
		if html, ok = r.buildBlock(index, variant, ids, now, origin); !ok {
			return dst, false
		}
	} else if html, ok = r.blocks.get(key, ids, now); !ok {
		if html, ok = r.buildBlock(index, variant, ids, now, ""); !ok {
			return dst, false
		}
		r.blocks.put(key, ids, html, now)
	}
	return append(dst, html...), true
}

// blockTitle is a block's heading, in its experiment's variant (1 +
// index; 0: the block as written).
func (r *Renderer) blockTitle(index, variant int) string {
	cb := &r.cfg.Blocks[index]
	if variant > 0 && variant <= len(cb.Variants) && cb.Variants[variant-1].Title != "" {
		return cb.Variants[variant-1].Title
	}
	return cb.Title
}

// buildBlock renders a block of the given products, their root-relative
// URLs on origin when it is not "".
func (r *Renderer) buildBlock(index, variant int, ids []catalog.ID, now int64, origin string) (_ []byte, ok bool) {
	cb := &r.cfg.Blocks[index]
	b := cb.Block
	if cb.Parsed == nil {
		return r.assembleBlock(nil, index, variant, ids, now, origin, nil)
	}
	data := markup.BlockData{ID: b.ID, Title: r.blockTitle(index, variant), Items: make([]markup.BlockItem, 0, len(ids))}
	for _, id := range ids {
		if it, ok := r.blockItem(b, id, origin); ok {
			data.Items = append(data.Items, it)
		}
	}
	if len(data.Items) < b.Min {
		return nil, false
	}
	out, err := markup.RenderBlock(nil, cb.Parsed, data)
	if err != nil {
		r.log.Error("block not rendered", "block", b.ID, "err", err)
		return nil, false
	}
	return out, true
}

// blockItem is a product as a block shows it, from the catalog.
func (r *Renderer) blockItem(b *rules.Block, id catalog.ID, origin string) (markup.BlockItem, bool) {
	prod, ok := r.catalog.Get(id)
	if !ok || prod.Name == "" || prod.URL == "" {
		return markup.BlockItem{}, false
	}
	return markup.BlockItem{
		Name:   prod.Name,
		URL:    onOrigin(origin, withParam(prod.URL, r.cfg.Recommendations.AttributionParam, b.ID)),
		Image:  onOrigin(origin, prod.Image),
		Price:  plan.FormatPrice(prod.Price, prod.Currency),
		Brand:  prod.Brand,
		Rating: cardRating(prod.Rating),
	}, true
}

// cardRating is a product's rating as a card shows it: none (Count 0)
// unless the catalog holds one it accepted.
func cardRating(r catalog.Rating) markup.Rating {
	if !r.Valid() {
		return markup.Rating{}
	}
	return markup.Rating{Value: r.Value, Best: r.Best, Count: int(r.Count), Reviews: r.Reviews}
}

// assembleBlock appends a block of the built-in template, put together
// from its parts: its head (per block and variant) and each product's card
// are rendered once and kept (for blockTTL, like whole blocks, in a cache
// of their own), so that a block whose products differ per visitor, as
// most do (recently viewed, the personal re-ranking, the cart left out),
// costs copies rather than template runs and keeps nothing per visitor.
// Parts on an origin are rendered for the request, not kept. ok is false,
// and dst as it came, when fewer than the block's minimum can be shown.
func (r *Renderer) assembleBlock(dst []byte, index, variant int, ids []catalog.ID, now int64, origin string, cuts *[]int) (_ []byte, ok bool) {
	b := &r.cfg.Recommendations.Blocks[index]
	start := len(dst)
	cut := func() {
		if cuts != nil {
			if *cuts == nil {
				*cuts = make([]int, 0, 64) // a page's blocks' cuts: one allocation
			}
			*cuts = append(*cuts, len(dst))
		}
	}
	var cutStart int
	if cuts != nil {
		cutStart = len(*cuts)
	}
	head, ok := []byte(nil), false
	if origin == "" {
		head, ok = r.cards.get(partKey{block: int32(index), variant: int32(variant)}, now)
	}
	if !ok {
		var err error
		if head, err = markup.AppendBlockHead(nil, markup.BlockData{ID: b.ID, Title: r.blockTitle(index, variant)}); err != nil {
			r.log.Error("block not rendered", "block", b.ID, "err", err)
			return dst, false
		}
		if origin == "" {
			r.cards.put(partKey{block: int32(index), variant: int32(variant)}, head, now)
		}
	}
	dst = append(dst, head...)
	cut()
	n := 0
	for _, id := range ids {
		key := partKey{block: int32(index), id: id}
		var card []byte
		ok := false
		if origin == "" {
			card, ok = r.cards.get(key, now)
		}
		if !ok {
			it, found := r.blockItem(b, id, origin)
			if !found {
				continue
			}
			var err error
			if card, err = markup.AppendBlockCard(nil, it); err != nil {
				r.log.Error("block card not rendered", "block", b.ID, "err", err)
				continue
			}
			if origin == "" {
				r.cards.put(key, card, now)
			}
		}
		dst = append(dst, card...)
		cut()
		n++
	}
	if n < b.Min {
		if cuts != nil {
			*cuts = (*cuts)[:cutStart]
		}
		return dst[:start], false
	}
	return append(dst, blockFoot...), true
}

// blockFoot is the built-in block's end: the same for every block.
var blockFoot = markup.AppendBlockFoot(nil)

// partKey names a part kept in the part cache: a product's card in a
// built-in block (id), the block's head in a variant (id 0), or a
// product's line in a dialog (block dialogItem, variant its quantity).
type partKey struct {
	block, variant int32
	id             catalog.ID
}

// dialogItem is the partKey.block of a dialog's product line: the same in
// every dialog.
const dialogItem = -1

// partCache keeps the parts of built-in blocks and dialogs, for blockTTL:
// apart from whole blocks, so that blocks rendered for few visitors never
// push out the cards every visitor's blocks are made of. It is a table of
// partSlots parts (the bound), each part in one of two slots its key
// chooses, taking the place of the older of the two when both are full:
// a lookup is two atomic loads, no lock and no map, for the dozen parts
// of every page.
type partCache struct {
	slots [partSlots]atomic.Pointer[renderedPart] // a key's place: a pair 2k, 2k+1
}

type renderedPart struct {
	key  partKey
	html []byte // never changed once kept
	at   int64  // unix seconds
}

// partSlots bounds the parts kept: a card per product and block.
const (
	partBits  = 14
	partSlots = 1 << partBits
)

// place is the first of the two slots a key may take.
func (k partKey) place() int {
	h := (uint64(k.id) ^ uint64(uint32(k.block))<<32 ^ uint64(uint32(k.variant))) * 0x9e3779b97f4a7c15
	return int(h>>(64-partBits)) &^ 1
}

func (c *partCache) get(k partKey, now int64) ([]byte, bool) {
	i := k.place()
	for j := i; j < i+2; j++ {
		if p := c.slots[j].Load(); p != nil && p.key == k {
			if now-p.at >= blockTTL || now < p.at {
				return nil, false
			}
			return p.html, true
		}
	}
	return nil, false
}

// put keeps html under k: in the slot that holds k, else an empty one,
// else in place of the older of the two.
func (c *partCache) put(k partKey, html []byte, now int64) {
	i := k.place()
	a, b := &c.slots[i], &c.slots[i+1]
	pa, pb := a.Load(), b.Load()
	to := a
	switch {
	case pa != nil && pa.key == k:
	case pb != nil && pb.key == k:
		to = b
	case pa == nil:
	case pb == nil || pb.at < pa.at:
		to = b
	}
	to.Store(&renderedPart{key: k, html: html, at: now})
}

// blockCache keeps blocks of a block's own template, rendered whole, by
// block and products, for a short while: many visitors get the same products in a block (the popular ones,
// those viewed with a product), and rendering a template costs more than
// the rest of the request. A product's new name or price shows within
// blockTTL. It belongs to one configuration, as the templates do.
type blockCache struct {
	mu sync.Mutex
	m  map[uint64]*renderedBlock
}

type renderedBlock struct {
	block int
	ids   []catalog.ID
	html  []byte
	at    int64 // unix seconds
}

const (
	blockTTL      = 30   // seconds
	maxBlockCache = 8192 // rendered blocks kept
)

func blockKey(block int, ids []catalog.ID) uint64 {
	const prime = 0x100000001b3
	h := uint64(block+1) * 0x9e3779b97f4a7c15
	for _, id := range ids {
		h = (h ^ uint64(id)) * prime
	}
	return h
}

// get returns the block rendered with exactly these products, if fresh.
func (c *blockCache) get(block int, ids []catalog.ID, now int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[blockKey(block, ids)]
	if !ok || r.block != block || now-r.at >= blockTTL || now < r.at || !slices.Equal(r.ids, ids) {
		return nil, false
	}
	return r.html, true
}

func (c *blockCache) put(block int, ids []catalog.ID, html []byte, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxBlockCache {
		c.m = make(map[uint64]*renderedBlock) // start over: cheaper than tracking age
	}
	c.m[blockKey(block, ids)] = &renderedBlock{block: block, ids: slices.Clone(ids), html: html, at: now}
}

// withParam adds name=value to a URL's query, before any fragment, keeping
// the rest of the URL as it is. value must need no escaping (block ids do
// not).
func withParam(u, name, value string) string {
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
		if strings.HasSuffix(u, "?") || strings.HasSuffix(u, "&") {
			sep = ""
		}
	}
	return u + sep + name + "=" + value + frag
}
