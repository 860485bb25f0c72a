package plan

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/csp"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
)

// Input is everything a decision reads. Decide changes none of it.
type Input struct {
	Config *rules.Compiled

	Page    *page.Analysis
	Profile *profile.Data // a snapshot: the visitor after this request's view was recorded
	Request Request
	CSP     csp.Verdict // what the page's policies allow the proxy to add
	Now     time.Time

	Engine  Engine
	Catalog Catalog
	Counts  Counts

	// Explain asks for the reason of every overlay rule passed over
	// (Plan.Passed); without it, only the outcome is recorded.
	Explain bool
}

// Request is what decisions know of the request: the page and the
// visitor.
type Request struct {
	Type      rules.PageType
	VisitorID string
	Returning bool   // the visitor's cookie came back valid
	Host      []byte // read only during Decide
	HTTPS     bool
	// Product and Categories are what the page view is about (the
	// product viewed, the category path, deepest last).
	Product    catalog.ID
	Categories []catalog.ID
	// Dismissed reports the overlays dismissed in this browser (a cookie
	// the script sets); nil: none.
	Dismissed Dismissals
	// Lookup reads the request's cookies and headers for the segments
	// that test them; nil: none.
	Lookup Lookup
	// Preview is 1 + the index in Compiled.Segments of the segment a
	// preview forces (set it with Preview, preview.go); 0: none.
	Preview int
	// PreviewArm is the experiment's arm a preview forces (set it with
	// PreviewArm, preview.go); the zero value: none. A request is in
	// preview when either is set.
	PreviewArm ForcedArm
	Place      Place // country and language, for segments
}

// Dismissals tells which overlays a browser dismissed.
type Dismissals interface {
	Dismissed(overlayID string) bool
}

// Engine recommends products: *recommend.Engine. Append appends the
// products to dst and returns it (Decide hands it one buffer for the
// whole page, and filters what was appended in place); it reads ctx
// during the call only.
type Engine interface {
	Append(dst []recommend.ID, ctx *recommend.Context, req recommend.Request, cat recommend.Catalog) []recommend.ID
}

// Catalog is what decisions read of the learned catalog: *catalog.Catalog.
// Card tells a product's price, currency, stock and whether a card can
// show it (catalog.Catalog.Card), CardPath that and appends its category
// path (catalog.Catalog.CardPath); PathOf resolves a search result's key
// and appends its category path, its own or else its listings'
// (catalog.Catalog.PathOf). None copies the product. The buffers Decide
// hands them are the plan's own: one on the stack would escape, through
// the interface, to the heap.
type Catalog interface {
	Card(id catalog.ID) (_ catalog.Card, ok bool)
	CardPath(id catalog.ID, cats []catalog.ID) (_ []catalog.ID, _ catalog.Card, ok bool)
	ResolveKey(key catalog.ID) (catalog.ID, bool)
	PathOf(key catalog.ID, cats []catalog.ID) (id catalog.ID, ok bool, _ []catalog.ID)
}

// Counts are the live counts social proof states.
type Counts interface {
	Views(id catalog.ID, now time.Time) live.Counts
	Carts(id catalog.ID, now time.Time) live.Counts
}

// Action is what a region of the page gets.
type Action uint8

// The actions.
const (
	Keep    Action = iota // the shop's bytes
	Reorder               // the entries in Region.Order
	Block                 // a recommendation block of Region.Products
	Banner                // a banner saying Region.Text
	Body                  // the overlay (Plan.Overlay), if any, and the script
	Head                  // the stylesheet (Plan.Stylesheet is this region)
	Swap                  // a content swap (Region.Index), rendered for Plan.Visit
)

var actionNames = [...]string{"keep", "reorder", "block", "banner", "body", "head", "swap"}

func (a Action) String() string { return actionNames[a] }

