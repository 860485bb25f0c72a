package proxy

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rewrite"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// This file joins the recommendation engine to the proxy: events from
// what visitors do, blocks rendered into pages, re-ranked search results,
// and the attribution of clicks on recommended products.

// newEngine builds the recommendation engine a configuration asks for.
func newEngine(r rules.Recommendations) *recommend.Engine {
	return recommend.New(recommend.Config{
		MaxItems:        r.MaxProducts,
		Neighbours:      r.Neighbours,
		MaxSessions:     r.MaxSessions,
		SessionsPerItem: r.SessionsPerProduct,
		HalfLife:        r.HalfLife.D(),
		TrendHalfLife:   r.TrendingHalfLife.D(),
	})
}

// strategyChains returns each block's strategy and fallbacks, in order.
func strategyChains(blocks []rules.Block) [][]recommend.Strategy {
	chains := make([][]recommend.Strategy, len(blocks))
	for i, b := range blocks {
		chains[i] = append(chains[i], recommend.Strategy(b.Strategy))
		for _, f := range b.Fallback {
			chains[i] = append(chains[i], recommend.Strategy(f))
		}
	}
	return chains
}

// recCatalog shows the learned catalog to the engine, for one request: it
// reuses its buffer for the categories of each product asked for.
type recCatalog struct {
	c   *catalog.Catalog
	buf [8]catalog.ID
}

func (rc *recCatalog) Product(id recommend.ID) (recommend.Product, bool) {
	cats, price, inStock, ok := rc.c.Facts(id, rc.buf[:0])
	if !ok {
		return recommend.Product{}, false
	}
	return recommend.Product{Categories: cats, Price: price, InStock: inStock}, true
}

// sessionKey names a visitor's visit for the engine: the visitor and the
// time the visit started.
func sessionKey(visitorID string, visitStart uint32) uint64 {
	return xxhash.Sum64String(visitorID) ^ uint64(visitStart)*0x9e3779b97f4a7c15
}

// learn records a product event in the engine.
func (p *Proxy) learn(visitorID string, visitStart uint32, id catalog.ID, cats []catalog.ID, kind recommend.Kind, now time.Time) {
	if id == 0 || visitorID == "" {
		return
	}
	if cats == nil {
		var buf [4]catalog.ID
		cats, _, _, _ = p.catalog.Facts(id, buf[:0])
	}
	p.rec.Record(recommend.Event{Session: sessionKey(visitorID, visitStart), Item: id, Categories: cats, Kind: kind, Time: now})
}

