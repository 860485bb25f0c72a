package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"shopedge/proxy/agent"
	"shopedge/rewrite/markup"
)

// Overlays configure the overlays (dialogs shown at a moment chosen by a
// trigger) and banners (inline messages) shopedge adds to pages, and the
// reserved path its script, stylesheet and beacon live under.
type Overlays struct {
	// Prefix is the reserved path under which shopedge serves its overlay
	// script and stylesheet and receives beacons. Requests under it never
	// reach the shop. Default: /_shopedge/.
	Prefix string `yaml:"prefix"`
	// MinGap is the least time between two overlays for one visitor, so
	// that campaigns never stack. Default: 10m.
	MinGap Duration `yaml:"min_gap"`
	// Theme colours the overlays and banners.
	Theme Theme `yaml:"theme"`
	// Rules are the overlays. At most one shows per page view: the first
	// eligible one by priority (highest first), then by order in the file.
	Rules []Overlay `yaml:"rules"`
	// Banners are inline messages put on pages.
	Banners []Banner `yaml:"banners"`
}

// Theme colours overlays and banners: CSS hex colours (#rgb or #rrggbb).
type Theme struct {
	// Accent colours buttons and highlights. Default: #0b6e4f.
	Accent string `yaml:"accent"`
	// AccentText is text on the accent colour. Default: #ffffff.
	AccentText string `yaml:"accent_text"`
	// Background of the dialog. Default: #ffffff.
	Background string `yaml:"background"`
	// Text colour. Default: #1d232b.
	Text string `yaml:"text"`
}

// The overlay kinds.
const (
	OverlayExitIntent    = "exit_intent"
	OverlayAbandonedCart = "abandoned_cart"
	OverlayTimed         = "timed"
	OverlayScrollDepth   = "scroll_depth"
	OverlayHesitant      = "hesitant"
	OverlayUpsell        = "upsell"
)

// OverlayKinds are the kinds an overlay rule may have.
var OverlayKinds = []string{OverlayExitIntent, OverlayAbandonedCart, OverlayTimed, OverlayScrollDepth, OverlayHesitant, OverlayUpsell}

// The visitor segments.
const (
	// SegmentNew is a visitor on a first visit.
	SegmentNew = "new"
	// SegmentReturning is a visitor seen in an earlier visit.
	SegmentReturning = "returning"
	// SegmentCustomer is a visitor who has bought (or is logged in as a
	// customer).
	SegmentCustomer = "customer"
	// SegmentProspect is a visitor who never bought.
	SegmentProspect = "prospect"
)

// Segments are the visitor segments a rule may target.
var Segments = []string{SegmentNew, SegmentReturning, SegmentCustomer, SegmentProspect}

// Devices a rule may target: the device classes' names, which
// shopedge/proxy/agent owns.
var Devices = []string{agent.Mobile.String(), agent.Tablet.String(), agent.Desktop.String()}