// Why a region keeps the shop's bytes, or an overlay rule was passed over.
const (
	WhyNewVisitor   = "new visitor: menus keep the shop's order"
	WhyNoInterest   = "no interest yet that changes the order"
	WhyTooFew       = "fewer products than the block's minimum"
	WhyCSP          = "the page's Content-Security-Policy does not allow it"
	WhyNothingTrue  = "nothing true to say"
	WhyNoOverlay    = "no overlay for this visitor now, and no banner"
	WhyNotTracked   = "visitor not identified"
	WhyMinGap       = "an overlay was shown within min_gap"
	WhyPage         = "not on this page type"
	WhySchedule     = "outside its schedule"
	WhySegment      = "visitor not in its segments"
	WhyDevice       = "not on this device"
	WhyDismissed    = "dismissed in this browser"
	WhyDismissedFor = "dismissed by this visitor"
	WhyCap          = "shown as often as its cap allows"
	WhyJustBought   = "the visitor just bought: no offers"
	WhyCondition    = "its condition does not hold"
	WhyNothingShow  = "nothing to show"
	WhyLowerFirst   = "a rule of higher priority was chosen"
	WhyDisabled     = "switched off (enabled: false)"
	WhyShadowed     = "a higher-priority action took this place"
	WhyHeldOut      = "held out: the control arm of its experiment"
)

// Region is the decision for one region of the page (Plan.Regions[i] is
// for Page.Regions[i]).
type Region struct {
	Action Action
	// Index is, for a place blocks, banners or swaps want, the one that
	// took it (its index in the configuration's blocks, banners or
	// swaps), or the first by rank when none did.
	Index    int
	Order    []int        // Reorder: slot k gets entry Order[k]
	Products []catalog.ID // Block: the products, in order, each one the catalog can show
	Text     string       // Banner: what it says
	Reached  bool         // Banner: a free-shipping threshold reached
	Why      string       // Keep: why the shop's bytes stay
	// Variant is 1 + the index of the block's variant (its experiment's
	// arm) in CompiledBlock.Variants; 0: the block as written.
	Variant int
}

// Chosen is the overlay a page view gets.
type Chosen struct {
	*rules.CompiledOverlay
	// Items are the products it lists (abandoned cart: with quantities).
	Items []Item
	// Variant is 1 + the index of the overlay's variant (its experiment's
	// arm) in CompiledOverlay.Variants; 0: the overlay as written.
	Variant int
}

// Item is a product an overlay lists.
type Item struct {
	ID  catalog.ID
	Qty int // in the cart; 0 for suggestions
}

// Other is a block, banner or swap that wanted the place of a region and
// did not get it, and why: its own reason, or WhyShadowed.
type Other struct {
	Region int // in Plan.Regions
	Index  int // in the configuration's blocks, banners or swaps
	Why    string
}

// Visit is what a content swap's template reads of the visit (the fields
// of markup.SwapData, which render fills from it).
type Visit struct {
	UTMSource, UTMMedium, UTMCampaign string
	Device                            string
	Visits                            int
	Returning, Customer               bool
}

// Passed is an overlay rule passed over, and why.
type Passed struct {
	ID, Why string
	// Detail adds what the reason depends on: for min_gap, the time left;
	// for segments, the condition that failed (SegmentDetail).
	Detail string
}

// SegmentsOf reports, for an explanation, whether the visitor of in is in
// each of the configuration's segments, in Compiled.Segments order.
func SegmentsOf(in *Input) []bool {
	m := &members{in: in}
	out := make([]bool, len(in.Config.Segments))
	for i := range out {
		out[i] = m.member(i)
	}
	return out
}

// Plan is what one visitor gets on one page. It keeps its regions and its
// overlay in its own allocation: use it by pointer, never copy it (go vet
// says so, through noCopy).
type Plan struct {
	_ noCopy

	Regions []Region
	Overlay *Chosen // nil: none
	// Stylesheet is the index of the region the stylesheet goes in front
	// of (the end of the head, or else the first region that needs it);
	// -1: none.
	Stylesheet int
	// Origin, when not "", goes in front of every root-relative URL the
	// proxy adds: the page's <base href> points elsewhere.
	Origin string
	// CSPSkipped is true when the page's policy kept something off.
	CSPSkipped bool
	// Passed are the overlay rules passed over (with Input.Explain).
	Passed []Passed
	// Exposures are the experiments whose action applied for the visitor
	// here, and the arm they are in (held out, or given it).
	Exposures []Exposure
	// Others are the blocks, banners and swaps that wanted a region's
	// place and did not get it (with Input.Explain).
	Others []Other
	// Visit is what content swaps' templates read, filled when a swap
	// that reads it is in the plan.
	Visit Visit
	visit bool // Visit is filled

	// Room for the regions of most pages, the chosen overlay, the
	// engine's view of the catalog and of the visitor, and the products
	// of every block, in the plan's own allocation.
	regions  [8]Region
	chosen   Chosen
	rcat     recCatalog
	rctx     recommend.Context
	rctxSet  bool
	octx     recommend.Context // an upsell overlay's, in the cart's category
	interest interestOf
	decayed  profile.Decayed // the visitor's interests at Input.Now
	decSet   bool            // decayed is filled
	views    [profile.MaxRecent]catalog.ID
	recent   [profile.MaxRecent]catalog.ID
	cart     [profile.MaxCart]catalog.ID
	bought   [profile.MaxPurchases]catalog.ID
	items    [8]Item // the overlay's
	exposed  [8]Exposure
	idBuf    [32]catalog.ID
	cats     [8]catalog.ID // a product's category path, for a moment
	intBuf   [32]int
	ints     []int        // the menus' and results' orders: intBuf, or more
	ids      []catalog.ID // the blocks' products: idBuf, or more
}

