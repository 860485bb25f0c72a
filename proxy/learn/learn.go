package learn

import (
	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/live"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/rules"
	"time"
)

// Recorder records what visitors do and what pages teach, in the stores
// that keep it. It is safe for concurrent use.
type Recorder struct {
	Profiles *profile.Store
	Catalog  *catalog.Catalog
	Engine   *recommend.Engine
	Views    *live.Counter // people who viewed each product, for social proof
	Carts    *live.Counter // people who put each product in their cart
	// Now is the instance's clock, which bounds the times of the changes
	// Apply takes from others. Default: time.Now.
	Now func() time.Time
	// Share, when set, is told every change made to the engine, the live
	// counts and the catalog (see Apply; profiles travel whole, through
	// profile.Store.Encode), for the other instances. Default: nil, the
	// state is this instance's own and nothing is encoded.
	Share Publisher
}

// Facts is what recording knows of one request: who, on which page, from
// where, and the configuration's clocks.
type Facts struct {
	VisitorID string
	Returning bool // the visitor's cookie came back valid
	Prefetch  bool // a prefetch or prerender: not a view
	Page      rules.PageType
	Path      []byte         // the page's path (likewise)
	Query     string         // a search page's query
	Customer  bool           // the shop's customer cookie is present
	Device    agent.Device   // what the user agent reads as: a new visit's device
	Source    profile.Source // where the request came from
	VisitGap  time.Duration  // profiles.visit_gap
	HalfLife  time.Duration  // profiles.interest_half_life
}

// Event is what a page view teaches: the product viewed, the category path
// (deepest last), a search's query.
type Event struct {
	Product    catalog.ID
	Categories []catalog.ID
	Query      string
}

// visit records the request's visit-level facts in the visitor's profile
// (d, locked by the caller, who records the rest of the request under the
// same lock): a new visit's source and device. back is true when the
// visitor's cookie came back to a profile seen in one second only, before
// this request (see countPeople).
func visit(d *profile.Data, v *Facts, now time.Time) (back bool) {
	back = v.Returning && d.LastSeen == d.FirstSeen
	if d.Touch(now, v.VisitGap) {
		d.Device = v.Device
		d.SetSource(v.Source)
	} else if v.Source.UTMSource != "" {
		d.SetSource(v.Source) // a campaign link mid-visit
	}
	if v.Customer {
		d.Customer = true
	}
	return back
}

// CartAdd records an add to the cart the shop accepted, of qty of the
// product ident names (its id, SKU or address; one not seen yet is kept by
// the identifier): in the cart, as interest in the product's categories
// (profile.CartWeight, three views' worth), in the engine and the live
// counts. ok is false when there is nothing to record.
func (r *Recorder) CartAdd(v *Facts, ident string, qty int, now time.Time) (ok bool) {
	if ident == "" || v.VisitorID == "" {
		return false
	}
	id, ok := r.Catalog.Resolve(ident)
	// Its categories: its page's, else its listings' (the product may
	// never have been opened, only seen on a category page).
	var catBuf [catalog.MaxListedDepth]catalog.ID
	if !ok {
		id = catalog.KeyOf(ident) // not seen yet; kept by its identifier
	}
	cats := r.Catalog.CategoriesOf(id, ident, catBuf[:0])
	prof, _ := r.Profiles.Load(v.VisitorID)
	var visitStart uint32
	had, back := false, false
	prof.Update(func(d *profile.Data) {
		back = visit(d, v, now)
		had = d.InCart(id)
		d.AddToCart(id, qty, now)
		d.ProductInterest(cats, profile.CartWeight, now, v.HalfLife)
		visitStart = d.VisitStart
	})
	r.learn(v.VisitorID, visitStart, id, cats, recommend.Cart, now)
	r.countPeople(v, back)
	if !had {
		if v.Returning {
			r.Carts.Add(id, now, true, true)
			if r.Share != nil {
				r.publishCount(changeCart, id, now, true, true)
			}
		} else {
			r.Carts.Hold(v.VisitorID, id, now) // a person once the cookie comes back
		}
	}
	return true
}

// View records a page view: in the visitor's profile (created if need
// be, with a new visit's source and device), in the recommendation engine
// and in the live counts. A purchase page's view buys what is in the
// cart: interest in each product's categories (profile.PurchaseWeight). A prefetch touches the profile (the visit) but
// is not a view. It returns the profile.
func (r *Recorder) View(v *Facts, ev Event, now time.Time) *profile.Profile {
	prof, _ := r.Profiles.Load(v.VisitorID)
	half := v.HalfLife
	var visitStart uint32
	var bought [profile.MaxCart]catalog.ID
	nBought := 0
	var lastView time.Time
	seen, back := false, false
	// The visit and the view under one lock.
	prof.Update(func(d *profile.Data) {
		back = visit(d, v, now)
		if v.Prefetch {
			return
		}
		visitStart = d.VisitStart
		switch v.Page {
		case rules.PageProduct:
			if ev.Product != 0 {
				lastView, seen = d.ViewedAt(ev.Product)
				d.ViewProduct(ev.Product, ev.Categories, now, half)
			} else {
				d.ViewPage()
			}
		case rules.PageCategory:
			d.ViewCategory(ev.Categories, now, half)
		case rules.PageSearch:
			d.Search(ev.Query)
		case rules.PagePurchase:
			d.ViewPage()
			nBought = len(d.CartProducts(bought[:0]))
			d.Purchase(now)
		default:
			d.ViewPage()
		}
	})
	r.countPeople(v, back)
	if v.Prefetch {
		return prof // forwarded, not a view
	}
	if v.Page == rules.PageProduct && ev.Product != 0 {
		r.learn(v.VisitorID, visitStart, ev.Product, ev.Categories, recommend.View, now)
		// People, not page views: a visitor counts once an hour and once
		// a day for a product, and only once identified.
		if v.Returning {
			since := now.Sub(lastView)
			hour, day := !seen || since >= time.Hour, !seen || since >= 24*time.Hour
			r.Views.Add(ev.Product, now, hour, day)
			if r.Share != nil {
				r.publishCount(changeView, ev.Product, now, hour, day)
			}
		} else {
			r.Views.Hold(v.VisitorID, ev.Product, now)
		}
	}
	for _, id := range bought[:nBought] {
		var catBuf [catalog.MaxListedDepth]catalog.ID
		cats := r.Catalog.CategoriesOf(id, "", catBuf[:0])
		if len(cats) > 0 {
			prof.Update(func(d *profile.Data) { d.ProductInterest(cats, profile.PurchaseWeight, now, half) })
		}
		r.learn(v.VisitorID, visitStart, id, cats, recommend.Purchase, now)
	}
	return prof
}

