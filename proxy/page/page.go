package page

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"

	"shopedge/proxy/bufpool"
	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/splice"
	"shopedge/rewrite"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// Analysis is what the proxy learned from one distinct page body. A shop
// serves the same bytes to many visitors; the page is decoded and indexed
// once, and each visitor then costs a lookup and a splice. It keeps
// positions, not the page: an identity page is spliced from the bytes of
// the response at hand (the same bytes, by the cache key), a gzip page is
// assembled from parts compressed when it was analysed. An Analysis is
// immutable once built.
type Analysis struct {
	RawLen int // length of the body as the shop sent it
	Size   int // length of the decoded body
	// Regions are where the page may differ per visitor, in page order and
	// apart (an insertion may sit at the end of another region).
	Regions []Region
	// Spans are the regions' byte ranges, in the same order: what splice
	// needs.
	Spans []rewrite.Range

	// Product is the product a product page describes, when HasProduct.
	// It is what the page says, not yet learned: the learn step puts it in
	// the catalog.
	Product    catalog.Product
	HasProduct bool
	// Crumbs are a category page's path in the shop, outermost first.
	Crumbs []catalog.ID
	// Listed are the products a category page lists, by the IDs of their
	// path keys, in page order (lists.go, listed): what the learn step
	// teaches the catalog they belong to.
	Listed []catalog.ID
	// Order is the order a purchase page shows, when HasOrder: its
	// total, currency, number and items, from its schema.org Order or
	// Invoice JSON-LD or events.purchase. Without a total, HasOrder is
	// false, and Order may still hold the number and items the page
	// gave. The analysis is per page bytes: a confirmation page's bytes
	// differ per order.
	Order    Order
	HasOrder bool

	Gzip *splice.Gzip // for gzip pages: the unchanged parts, compressed

	CSP     []string // the page's <meta http-equiv> Content-Security-Policy values
	Injects bool     // some region may get the proxy's stylesheet or script
	// Base is where the page's <base href> points, when it names a host
	// or a scheme: relative URLs, root-relative ones included, resolve
	// against it, so what the proxy adds (its stylesheet, script and
	// beacon, block and overlay links and images) may need the request's
	// origin.
	Base Base

	// Skips are what the analysis left alone; they are counted for each
	// response served from it.
	Skips Skips

	// Refused, when not nil, is why the page may not be rewritten: its
	// body cannot be decoded (within the limit), or it is not UTF-8. Such
	// an analysis (Refusal) holds nothing else: it is kept so that the
	// same bytes are not decoded again for each visitor only to be
	// refused again.
	Refused error
}

// analysisShare is what an analysis costs beside what it holds: the
// Analysis itself (552 bytes) and its entry in the cache (ristretto's
// item and map slot), ~740 bytes in all for a Refusal (a cold review,
// 2026-12-03).
const analysisShare = 768

// Refusal is the analysis of a page of rawLen bytes that Analyze refused
// with err, for the cache.
func Refusal(rawLen int, err error) *Analysis { return &Analysis{RawLen: rawLen, Refused: err} }

// Kind is what a region of a page is.
type Kind uint8

// The kinds of region.
const (
	Menu    Kind = iota // a menu list, reordered by interest
	Results             // search results, re-ranked for the visitor
	Block               // where a recommendation block goes
	Banner              // where a banner goes
	Head                // the end of the head: the stylesheet
	Body                // the end of the body: an overlay, the script
	Swap                // an element's content, or one of its attributes: a content swap
)