// plans recycles plans: a plan holds every buffer its decision needs, so
// a recycled one decides a page without allocating.
var plans = sync.Pool{New: func() any { return new(Plan) }}

// newPlan is an empty plan for a page of n regions, recycled when one
// was released: its buffers (regions beyond the inline ones, the blocks'
// products) keep what they had grown to.
func newPlan(n int) *Plan {
	pl := plans.Get().(*Plan)
	regions, ids, ints := pl.Regions, pl.ids, pl.ints
	*pl = Plan{Stylesheet: -1}
	switch {
	case n <= len(pl.regions):
		pl.Regions = pl.regions[:n]
	case cap(regions) >= n: // n is more than the inline regions: regions are not them
		pl.Regions = regions[:n]
		clear(pl.Regions)
	default:
		pl.Regions = make([]Region, n)
	}
	pl.ids, pl.ints = pl.idBuf[:0], pl.intBuf[:0]
	pl.Exposures = pl.exposed[:0]
	if cap(ids) > len(pl.idBuf) {
		pl.ids = ids[:0]
	}
	if cap(ints) > len(pl.intBuf) {
		pl.ints = ints[:0]
	}
	return pl
}

// Release gives the plan back for another decision to reuse. Nothing of
// it (its regions, their products, the overlay) may be read after.
// Releasing is optional: a plan never released is collected as garbage.
func (p *Plan) Release() {
	if cap(p.ids) > 1<<12 || cap(p.ints) > 1<<12 || cap(p.Regions) > 1<<10 {
		return // an outsized page: let it go
	}
	// Nothing of this visitor or configuration stays reachable from the
	// pool: the buffers keep their room, not what pointed elsewhere.
	p.Overlay, p.chosen, p.Passed, p.Others = nil, Chosen{}, nil, nil
	p.rcat, p.rctx, p.octx, p.interest = recCatalog{}, recommend.Context{}, recommend.Context{}, interestOf{}
	clear(p.Regions)
	plans.Put(p)
}

// Changed reports whether any region differs from the shop's bytes.
func (p *Plan) Changed() bool {
	for _, r := range p.Regions {
		if r.Action != Keep {
			return true
		}
	}
	return false
}

