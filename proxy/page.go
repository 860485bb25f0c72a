package proxy

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/valyala/fasthttp"
	"golang.org/x/net/html"

	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/rewrite"
	"shopedge/rules"
)

// pageInfo is what the proxy learned from one distinct page body. A shop
// serves the same bytes to many visitors; the page is decoded and indexed
// once, and each visitor then costs a lookup and a splice. It keeps
// positions, not the page: an identity page is spliced from the bytes of
// the response at hand (the same bytes, by the cache key), a gzip page is
// assembled from parts compressed when it was analysed. A pageInfo is
// immutable once built, but for the compressed pieces its gzip parts keep.
type pageInfo struct {
	rawLen int // length of the body as the shop sent it
	size   int // length of the decoded body
	// sites are where the page may differ per visitor, in page order and
	// apart (an insertion may sit at the end of another site).
	sites []site

	product    catalog.Product // for product pages, when found
	hasProduct bool
	crumbs     []catalog.ID // for category pages: the path, outermost first

	gz *gzipParts // for gzip pages: the unchanged parts, compressed

	csp     []string // the page's <meta http-equiv> Content-Security-Policy values
	injects bool     // some site may get the proxy's stylesheet or script
}

// siteKind is what a site of a page is.
type siteKind uint8

const (
	siteMenu    siteKind = iota // a menu list, reordered by interest
	siteResults                 // search results, re-ranked for the visit
	siteBlock                   // where a recommendation block goes
	siteBanner                  // where a banner goes
	siteHead                    // the end of the head: the stylesheet
	siteBody                    // the end of the body: an overlay, the script
)

// site is a place in a page that may differ per visitor.
type site struct {
	kind  siteKind
	span  rewrite.Range   // the bytes it covers; empty for an insertion point
	bytes []byte          // the shop's bytes of span
	slots []rewrite.Range // menu, results: the entries (page offsets)
	cats  [][]catalog.ID  // menu: the categories each entry links to
	prods []catalog.ID    // results: the product each entry links to (by path key)
	block int             // block, banner: index in the configuration's blocks or banners
}

// pageCache holds pageInfo by page bytes, bounded in memory. Losing an
// entry only costs a re-analysis.
type pageCache struct {
	c *ristretto.Cache[uint64, *pageInfo]
	// budget bounds what gzip pages keep of their visitors' pieces: a
	// quarter of the cache's memory, the analyses the rest.
	budget *pieceBudget
}