// Overlay is one overlay rule.
type Overlay struct {
	// ID names the overlay in beacons, metrics, cookies and the page (of
	// the form ValidID accepts). Required.
	ID string `yaml:"id"`
	// Kind is exit_intent, abandoned_cart, timed, scroll_depth, hesitant
	// or upsell. Required.
	Kind string `yaml:"kind"`
	// Pages are the page types the overlay may show on. Required.
	Pages []PageType `yaml:"pages"`
	// Segments restrict the overlay to members of any of these segments:
	// named under segments:, or new, returning, customer (bought before),
	// prospect (never bought). Default: all.
	Segments []string `yaml:"segments"`
	// Exclude are segments whose members never get the overlay.
	Exclude []string `yaml:"exclude"`
	// Devices restrict the overlay to mobile, tablet or desktop visitors.
	// Default: all.
	Devices []string `yaml:"devices"`
	// Priority orders the rules: when several may show, the highest wins.
	// Default: 0.
	Priority int `yaml:"priority"`
	// Enabled false keeps the overlay in the file, off: it is passed over
	// (explain says so) and never shows. Default: true.
	Enabled *bool `yaml:"enabled"`

	// Title heads the dialog. Required.
	Title string `yaml:"title"`
	// Text is the message under the title. Default: none.
	Text string `yaml:"text"`
	// Code is an offer code shown to copy. Default: none.
	Code string `yaml:"code"`
	// Button is the label of the dialog's link. Default: none (no link),
	// or "View cart" for abandoned_cart.
	Button string `yaml:"button"`
	// Link is where the button goes: a path on the shop. Default: the
	// cart page for abandoned_cart (CartURL).
	Link string `yaml:"link"`
	// CartURL is the shop's cart page, for abandoned_cart. Default: /cart.
	CartURL string `yaml:"cart_url"`

	// Dwell is how long a visitor must have been on the page before
	// exit intent counts. Default: 5s.
	Dwell Duration `yaml:"dwell"`
	// Delay is when a timed overlay shows, after the page loads.
	// Default: 15s.
	Delay Duration `yaml:"delay"`
	// Depth is how far down the page (percent) a scroll_depth overlay
	// waits for. Default: 50.
	Depth int `yaml:"depth"`
	// MinCartsLeft is how many carts a hesitant visitor must have left
	// with items in earlier visits. Default: 1.
	MinCartsLeft int `yaml:"min_carts_left"`
	// Within is how soon after adding to the cart an upsell overlay may
	// show. Default: 2m.
	Within Duration `yaml:"within"`
	// Strategy is the recommendation strategy of an upsell overlay, with
	// Fallback tried in turn. Default: also_bought, then popular.
	Strategy string   `yaml:"strategy"`
	Fallback []string `yaml:"fallback"`
	// Count is how many products an upsell or abandoned_cart overlay lists,
	// 1-8. Default: 3.
	Count int `yaml:"count"`

	// Starts and Ends bound when the overlay runs (RFC 3339). A rule with
	// Ends shows the real time left ("ends in 3 hours"). Default: always.
	Starts string `yaml:"starts"`
	Ends   string `yaml:"ends"`
	// Experiment holds a share of the visitors it would apply to out, and
	// counts both arms (experiments in configs/reference.yaml). Default:
	// none.
	Experiment *Experiment `yaml:"experiment"`

	// Cap is how often the overlay may show.
	Cap Cap `yaml:"cap"`

	// Template is an html/template file (relative to the configuration)
	// rendering the dialog's content from OverlayData. Default: built in.
	Template string `yaml:"template"`
}

// Cap is a frequency cap.
type Cap struct {
	// PerVisit is the most times the overlay shows in one visit.
	// Default: 1.
	PerVisit int `yaml:"per_visit"`
	// PerDay is the most times it shows in a day. Default: 2.
	PerDay int `yaml:"per_day"`
	// DismissFor is how long a dismissal keeps it away. Default: 24h.
	DismissFor Duration `yaml:"dismiss_for"`
}

// The banner kinds.
const (
	BannerSocialProof  = "social_proof"
	BannerFreeShipping = "free_shipping"
)

// BannerKinds are the kinds a banner may have.
var BannerKinds = []string{BannerSocialProof, BannerFreeShipping}

// SocialCounts are the live counts a social proof banner may show.
var SocialCounts = []string{SocialViewersHour, SocialViewersDay, SocialCartsDay}

// The counts a social proof banner may state.
const (
	SocialViewersHour = "viewers_hour" // people who viewed the product in the last hour
	SocialViewersDay  = "viewers_day"  // people who viewed it in the last day
	SocialCartsDay    = "carts_day"    // people who put it in their cart in the last day
)

// Banner is an inline message.
type Banner struct {
	// ID names the banner (of the form ValidID accepts). Required.
	ID string `yaml:"id"`
	// Segments are who the banner is for: members of any of these segments
	// (named under segments:, or new, returning, customer, prospect).
	// Default: every visitor.
	Segments []string `yaml:"segments"`
	// Exclude are segments whose members never get it.
	Exclude []string `yaml:"exclude"`
	// Priority ranks the banner against other actions that want the same
	// place: the highest that applies wins, then the first in the file.
	// Default: 0.
	Priority int `yaml:"priority"`
	// Enabled false keeps the banner in the file, off: it never applies and
	// costs nothing. Default: true.
	Enabled *bool `yaml:"enabled"`
	// Starts and Ends bound when the banner runs (RFC 3339). Default: always.
	Starts string `yaml:"starts"`
	Ends   string `yaml:"ends"`
	// Experiment holds a share of the visitors it would apply to out, and
	// counts both arms (experiments in configs/reference.yaml). Default:
	// none.
	Experiment *Experiment `yaml:"experiment"`

	// Kind is social_proof or free_shipping. Required.
	Kind string `yaml:"kind"`
	// Pages are the page types the banner goes on. Required.
	Pages []PageType `yaml:"pages"`
	// Selector is where it goes (CSS; the first match). Required.
	Selector Selector `yaml:"selector"`
	// Position is before, after, prepend, append or replace. Default: after.
	Position string `yaml:"position"`

	// Count is the live count a social_proof banner shows on product
	// pages: viewers_hour (people who viewed the product in the last
	// hour), viewers_day (in the last 24 hours) or carts_day (people who
	// added it to their cart in the last 24 hours). Default: viewers_day.
	Count string `yaml:"count"`
	// Min is the count below which the banner is not shown. Default: 5.
	Min int `yaml:"min"`

	// Threshold is the cart value that ships free, for free_shipping.
	// Required there.
	Threshold float64 `yaml:"threshold"`
	// Currency restricts free_shipping to carts in this currency (ISO
	// 4217). Default: any single currency.
	Currency string `yaml:"currency"`

	// Text is the message: {count} is replaced by the count, {amount} by
	// the amount still missing for free shipping. Default: by kind.
	Text string `yaml:"text"`
	// Reached is the free_shipping message once the cart qualifies.
	// Default: "Your order ships free".
	Reached string `yaml:"reached"`
	// Empty is the free_shipping message for an empty cart, where {amount}
	// is the whole threshold (which needs currency: an empty cart has
	// none). Default: "", no banner: "add €60 more" says little to someone
	// who has chosen nothing yet.
	Empty string `yaml:"empty"`
}

var hexColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

func (c *Config) setOverlayDefaults() {
	o := &c.Overlays
	setString(&o.Prefix, "/_shopedge/")
	setDuration(&o.MinGap, 10*time.Minute)
	setString(&o.Theme.Accent, "#0b6e4f")
	setString(&o.Theme.AccentText, "#ffffff")
	setString(&o.Theme.Background, "#ffffff")
	setString(&o.Theme.Text, "#1d232b")
	for i := range o.Rules {
		r := &o.Rules[i]
		setString(&r.CartURL, "/cart")
		if r.Kind == OverlayAbandonedCart {
			setString(&r.Button, "View cart")
			setString(&r.Link, r.CartURL)
		}
		setDuration(&r.Dwell, 5*time.Second)
		setDuration(&r.Delay, 15*time.Second)
		setInt(&r.Depth, 50)
		setInt(&r.MinCartsLeft, 1)
		setDuration(&r.Within, 2*time.Minute)
		if r.Strategy == "" {
			r.Strategy = "also_bought"
			if r.Fallback == nil {
				r.Fallback = []string{"popular"}
			}
		}
		setInt(&r.Count, 3)
		setInt(&r.Cap.PerVisit, 1)
		setInt(&r.Cap.PerDay, 2)
		setDuration(&r.Cap.DismissFor, 24*time.Hour)
	}
	for i := range o.Banners {
		b := &o.Banners[i]
		setString(&b.Position, "after")
		switch b.Kind {
		case BannerSocialProof:
			setString(&b.Count, "viewers_day")
			setInt(&b.Min, 5)
			setString(&b.Text, map[string]string{
				"viewers_hour": "{count} people viewed this in the last hour",
				"viewers_day":  "{count} people viewed this today",
				"carts_day":    "{count} people added this to their cart today",
			}[b.Count])
		case BannerFreeShipping:
			setString(&b.Text, "Add {amount} more for free shipping")
			setString(&b.Reached, "Your order ships free")
		}
	}
}

// validPrefix is a path of safe characters, between slashes.
var validPrefix = regexp.MustCompile(`^/[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*/$`)

