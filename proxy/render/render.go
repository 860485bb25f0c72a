package render

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// Renderer renders plans for one configuration, keeping what many
// visitors share: blocks, product cards and dialogs' product lines, the
// markup of banners and dialogs around what differs between visitors,
// and the tags that load the stylesheet and script. It is safe for
// concurrent use.
type Renderer struct {
	cfg     *rules.Compiled
	catalog Catalog
	log     *slog.Logger

	assets markup.Assets // the tags' addresses, on the page's own origin
	tags   *markup.Tags  // the tags of assets, rendered once around a nonce (nil: rendered per page)

	blocks   blockCache
	cards    partCache        // built-in blocks' heads and cards, dialogs' product lines
	banners  []*markup.Banner // per banner: rendered around its text (nil: not cut, rendered whole)
	dialogs  [][]dialogParts  // per overlay rule, of the built-in content: its parts, per variant
	rendered keptMarkup       // overlays of their own template without products
	items    keptItems        // overlays of their own template of the visitor's products, for blockTTL
}

// Catalog is what rendering reads of the learned catalog: *catalog.Catalog.
type Catalog interface {
	Get(id catalog.ID) (catalog.Product, bool)
}

// New returns a renderer for a configuration: its templates, and the
// addresses of the proxy's own assets (cfg.Assets).
func New(cfg *rules.Compiled, cat Catalog, log *slog.Logger) *Renderer {
	r := &Renderer{cfg: cfg, catalog: cat, log: log, assets: cfg.Assets.Tags("")}
	tags, err := markup.NewTags(r.assets)
	if err != nil {
		log.Warn("the stylesheet's and script's tags rendered for every page", "err", err)
	}
	r.tags = tags
	for _, b := range cfg.Overlays.Banners {
		m, err := markup.NewBanner(b.ID, b.Kind)
		if err != nil {
			log.Warn("banner rendered whole for every visitor", "banner", b.ID, "err", err)
		}
		r.banners = append(r.banners, m)
	}
	r.dialogs = newDialogs(cfg)
	return r
}

// Rendered says which of a plan's regions got content.
type Rendered struct {
	Contents [][]byte // per region: its bytes, or nil for the shop's
	// Cuts are, per region, the offsets in its Contents where a part
	// rendered apart ends and the next begins (a built-in block's head,
	// each product's card), so that a gzip page can be assembled from
	// parts compressed once (splice.Gzip.AppendParts); nil when no region
	// has parts.
	Cuts     [][]int
	Overlay  bool   // the plan's overlay is on the page
	done     uint64 // bit i: what the plan put in region i was rendered (i < 64)
	doneMore []bool // the same for regions from 64 on
}

// Done reports whether what the plan put in region i was rendered (its
// template may fail, which the log tells).
func (r *Rendered) Done(i int) bool {
	if i < 64 {
		return r.done&(1<<i) != 0
	}
	return r.doneMore[i-64]
}

func (r *Rendered) setDone(i int) {
	if i < 64 {
		r.done |= 1 << i
		return
	}
	if r.doneMore == nil {
		r.doneMore = make([]bool, len(r.Contents)-64)
	}
	r.doneMore[i-64] = true
}

// Changed reports whether any region differs from the shop's bytes.
func (r *Rendered) Changed() bool {
	for _, c := range r.Contents {
		if c != nil {
			return true
		}
	}
	return false
}

