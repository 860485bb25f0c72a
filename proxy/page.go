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
	// base is where the page's <base href> points, when it names a host
	// or a scheme: relative URLs, root-relative ones included, resolve
	// against it, so what the proxy adds (its stylesheet, script and
	// beacon, block and overlay links and images) may need the request's
	// origin.
	base pageBase

	// skips are what the analysis left alone; they are counted for each
	// response served from it (Metrics.pageSkips).
	skips pageSkips
}

// pageSkips counts a page's lists left in the shop's order and its blocks
// and banners left off, by why.
type pageSkips struct {
	lists   [2][2]uint16 // by list (menu, results) and reason (listUnsafe, listBreadcrumb)
	blocks  uint16       // blocks whose element cannot safely hold them
	banners uint16       // banners likewise
}

// Why a list keeps the shop's order.
const (
	listUnsafe     = iota // a browser may not build it as written
	listBreadcrumb        // it is a breadcrumb trail
)

// pageBase is the scheme and host of a page's <base href>, lowercase.
// It is a property of the page's bytes, the same for every visitor and
// host: whether it points elsewhere is decided per request (foreign).
type pageBase struct {
	scheme, host string
}

// readBase reads the first <base href> of a page, as browsers do (one
// inside a template does not count; the Doc does not index templates). A
// relative or unparsable href keeps the page's own origin.
func readBase(doc *rewrite.Doc) pageBase {
	found := doc.Find(baseHref{})
	if len(found) == 0 {
		return pageBase{}
	}
	href, _ := found[0].Attr("href")
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || u.Scheme == "" && u.Host == "" {
		return pageBase{}
	}
	// Copies: the Doc's strings, and url.Parse's parts of them, alias the
	// page's bytes, whose buffer is reused once the response is sent.
	return pageBase{scheme: strings.Clone(strings.ToLower(u.Scheme)), host: strings.Clone(strings.ToLower(u.Host))}
}

// foreign reports whether a root-relative URL on the page would leave the
// origin the visitor asked for: the base names another host, or another
// scheme (an http base on an https page would be blocked as mixed
// content), or is not http(s) at all.
func (b pageBase) foreign(host []byte, https bool) bool {
	switch {
	case b == pageBase{}:
		return false
	case b.scheme != "" && b.scheme != scheme(https):
		return true
	}
	return b.host != "" && !strings.EqualFold(b.host, string(host))
}

// baseHref selects <base href>.
type baseHref struct{}