func (c *Compiled) validateOverlays(v *validator) {
	o := &c.Overlays
	if !validPrefix.MatchString(o.Prefix) {
		v.add("overlays.prefix", "%q: want a path that starts and ends with a slash, like /_shopedge/", o.Prefix)
	}
	if o.MinGap < 0 {
		v.add("overlays.min_gap", "must not be negative")
	}
	for _, f := range []struct{ name, v string }{
		{"accent", o.Theme.Accent}, {"accent_text", o.Theme.AccentText},
		{"background", o.Theme.Background}, {"text", o.Theme.Text},
	} {
		if !hexColour.MatchString(f.v) {
			v.add("overlays.theme."+f.name, "%q: want a hex colour like #0b6e4f", f.v)
		}
	}
	byFile := make([]*CompiledOverlay, len(c.OverlayRules))
	for k := range c.OverlayRules {
		byFile[c.OverlayRules[k].index] = &c.OverlayRules[k]
	}
	ids := map[string]bool{}
	for i, r := range byFile {
		path := fmt.Sprintf("overlays.rules[%d]", i)
		checkID(v, ids, path, r.ID, "overlay %q is defined twice (overlay and banner ids share one namespace)")
		if !slices.Contains(OverlayKinds, r.Kind) {
			v.add(path+".kind", "want one of %s, got %q", strings.Join(OverlayKinds, ", "), r.Kind)
		}
		if len(r.Pages) == 0 {
			v.add(path+".pages", "required: the page types the overlay may show on, like [product, category]")
		}
		for j, d := range r.Devices {
			if !slices.Contains(Devices, d) {
				v.add(fmt.Sprintf("%s.devices[%d]", path, j), "want one of %s, got %q", strings.Join(Devices, ", "), d)
			}
		}
		if strings.TrimSpace(r.Title) == "" {
			v.add(path+".title", "required: the heading of the dialog")
		}
		for _, f := range []struct{ name, v string }{{"link", r.Link}, {"cart_url", r.CartURL}} {
			if f.v != "" && (!strings.HasPrefix(f.v, "/") || strings.HasPrefix(f.v, "//")) {
				v.add(path+"."+f.name, "%q: want a path on the shop, like /cart", f.v)
			}
		}
		if r.Button != "" && r.Link == "" {
			v.add(path+".link", "required with button: where the button goes")
		}
		for _, f := range []struct {
			name string
			d    Duration
		}{{"dwell", r.Dwell}, {"delay", r.Delay}, {"within", r.Within}} {
			if f.d < 0 || f.d.D() > 24*time.Hour {
				v.add(path+"."+f.name, "want 0 to 24h, got %s", f.d.D())
			}
		}
		if r.Depth < 1 || r.Depth > 100 {
			v.add(path+".depth", "want a percentage from 1 to 100, got %d", r.Depth)
		}
		if r.MinCartsLeft < 1 {
			v.add(path+".min_carts_left", "want 1 or more, got %d", r.MinCartsLeft)
		}
		checkChain(v, path, r.Chain, 0)
		if r.Count < 1 || r.Count > 8 {
			v.add(path+".count", "want 1 to 8, got %d", r.Count)
		}
		checkSchedule(v, path, &r.Action)
		if r.Cap.PerVisit < 1 {
			v.add(path+".cap.per_visit", "want 1 or more, got %d", r.Cap.PerVisit)
		}
		if r.Cap.PerDay < 1 || r.Cap.PerDay > 255 {
			v.add(path+".cap.per_day", "want 1 to 255, got %d", r.Cap.PerDay)
		}
		if r.Cap.DismissFor < 0 || r.Cap.DismissFor.D() > 365*24*time.Hour {
			v.add(path+".cap.dismiss_for", "want 0 to 8760h, got %s", r.Cap.DismissFor.D())
		}
		if r.Parsed != nil {
			if err := markup.CheckOverlayTemplate(r.Parsed); err != nil {
				v.add(path+".template", "%v", err)
			}
		}
	}
	for i := range o.Banners {
		b := &o.Banners[i]
		path := fmt.Sprintf("overlays.banners[%d]", i)
		checkID(v, ids, path, b.ID, "banner %q is defined twice (overlay and banner ids share one namespace)")
		checkPlacement(v, path, "banner", "[product, cart]", b.Pages, b.Selector, b.Position)
		checkSchedule(v, path, &c.Banners[i].Action)
		switch b.Kind {
		case BannerSocialProof:
			if b.Empty != "" {
				v.add(path+".empty", "only for free_shipping banners")
			}
			if !slices.Contains(SocialCounts, b.Count) {
				v.add(path+".count", "want one of %s, got %q", strings.Join(SocialCounts, ", "), b.Count)
			}
			if b.Min < 1 {
				v.add(path+".min", "want 1 or more, got %d", b.Min)
			}
			if !strings.Contains(b.Text, "{count}") {
				v.add(path+".text", "must contain {count}, where the real count goes")
			}
			for _, p := range b.Pages {
				if p != PageProduct {
					v.add(path+".pages", "social proof counts a product's visitors: product pages only, got %s", p)
					break
				}
			}
		case BannerFreeShipping:
			if b.Threshold <= 0 {
				v.add(path+".threshold", "required: the cart value that ships free, like 50")
			}
			if b.Currency != "" && !currencyCode.MatchString(b.Currency) {
				v.add(path+".currency", "%q: want an ISO 4217 code like EUR", b.Currency)
			}
			if !strings.Contains(b.Text, "{amount}") {
				v.add(path+".text", "must contain {amount}, where the amount still missing goes")
			}
			if strings.Contains(b.Empty, "{amount}") && b.Currency == "" {
				v.add(path+".empty", "{amount} needs currency: an empty cart has none to show the threshold in")
			}
		default:
			v.add(path+".kind", "want one of %s, got %q", strings.Join(BannerKinds, ", "), b.Kind)
		}
	}
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