// siteContents decides what this visitor gets at each site of the page:
// nil keeps the shop's bytes. The contents are written to buf, which the
// returned slices point into; changed is false when every site keeps the
// shop's bytes.
func (p *Proxy) siteContents(ctx *fasthttp.RequestCtx, resp *fasthttp.Response, st *state, v *visit, info *pageInfo, ev *pageEvent, d *profile.Data, now time.Time, buf *[]byte) (contents [][]byte, changed bool) {
	cfg := st.cfg
	half := cfg.Profiles.InterestHalfLife.D()
	var spans [16]rewrite.Range
	ranges := spans[:0]
	var rctx *recommend.Context
	recCtx := func() *recommend.Context {
		if rctx == nil {
			rctx = p.recContext(v, ev, d, now, half)
		}
		return rctx
	}
	// What the page's Content-Security-Policy lets the proxy add.
	var csp cspVerdict
	if info.injects {
		csp = pageCSP(ctx, resp, info, v.https)
	}
	own := st.own
	assets := markup.Assets{CSS: own.cssURL, JS: own.jsURL, Beacon: own.beaconPath}
	// The tags rendered once for the configuration, or nil to render them
	// for this request: on a page whose <base href> points elsewhere, the
	// proxy's paths are made absolute on the request's own origin (never
	// kept: another host must not get this one's).
	// The same goes for every root-relative URL the proxy puts on such a
	// page (block and overlay links, images, the overlay's button): origin
	// is "" on other pages, which keep paths and the kept markup.
	cssTag, jsTag := own.cssTag, own.jsTag
	origin := ""
	if host := ctx.Request.Header.Host(); info.injects && len(host) > 0 && info.base.foreign(host, v.https) {
		origin = scheme(v.https) + "://" + string(host)
		assets = markup.Assets{CSS: origin + own.cssURL, JS: origin + own.jsURL, Beacon: origin + own.beaconPath}
		cssTag, jsTag = nil, nil
	}
	head := -1        // index of the head site
	firstInject := -1 // index of the first site that got a block, banner or overlay
	banners, skipped := false, false
	for i := range info.sites {
		s := &info.sites[i]
		start := len(*buf)
		ok := false
		switch s.kind {
		case siteMenu:
			if cfg.Navigation != nil && v.returning {
				if order, moved := menuOrder(cfg.Navigation, s, d, now, half); moved {
					*buf, ok = s.reordered(*buf, order), true
				}
			}
		case siteResults:
			if order, moved := p.resultsOrder(s, d, now, half); moved {
				*buf, ok = s.reordered(*buf, order), true
			}
		case siteBlock:
			*buf, ok = p.renderBlock(*buf, st, s.block, recCtx(), origin)
		case siteBanner:
			if !csp.style {
				skipped = true
				break
			}
			b := &cfg.Overlays.Banners[s.block]
			if *buf, ok = p.renderBanner(*buf, own, b, ev, d, now); ok {
				banners = true
				p.metrics.overlay(b.ID).injected.Add(1)
			}
		case siteHead:
			head = i
		case siteBody:
			if !csp.style || !csp.script || !csp.connect {
				skipped = skipped || banners || own.overlayOn(v.page)
				break
			}
			r := p.chooseOverlay(ctx, st, v, d, now, func(r *rules.Overlay) (rendered bool) {
				*buf, rendered = p.renderOverlay(*buf, st, r, d, recCtx, now, origin)
				return rendered
			})
			if ok = r != nil; ok {
				p.metrics.overlay(r.ID).injected.Add(1)
			}
			if ok || banners {
				if csp.scriptNonce == "" && jsTag != nil {
					*buf = append(*buf, jsTag...)
				} else {
					assets.Nonce = csp.scriptNonce
					*buf = markup.AppendScript(*buf, assets)
				}
				ok = true
			}
		}
		if !ok {
			*buf = (*buf)[:start]
			start = -1
		} else if firstInject < 0 && s.kind != siteMenu && s.kind != siteResults {
			firstInject = i
		}
		ranges = append(ranges, rewrite.Range{Start: start, End: len(*buf)})
		changed = changed || ok
	}
	if skipped {
		p.metrics.cspSkipped.Add(1)
	}
	if !changed {
		return nil, false
	}
	// The stylesheet, once, when something of the proxy's is on the page
	// and the policy allows it: at the end of the head, or else just
	// before the first thing that needs it.
	if firstInject >= 0 && csp.style {
		at := head
		if at < 0 {
			at = firstInject
		}
		start := len(*buf)
		if csp.styleNonce == "" && cssTag != nil {
			*buf = append(*buf, cssTag...)
		} else {
			assets.Nonce = csp.styleNonce
			*buf = markup.AppendStylesheet(*buf, assets)
		}
		if r := ranges[at]; r.Start >= 0 {
			*buf = append(*buf, (*buf)[r.Start:r.End]...)
		}
		ranges[at] = rewrite.Range{Start: start, End: len(*buf)}
	}
	contents = make([][]byte, len(ranges))
	for i, r := range ranges {
		if r.Start >= 0 {
			contents[i] = (*buf)[r.Start:r.End:r.End]
		}
	}
	return contents, true
}

// menuOrder returns the order of a menu's entries for this visitor. An
// entry's interest is the highest interest in any category it links to,
// its submenu included.
func menuOrder(nav *rules.Navigation, s *site, d *profile.Data, now time.Time, half time.Duration) ([]int, bool) {
	var buf [32]float64
	interest := buf[:0]
	for _, cats := range s.cats {
		best := 0.0
		for _, c := range cats {
			best = max(best, d.Interest(c, now, half))
		}
		interest = append(interest, best)
	}
	return nav.Order(interest)
}