// countPeople counts, for social proof, what a visitor did before they
// were known to be a person. Social proof counts people, not requests: a
// request without the visitor cookie (a first visit, or curl and most
// tools, every time) gets a new id, and its product view or cart add is
// held until a request brings that id back in the cookie. Crawlers and
// visitors who send Sec-GPC are never identified, so never counted.
//
// Only the request that brings the cookie back looks for what is held:
// back, from visit, is true when the profile was seen in one second
// only (the cookieless request that made the id, which alone may have
// held something, and requests of that same second) or was made afresh
// (evicted, expired). Once the visitor was seen a second later, that
// request took what was held, so the visitor's every later request costs
// no lookup.
func (r *Recorder) countPeople(v *Facts, back bool) {
	if !back {
		return
	}
	if id, at, ok := r.Views.Identified(v.VisitorID); ok && r.Share != nil {
		r.publishCount(changeView, id, at, true, true)
	}
	if id, at, ok := r.Carts.Identified(v.VisitorID); ok && r.Share != nil {
		r.publishCount(changeCart, id, at, true, true)
	}
}

// learn records a product event in the recommendation engine: the
// product's categories are cats, or when nil the catalog's.
func (r *Recorder) learn(visitorID string, visitStart uint32, id catalog.ID, cats []catalog.ID, kind recommend.Kind, now time.Time) {
	if id == 0 || visitorID == "" {
		return
	}
	if cats == nil {
		var buf [4]catalog.ID
		cats, _, _, _ = r.Catalog.Facts(id, buf[:0])
	}
	ev := recommend.Event{Session: recommend.SessionKey(visitorID, visitStart), Item: id, Categories: cats, Kind: kind, Time: now}
	r.Engine.Record(ev)
	if r.Share != nil {
		r.publishEvent(&ev)
	}
}

// Page is what the proxy learns from a page it read: the product a
// product page describes goes into the catalog, the first time these bytes
// are seen (fresh) or when the catalog has forgotten it since; the
// products a category page lists are listed in its category path, the
// first time these bytes are seen (once per page analysis: a listing is
// the weaker fact, catalog.PutListing). It returns what the view teaches
// the visitor's profile.
func (r *Recorder) Page(v *Facts, a *page.Analysis, fresh bool, now time.Time) Event {
	if v.Page == rules.PageProduct && a.HasProduct && (fresh || !r.Catalog.Has(a.Product.ID)) {
		r.Catalog.Put(a.Product, now)
		if r.Share != nil {
			r.publishProduct(a.Product, now)
		}
	}
	ev := r.EventOf(v, a)
	if v.Page == rules.PageCategory && fresh && len(a.Listed) > 0 {
		r.Catalog.PutListing(ev.Categories, a.Listed, now)
	}
	return ev
}

// EventOf is what a view of the analysed page teaches, recording nothing:
// the product a product page describes, a category page's path, or what
// the URL says (FromURL).
func (r *Recorder) EventOf(v *Facts, a *page.Analysis) Event {
	switch {
	case v.Page == rules.PageProduct && a.HasProduct:
		ev := Event{Product: a.Product.ID}
		if n := len(a.Product.Categories); n > 0 {
			ev.Categories = make([]catalog.ID, 0, n)
		}
		for _, c := range a.Product.Categories {
			ev.Categories = append(ev.Categories, c.ID)
		}
		return ev
	case v.Page == rules.PageCategory:
		// Room for the page's own category after the crumbs: one slice.
		ev := Event{Categories: append(make([]catalog.ID, 0, len(a.Crumbs)+1), a.Crumbs...)}
		self := catalog.PathCategoryID(v.Path)
		if len(ev.Categories) == 0 || ev.Categories[len(ev.Categories)-1] != self {
			ev.Categories = append(ev.Categories, self)
		}
		return ev
	}
	return r.FromURL(v)
}

// FromURL is what a view of the page teaches without reading it.
func (r *Recorder) FromURL(v *Facts) Event {
	var ev Event
	switch v.Page {
	case rules.PageProduct:
		if id, ok := r.Catalog.Resolve(catalog.PathKey(string(v.Path))); ok {
			ev.Product = id
			ev.Categories, _, _ = r.Catalog.CardPath(id, nil) // nil when it names none
		}
	case rules.PageCategory:
		ev.Categories = []catalog.ID{catalog.PathCategoryID(v.Path)}
	case rules.PageSearch:
		ev.Query = v.Query
	}
	return ev
}