var kindNames = [...]string{"menu", "results", "block", "banner", "head", "body", "swap"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Region is a place in a page that may differ per visitor.
type Region struct {
	Kind  Kind
	Span  rewrite.Range   // the bytes it covers; empty for an insertion point
	Bytes []byte          // the shop's bytes of Span
	Slots []rewrite.Range // menu, results: the entries (page offsets)
	Cats  [][]catalog.ID  // menu: the categories each entry links to
	Prods []catalog.ID    // results: the product each entry links to (by path key)
	// Index is, for a block, banner or swap, its index in the
	// configuration's blocks, banners or swaps: the one that ranks first
	// at this place (by priority, then the file's order).
	Index int
	// Alts are the other blocks, banners or swaps that want the same
	// place (the same spot; for swaps, the same element's content or the
	// same attribute), by rank: the plan gives the place to the first
	// that applies.
	Alts []int

	// place is what the region's bytes are to the action (for blocks and
	// banners, where they go relative to an element; for swaps, the
	// element's content or one attribute): two actions want the same
	// place when these and the kind are the same.
	place struct {
		elem int    // the element's offset
		how  string // the position, or the attribute ("" for content)
	}
}

// HasBodyRegion reports whether the analysis has the end of the body as
// a region (a place for overlays, the script or a preview's badge).
func (a *Analysis) HasBodyRegion() bool {
	for i := range a.Regions {
		if a.Regions[i].Kind == Body {
			return true
		}
	}
	return false
}

// Candidates is how many actions want the region's place: Index, then
// Alts.
func (r *Region) Candidates() int { return 1 + len(r.Alts) }

// Candidate returns the k-th action that wants the region's place, by
// rank (0 is Index).
func (r *Region) Candidate(k int) int {
	if k == 0 {
		return r.Index
	}
	return r.Alts[k-1]
}

// Reordered appends the region's bytes with its entries in the given
// order (slot k receives entry order[k]); the shop's bytes when the order
// does not fit (not a permutation of the slots) or the slots do not (out
// of order, overlapping or outside the region). One pass over the slots,
// nothing allocated for up to 64 of them: a menu is reordered on every
// page.
func (r *Region) Reordered(dst []byte, order []int) []byte {
	n := len(r.Slots)
	if len(order) != n {
		return append(dst, r.Bytes...)
	}
	var seen [64]bool
	var mark []bool
	if n <= len(seen) {
		mark = seen[:n]
	} else {
		mark = make([]bool, n)
	}
	for _, o := range order {
		if o < 0 || o >= n || mark[o] {
			return append(dst, r.Bytes...) // not a permutation
		}
		mark[o] = true
	}
	base, last := r.Span.Start, 0
	for _, s := range r.Slots {
		if s.Start-base < last || s.End < s.Start || s.End-base > len(r.Bytes) {
			return append(dst, r.Bytes...) // out of order, overlapping or outside
		}
		last = s.End - base
	}
	pos := 0
	for k, s := range r.Slots {
		src := r.Slots[order[k]]
		dst = append(dst, r.Bytes[pos:s.Start-base]...)
		dst = append(dst, r.Bytes[src.Start-base:src.End-base]...)
		pos = s.End - base
	}
	return append(dst, r.Bytes[pos:]...)
}

// Skips counts a page's lists left in the shop's order and its blocks and
// banners left off, by why.
type Skips struct {
	Lists   [2][2]uint16 // by list (ListMenu, ListResults) and reason (ListUnsafe, ListBreadcrumb)
	Blocks  uint16       // blocks whose element cannot safely hold them
	Banners uint16       // banners likewise
	Swaps   uint16       // swaps whose element's content or attribute cannot safely change
}

// Which list, and why a list keeps the shop's order: the indexes of
// Skips.Lists.
const (
	ListMenu    = 0
	ListResults = 1

	ListUnsafe     = 0 // a browser may not build it as written
	ListBreadcrumb = 1 // it is a breadcrumb trail
)

// Base is the scheme and host of a page's <base href>, lowercase. It is a
// property of the page's bytes, the same for every visitor and host:
// whether it points elsewhere is decided per request (Foreign).
type Base struct {
	Scheme, Host string
}

// readBase reads the first <base href> of a page, as browsers do (one
// inside a template does not count; the Doc does not index templates). A
// relative or unparsable href keeps the page's own origin.
func readBase(doc *rewrite.Doc) Base {
	found := doc.Find(baseHref{})
	if len(found) == 0 {
		return Base{}
	}
	href, _ := found[0].Attr("href")
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || u.Scheme == "" && u.Host == "" {
		return Base{}
	}
	// Copies: the Doc's strings, and url.Parse's parts of them, alias the
	// page's bytes, whose buffer is reused once the response is sent.
	return Base{Scheme: strings.Clone(strings.ToLower(u.Scheme)), Host: strings.Clone(strings.ToLower(u.Host))}
}

// Foreign reports whether a root-relative URL on the page would leave the
// origin the visitor asked for (host, over https or not): the base names
// another host, or another scheme (an http base on an https page would be
// blocked as mixed content), or is not http(s) at all.
func (b Base) Foreign(host []byte, https bool) bool {
	scheme := "http"
	if https {
		scheme = "https"
	}
	switch {
	case b == Base{}:
		return false
	case b.Scheme != "" && b.Scheme != scheme:
		return true
	}
	return b.Host != "" && !bytes.EqualFold([]byte(b.Host), host)
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

// metaCSP selects <meta http-equiv="Content-Security-Policy">.
type metaCSP struct{}

func (metaCSP) Match(n *html.Node) bool {
	if n.Data != "meta" {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "http-equiv" && strings.EqualFold(strings.TrimSpace(a.Val), "content-security-policy") {
			return true
		}
	}
	return false
}

// ErrNotUTF8 means a page is in another charset: it passes through.
var ErrNotUTF8 = errors.New("page is not UTF-8")

// Input is what Analyze reads: a page body and what the configuration
// looks for in it.
type Input struct {
	Config      *rules.Compiled
	Type        rules.PageType // the page's type, from the request's path
	Raw         []byte         // the body as the shop sent it
	Encoding    codec.Encoding // its Content-Encoding
	ContentType []byte         // its Content-Type
	URL         string         // the page's address, for the catalog's relative URLs
	Budget      *splice.Budget // keeps what gzip pages' visitors got, compressed
	Log         *slog.Logger   // debug lines for what is left alone
	// Badge asks for the end of the body as a region whatever the rules
	// say, for a preview's badge. Such an analysis is for that request:
	// never cache it for others.
	Badge bool
}

// Analyze decodes and indexes a page: the menus that may be reordered, the
// search results that may be re-ranked, the places recommendation blocks
// and banners go, the ends of the head and the body, the page's own CSP
// and <base>, and the product, category path or order the page
// describes. It fails when the page cannot be decoded or is not UTF-8.
// It changes nothing outside the Analysis it returns.
func Analyze(in Input) (*Analysis, error) {
	body := in.Raw
	cfg := in.Config
	if in.Encoding != codec.Identity {
		dec := bufpool.Get()
		defer bufpool.Put(dec)
		var err error
		if *dec, err = codec.Decode((*dec)[:0], in.Raw, in.Encoding, int(cfg.Limits.MaxRewriteBody)); err != nil {
			return nil, err
		}
		body = *dec
	}
	if !isUTF8(body, in.ContentType) {
		return nil, ErrNotUTF8
	}
	a := &Analysis{RawLen: len(in.Raw), Size: len(body)}
	doc := rewrite.Parse(body)
	defer doc.Release()
	f := finder{log: in.Log, skips: &a.Skips}
	// What the catalog reads of the page (its JSON-LD, its metas), read
	// once: for the breadcrumb trail, the product, the category path.
	var cpage *catalog.Page
	catalogPage := func() catalog.Page {
		if cpage == nil {
			pg := catalog.FromDoc(doc, in.URL)
			cpage = &pg
		}
		return *cpage
	}
	var trail []string // the paths of the page's JSON-LD breadcrumb trail
	if cfg.Navigation != nil && cfg.NavAction.Enabled || cfg.Search != nil && cfg.SearchAction.Enabled && in.Type == rules.PageSearch {
		if len(doc.JSONLD()) > 0 {
			for _, c := range catalog.Breadcrumbs(catalogPage()) {
				if c.Path != "" {
					trail = append(trail, c.Path)
				}
			}
		}
	}
	var regions []Region
	if nav := cfg.Navigation; nav != nil && cfg.NavAction.Enabled {
		regions = append(regions, f.menus(nav, doc, trail)...)
	}
	if s := cfg.Search; s != nil && cfg.SearchAction.Enabled && in.Type == rules.PageSearch {
		regions = append(regions, f.results(s, doc, trail)...)
	}
	for i := range cfg.Blocks {
		b := &cfg.Blocks[i]
		if !b.Action.Enabled || !slices.Contains(b.Pages, in.Type) {
			continue
		}
		if span, elem, ok := f.place(doc, b.Selector, b.Position, "block", b.ID, &a.Skips.Blocks); ok {
			r := Region{Kind: Block, Span: span, Index: i}
			r.place.elem, r.place.how = elem, b.Position
			regions = append(regions, r)
		}
	}
	regions = f.swaps(cfg, in.Type, doc, regions, &a.Skips.Swaps)
	regions = f.ownRegions(cfg, in.Type, doc, regions, a, in.Badge)
	a.Regions = apart(samePlace(cfg, regions))
	a.Spans = make([]rewrite.Range, len(a.Regions))
	for i := range a.Regions {
		r := &a.Regions[i]
		r.Bytes = append([]byte(nil), body[r.Span.Start:r.Span.End]...)
		a.Spans[i] = r.Span
	}
	if in.Encoding == codec.Gzip && len(a.Regions) > 0 {
		a.Gzip = splice.NewGzip(body, a.Spans, in.Budget)
	}
	switch in.Type {
	case rules.PageProduct:
		pg := catalogPage()
		pg.AssetHosts = cfg.AssetHosts
		if a.Product, a.HasProduct = catalog.Extract(pg); a.HasProduct {
			// The page's absolute URLs may carry whatever Host the visitor
			// sent: the product's address, and an image on the page's own
			// host, are kept as paths on the shop. (The analysis is shared
			// by every Host that gets these bytes: made local once, against
			// the host the page was read for, as the catalog keeps it.)
			a.Product.URL = localPath(a.Product.URL)
			if u, err := url.Parse(a.Product.Image); err == nil && u.Host != "" && strings.EqualFold(u.Host, hostOf(in.URL)) {
				a.Product.Image = u.RequestURI()
			}
		}
	case rules.PageCategory:
		for _, c := range catalog.Breadcrumbs(catalogPage()) {
			a.Crumbs = append(a.Crumbs, c.ID)
		}
		a.Listed = listed(cfg, doc, hostOf(in.URL))
	case rules.PagePurchase:
		a.Order, a.HasOrder = readOrder(doc, body, cfg)
	}
	return a, nil
}

// hostOf is the host of an absolute URL, or "".
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
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

// Cost is what the analysis holds, in bytes, for the cache's bound.
func (a *Analysis) Cost() int64 {
	cost := int64(analysisShare) + int64(len(a.Listed))*8
	for _, r := range a.Regions {
		cost += int64(len(r.Slots))*48 + int64(len(r.Bytes))
	}
	if a.Gzip != nil {
		cost += a.Gzip.Cost()
	}
	return cost
}

// samePlace sorts regions by position and makes one of the blocks,
// banners or swaps that want the same place: the first by rank (priority,
// then the file's order) is its Index, the others its Alts, so that the
// plan gives the place to the first that applies for the visitor.
func samePlace(cfg *rules.Compiled, regions []Region) []Region {
	slices.SortStableFunc(regions, func(a, b Region) int {
		if a.Span.Start != b.Span.Start {
			return a.Span.Start - b.Span.Start
		}
		return a.Span.End - b.Span.End
	})
	out := regions[:0]
next:
	for _, r := range regions {
		if r.Kind == Block || r.Kind == Banner || r.Kind == Swap {
			// Those at the same span are last in out.
			for j := len(out) - 1; j >= 0 && out[j].Span == r.Span; j-- {
				if o := &out[j]; o.Kind == r.Kind && o.place == r.place {
					o.Alts = append(o.Alts, r.Index)
					continue next
				}
			}
		}
		out = append(out, r)
	}
	for i := range out {
		r := &out[i]
		if len(r.Alts) == 0 {
			continue
		}
		cands := append([]int{r.Index}, r.Alts...)
		slices.SortStableFunc(cands, func(x, y int) int {
			if px, py := priority(cfg, r.Kind, x), priority(cfg, r.Kind, y); px != py {
				return py - px
			}
			return x - y
		})
		r.Index, r.Alts = cands[0], cands[1:]
	}
	return out
}

// priority is the priority of the block, banner or swap i.
func priority(cfg *rules.Compiled, k Kind, i int) int {
	switch k {
	case Block:
		return cfg.Blocks[i].Action.Priority
	case Banner:
		return cfg.Banners[i].Action.Priority
	case Swap:
		return cfg.Swaps[i].Action.Priority
	}
	return 0
}

// swaps adds the places of content swaps for a page type: the first
// element each selector finds, its content or the attribute, where a
// browser builds exactly the swap (an html with elements other than
// phrasing ones needs a place a block could go). What cannot be placed is
// counted in unplaced and logged.
func (f finder) swaps(cfg *rules.Compiled, t rules.PageType, doc *rewrite.Doc, regions []Region, unplaced *uint16) []Region {
	for i := range cfg.Swaps {
		s := &cfg.Swaps[i]
		if !s.Action.Enabled || s.Parsed == nil || !slices.Contains(s.Pages, t) {
			continue
		}
		found := doc.Find(s.Selector)
		if len(found) == 0 {
			continue
		}
		var span rewrite.Range
		if s.Attr != "" {
			site, err := found[0].AttrSite(s.Attr)
			if err != nil {
				*unplaced++
				f.log.Debug("swap not placed", "swap", s.ID, "err", err)
				continue
			}
			span = site.Range
		} else {
			site, err := found[0].ContentSite()
			switch {
			case err != nil:
			case s.Content&markup.SwapFlow != 0 && !site.Blocks:
				err = fmt.Errorf("content of <%s>, where only text and phrasing elements may go: %w", found[0].Tag(), rewrite.ErrUnsafe)
			case s.Content&markup.SwapItems != 0 && !site.Items:
				err = fmt.Errorf("content of <%s>, where list items would close the one around: %w", found[0].Tag(), rewrite.ErrUnsafe)
			case s.Content&markup.SwapHeadings != 0 && !site.Headings:
				err = fmt.Errorf("content of <%s>, a heading, which a heading would close: %w", found[0].Tag(), rewrite.ErrUnsafe)
			}
			if err != nil {
				*unplaced++
				f.log.Debug("swap not placed", "swap", s.ID, "err", err)
				continue
			}
			span = site.Range
		}
		r := Region{Kind: Swap, Span: span, Index: i}
		r.place.elem, r.place.how = found[0].Offset(), s.Attr
		regions = append(regions, r)
	}
	return regions
}

// apart sorts regions by position and drops those that overlap an earlier
// one: an insertion point may sit at a region's edge, but not inside it.
func apart(regions []Region) []Region {
	slices.SortStableFunc(regions, func(a, b Region) int {
		if a.Span.Start != b.Span.Start {
			return a.Span.Start - b.Span.Start
		}
		return a.Span.End - b.Span.End
	})
	out := regions[:0]
	end := -1
	for _, r := range regions {
		if r.Span.Start < end {
			continue
		}
		out = append(out, r)
		end = max(end, r.Span.End)
	}
	return out
}

// finder finds a page's regions, counting what it leaves alone.
type finder struct {
	log   *slog.Logger
	skips *Skips
}

// place finds where a block or banner goes: at position relative to the
// first element the selector matches (at elem), where a browser keeps
// it. ok is false when nothing matches or the place is unsafe (counted in
// unplaced, logged).
func (f finder) place(doc *rewrite.Doc, sel rules.Selector, pos, what, id string, unplaced *uint16) (_ rewrite.Range, elem int, ok bool) {
	found := doc.Find(sel)
	if len(found) == 0 {
		return rewrite.Range{}, 0, false
	}
	s, err := found[0].BlockSite(rewrite.Position(pos))
	if err != nil {
		*unplaced++
		f.log.Debug(what+" not placed", what, id, "err", err)
		return rewrite.Range{}, 0, false
	}
	return s.Range, found[0].Offset(), true
}

// overlayOn reports whether some overlay rule may show on a page type.
func overlayOn(cfg *rules.Compiled, t rules.PageType) bool {
	for i := range cfg.Overlays.Rules {
		if slices.Contains(cfg.Overlays.Rules[i].Pages, t) {
			return true
		}
	}
	return false
}

// ownRegions adds the places of banners, and where the stylesheet (end
// of the head) and overlays and the script (end of the body) go, when the
// page may get any of them (or, with badge, a preview's badge). It reads the page's own CSP policies and
// <base> too.
func (f finder) ownRegions(cfg *rules.Compiled, t rules.PageType, doc *rewrite.Doc, regions []Region, a *Analysis, badge bool) []Region {
	ov := &cfg.Overlays
	banners := false
	for i := range ov.Banners {
		b := &ov.Banners[i]
		if !cfg.Banners[i].Action.Enabled || !slices.Contains(b.Pages, t) {
			continue
		}
		if span, elem, ok := f.place(doc, b.Selector, b.Position, "banner", b.ID, &a.Skips.Banners); ok {
			r := Region{Kind: Banner, Span: span, Index: i}
			r.place.elem, r.place.how = elem, b.Position
			regions = append(regions, r)
			banners = true
		}
	}
	if banners || badge || overlayOn(cfg, t) {
		if s, err := doc.BodyEndSite(); err == nil {
			regions = append(regions, Region{Kind: Body, Span: s.Range})
		} else {
			f.log.Debug("no place for overlays", "err", err)
		}
	}
	for _, r := range regions {
		if r.Kind != Menu && r.Kind != Results && r.Kind != Swap {
			a.Injects = true
		}
	}
	if !a.Injects {
		return regions
	}
	if s, err := doc.HeadSite(); err == nil {
		regions = append(regions, Region{Kind: Head, Span: s.Range})
	}
	a.Base = readBase(doc)
	for _, m := range doc.Find(metaCSP{}) {
		if c, ok := m.Attr("content"); ok {
			// A copy: c aliases the page's buffer, reused after this
			// response, and the analysis is kept for the next ones.
			a.CSP = append(a.CSP, strings.Clone(c))
		}
	}
	return regions
}

// isUTF8 reports whether a page is UTF-8 by the rules browsers use (as
// x/net/html/charset follows them): a byte order mark, else the
// Content-Type's charset (read as browsers read it: lenientType), else a
// <meta> charset in the first 1024 bytes, each deciding when present,
// else a <meta> charset further on while the page is still in its head
// (lateMetaCharset: Chromium and WebKit read one there); a page that
// declares none counts when its bytes are valid UTF-8. A page declared
// Latin-1 by its <meta> is not UTF-8 even when its bytes are ASCII: the
// browser would read what the proxy adds (a product's "é", a "€") as
// Latin-1.
func isUTF8(body, contentType []byte) bool {
	e, name, _ := charset.DetermineEncoding(body[:min(len(body), 1024)], lenientType(contentType))
	switch {
	case name == "utf-8":
		return true
	case e != charmap.Windows1252:
		// A byte order mark, the header or a <meta> named another
		// charset. DetermineEncoding marks a <meta>'s charset uncertain,
		// as it does its guess for a page that declares nothing
		// (windows-1252), but returns each declared one as
		// charset.Lookup wraps it, and its guess as charmap.Windows1252
		// itself (TestIsUTF8 holds it to that).
		return false
	}
	if label := lateMetaCharset(body); label != "" {
		// As a <meta> in the first 1024 bytes would: UTF-16 is read as
		// UTF-8 (WHATWG "change the encoding"), a name nobody knows is
		// ignored.
		if _, name := charset.Lookup(label); name != "" && name != "utf-8" && !strings.HasPrefix(name, "utf-16") {
			return false
		}
	}
	return utf8.Valid(body)
}

// lateMetaCharset returns the charset label a <meta> names while the
// page is still in its head, looking past the first 1024 bytes the way
// Chromium and WebKit do (HTMLMetaCharsetParser): tag by tag, the head
// lasting until a tag other than those a head holds (script, noscript,
// style, link, meta, object, title, base; html and head opening), and the
// search ending once the head is over and 1024 bytes are read. "" when
// there is none. It is asked only when the first 1024 bytes declare
// nothing, once per analysis.
func lateMetaCharset(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body))
	inHead, read := true, 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return ""
		}
		read += len(z.Raw())
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken || tt == html.EndTagToken {
			name, hasAttr := z.TagName()
			tag := atom.Lookup(name)
			if tt != html.EndTagToken && tag == atom.Meta && hasAttr {
				if label := metaCharset(z); label != "" {
					return label
				}
			}
			switch tag {
			case atom.Script, atom.Noscript, atom.Style, atom.Link, atom.Meta, atom.Object, atom.Title, atom.Base:
			case atom.Html, atom.Head:
				if tt == html.EndTagToken {
					inHead = false
				}
			default:
				inHead = false
			}
		}
		if !inHead && read >= 1024 {
			return ""
		}
	}
}