// Render writes what the plan puts in each region to buf, which the
// contents point into. Regions whose template fails (or whose products
// the catalog dropped since the plan was made) keep the shop's bytes
// (logged); the stylesheet and script go only with something rendered
// that needs them. now dates blocks' freshness and overlays' deadlines.
func (r *Renderer) Render(buf *[]byte, pl *plan.Plan, a *page.Analysis, v csp.Verdict, now time.Time) Rendered {
	var out Rendered
	// Where each region's parts end (offsets in buf, flat), and where
	// each region's cuts begin in cuts.
	var cuts []int // in back, else made by the first block's first cut
	var back *smallPage
	if n := len(a.Regions); n <= len(back.contents) {
		back = new(smallPage)
		out.Contents, cuts = back.contents[:n:n], back.flat[:0]
	} else {
		out.Contents = make([][]byte, n)
	}
	var cutFrom [16]int
	from := cutFrom[:0]
	type span struct{ start, end int }
	var spans [16]span
	ranges := spans[:0]
	assets := r.assets
	tags := r.tags
	if pl.Origin != "" {
		// The tags rendered for this request: on a page whose <base href>
		// points elsewhere, the proxy's paths are made absolute on the
		// request's own origin (never kept: another host must not get
		// this one's).
		assets = markup.Assets{CSS: pl.Origin + assets.CSS, JS: pl.Origin + assets.JS, Beacon: pl.Origin + assets.Beacon}
		tags = nil
	}
	head, firstDone := -1, -1 // the head's region; the first region given a block, banner or overlay
	banners := false          // a banner was rendered (they come before the end of the body)
	for i := range a.Regions {
		s := &a.Regions[i]
		d := &pl.Regions[i]
		if s.Kind == page.Head {
			head = i
		}
		start := len(*buf)
		from = append(from, len(cuts))
		ok := false
		switch d.Action {
		case plan.Reorder:
			// Whole, not cut at its entries: a list of a shop's cards
			// compresses to a fifth of its parts compressed apart (the
			// cards share their markup), and the visitor's order is
			// theirs alone (splice compresses it fast, and does not keep
			// it, the first time it comes).
			*buf, ok = s.Reordered(*buf, d.Order), true
		case plan.Block:
			*buf, ok = r.block(*buf, d.Index, d.Variant, d.Products, now.Unix(), pl.Origin, &cuts)
		case plan.Banner:
			*buf, ok = r.banner(*buf, d.Index, d.Text, d.Reached)
			banners = banners || ok
		case plan.Swap:
			*buf, ok = r.swap(*buf, &r.cfg.Swaps[d.Index], s, &pl.Visit)
		case plan.Body:
			if pl.Overlay != nil {
				*buf, out.Overlay = r.overlay(*buf, pl.Overlay, now, pl.Origin)
			}
			if out.Overlay || banners {
				if tags != nil {
					*buf = tags.AppendScript(*buf, v.ScriptNonce)
				} else {
					withNonce := assets
					withNonce.Nonce = v.ScriptNonce
					*buf = markup.AppendScript(*buf, withNonce)
				}
				ok = true
			}
		}
		if ok {
			out.setDone(i)
			if firstDone < 0 && d.Action != plan.Reorder && d.Action != plan.Swap {
				firstDone = i
			}
		} else {
			*buf = (*buf)[:start]
			start = -1
			cuts = cuts[:from[i]]
		}
		ranges = append(ranges, span{start, len(*buf)})
	}
	// The stylesheet, where the plan allows one (pl.Stylesheet >= 0), once
	// something of the proxy's is on the page: by what was rendered, not
	// what was planned, so that a block whose template failed leaves no
	// stylesheet behind it.
	if pl.Stylesheet >= 0 && firstDone >= 0 {
		at := head
		if at < 0 {
			at = firstDone
		}
		start := len(*buf)
		if tags != nil {
			*buf = tags.AppendStylesheet(*buf, v.StyleNonce)
		} else {
			withNonce := assets
			withNonce.Nonce = v.StyleNonce
			*buf = markup.AppendStylesheet(*buf, withNonce)
		}
		tag := len(*buf) - start
		if s := ranges[at]; s.start >= 0 {
			*buf = append(*buf, (*buf)[s.start:s.end]...)
			// The region's parts moved behind the tag: their cuts too,
			// with the tag a part of its own.
			end := len(cuts)
			if at+1 < len(from) {
				end = from[at+1]
			}
			for k := from[at]; k < end; k++ {
				cuts[k] += start + tag - s.start
			}
			if end > from[at] {
				cuts = slices.Insert(cuts, from[at], start+tag)
				for k := at + 1; k < len(from); k++ {
					from[k]++
				}
			}
		}
		ranges[at] = span{start, len(*buf)}
	}
	for i, s := range ranges {
		if s.start >= 0 {
			out.Contents[i] = (*buf)[s.start:s.end:s.end]
		}
	}
	if len(cuts) > 0 {
		if back != nil {
			out.Cuts = back.cuts[:len(ranges):len(ranges)]
		} else {
			out.Cuts = make([][]int, len(ranges))
		}
		flat := cuts
		for i, s := range ranges {
			end := len(flat)
			if i+1 < len(from) {
				end = from[i+1]
			}
			if s.start < 0 || end == from[i] {
				continue
			}
			c := flat[from[i]:end:end]
			for k := range c {
				c[k] -= s.start
			}
			out.Cuts[i] = c
		}
	}
	return out
}

