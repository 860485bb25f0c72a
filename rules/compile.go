package rules

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	// Time zones come with the binary: time_zone works on a machine
	// without a zoneinfo database (a minimal container).
	_ "time/tzdata"

	"shopedge/proxy/recommend"
	"shopedge/rewrite/markup"
)

// Compiled is a configuration ready to serve: the settings as decoded,
// with their defaults, and every value derived from them, each computed
// once, by Compile. A Compiled is immutable once built: nothing changes
// it, so that any number of requests may read it at once. To change a
// setting, change a Config and Compile it again.
type Compiled struct {
	// Config is the settings, readable as c.Upstream.URL. It is Compile's
	// own copy of the Config it was given (the struct, navigation, and the
	// lists defaults fill in: pages, cart adds, blocks, overlay rules and
	// banners; other lists are shared with the original).
	*Config

	// Hosts are server.hosts, lowercased; nil answers for any host.
	Hosts map[string]bool
	// TrustedProxies are server.trusted_proxies, parsed.
	TrustedProxies []netip.Prefix
	// CookieName is the visitor cookie's name: identity.cookie, with the
	// __Host- prefix when identity.https_only is set.
	CookieName string
	// AssetHosts are the hosts besides a page's own that the catalog keeps
	// a product's URL and image on: server.hosts (the shop's own names),
	// then catalog.asset_hosts (its CDNs).
	AssetHosts []string
	// Learns is whether anything configured reads what visitors do (page
	// rules, cart events, navigation, blocks, search, overlays, banners):
	// without it the proxy only forwards, and profiles and the catalog stay
	// empty.
	Learns bool
	// Blocks are the recommendation blocks, in the file's order.
	Blocks []CompiledBlock
	// OverlayRules are the overlay rules in the order they are tried:
	// priority, highest first, then the file's order. (Overlays, from
	// Config, is the overlays section as written.)
	OverlayRules []CompiledOverlay
	// Assets are what shopedge serves itself under overlays.prefix.
	Assets OwnAssets
	// Warnings are what is valid but cannot do what it seems to (an
	// overlay always beaten by another, a schedule that has ended), each
	// at its field, its message starting "warning:".
	Warnings Problems
	// Segments are the segments actions target: the built-in ones (new,
	// returning, customer, prospect), then those of the segments section
	// by name; a Targeting's indexes are into it.
	Segments []CompiledSegment
	// Location is time_zone, where time conditions are read.
	Location *time.Location
	// Banners are overlays.banners with what is derived from them, in the
	// file's order; NavAction and SearchAction are navigation's and
	// search's common fields, compiled.
	Banners      []CompiledBanner
	NavAction    Action
	SearchAction Action
	// Swaps are the content swaps (the content section), in the file's
	// order.
	Swaps []CompiledSwap
	// Experiments are the actions' experiments, in the file's order of
	// actions (the menu, search, blocks, banners, overlays by priority,
	// swaps), then the global control.
	Experiments []CompiledExperiment
	// GlobalControl is 1 + the index of the global control in
	// Experiments; 0: none.
	GlobalControl int

	banners map[string]*Banner
}

// Action is what every action (the menu, search, each block, banner,
// overlay and content swap) shares, compiled from its segments, exclude,
// priority, enabled, starts and ends.
type Action struct {
	// Priority ranks the action against others that want the same place
	// (the same spot of the page, the overlay of a page view): the
	// highest that applies wins, then the first in the file.
	Priority int
	// Enabled is false for an action the file switches off: it never
	// applies.
	Enabled bool
	// Start and End bound when it runs; zero for no bound.
	Start, End time.Time
	// Target is who it is for.
	Target Targeting
	// Experiment is 1 + the index of the action's experiment in
	// Compiled.Experiments; 0: none.
	Experiment int
}

// Active reports whether the action runs at t, by its schedule.
func (a *Action) Active(t time.Time) bool {
	return (a.Start.IsZero() || !t.Before(a.Start)) && (a.End.IsZero() || t.Before(a.End))
}