// metaCharset returns the charset label of the <meta> start tag z is at:
// its charset attribute, else, with http-equiv="content-type", the
// charset in its content (WHATWG "extracting a character encoding from a
// meta element"); "" if none.
func metaCharset(z *html.Tokenizer) string {
	var label, content string
	contentType := false
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "charset":
			if label == "" {
				label = strings.TrimSpace(string(v))
			}
		case "http-equiv":
			contentType = strings.EqualFold(strings.TrimSpace(string(v)), "content-type")
		case "content":
			content = string(v)
		}
		if !more {
			break
		}
	}
	if label != "" || !contentType {
		return label
	}
	for rest := content; ; {
		i := strings.Index(strings.ToLower(rest), "charset")
		if i < 0 {
			return ""
		}
		rest = strings.TrimLeft(rest[i+len("charset"):], " \t\n\f\r")
		if !strings.HasPrefix(rest, "=") {
			continue // "charset" not followed by '=': look further
		}
		rest = strings.TrimLeft(rest[1:], " \t\n\f\r")
		if q := rest[:min(1, len(rest))]; q == `"` || q == "'" {
			if end := strings.Index(rest[1:], q); end >= 0 {
				return rest[1 : 1+end]
			}
			return ""
		}
		end := strings.IndexAny(rest, " \t\n\f\r;")
		if end < 0 {
			end = len(rest)
		}
		return rest[:end]
	}
}