// resultsOrder re-ranks search results for the visit: the products this
// visitor viewed first, latest first; then products in the categories the
// visitor is most interested in, strongest first; then the rest, in the
// shop's order. Entries only move: none is added or lost.
func (p *Proxy) resultsOrder(s *site, d *profile.Data, now time.Time, half time.Duration) ([]int, bool) {
	type rank struct {
		viewed   int // position in the recently viewed list; len: not viewed
		interest float64
	}
	recent := d.Recent()
	ranks := make([]rank, len(s.prods))
	var cats [4]catalog.ID
	for i, key := range s.prods {
		ranks[i].viewed = len(recent)
		id, ok := p.catalog.ResolveKey(key)
		if key == 0 || !ok {
			continue
		}
		if j := slices.Index(recent, id); j >= 0 {
			ranks[i].viewed = j
		}
		pc, _, _, _ := p.catalog.Facts(id, cats[:0])
		for _, c := range pc {
			ranks[i].interest = max(ranks[i].interest, d.Interest(c, now, half))
		}
	}
	order := make([]int, len(ranks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := ranks[a], ranks[b]
		switch {
		case ra.viewed != rb.viewed:
			return ra.viewed - rb.viewed
		case ra.interest > rb.interest:
			return -1
		case ra.interest < rb.interest:
			return 1
		}
		return 0
	})
	for i, o := range order {
		if i != o {
			return order, true
		}
	}
	return nil, false
}

// recContext is what the engine needs to know of this visitor and page.
func (p *Proxy) recContext(v *visit, ev *pageEvent, d *profile.Data, now time.Time, half time.Duration) *recommend.Context {
	c := &recommend.Context{
		Now:     now,
		Session: sessionKey(v.id, d.VisitStart),
		Item:    ev.product,
		Views:   d.VisitViews(nil),
		Recent:  d.Recent(),
		Cart:    d.CartProducts(nil),
		Exclude: d.Purchased(),
		Interest: func(c catalog.ID) float64 {
			return d.Interest(c, now, half)
		},
	}
	if n := len(ev.categories); n > 0 {
		c.Category = ev.categories[n-1] // the deepest
	}
	return c
}

// renderBlock appends a recommendation block to dst. ok is false when the
// engine found fewer products than the block's minimum (or the template
// failed, which the log tells): then the page goes without it. origin,
// when not "", goes in front of the block's root-relative URLs (a page
// whose <base href> points elsewhere); such a block is rendered for the
// request and never kept, so that no other Host gets this one's links.
func (p *Proxy) renderBlock(dst []byte, st *state, index int, rctx *recommend.Context, origin string) (_ []byte, ok bool) {
	b := &st.cfg.Recommendations.Blocks[index]
	req := recommend.Request{Strategies: st.chains[index], N: b.Count, Personal: b.Personal}
	ids := p.rec.Recommend(*rctx, req, &recCatalog{c: p.catalog})
	if len(ids) < b.Min {
		return dst, false
	}
	now := rctx.Now.Unix()
	var html []byte
	if origin != "" {
		if html, ok = p.buildBlock(st, index, ids, now, origin); !ok {
			return dst, false
		}
	} else if html, ok = st.blocks.get(index, ids, now); !ok {
		if html, ok = p.buildBlock(st, index, ids, now, ""); !ok {
			return dst, false
		}
		st.blocks.put(index, ids, html, now)
	}
	p.metrics.block(b.ID).shown.Add(1)
	return append(dst, html...), true
}

// buildBlock renders a block of the given products, their root-relative
// URLs on origin when it is not "". ok is false when fewer than the
// block's minimum can be shown (or the template failed, which the log
// tells).
func (p *Proxy) buildBlock(st *state, index int, ids []catalog.ID, now int64, origin string) (_ []byte, ok bool) {
	b := &st.cfg.Recommendations.Blocks[index]
	if b.Tmpl() == nil {
		return p.assembleBlock(st, index, ids, now, origin)
	}
	data := markup.BlockData{ID: b.ID, Title: b.Title, Items: make([]markup.BlockItem, 0, len(ids))}
	for _, id := range ids {
		if it, ok := p.blockItem(st.cfg, b, id, origin); ok {
			data.Items = append(data.Items, it)
		}
	}
	if len(data.Items) < b.Min {
		return nil, false
	}
	out, err := markup.RenderBlock(nil, b.Tmpl(), data)
	if err != nil {
		p.log.Error("block not rendered", "block", b.ID, "err", err)
		return nil, false
	}
	return out, true
}

// blockItem is a product as a block shows it, from the catalog.
func (p *Proxy) blockItem(cfg *rules.Config, b *rules.Block, id catalog.ID, origin string) (markup.BlockItem, bool) {
	prod, ok := p.catalog.Get(id)
	if !ok || prod.Name == "" || prod.URL == "" {
		return markup.BlockItem{}, false
	}
	return markup.BlockItem{
		Name:  prod.Name,
		URL:   onOrigin(origin, withParam(prod.URL, cfg.Recommendations.AttributionParam, b.ID)),
		Image: onOrigin(origin, prod.Image),
		Price: formatPrice(prod.Price, prod.Currency),
		Brand: prod.Brand,
	}, true
}