// Always reports whether the action is on, for everyone, at any time: no
// schedule and no targeting.
func (a *Action) Always() bool {
	return a.Enabled && a.Start.IsZero() && a.End.IsZero() && len(a.Target.Segments) == 0 && len(a.Target.Exclude) == 0
}

// compileAction compiles the common fields of the action at path.
func compileAction(path string, segs, exclude []string, priority int, enabled *bool, starts, ends string, index map[string]int, v *validator) Action {
	a := Action{Priority: priority, Enabled: enabled == nil || *enabled, Target: target(segs, exclude, path, index, v)}
	for _, f := range []struct {
		name, src string
		dst       *time.Time
	}{{"starts", starts, &a.Start}, {"ends", ends, &a.End}} {
		if f.src == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.src)
		if err != nil {
			v.add(path+"."+f.name, "%q: want a time like 2026-12-24T18:00:00+01:00", f.src)
			continue
		}
		*f.dst = t
	}
	return a
}

// checkSchedule checks that an action's schedule, when it has both ends,
// ends after it starts.
func checkSchedule(v *validator, path string, a *Action) {
	if !a.Start.IsZero() && !a.End.IsZero() && !a.End.After(a.Start) {
		v.add(path+".ends", "must be after starts")
	}
}

// CompiledBlock is a recommendation block with what is derived from it.
type CompiledBlock struct {
	*Block
	// Action is the block's common fields, compiled.
	Action
	// Chain is the block's strategy, then its fallbacks, in turn.
	Chain []recommend.Strategy
	// Parsed is the block's own template, read from Block.Template; nil
	// for the built-in grid of product cards.
	Parsed *template.Template
	// Variants are the block's experiment's variants, compiled.
	Variants []CompiledVariant
}

// CompiledOverlay is an overlay rule with what is derived from it.
type CompiledOverlay struct {
	*Overlay
	// Action is the rule's common fields, compiled (Start and End from
	// Overlay.Starts and Overlay.Ends).
	Action
	// Chain is an upsell's strategy, then its fallbacks, in turn.
	Chain []recommend.Strategy
	// Parsed is the overlay's own template for the dialog's content, read
	// from Overlay.Template; nil for the built-in one.
	Parsed *template.Template
	// Variants are the overlay's experiment's variants, compiled.
	Variants []CompiledVariant

	index int // in overlays.rules
}

// CompiledBanner is a banner with what is derived from it.
type CompiledBanner struct {
	*Banner
	// Action is the banner's common fields, compiled.
	Action
}

// OwnAssets are what shopedge serves itself under the reserved prefix:
// the stylesheet (coloured by the theme) and the script, each at an
// address that changes with its content, and the beacon.
type OwnAssets struct {
	// Prefix is overlays.prefix: requests under it never reach the shop.
	Prefix string
	// CSS is the stylesheet, JS the script.
	CSS, JS []byte
	// CSSVersion and JSVersion are their content hashes (markup.Version).
	CSSVersion, JSVersion string
	// CSSURL and JSURL are their addresses for pages, with ?v= and the
	// version.
	CSSURL, JSURL string
	// BeaconPath is where the script sends its beacons.
	BeaconPath string
}

// Tags returns the addresses the tags that load the stylesheet and the
// script carry, with a page's CSP nonce ("" for none).
func (a *OwnAssets) Tags(nonce string) markup.Assets {
	return markup.Assets{CSS: a.CSSURL, JS: a.JSURL, Beacon: a.BeaconPath, Nonce: nonce}
}

// Banner returns the banner with the id, or nil.
func (c *Compiled) Banner(id string) *Banner { return c.banners[id] }