func newPageCache(maxBytes int64) (*pageCache, error) {
	budget := &pieceBudget{max: maxBytes / 4}
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *pageInfo]{
		NumCounters:        max(maxBytes/(8<<10), 1000) * 10,
		MaxCost:            maxBytes - budget.max,
		BufferItems:        64,
		IgnoreInternalCost: true,
		Metrics:            true,
		// Whenever a page leaves the cache (evicted, refused, replaced,
		// cleared), its pieces give their room back.
		OnExit: func(info *pageInfo) {
			if info != nil && info.gz != nil {
				info.gz.release()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &pageCache{c: c, budget: budget}, nil
}

// pageSeed keys the page cache. It is random for each process, so that no
// one can craft a page (say, a search page that echoes its query) whose key
// is another page's, and have that page's positions applied to it.
var pageSeed = maphash.MakeSeed()

// pageKey identifies a page body as the shop sent it, for one page type
// and configuration.
func pageKey(raw []byte, enc codec.Encoding, page rules.PageType, gen uint64) uint64 {
	var meta [32]byte
	binary.LittleEndian.PutUint64(meta[0:], maphash.Bytes(pageSeed, raw))
	binary.LittleEndian.PutUint64(meta[8:], uint64(len(raw)))
	binary.LittleEndian.PutUint64(meta[16:], gen)
	meta[24] = byte(enc)
	copy(meta[25:], page)
	return maphash.Bytes(pageSeed, meta[:])
}

func (pc *pageCache) get(key uint64, rawLen int) (*pageInfo, bool) {
	info, ok := pc.c.Get(key)
	if !ok || info.rawLen != rawLen {
		return nil, false
	}
	return info, true
}

func (pc *pageCache) put(key uint64, info *pageInfo) {
	cost := int64(512)
	for _, s := range info.sites {
		cost += int64(len(s.slots))*48 + int64(len(s.bytes))
	}
	if g := info.gz; g != nil {
		for _, b := range append(g.gaps, g.sites...) {
			cost += int64(len(b))
		}
	}
	if !pc.c.Set(key, info, cost) && info.gz != nil {
		info.gz.release() // dropped before the cache saw it: no OnExit
	}
}

// errNotUTF8 means a page is in another charset: it passes through.
var errNotUTF8 = errors.New("page is not UTF-8")

// analyze decodes and indexes a page: the menus that may be reordered,
// the search results that may be re-ranked, the places recommendation
// blocks go, and what the page teaches the catalog. It fails when the page
// cannot be decoded or is not UTF-8.
func (p *Proxy) analyze(ctx *fasthttp.RequestCtx, st *state, v *visit, raw []byte, enc codec.Encoding, contentType []byte, now time.Time) (*pageInfo, error) {
	body := raw
	if enc != codec.Identity {
		dec := getBuf()
		defer putBuf(dec)
		var err error
		if *dec, err = codec.Decode((*dec)[:0], raw, enc, int(st.cfg.Limits.MaxRewriteBody)); err != nil {
			return nil, err
		}
		body = *dec
	}
	if !isUTF8(body, contentType) {
		return nil, errNotUTF8
	}
	info := &pageInfo{rawLen: len(raw), size: len(body)}
	doc := rewrite.Parse(body)
	defer doc.Release()
	cfg := st.cfg
	var sites []site
	if nav := cfg.Navigation; nav != nil {
		sites = append(sites, p.findMenus(nav, doc)...)
	}
	if s := cfg.Search; s != nil && v.page == rules.PageSearch {
		sites = append(sites, p.findResults(s, doc)...)
	}
	for i := range cfg.Recommendations.Blocks {
		b := &cfg.Recommendations.Blocks[i]
		if !slices.Contains(b.Pages, v.page) {
			continue
		}
		if span, ok := p.place(doc, b.Selector, b.Position, "block", b.ID); ok {
			sites = append(sites, site{kind: siteBlock, span: span, block: i})
		}
	}
	sites = p.findOwnSites(st, v, doc, sites, info)
	info.sites = apart(sites)
	for i := range info.sites {
		s := &info.sites[i]
		s.bytes = append([]byte(nil), body[s.span.Start:s.span.End]...)
	}
	if enc == codec.Gzip && len(info.sites) > 0 {
		info.gz = newGzipParts(body, info.sites, p.pages.budget)
	}
	switch v.page {
	case rules.PageProduct:
		pg := catalog.FromDoc(doc, pageURL(ctx, v))
		// The hosts shopedge answers for are the shop's own too.
		pg.AssetHosts = append(slices.Clip(cfg.Server.Hosts), cfg.Catalog.AssetHosts...)
		if prod, ok := catalog.Extract(pg); ok {
			// The page's absolute URLs may carry whatever Host the visitor
			// sent: keep the product's address, and an image on the page's
			// own host, as paths on the shop.
			prod.URL = localPath(prod.URL)
			if u, err := url.Parse(prod.Image); err == nil && strings.EqualFold(u.Host, string(ctx.Request.Header.Host())) {
				prod.Image = u.RequestURI()
			}
			p.catalog.Put(prod, now)
			info.product, info.hasProduct = prod, true
		}
	case rules.PageCategory:
		for _, c := range catalog.Breadcrumbs(catalog.FromDoc(doc, pageURL(ctx, v))) {
			info.crumbs = append(info.crumbs, c.ID)
		}
	}
	return info, nil
}

// apart sorts sites by position and drops those that overlap an earlier
// one: an insertion point may sit at a site's edge, but not inside it.
func apart(sites []site) []site {
	slices.SortStableFunc(sites, func(a, b site) int {
		if a.span.Start != b.span.Start {
			return a.span.Start - b.span.Start
		}
		return a.span.End - b.span.End
	})
	out := sites[:0]
	end := -1
	for _, s := range sites {
		if s.span.Start < end {
			continue
		}
		out = append(out, s)
		end = max(end, s.span.End)
	}
	return out
}

// findMenus returns the menu lists of a page that can be reordered safely.
func (p *Proxy) findMenus(nav *rules.Navigation, doc *rewrite.Doc) []site {
	var sites []site
	for _, menu := range doc.Find(nav.Container) {
		for _, items := range siblingGroups(menu.FindOutermost(nav.Item)) {
			s, ok := p.list(items, siteMenu)
			if !ok {
				continue
			}
			s.cats = make([][]catalog.ID, len(items))
			for i, it := range items {
				s.cats[i] = linkCategories(it)
			}
			sites = append(sites, s)
		}
	}
	return sites
}

// findResults returns the search result lists of a page, each entry
// keyed by the path of its first link.
func (p *Proxy) findResults(search *rules.Search, doc *rewrite.Doc) []site {
	var sites []site
	for _, list := range doc.Find(search.Results) {
		for _, items := range siblingGroups(list.FindOutermost(search.Item)) {
			s, ok := p.list(items, siteResults)
			if !ok {
				continue
			}
			s.prods = make([]catalog.ID, len(items))
			for i, it := range items {
				if links := it.Find(anchors{}); len(links) > 0 {
					href, _ := links[0].Attr("href")
					if path := catalog.PathKey(href); path != "" {
						s.prods[i] = catalog.KeyOf(path)
					}
				}
			}
			sites = append(sites, s)
		}
	}
	return sites
}

// list makes a site of entries that can be reordered.
func (p *Proxy) list(items []rewrite.Element, kind siteKind) (site, bool) {
	if len(items) < 2 {
		return site{}, false
	}
	if err := rewrite.CanReorder(items); err != nil {
		p.metrics.passThrough("nav_unsafe")
		p.log.Debug("list cannot be reordered", "err", err)
		return site{}, false
	}
	s := site{kind: kind, slots: make([]rewrite.Range, len(items))}
	for i, it := range items {
		s.slots[i] = it.Range()
	}
	s.span = rewrite.Range{Start: s.slots[0].Start, End: s.slots[len(items)-1].End}
	return s, true
}

// reordered appends the site's bytes with its entries in the given order.
func (s *site) reordered(dst []byte, order []int) []byte {
	var sp rewrite.Splice
	var buf [64]rewrite.Range
	slots := buf[:0]
	for _, r := range s.slots {
		slots = append(slots, rewrite.Range{Start: r.Start - s.span.Start, End: r.End - s.span.Start})
	}
	if err := sp.Reorder(slots, order); err != nil {
		return append(dst, s.bytes...)
	}
	return sp.Bytes(dst, s.bytes)
}

// linkCategories returns the categories an entry links to: by link path,
// and by link text for shops whose breadcrumbs have names only.
func linkCategories(it rewrite.Element) []catalog.ID {
	var ids []catalog.ID
	add := func(id catalog.ID) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, a := range it.Find(anchors{}) {
		href, _ := a.Attr("href")
		if path := catalog.PathKey(href); path != "" {
			add(catalog.CategoryID(path, ""))
		}
		if text := a.Text(); text != "" {
			add(catalog.CategoryID("", text))
		}
	}
	return ids
}

// siblingGroups splits elements (in document order) into runs that share a
// parent: entries move within their own list only.
func siblingGroups(items []rewrite.Element) [][]rewrite.Element {
	var groups [][]rewrite.Element
	for len(items) > 0 {
		parent := items[0].Node().Parent
		n := 1
		for n < len(items) && items[n].Node().Parent == parent {
			n++
		}
		groups = append(groups, items[:n])
		items = items[n:]
	}
	return groups
}

// anchors selects links.
type anchors struct{}

func (anchors) Match(n *html.Node) bool {
	if n.Data != "a" {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "href" {
			return true
		}
	}
	return false
}

// event is what a view of the page teaches, from the analysis and the URL.
func (info *pageInfo) event(p *Proxy, ctx *fasthttp.RequestCtx, v *visit) pageEvent {
	switch {
	case v.page == rules.PageProduct && info.hasProduct:
		ev := pageEvent{product: info.product.ID}
		for _, c := range info.product.Categories {
			ev.categories = append(ev.categories, c.ID)
		}
		return ev
	case v.page == rules.PageCategory:
		ev := pageEvent{categories: append([]catalog.ID(nil), info.crumbs...)}
		self := catalog.CategoryID(catalog.PathKey(string(ctx.Path())), "")
		if len(ev.categories) == 0 || ev.categories[len(ev.categories)-1] != self {
			ev.categories = append(ev.categories, self)
		}
		return ev
	}
	return p.eventFromURL(ctx, v)
}

// localPath reduces a URL to its path and query, or "" when it is not an
// http(s) URL.
func localPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.RequestURI()
}

// place finds where a block or banner goes: at position relative to the
// first element the selector matches, where a browser keeps it. ok is
// false when nothing matches or the place is unsafe (counted, logged).
func (p *Proxy) place(doc *rewrite.Doc, sel rules.Selector, pos, what, id string) (rewrite.Range, bool) {
	found := doc.Find(sel)
	if len(found) == 0 {
		return rewrite.Range{}, false
	}
	s, err := found[0].BlockSite(rewrite.Position(pos))
	if err != nil {
		p.metrics.blockUnsafe.Add(1)
		p.log.Debug(what+" not placed", what, id, "err", err)
		return rewrite.Range{}, false
	}
	return s.Range, true
}

// findOwnSites adds the places of banners, and where the stylesheet (end
// of the head) and overlays and the script (end of the body) go, when the
// page may get any of them. It reads the page's own CSP policies too.
func (p *Proxy) findOwnSites(st *state, v *visit, doc *rewrite.Doc, sites []site, info *pageInfo) []site {
	ov := &st.cfg.Overlays
	banners := false
	for i := range ov.Banners {
		b := &ov.Banners[i]
		if !slices.Contains(b.Pages, v.page) {
			continue
		}
		if span, ok := p.place(doc, b.Selector, b.Position, "banner", b.ID); ok {
			sites = append(sites, site{kind: siteBanner, span: span, block: i})
			banners = true
		}
	}
	if banners || st.own.overlayOn(v.page) {
		if s, err := doc.BodyEndSite(); err == nil {
			sites = append(sites, site{kind: siteBody, span: s.Range})
		} else {
			p.log.Debug("no place for overlays", "err", err)
		}
	}
	if len(sites) == 0 {
		return sites
	}
	for _, s := range sites {
		if s.kind != siteMenu && s.kind != siteResults {
			info.injects = true
		}
	}
	if !info.injects {
		return sites
	}
	if s, err := doc.HeadSite(); err == nil {
		sites = append(sites, site{kind: siteHead, span: s.Range})
	}
	for _, m := range doc.Find(metaCSP{}) {
		if c, ok := m.Attr("content"); ok {
			info.csp = append(info.csp, c)
		}
	}
	return sites
}