// Decide decides what the visitor gets at each region of the page. It
// reads its input and changes nothing: the same input gives the same plan.
func Decide(in *Input) *Plan {
	a := in.Page
	cfg := in.Config
	d := in.Profile
	pl := newPlan(len(a.Regions))
	half := cfg.Profiles.InterestHalfLife.D()
	recCtx := func() *recommend.Context {
		if !pl.rctxSet {
			pl.recContext(in, half)
		}
		return &pl.rctx
	}
	pl.rcat.c = in.Catalog
	m := &members{in: in}
	if a.Injects && len(in.Request.Host) > 0 && a.Base.Foreign(in.Request.Host, in.Request.HTTPS) {
		pl.Origin = scheme(in.Request.HTTPS) + "://" + string(in.Request.Host)
	}
	head, firstInject := -1, -1
	banners := false
	for i := range a.Regions {
		s := &a.Regions[i]
		r := &pl.Regions[i]
		switch s.Kind {
		case page.Menu:
			switch {
			case cfg.Navigation == nil:
			case !in.Request.Returning:
				r.Why = WhyNewVisitor
			case len(cfg.Navigation.Pages) > 0 && !slices.Contains(cfg.Navigation.Pages, in.Request.Type):
				r.Why = WhyPage
			default:
				if r.Why = gate(in, m, &cfg.NavAction); r.Why == "" {
					all, moved := menuOrder(pl.ints, cfg.Navigation, s, pl.interests(in, half))
					pl.reordered(in, r, cfg.NavAction.Experiment, all, moved)
				}
			}
		case page.Results:
			if r.Why = gate(in, m, &cfg.SearchAction); r.Why == "" {
				all, moved := resultsOrder(pl.ints, pl.cats[:0], in.Catalog, s, d, pl.interests(in, half))
				pl.reordered(in, r, cfg.SearchAction.Experiment, all, moved)
			}
		case page.Block, page.Banner, page.Swap:
			if s.Kind == page.Banner && !in.CSP.Style {
				r.Index, r.Why, pl.CSPSkipped = s.Index, WhyCSP, true
				break
			}
			place(in, pl, i, m, recCtx)
			if r.Action == Banner {
				banners = true
			}
		case page.Head:
			head = i
		case page.Body:
			if !in.CSP.Injects() {
				r.Why = WhyCSP
				pl.CSPSkipped = pl.CSPSkipped || banners || overlayOn(cfg.OverlayRules, in.Request.Type)
				break
			}
			pl.Overlay = chooseOverlay(in, pl, m, recCtx)
			if pl.Overlay != nil || banners {
				r.Action = Body
			} else {
				r.Why = WhyNoOverlay
			}
		}
		if firstInject < 0 && r.Action != Keep && r.Action != Reorder && r.Action != Swap {
			firstInject = i
		}
	}
	// The stylesheet, once, when something of the proxy's is on the page
	// and the policy allows it: at the end of the head, or else just
	// before the first thing that needs it.
	if firstInject >= 0 && in.CSP.Style {
		pl.Stylesheet = head
		if head < 0 {
			pl.Stylesheet = firstInject
		} else {
			pl.Regions[head].Action = Head
		}
	}
	return pl
}

// place gives region i's place to the first of the blocks, banners or
// swaps that want it (by rank) that applies: on, in its schedule, for the
// visitor, and with something to show. The others keep their reasons (in
// Plan.Others, with Input.Explain): their own, or WhyShadowed after the
// one that took the place.
func place(in *Input, pl *Plan, i int, m *members, recCtx func() *recommend.Context) {
	s, r := &in.Page.Regions[i], &pl.Regions[i]
	won, firstAt := -1, -1
	for k := range s.Candidates() {
		idx := s.Candidate(k)
		why := WhyShadowed
		if won < 0 {
			why = tryPlace(in, pl, s.Kind, idx, r, m, recCtx)
			if why == "" {
				won, r.Index = k, idx
				continue
			}
		}
		if k == 0 {
			r.Index, r.Why = idx, why
		}
		if in.Explain {
			if k == 0 {
				firstAt = len(pl.Others)
			}
			pl.Others = append(pl.Others, Other{Region: i, Index: idx, Why: why})
		}
	}
	switch {
	case won > 0:
		r.Why = "" // the first by rank's reason is with the others
	case won < 0 && firstAt >= 0:
		// None applies: the region says why the first did not, the
		// others why they did not.
		pl.Others = slices.Delete(pl.Others, firstAt, firstAt+1)
	}
}

// gate is why an action does not apply for the visitor by the fields
// every action shares: switched off, outside its schedule, not for the
// visitor's segments; "" when it applies.
func gate(in *Input, m *members, act *rules.Action) string {
	switch {
	case !act.Enabled:
		return WhyDisabled
	case !act.Active(in.Now):
		return WhySchedule
	case !m.targets(&act.Target):
		return WhySegment
	}
	return ""
}

// reordered gives r the order a menu or the search results get (all: the
// plan's buffer of orders, grown to it; moved: it differs from the shop's),
// unless nothing moved or the visitor is held out of the action's
// experiment.
func (pl *Plan) reordered(in *Input, r *Region, exp int, all []int, moved bool) {
	order, moved := pl.order(all, moved)
	switch {
	case !moved:
		r.Why = WhyNoInterest
	case pl.heldOut(in, exp):
		r.Why = WhyHeldOut
	default:
		r.Action, r.Order = Reorder, order
	}
}