// Compile provisions a configuration (derives every value a Compiled
// holds, reading the template files it names) and then validates it. What
// cfg leaves out (a Config built or changed in Go) gets its default, in
// Compile's copy: Compile does not change cfg. On failure the error is a
// Problems listing everything wrong.
func Compile(cfg *Config) (*Compiled, error) {
	if cfg == nil {
		return nil, errors.New("rules: no configuration to compile")
	}
	c, ps := compile(cfg, nil)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// compile provisions and validates cfg. The problems of fields in skip
// (which failed to decode) are left out: they are reported already.
func compile(cfg *Config, skip map[string]bool) (*Compiled, Problems) {
	v := &validator{file: cfg.file, idx: cfg.pos}
	c := provision(cfg, v)
	c.validate(v)
	if len(v.problems) == 0 {
		w := &validator{file: cfg.file, idx: cfg.pos}
		c.warn(time.Now(), w)
		// In the file's order, as a reader goes through it.
		slices.SortStableFunc(w.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		c.Warnings = w.problems
	}
	var ps Problems
	for i, p := range v.problems {
		if skip[p.Field] || v.unlessInside[i] && insideAny(p.Field, skip) {
			continue
		}
		ps = append(ps, p)
	}
	return c, ps
}

// insideAny reports whether a field in set is inside path.
func insideAny(path string, set map[string]bool) bool {
	for f := range set {
		if strings.HasPrefix(f, path+".") {
			return true
		}
	}
	return false
}

// provision derives every value of a Compiled from a copy of cfg. What
// cannot be derived (a template that does not parse, a time or an address
// that is not one) is a problem, added to v. It is the only step that
// reads files.
func provision(cfg *Config, v *validator) *Compiled {
	own := *cfg
	// The lists and sections defaults fill in are copied too, so that
	// filling them never changes the caller's Config.
	own.Pages = slices.Clone(cfg.Pages)
	own.Events.CartAdd = slices.Clone(cfg.Events.CartAdd)
	own.Recommendations.Blocks = slices.Clone(cfg.Recommendations.Blocks)
	own.Overlays.Rules = slices.Clone(cfg.Overlays.Rules)
	own.Overlays.Banners = slices.Clone(cfg.Overlays.Banners)
	own.Content = slices.Clone(cfg.Content)
	if cfg.Navigation != nil {
		nav := *cfg.Navigation
		own.Navigation = &nav
	}
	// What a Config built or changed in Go leaves out gets its default,
	// as a decoded one's did (a no-op for those).
	own.setDefaults()
	c := &Compiled{Config: &own}

	s := &own.Server
	if len(s.Hosts) > 0 {
		c.Hosts = make(map[string]bool, len(s.Hosts))
		for _, h := range s.Hosts {
			c.Hosts[strings.ToLower(h)] = true
		}
	}
	for i, p := range s.TrustedProxies {
		pfx, err := ParsePrefix(p)
		if err != nil {
			v.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an IP address or CIDR range", p)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx)
	}
	c.CookieName = own.Identity.Cookie
	if own.Identity.HTTPSOnly {
		c.CookieName = "__Host-" + own.Identity.Cookie
	}
	c.AssetHosts = slices.Concat(s.Hosts, own.Catalog.AssetHosts)
	c.Location = time.UTC
	if tz := own.TimeZone; tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			v.add("time_zone", "%q is not a time zone like Europe/Berlin or America/New_York", tz)
		} else {
			c.Location = loc
		}
	}
	var segIndex map[string]int
	c.Segments, segIndex = compileSegments(&own, v)
	if n := own.Navigation; n != nil {
		c.NavAction = compileAction("navigation", n.Segments, n.Exclude, n.Priority, n.Enabled, n.Starts, n.Ends, segIndex, v)
	}
	if sr := own.Search; sr != nil {
		c.SearchAction = compileAction("search", sr.Segments, sr.Exclude, sr.Priority, sr.Enabled, sr.Starts, sr.Ends, segIndex, v)
	}
	c.Learns = own.Navigation != nil || len(own.Pages) > 0 || len(own.Events.CartAdd) > 0 ||
		len(own.Recommendations.Blocks) > 0 || own.Search != nil ||
		len(own.Overlays.Rules) > 0 || len(own.Overlays.Banners) > 0 || len(own.Content) > 0

	for i := range own.Recommendations.Blocks {
		b := &own.Recommendations.Blocks[i]
		path := fmt.Sprintf("recommendations.blocks[%d]", i)
		cb := CompiledBlock{Block: b, Chain: chain(b.Strategy, b.Fallback),
			Action: compileAction(path, b.Segments, b.Exclude, b.Priority, b.Enabled, b.Starts, b.Ends, segIndex, v)}
		if b.Template != "" {
			t, err := own.readTemplate(b.Template)
			if err != nil {
				v.add(fmt.Sprintf("recommendations.blocks[%d].template", i), "%v", err)
			}
			cb.Parsed = t
		}
		c.Blocks = append(c.Blocks, cb)
	}

	for i := range own.Overlays.Rules {
		r := &own.Overlays.Rules[i]
		path := fmt.Sprintf("overlays.rules[%d]", i)
		co := CompiledOverlay{Overlay: r, Chain: chain(r.Strategy, r.Fallback), index: i,
			Action: compileAction(path, r.Segments, r.Exclude, r.Priority, r.Enabled, r.Starts, r.Ends, segIndex, v)}
		if r.Template != "" {
			t, err := own.readTemplate(r.Template)
			if err != nil {
				v.add(path+".template", "%v", err)
			}
			co.Parsed = t
		}
		c.OverlayRules = append(c.OverlayRules, co)
	}
	slices.SortStableFunc(c.OverlayRules, func(x, y CompiledOverlay) int { return cmp.Compare(y.Action.Priority, x.Action.Priority) })

	c.banners = make(map[string]*Banner, len(own.Overlays.Banners))
	for i := range own.Overlays.Banners {
		b := &own.Overlays.Banners[i]
		c.Banners = append(c.Banners, CompiledBanner{Banner: b,
			Action: compileAction(fmt.Sprintf("overlays.banners[%d]", i), b.Segments, b.Exclude, b.Priority, b.Enabled, b.Starts, b.Ends, segIndex, v)})
		if _, dup := c.banners[b.ID]; !dup {
			c.banners[b.ID] = b
		}
	}

	c.Swaps = compileSwaps(own.Content, segIndex, v)
	c.compileExperiments(&own, v)

	o := &own.Overlays
	th := o.Theme
	css, err := markup.Stylesheet(markup.Theme{Accent: th.Accent, AccentText: th.AccentText, Background: th.Background, Text: th.Text})
	if err != nil {
		v.add("overlays.theme", "%v", err)
	}
	a := &c.Assets
	a.Prefix, a.BeaconPath = o.Prefix, o.Prefix+"beacon"
	a.CSS, a.JS = css, markup.Script()
	a.CSSVersion, a.JSVersion = markup.Version(a.CSS), markup.Version(a.JS)
	a.CSSURL = o.Prefix + "shopedge.css?v=" + a.CSSVersion
	a.JSURL = o.Prefix + "shopedge.js?v=" + a.JSVersion
	return c
}

// chain is a strategy and its fallbacks, typed, in the order tried.
func chain(strategy string, fallback []string) []recommend.Strategy {
	ch := make([]recommend.Strategy, 0, 1+len(fallback))
	ch = append(ch, recommend.Strategy(strategy))
	for _, f := range fallback {
		ch = append(ch, recommend.Strategy(f))
	}
	return ch
}

// readTemplate parses an html/template file named relative to the
// configuration.
func (c *Config) readTemplate(name string) (*template.Template, error) {
	file := name
	if !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(c.file), file)
	}
	return template.ParseFiles(file)
}

// ValidID reports whether s has the form of a block, overlay or banner id,
// the form ids take in pages, cookies, beacons and metrics: 1 to 40
// lowercase letters, digits and dashes, not starting with a dash.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
