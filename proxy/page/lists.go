package page

import (
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"

	"shopedge/proxy/catalog"
	"shopedge/rewrite"
	"shopedge/rules"
)

// menus returns the menu lists of a page that can be reordered safely.
func (f finder) menus(nav *rules.Navigation, doc *rewrite.Doc, trail []string) []Region {
	var regions []Region
	var seen []int // the lists already looked at (containers may nest)
	for _, menu := range doc.Find(nav.Container) {
		for _, items := range siblingGroups(menu.FindOutermost(nav.Item)) {
			s, ok := f.list(items, Menu, trail, &seen)
			if !ok {
				continue
			}
			s.Cats = make([][]catalog.ID, len(items))
			for i, it := range items {
				s.Cats[i] = linkCategories(it)
			}
			regions = append(regions, s)
		}
	}
	return regions
}

// results returns the search result lists of a page, each entry
// keyed by the path of its first link.
func (f finder) results(search *rules.Search, doc *rewrite.Doc, trail []string) []Region {
	var regions []Region
	var seen []int
	for _, list := range doc.Find(search.Results) {
		for _, items := range siblingGroups(list.FindOutermost(search.Item)) {
			s, ok := f.list(items, Results, trail, &seen)
			if !ok {
				continue
			}
			s.Prods = make([]catalog.ID, len(items))
			for i, it := range items {
				if links := it.Find(anchors{}); len(links) > 0 {
					href, _ := links[0].Attr("href")
					if path := catalog.PathKey(href); path != "" {
						s.Prods[i] = catalog.KeyOf(path)
					}
				}
			}
			regions = append(regions, s)
		}
	}
	return regions
}

// list makes a region of entries that can be reordered: two or more, not
// a breadcrumb trail (whose order is the page's place in the shop, never
// an interest ranking: marked as one, or following the page's JSON-LD
// trail), in markup a browser builds as written. A list left alone is
// counted in skips, once however many containers hold it.
func (f finder) list(items []rewrite.Element, kind Kind, trail []string, seen *[]int) (Region, bool) {
	if len(items) < 2 {
		return Region{}, false
	}
	if slices.Contains(*seen, items[0].Offset()) {
		return Region{}, false // found through an outer container already
	}
	*seen = append(*seen, items[0].Offset())
	which := ListMenu
	if kind == Results {
		which = ListResults
	}
	if breadcrumb(items) || onTrail(items, trail) {
		f.skips.Lists[which][ListBreadcrumb]++
		f.log.Debug("list is a breadcrumb trail, not reordered", "at", items[0].Offset())
		return Region{}, false
	}
	if err := rewrite.CanReorder(items); err != nil {
		f.skips.Lists[which][ListUnsafe]++
		f.log.Debug("list cannot be reordered", "err", err)
		return Region{}, false
	}
	s := Region{Kind: kind, Slots: make([]rewrite.Range, len(items))}
	for i, it := range items {
		s.Slots[i] = it.Range()
	}
	s.Span = rewrite.Range{Start: s.Slots[0].Start, End: s.Slots[len(items)-1].End}
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

// listed returns the products a category listing shows: the path key of
// each link to a product page (a path the configuration's pages say is
// one), each once, in page order, at most catalog.MaxListed. Links in the
// page's header, navigation, footer and asides are the shop's frame, not
// the listing (a menu's featured product, a footer's bestsellers), and
// links to other hosts are another shop's: neither counts. host is the
// page's own host.
func listed(cfg *rules.Compiled, doc *rewrite.Doc, host string) []catalog.ID {
	l := lister{cfg: cfg, host: host}
	l.walk(doc.Root())
	return l.out
}

// lister walks a category page for the products it lists.
type lister struct {
	cfg  *rules.Compiled
	host string
	out  []catalog.ID
	buf  [256]byte // the path, for Classify
}

// walk reads the links under n, in document order, skipping the page's
// frame: header, <nav>, footer, <aside>.
func (l *lister) walk(n *html.Node) {
	for c := n.FirstChild; c != nil && len(l.out) < catalog.MaxListed; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.Data {
		case "header", "nav", "footer", "aside":
			continue
		case "a":
			l.link(c)
		}
		l.walk(c)
	}
}

// link adds the product a link leads to, if it leads to one.
func (l *lister) link(a *html.Node) {
	for _, at := range a.Attr {
		if at.Key != "href" {
			continue
		}
		path, ok := localLink(at.Val, l.host)
		if !ok {
			return
		}
		if t, _ := l.cfg.Classify(append(l.buf[:0], path...)); t != rules.PageProduct {
			return
		}
		if id := catalog.KeyOf(path); !slices.Contains(l.out, id) {
			if l.out == nil {
				l.out = make([]catalog.ID, 0, 32) // most listings' first page
			}
			l.out = append(l.out, id)
		}
		return
	}
}

// localLink is the path key of a link on the page's host (a relative
// link, or an absolute one to host), as catalog.PathKey gives it.
func localLink(href, host string) (string, bool) {
	href = strings.TrimSpace(href)
	if href == "" || href[0] == '#' {
		return "", false
	}
	if path, ok := plainPath(href); ok {
		return path, true
	}
	if href[0] == '/' && (len(href) == 1 || href[1] != '/') || !strings.Contains(href, "//") {
		path := catalog.PathKey(href) // relative: the page's host
		return path, path != ""
	}
	u, err := url.Parse(href)
	if err != nil || !strings.EqualFold(u.Host, host) {
		return "", false
	}
	path := catalog.PathKey(href)
	return path, path != ""
}

// plainPath is the path key of a root-relative link whose path needs no
// parsing (letters, digits and -._~/ only, then perhaps a query or a
// fragment), as catalog.PathKey gives it, without its allocations: the
// links of most shops' product cards. ok is false for any other link.
func plainPath(href string) (string, bool) {
	end := len(href)
	if i := strings.IndexAny(href, "?#"); i >= 0 {
		end = i
	}
	p := href[:end]
	if len(p) < 2 || p[0] != '/' || p[1] == '/' {
		return "", false
	}
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~', c == '/':
		default:
			return "", false
		}
	}
	if p = strings.TrimRight(p, "/"); p == "" {
		p = "/"
	}
	return p, true
}