// onOrigin puts origin ("https://shop.example") in front of a
// root-relative URL, for a page whose <base href> would resolve it
// elsewhere. Other URLs, and every URL when origin is "", are kept.
func onOrigin(origin, u string) string {
	if origin == "" || !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
		return u
	}
	return origin + u
}

// assembleBlock builds a block of the built-in template from its parts:
// each product's card is rendered once per block and kept (for blockTTL,
// like whole blocks), so a block whose products differ per visitor, such
// as recently viewed, costs copies rather than a template run. Cards on
// an origin are rendered for the request, not kept.
func (p *Proxy) assembleBlock(st *state, index int, ids []catalog.ID, now int64, origin string) (_ []byte, ok bool) {
	b := &st.cfg.Recommendations.Blocks[index]
	out, err := markup.AppendBlockHead(nil, markup.BlockData{ID: b.ID, Title: b.Title})
	if err != nil {
		p.log.Error("block not rendered", "block", b.ID, "err", err)
		return nil, false
	}
	n := 0
	for i := range ids {
		var card []byte
		ok := false
		if origin == "" {
			card, ok = st.blocks.get(cardKey(index), ids[i:i+1], now)
		}
		if !ok {
			it, found := p.blockItem(st.cfg, b, ids[i], origin)
			if !found {
				continue
			}
			if card, err = markup.AppendBlockCard(nil, it); err != nil {
				p.log.Error("block card not rendered", "block", b.ID, "err", err)
				continue
			}
			if origin == "" {
				st.blocks.put(cardKey(index), ids[i:i+1], card, now)
			}
		}
		out = append(out, card...)
		n++
	}
	if n < b.Min {
		return nil, false
	}
	return markup.AppendBlockFoot(out), true
}

// cardKey is where the block cache keeps a block's product cards: apart
// from whole blocks, which use the block's index.
func cardKey(index int) int { return -1 - index }

// blockCache keeps rendered blocks, by block and products, for a short
// while: many visitors get the same products in a block (the popular ones,
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
	maxBlockCache = 8192 // rendered blocks and cards kept
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

// currencySymbols are the currencies shown by symbol, before the amount.
var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹", "CNY": "CN¥",
}

// formatPrice shows a price with its currency: "$19.99", "€5.00",
// "¥1200", "19.90 CHF"; "" when the price is unknown.
func formatPrice(price float64, currency string) string {
	if price <= 0 {
		return ""
	}
	decimals := 2
	if currency == "JPY" || currency == "KRW" {
		decimals = 0
	}
	amount := strconv.FormatFloat(price, 'f', decimals, 64)
	if sym, ok := currencySymbols[currency]; ok {
		return sym + amount
	}
	if currency == "" {
		return amount
	}
	return amount + " " + currency
}

// takeAttribution finds the attribution parameter in the request's query:
// it counts a click for the block it names (when the configuration has
// that block), and returns the query without it, for the shop. found is
// false when the query has no such parameter.
func (p *Proxy) takeAttribution(st *state, query []byte, count bool) (rest []byte, found bool) {
	name := st.cfg.Recommendations.AttributionParam
	if len(st.cfg.Recommendations.Blocks) == 0 || !bytes.Contains(query, []byte(name)) {
		return query, false
	}
	rest, value, found := stripParam(query, name)
	if found && count {
		for i := range st.cfg.Recommendations.Blocks {
			if id := st.cfg.Recommendations.Blocks[i].ID; string(value) == id {
				p.metrics.block(id).clicks.Add(1)
				break
			}
		}
	}
	return rest, found
}

// stripParam removes every name=value pair with the given name from a raw
// query string, leaving the other pairs byte for byte. It returns the
// first value removed.
func stripParam(query []byte, name string) (rest, value []byte, found bool) {
	rest = make([]byte, 0, len(query))
	for q := query; len(q) > 0; {
		var pair []byte
		pair, q, _ = bytes.Cut(q, []byte{'&'})
		key, val, _ := bytes.Cut(pair, []byte{'='})
		if string(key) == name {
			if !found {
				value, found = val, true
			}
			continue
		}
		if len(rest) > 0 {
			rest = append(rest, '&')
		}
		rest = append(rest, pair...)
	}
	return rest, value, found
}