// smallPage holds what Render returns for a page of a few regions, as
// most pages have (the demo's have 4 to 7), in one allocation rather
// than three: its contents, its cuts and their offsets (room for two
// blocks of ten products; more grow apart). 512 bytes, the most the
// runtime allocates without a header of the object's type.
type smallPage struct {
	contents [7][]byte
	cuts     [7][]int
	flat     [22]int
}

// maxRendered bounds the overlays kept rendered (of their own template).
const maxRendered = 4096

// keptMarkup keeps rendered markup by a key of its parts (kind, id, text),
// at most maxRendered entries: a lookup builds its key on the stack and
// allocates nothing.
type keptMarkup struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// keptItems keeps markup that shows products (overlays of a cart), by a
// key of the products, for blockTTL, at most maxRendered entries (then it
// starts over).
type keptItems struct {
	mu sync.RWMutex
	m  map[string]renderedPart
}

// cached appends the markup kept under key if fresh, or renders it with
// render and keeps it. ok is false when render has nothing.
func (k *keptItems) cached(dst, key []byte, now int64, render func([]byte) ([]byte, bool)) ([]byte, bool) {
	k.mu.RLock()
	p, ok := k.m[string(key)]
	k.mu.RUnlock()
	if ok && now-p.at < blockTTL && now >= p.at {
		return append(dst, p.html...), true
	}
	start := len(dst)
	out, ok := render(dst)
	if ok {
		k.mu.Lock()
		if k.m == nil || len(k.m) >= maxRendered {
			k.m = make(map[string]renderedPart)
		}
		k.m[string(key)] = renderedPart{html: append([]byte(nil), out[start:]...), at: now}
		k.mu.Unlock()
	}
	return out, ok
}

// cached appends the markup kept under the key made of parts (joined with
// NULs), or renders it with render and keeps it (while there is room). ok
// is false when render has nothing.
func (r *Renderer) cached(dst []byte, parts [4]string, render func([]byte) ([]byte, bool)) ([]byte, bool) {
	var buf [256]byte
	key := buf[:0]
	for i, p := range parts {
		if i > 0 {
			key = append(key, 0)
		}
		key = append(key, p...)
	}
	k := &r.rendered
	k.mu.RLock()
	b, ok := k.m[string(key)]
	k.mu.RUnlock()
	if ok {
		return append(dst, b...), true
	}
	start := len(dst)
	out, ok := render(dst)
	if ok {
		k.mu.Lock()
		if k.m == nil {
			k.m = make(map[string][]byte)
		}
		if len(k.m) < maxRendered {
			k.m[string(key)] = append([]byte(nil), out[start:]...)
		}
		k.mu.Unlock()
	}
	return out, ok
}

// banner appends the banner of that index saying text: its markup
// around the text, escaped into place (a banner's text carries the
// visitor's numbers, so that few visitors share one), or rendered whole
// when it could not be cut.
func (r *Renderer) banner(dst []byte, index int, text string, reached bool) ([]byte, bool) {
	if m := r.banners[index]; m != nil {
		return m.Append(dst, text, reached), true
	}
	b := &r.cfg.Overlays.Banners[index]
	out, err := markup.RenderBanner(dst, markup.BannerData{ID: b.ID, Kind: b.Kind, Text: text, Reached: reached})
	if err != nil {
		r.log.Error("banner not rendered", "banner", b.ID, "err", err)
		return dst, false
	}
	return out, true
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