func (baseHref) Match(n *html.Node) bool {
	if n.Data != "base" {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "href" {
			return true
		}
	}
	return false
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
	// What the catalog reads of the page (its JSON-LD, its metas), read
	// once: for the breadcrumb trail, the product, the category path.
	var cpage *catalog.Page
	catalogPage := func() catalog.Page {
		if cpage == nil {
			pg := catalog.FromDoc(doc, pageURL(ctx, v))
			cpage = &pg
		}
		return *cpage
	}
	var trail []string // the paths of the page's JSON-LD breadcrumb trail
	if cfg.Navigation != nil || cfg.Search != nil && v.page == rules.PageSearch {
		if len(doc.JSONLD()) > 0 {
			for _, c := range catalog.Breadcrumbs(catalogPage()) {
				if c.Path != "" {
					trail = append(trail, c.Path)
				}
			}
		}
	}
	var sites []site
	if nav := cfg.Navigation; nav != nil {
		sites = append(sites, p.findMenus(nav, doc, trail, &info.skips)...)
	}
	if s := cfg.Search; s != nil && v.page == rules.PageSearch {
		sites = append(sites, p.findResults(s, doc, trail, &info.skips)...)
	}
	for i := range cfg.Recommendations.Blocks {
		b := &cfg.Recommendations.Blocks[i]
		if !slices.Contains(b.Pages, v.page) {
			continue
		}
		if span, ok := p.place(doc, b.Selector, b.Position, "block", b.ID, &info.skips.blocks); ok {
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
		pg := catalogPage()
		pg.AssetHosts = st.assetHosts
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
		for _, c := range catalog.Breadcrumbs(catalogPage()) {
			info.crumbs = append(info.crumbs, c.ID)
		}
	}
	return info, nil
}

// catalogHosts are the hosts besides a page's own that the catalog keeps
// a product's URL and image on, for a configuration: the hosts shopedge
// answers for are the shop's own too, then the asset hosts (CDNs).
func catalogHosts(cfg *rules.Config) []string {
	return slices.Concat(cfg.Server.Hosts, cfg.Catalog.AssetHosts)
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
func (p *Proxy) findMenus(nav *rules.Navigation, doc *rewrite.Doc, trail []string, skips *pageSkips) []site {
	var sites []site
	var seen []int // the lists already looked at (containers may nest)
	for _, menu := range doc.Find(nav.Container) {
		for _, items := range siblingGroups(menu.FindOutermost(nav.Item)) {
			s, ok := p.list(items, siteMenu, trail, skips, &seen)
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
func (p *Proxy) findResults(search *rules.Search, doc *rewrite.Doc, trail []string, skips *pageSkips) []site {
	var sites []site
	var seen []int
	for _, list := range doc.Find(search.Results) {
		for _, items := range siblingGroups(list.FindOutermost(search.Item)) {
			s, ok := p.list(items, siteResults, trail, skips, &seen)
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

// list makes a site of entries that can be reordered: two or more, not
// a breadcrumb trail (whose order is the page's place in the shop, never
// an interest ranking: marked as one, or following the page's JSON-LD
// trail), in markup a browser builds as written. A list left alone is
// counted in skips, once however many containers hold it.
func (p *Proxy) list(items []rewrite.Element, kind siteKind, trail []string, skips *pageSkips, seen *[]int) (site, bool) {
	if len(items) < 2 {
		return site{}, false
	}
	if slices.Contains(*seen, items[0].Offset()) {
		return site{}, false // found through an outer container already
	}
	*seen = append(*seen, items[0].Offset())
	which := 0
	if kind == siteResults {
		which = 1
	}
	if breadcrumb(items) || onTrail(items, trail) {
		skips.lists[which][listBreadcrumb]++
		p.log.Debug("list is a breadcrumb trail, not reordered", "at", items[0].Offset())
		return site{}, false
	}
	if err := rewrite.CanReorder(items); err != nil {
		skips.lists[which][listUnsafe]++
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

// crumbLevels is how far above a list breadcrumb marks are looked for:
// the list's wrapper and the nav around it, not the page's layout (a
// body class like "has-breadcrumbs" says nothing of the main menu).
const crumbLevels = 3

// breadcrumb reports whether a list is a breadcrumb trail: the entries,
// the list or a close wrapper (up to the nearest <nav>) is marked as one,
// by microdata or RDFa type (schema.org BreadcrumbList,
// data-vocabulary.org Breadcrumb), an aria-label, or a class or id. (A
// JSON-LD trail is not in the markup: onTrail matches its links.)
func breadcrumb(items []rewrite.Element) bool {
	for _, it := range items {
		if crumbMarked(it.Node()) {
			return true
		}
	}
	n := items[0].Node().Parent
	for range crumbLevels + 1 {
		if n == nil || n.Type != html.ElementNode || n.Data == "body" || n.Data == "html" {
			return false
		}
		if crumbMarked(n) {
			return true
		}
		if n.Data == "nav" {
			return false
		}
		n = n.Parent
	}
	return false
}

// onTrail reports whether a list is the page's JSON-LD breadcrumb trail
// written out without marks: every entry with a link links (first) to a
// page of the trail or to the home page (where every trail starts), two
// or more do, and one of them to the trail. A menu of the shop's
// departments links to others than the few on one page's trail.
func onTrail(items []rewrite.Element, trail []string) bool {
	if len(trail) == 0 {
		return false
	}
	on, inTrail := 0, false
	for _, it := range items {
		links := it.Find(anchors{})
		if len(links) == 0 {
			continue // the trail's last entry, the page itself, is often not a link
		}
		href, _ := links[0].Attr("href")
		switch path := catalog.PathKey(href); {
		case slices.Contains(trail, path):
			inTrail = true
		case path != "/":
			return false
		}
		on++
	}
	return on >= 2 && inTrail
}

// crumbWords are what marks a breadcrumb in a class, id or aria-label,
// lowercase: "crumb" (breadcrumb, breadcrumbs, bread-crumbs, crumbs) and
// the words of shops in other languages.
var crumbWords = []string{"crumb", "brotkr", "ariane", "kruimel", "migas", "briciol"}

// crumbMarked reports whether an element is marked as a breadcrumb trail
// or one of its entries.
func crumbMarked(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "itemtype", "typeof", "vocab":
			if catalog.ContainsFold(a.Val, "breadcrumb") {
				return true
			}
		case "class", "id", "aria-label":
			for _, w := range crumbWords {
				if catalog.ContainsFold(a.Val, w) {
					return true
				}
			}
		}
	}
	return false
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
// false when nothing matches or the place is unsafe (counted in unplaced,
// logged).
func (p *Proxy) place(doc *rewrite.Doc, sel rules.Selector, pos, what, id string, unplaced *uint16) (rewrite.Range, bool) {
	found := doc.Find(sel)
	if len(found) == 0 {
		return rewrite.Range{}, false
	}
	s, err := found[0].BlockSite(rewrite.Position(pos))
	if err != nil {
		*unplaced++
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
		if span, ok := p.place(doc, b.Selector, b.Position, "banner", b.ID, &info.skips.banners); ok {
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
	info.base = readBase(doc)
	for _, m := range doc.Find(metaCSP{}) {
		if c, ok := m.Attr("content"); ok {
			// A copy: c aliases the page's buffer, reused after this
			// response, and the analysis is kept for the next ones.
			info.csp = append(info.csp, strings.Clone(c))
		}
	}
	return sites
}