// tryPlace decides whether block, banner or swap idx applies, filling r
// when it does; otherwise it returns why not.
func tryPlace(in *Input, pl *Plan, kind page.Kind, idx int, r *Region, m *members, recCtx func() *recommend.Context) string {
	cfg := in.Config
	var act *rules.Action
	switch kind {
	case page.Block:
		act = &cfg.Blocks[idx].Action
	case page.Banner:
		act = &cfg.Banners[idx].Action
	default:
		act = &cfg.Swaps[idx].Action
	}
	if why := gate(in, m, act); why != "" {
		return why
	}
	switch kind {
	case page.Block:
		b := &cfg.Blocks[idx]
		arm, variant, held := pl.choose(in, act.Experiment)
		req := recommend.Request{Strategies: b.Chain, N: b.Count, Personal: b.Personal}
		start := len(pl.ids)
		ids := pl.recommend(in, recCtx(), req)
		if len(ids) < b.Min {
			pl.ids = pl.ids[:start] // not kept: the next block may use the room
			return WhyTooFew
		}
		// The block as written applies: an exposure in every arm alike,
		// held out or another strategy's, so that the arms hold the same
		// visitors.
		pl.expose(act.Experiment, arm)
		if held {
			pl.ids = pl.ids[:start]
			return WhyHeldOut
		}
		if variant >= 0 && b.Variants[variant].Chain != nil {
			pl.ids = pl.ids[:start]
			req.Strategies = b.Variants[variant].Chain // the arm's strategy
			if ids = pl.recommend(in, recCtx(), req); len(ids) < b.Min {
				pl.ids = pl.ids[:start] // exposed, with nothing to show in this arm
				return WhyTooFew
			}
		}
		r.Action, r.Products, r.Variant = Block, ids, variant+1
	case page.Banner:
		text, reached, ok := bannerText(in, cfg.Banners[idx].Banner)
		if !ok {
			return WhyNothingTrue
		}
		if pl.heldOut(in, act.Experiment) {
			return WhyHeldOut
		}
		r.Action, r.Text, r.Reached = Banner, text, reached
	default:
		if pl.heldOut(in, act.Experiment) {
			return WhyHeldOut
		}
		r.Action = Swap
		if cfg.Swaps[idx].Static == nil && !pl.visit {
			pl.Visit, pl.visit = visitOf(in), true
		}
	}
	return ""
}

// visitOf is what swaps' templates read of the visit.
func visitOf(in *Input) Visit {
	d := in.Profile
	return Visit{
		UTMSource:   string(d.SourceField(profile.SourceUTMSource)),
		UTMMedium:   string(d.SourceField(profile.SourceUTMMedium)),
		UTMCampaign: string(d.SourceField(profile.SourceUTMCampaign)),
		Device:      d.Device.Class.String(),
		Visits:      int(d.Visits),
		Returning:   d.Returning(),
		Customer:    d.Customer || d.Orders > 0,
	}
}

func scheme(https bool) string {
	if https {
		return "https"
	}
	return "http"
}

// showable reports whether the catalog knows enough of a product to show
// it: a name and an address.
func showable(c Catalog, id catalog.ID) bool {
	card, ok := c.Card(id)
	return ok && card.Shows
}

// order keeps an order appended to the plan's buffer of orders (ints,
// grown to all), when it moved something, and returns it.
func (pl *Plan) order(all []int, moved bool) ([]int, bool) {
	start := len(pl.ints)
	if !moved {
		return nil, false
	}
	pl.ints = all
	return all[start:len(all):len(all)], true
}

// ParentShare is how much interest in a category's parent counts for a
// product of the category, in search results: a product of men › shirts
// scores from interest in men's shirts, and half as much from interest in
// men (a quarter from the grandparent's), so that a visitor with men's
// trousers in the cart sees men's shirts before women's shirt dresses,
// and one who looked at men's shirts sees them before men's trousers.
const ParentShare = 0.5