// lenientType returns a Content-Type for charset.DetermineEncoding: as
// it is when mime.ParseMediaType takes it, else with the charset a
// browser reads in it. Browsers (Fetch's "extract a MIME type") take the
// first charset parameter of a header that Go's parser refuses: a stray
// token ("text/html; charset=latin1; foo"), an empty parameter, a quote
// left open, a second charset, a list joined by commas. DetermineEncoding
// would ignore such a header's charset, and a page the browser reads as
// Latin-1 would be taken for undeclared.
func lenientType(contentType []byte) string {
	ct := string(contentType)
	if _, _, err := mime.ParseMediaType(ct); err == nil {
		return ct
	}
	_, params, _ := strings.Cut(ct, ";")
	for params != "" {
		var param string
		param, params, _ = strings.Cut(params, ";")
		name, value, ok := strings.Cut(strings.TrimLeft(param, " \t"), "=")
		if !ok || !strings.EqualFold(name, "charset") {
			continue
		}
		if v, quoted := strings.CutPrefix(value, `"`); quoted {
			value, _, _ = strings.Cut(v, `"`)
		} else {
			value, _, _ = strings.Cut(value, ",")
		}
		label := strings.Trim(value, " \t")
		if label == "" || strings.ContainsAny(label, `"\`) {
			return ""
		}
		return `text/html; charset="` + label + `"`
	}
	return ""
}