// resultsOrder re-ranks search results for the visitor: the products this
// visitor viewed first, latest first; then by the visitor's interest in
// each product's categories (from their views, category pages, cart and
// purchases: profile's weights), strongest first, its own category's in
// full and its parents' by ParentShare; then the rest, in the shop's
// order. A product's categories are its page's or, for one whose page the
// proxy never read (or whose page names none), those the shop's category
// listings showed it under (read into cats, a buffer of the plan's).
// Entries only move: none is added or lost. The order is appended to dst.
func resultsOrder(dst []int, cats []catalog.ID, cat Catalog, s *page.Region, d *profile.Data, t *profile.Decayed) ([]int, bool) {
	type rank struct {
		viewed   int // position in the recently viewed list; len: not viewed
		interest float64
	}
	var recentBuf [profile.MaxRecent]catalog.ID
	recent := d.AppendRecent(recentBuf[:0])
	var rankBuf [48]rank
	ranks := rankBuf[:0]
	if len(s.Prods) > len(rankBuf) {
		ranks = make([]rank, 0, len(s.Prods))
	}
	ranks = ranks[:len(s.Prods)]
	for i, key := range s.Prods {
		ranks[i] = rank{viewed: len(recent)}
		if key == 0 {
			continue
		}
		id, ok, pc := cat.PathOf(key, cats)
		if ok {
			if j := slices.Index(recent, id); j >= 0 {
				ranks[i].viewed = j
			}
		}
		ranks[i].interest = pathInterest(pc, t)
	}
	start := len(dst)
	for i := range ranks {
		dst = append(dst, i)
	}
	slices.SortStableFunc(dst[start:], func(a, b int) int {
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
	for i, o := range dst[start:] {
		if i != o {
			return dst, true
		}
	}
	return dst, false
}

// pathInterest is the visitor's interest in a product of the category
// path (outermost first): the strongest of the interest in its deepest
// category and, each level up, ParentShare as much of the parent's.
func pathInterest(path []catalog.ID, t *profile.Decayed) float64 {
	best, share := 0.0, 1.0
	for i := len(path) - 1; i >= 0; i-- {
		best = max(best, share*t.Interest(path[i]))
		share *= ParentShare
	}
	return best
}

// recContext fills pl.rctx, what the engine needs to know of this visitor
// and page, from buffers of the plan's own.
func (pl *Plan) recContext(in *Input, half time.Duration) {
	d := in.Profile
	pl.interest = interestOf{pl.interests(in, half)}
	pl.rctx = recommend.Context{
		Now:      in.Now,
		Session:  recommend.SessionKey(in.Request.VisitorID, d.VisitStart),
		Item:     in.Request.Product,
		Views:    d.VisitViews(pl.views[:0]),
		Recent:   d.AppendRecent(pl.recent[:0]),
		Cart:     d.CartProducts(pl.cart[:0]),
		Exclude:  d.AppendPurchased(pl.bought[:0]),
		Interest: &pl.interest,
	}
	if n := len(in.Request.Categories); n > 0 {
		pl.rctx.Category = in.Request.Categories[n-1] // the deepest
	}
	pl.rctxSet = true
}

// recommend asks the engine for a request's products, into the plan's
// buffer of products, and keeps those the catalog can show.
func (pl *Plan) recommend(in *Input, ctx *recommend.Context, req recommend.Request) []catalog.ID {
	start := len(pl.ids)
	pl.ids = in.Engine.Append(pl.ids, ctx, req, &pl.rcat)
	kept := start
	for _, id := range pl.ids[start:] {
		if pl.rcat.showable(id) {
			pl.ids[kept] = id
			kept++
		}
	}
	pl.ids = pl.ids[:kept]
	return pl.ids[start:kept:kept]
}

// interestOf is a visitor's interest in categories, for the engine's
// personal re-ranking.
type interestOf struct{ t *profile.Decayed }

func (i *interestOf) Interest(c catalog.ID) float64 { return i.t.Interest(c) }

// interests is the visitor's interests decayed to the decision's time,
// decayed once for every menu, result and re-ranking that asks.
func (pl *Plan) interests(in *Input, half time.Duration) *profile.Decayed {
	if !pl.decSet {
		pl.decayed, pl.decSet = in.Profile.Decay(in.Now, half), true
	}
	return &pl.decayed
}

// recCatalog shows the learned catalog to the engine, for one request: it
// reuses its buffer for the categories of each product asked for, and
// remembers whether the last products asked for can be shown, so that
// keeping the showable ones of what the engine returns (Plan.recommend)
// looks none of them up again.
type recCatalog struct {
	c     Catalog
	buf   [8]catalog.ID
	seen  [16]catalog.ID // ring; 0: empty (no product has ID 0)
	shows [16]bool
	next  int
}

func (rc *recCatalog) Product(id recommend.ID) (recommend.Product, bool) {
	cats, card, ok := rc.c.CardPath(id, rc.buf[:0])
	if !ok {
		return recommend.Product{}, false
	}
	rc.seen[rc.next], rc.shows[rc.next] = id, card.Shows
	rc.next = (rc.next + 1) % len(rc.seen)
	return recommend.Product{Categories: cats, Price: card.Price, InStock: card.InStock}, true
}

// showable is showable(rc.c, id), from what Product saw when it can.
func (rc *recCatalog) showable(id catalog.ID) bool {
	if id != 0 {
		for i, s := range rc.seen {
			if s == id {
				return rc.shows[i]
			}
		}
	}
	return showable(rc.c, id)
}

// bannerText is what a banner says: ok is false when it has nothing true
// to say (a count under its minimum, a cart whose value is unknown).
func bannerText(in *Input, b *rules.Banner) (text string, reached, ok bool) {
	d, now := in.Profile, in.Now
	switch b.Kind {
	case rules.BannerSocialProof:
		id := in.Request.Product
		if id == 0 {
			return "", false, false
		}
		var n int
		switch b.Count {
		case rules.SocialViewersHour:
			n = in.Counts.Views(id, now).Hour
		case rules.SocialViewersDay:
			n = in.Counts.Views(id, now).Day
		case rules.SocialCartsDay:
			n = in.Counts.Carts(id, now).Day
		}
		if n < b.Min {
			return "", false, false
		}
		var num [20]byte
		return fill(b.Text, "{count}", strconv.AppendInt(num[:0], int64(n), 10)), false, true
	case rules.BannerFreeShipping:
		var lines [profile.MaxCart]catalog.ID
		if len(d.CartProducts(lines[:0])) == 0 {
			// Nothing chosen yet: the banner's empty text, if it has one.
			if b.Empty == "" {
				return "", false, false
			}
			var amount [32]byte
			return fill(b.Empty, "{amount}", appendPrice(amount[:0], b.Threshold, b.Currency)), false, true
		}
		total, currency, known := cartValue(in.Catalog, d)
		if !known {
			return "", false, false
		}
		if currency == "" {
			currency = b.Currency // products whose pages name no currency
		}
		if currency == "" || b.Currency != "" && currency != b.Currency {
			return "", false, false
		}
		if missing := b.Threshold - total; missing > 0.005 {
			var amount [32]byte
			return fill(b.Text, "{amount}", appendPrice(amount[:0], missing, currency)), false, true
		}
		return b.Reached, true, true
	}
	return "", false, false
}

// fill is strings.ReplaceAll(text, key, string(val)) in one allocation
// (none when key is not in text): a banner's text is made per page view.
func fill(text, key string, val []byte) string {
	i := strings.Index(text, key)
	if i < 0 {
		return text
	}
	var buf [256]byte
	b := buf[:0]
	for i >= 0 {
		b = append(b, text[:i]...)
		b = append(b, val...)
		text = text[i+len(key):]
		i = strings.Index(text, key)
	}
	return string(append(b, text...))
}

// cartValue adds up the cart from the catalog's prices. known is false
// when a product's price is unknown or the cart mixes currencies: then no
// amount would be true.
func cartValue(cat Catalog, d *profile.Data) (total float64, currency string, known bool) {
	var lines [profile.MaxCart]profile.CartLine
	for _, line := range d.AppendCart(lines[:0]) {
		prod, ok := cat.Card(line.Product)
		if !ok || prod.Price <= 0 {
			return 0, "", false
		}
		if currency != "" && prod.Currency != currency {
			return 0, "", false
		}
		currency = prod.Currency
		total += prod.Price * float64(line.Qty)
	}
	return total, currency, true
}

// currencySymbols are the currencies shown by symbol, before the amount.
var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹", "CNY": "CN¥",
}

// FormatPrice shows a price with its currency: "$19.99", "€5.00",
// "¥1200", "19.90 CHF"; "" when the price is unknown.
func FormatPrice(price float64, currency string) string {
	var buf [32]byte
	return string(appendPrice(buf[:0], price, currency))
}

// appendPrice appends FormatPrice(price, currency) to dst.
func appendPrice(dst []byte, price float64, currency string) []byte {
	if price <= 0 {
		return dst
	}
	decimals := 2
	if currency == "JPY" || currency == "KRW" {
		decimals = 0
	}
	sym, ok := currencySymbols[currency]
	if ok {
		dst = append(dst, sym...)
	}
	dst = strconv.AppendFloat(dst, price, 'f', decimals, 64)
	if !ok && currency != "" {
		dst = append(dst, ' ')
		dst = append(dst, currency...)
	}
	return dst
}

// noCopy makes go vet's copylocks check report a Plan copied by value.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
