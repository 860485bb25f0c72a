package rules

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/traffic"
)

// Condition is one test of a visitor, or a combination of them: exactly
// one of its fields is set. A segment is a named Condition; an action's
// segments and exclude name segments (or the built-in new, returning,
// customer and prospect).
//
//	segments:
//	  newsletter:
//	    all:
//	      - utm_source: [newsletter]
//	      - not: {segment: customer}
//	  big-cart:
//	    cart_value: {at_least: 100}
type Condition struct {
	// All holds when each of its conditions holds.
	All []Condition `yaml:"all"`
	// Any holds when one of its conditions holds.
	Any []Condition `yaml:"any"`
	// Not holds when its condition does not.
	Not *Condition `yaml:"not"`
	// Segment holds for the members of another segment, named.
	Segment string `yaml:"segment"`

	// Visits is the number of visits, this one included.
	Visits *Range `yaml:"visits"`
	// DaysSinceLastVisit is the whole days between the visit before this
	// one and now (a first visit has no last visit: never holds).
	DaysSinceLastVisit *Range `yaml:"days_since_last_visit"`
	// CartsLeft is how many carts the visitor left in earlier visits.
	CartsLeft *Range `yaml:"carts_left"`

	// UTMSource, UTMMedium and UTMCampaign hold when the visit's
	// parameter is one of the values (without case).
	UTMSource   StringList `yaml:"utm_source"`
	UTMMedium   StringList `yaml:"utm_medium"`
	UTMCampaign StringList `yaml:"utm_campaign"`
	// Referrer holds when the visit came from one of the hosts, or a
	// subdomain of one ("google.com" matches www.google.com).
	Referrer StringList `yaml:"referrer"`

	// Device, OS and Browser hold for the visitor's device class
	// (mobile, tablet, desktop), operating system and browser.
	Device  StringList `yaml:"device"`
	OS      StringList `yaml:"os"`
	Browser StringList `yaml:"browser"`

	// Cart is empty or not_empty.
	Cart string `yaml:"cart"`
	// CartItems is the number of items in the cart (quantities added).
	CartItems *Range `yaml:"cart_items"`
	// CartValue is the cart's value from the learned prices (never holds
	// when a price is unknown or the cart mixes currencies).
	CartValue *Range `yaml:"cart_value"`
	// Interest holds when the visitor's interest in a category (its path
	// on the shop) is at least a threshold (a product view counts 1, a
	// category view 0.5, decaying with profiles.interest_half_life).
	Interest *Interest `yaml:"interest"`

	// Cookie and Header test a request cookie or header: present, equal
	// to a value, or matching an expression.
	Cookie *Match `yaml:"cookie"`
	Header *Match `yaml:"header"`

	// Share holds for a stable share of visitors: those whose id, hashed
	// with the salt, falls in the first percent of buckets.
	Share *Share `yaml:"share"`

	// Hour is the hour of the day (0 to 23), Weekday the day of the week
	// (mon, tue, ...), Date a range of days (from and until, included,
	// like 2026-12-24): in time_zone, at the request.
	Hour    *Range     `yaml:"hour"`
	Weekday StringList `yaml:"weekday"`
	Date    *DateRange `yaml:"date"`

	// Traffic holds when the visit's class is one of search, social,
	// paid, email, direct, referral: derived from its landing URL and
	// referrer when it starts (the table is in proxy/traffic's doc).
	Traffic StringList `yaml:"traffic"`
	// TopCategories holds when one of the visitor's strongest categories
	// (by interest, the within strongest) is one of its categories.
	TopCategories *TopCategories `yaml:"top_categories"`
	// ViewedProducts holds when the visitor viewed one of these products
	// among their last ten: a product's path on the shop (/p/trail-shoe)
	// or its SKU, as the learned catalog knows it.
	ViewedProducts StringList `yaml:"viewed_products"`
	// ViewedCategories holds when the visitor viewed one of these
	// categories' pages, or a product in one (its path, like /c/shoes).
	ViewedCategories StringList `yaml:"viewed_categories"`
	// Searched holds when one of the visitor's recent searches (the last
	// four) holds one of the terms as a word, or words, without case.
	Searched StringList `yaml:"searched"`
	// Country holds when the request's country (ISO 3166 alpha-2, from
	// place.country_header) is one of these.
	Country StringList `yaml:"country"`
	// Language holds when the visitor's preferred language (the primary
	// subtag of the Accept-Language entry of highest q, like de) is one of
	// these.
	Language StringList `yaml:"language"`
}

// TopCategories is categories, one of which must be among the visitor's
// strongest.
type TopCategories struct {
	// Categories are the categories' paths on the shop. Required.
	Categories StringList `yaml:"categories"`
	// Within is how many of the visitor's strongest categories count.
	// Default: 3.
	Within int `yaml:"within"`
}

// Place says where the request's country comes from, for the country
// condition of segments. Default: nowhere (a country condition is an
// error).
type Place struct {
	// CountryHeader is the request header the CDN in front of shopedge
	// puts the visitor's country in (ISO 3166 alpha-2): CF-IPCountry
	// (Cloudflare), CloudFront-Viewer-Country (Amazon CloudFront),
	// X-Vercel-IP-Country (Vercel), X-AppEngine-Country (Google Cloud),
	// or one the edge is told to set, like X-Country-Code (Fastly's
	// client.geo.country_code, Akamai's EdgeScape country_code). Default:
	// none.
	CountryHeader string `yaml:"country_header"`
	// EdgeSetsHeader says the edge sets the header on every request,
	// replacing whatever a client sent, so that shopedge believes it from
	// any peer. Default: false: the header is a client's word, believed
	// only from a peer in server.trusted_proxies.
	EdgeSetsHeader bool `yaml:"edge_sets_header"`
}

// MaxSegments is the most segments a configuration has, the built-in
// ones included: plan holds a decision's memberships in fixed bitsets.
const MaxSegments = 256

// DateRange is a range of days, both included; either may be left out.
type DateRange struct {
	From  string `yaml:"from"`
	Until string `yaml:"until"`
}

// weekdays are the days' names, as time.Weekday numbers them.
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Range bounds a number: at_least, at_most, or both.
type Range struct {
	AtLeast *float64 `yaml:"at_least"`
	AtMost  *float64 `yaml:"at_most"`
}

// Interest is a category and the least interest in it.
type Interest struct {
	// Category is the category's path on the shop, like /c/shoes.
	Category string `yaml:"category"`
	// AtLeast is the least interest. Default: 1.
	AtLeast float64 `yaml:"at_least"`
}

// Match tests a cookie or header by name: exists (the default), equals a
// value, or matches an expression.
type Match struct {
	Name    string `yaml:"name"`
	Equals  string `yaml:"equals"`
	Matches Regexp `yaml:"matches"`
}

// Share is a percentage of visitors, chosen by a hash of their id.
type Share struct {
	// Percent is from 0 to 100.
	Percent float64 `yaml:"percent"`
	// Salt makes two shares of the same size pick different visitors.
	// Default: the segment's name.
	Salt string `yaml:"salt"`
}

// StringList is a list of strings, or one string.
type StringList []string

// UnmarshalYAML takes a scalar or a list of scalars.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = StringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// Op is what a compiled condition tests.
type Op uint8

// The operations of compiled conditions.
const (
	OpAll Op = iota
	OpAny
	OpNot
	OpSegment // Ref: a named segment
	OpNew
	OpReturning
	OpCustomer
	OpProspect
	OpVisits
	OpDaysSinceLastVisit
	OpCartsLeft
	OpUTMSource
	OpUTMMedium
	OpUTMCampaign
	OpReferrer
	OpDevice
	OpOS
	OpBrowser
	OpCartEmpty
	OpCartNotEmpty
	OpCartItems
	OpCartValue
	OpInterest
	OpCookie
	OpHeader
	OpShare
	OpHour
	OpWeekday          // Values: day numbers, as "0" (sun) to "6" (sat)
	OpDate             // Min, Max: days since 1970-01-01 in the time zone
	OpTraffic          // Values: class names
	OpTopCategories    // IDs: categories; N: within; Values: their paths
	OpViewedProducts   // IDs: KeyOf the products' keys (SKU or path), resolved through the catalog
	OpViewedCategories // IDs: categories; Values: their paths
	OpSearched         // Values: terms, lowercase
	OpCountry          // Values: codes, upper case
	OpLanguage         // Values: primary subtags, lowercase
)

// Pred is a compiled condition: an operation and what it reads. Kids
// index the segment's Preds (All, Any, Not).
type Pred struct {
	Op Op
	// Path is the condition's field in the file, for explanations:
	// segments.newsletter.all[0].utm_source.
	Path     string
	Kids     []int32
	Ref      int        // OpSegment: index in Compiled.Segments
	Min, Max float64    // ranges; Min -inf and Max +inf when unbounded; OpShare: Max is the percent
	Values   []string   // lists, lowercase
	Category catalog.ID // OpInterest
	Name     string     // OpCookie, OpHeader
	Equals   string     // OpCookie, OpHeader: "" with Re nil means exists
	Re       *Regexp    // OpCookie, OpHeader
	Salt     string     // OpShare
	IDs      []catalog.ID
	N        int // OpTopCategories: within
}

var negInf, posInf = math.Inf(-1), math.Inf(1)

// CompiledSegment is a segment ready to evaluate: Preds[0] is its root.
type CompiledSegment struct {
	Name  string
	Preds []Pred
}

// builtinSegments are the segments every configuration has.
var builtinSegments = map[string]Op{
	SegmentNew: OpNew, SegmentReturning: OpReturning, SegmentCustomer: OpCustomer, SegmentProspect: OpProspect,
}

// compileSegments compiles the segments section: the built-in segments
// first (in Segments order), then the named ones by name. Problems go to
// v, each at its field.
func compileSegments(cfg *Config, v *validator) ([]CompiledSegment, map[string]int) {
	index := map[string]int{}
	var out []CompiledSegment
	for _, name := range Segments {
		index[name] = len(out)
		out = append(out, CompiledSegment{Name: name, Preds: []Pred{{Op: builtinSegments[name]}}})
	}
	names := make([]string, 0, len(cfg.Segments))
	for name := range cfg.Segments {
		path := "segments." + name
		switch {
		case isBuiltin(name):
			v.add(path, "%q is a built-in segment; choose another name", name)
			continue
		case !ValidID(name):
			v.add(path, "%q: use lowercase letters, digits and dashes (at most 40)", name)
			continue
		}
		names = append(names, name)
	}
	if n := len(names); n+len(Segments) > MaxSegments {
		v.add("segments", "%d segments: at most %d besides the built-in ones", n, MaxSegments-len(Segments))
	}
	sort.Strings(names)
	for _, name := range names {
		index[name] = len(out)
		out = append(out, CompiledSegment{Name: name})
	}
	for _, name := range names {
		c := cfg.Segments[name]
		s := &out[index[name]]
		s.Preds = make([]Pred, 1)
		sc := &segCompiler{cfg: cfg, seg: s, name: name, index: index, v: v}
		sc.compile(&c, "segments."+name, 0)
	}
	checkCycles(out, v)
	return out, index
}

// segCompiler compiles one segment's conditions.
type segCompiler struct {
	cfg   *Config
	seg   *CompiledSegment
	name  string
	index map[string]int
	v     *validator
}

// conditionNames are the conditions there are, for messages.
const conditionNames = "all, any, not, segment, visits, days_since_last_visit, carts_left, utm_source, utm_medium, utm_campaign, referrer, traffic, device, os, browser, cart, cart_items, cart_value, interest, top_categories, viewed_products, viewed_categories, searched, cookie, header, share, hour, weekday, date, country, language"

// compile compiles c, at path in the file, into seg.Preds[at].
func (sc *segCompiler) compile(c *Condition, path string, at int) {
	v, s := sc.v, sc.seg
	var p Pred
	var fields []string // the fields set: one, unless c is wrong
	field := func(name string, op Op) {
		fields = append(fields, name)
		p.Op = op
	}
	kids := func(list []Condition, name string) {
		if len(list) == 0 {
			v.add(path+"."+name, "give at least one condition")
		}
		for i := range list {
			j := len(s.Preds)
			s.Preds = append(s.Preds, Pred{})
			p.Kids = append(p.Kids, int32(j))
			kidPath := fmt.Sprintf("%s.%s[%d]", path, name, i)
			if name == "not" {
				kidPath = path + ".not"
			}
			sc.compile(&list[i], kidPath, j)
		}
	}
	rng := func(r *Range, name string, op Op) {
		field(name, op)
		p.Min, p.Max = negInf, posInf
		if r.AtLeast == nil && r.AtMost == nil {
			v.add(path+"."+name, "give at_least, at_most or both")
		}
		if r.AtLeast != nil {
			p.Min = *r.AtLeast
		}
		if r.AtMost != nil {
			p.Max = *r.AtMost
		}
		if p.Min > p.Max {
			v.add(path+"."+name, "at_least is above at_most: never holds")
		}
	}
	list := func(l StringList, name string, op Op, allowed []string) {
		field(name, op)
		if len(l) == 0 {
			v.add(path+"."+name, "give at least one value")
		}
		for i, s := range l {
			ls := strings.ToLower(strings.TrimSpace(s))
			if allowed != nil && !slices.Contains(allowed, ls) {
				v.add(fmt.Sprintf("%s.%s[%d]", path, name, i), "want one of %s, got %q", strings.Join(allowed, ", "), s)
			}
			p.Values = append(p.Values, ls)
		}
	}
	// paths compiles a list of category paths into p.IDs and p.Values.
	paths := func(l StringList, name string) {
		for i, c := range l {
			key := catalog.PathKey(c)
			if !strings.HasPrefix(strings.TrimSpace(c), "/") || key == "" {
				v.add(fmt.Sprintf("%s.%s[%d]", path, name, i), "%q: want a category's path on the shop, like /c/shoes", c)
				continue
			}
			p.IDs = append(p.IDs, catalog.CategoryID(key, ""))
			p.Values = append(p.Values, key)
		}
	}
	if c.All != nil {
		field("all", OpAll)
		kids(c.All, "all")
	}
	if c.Any != nil {
		field("any", OpAny)
		kids(c.Any, "any")
	}
	if c.Not != nil {
		field("not", OpNot)
		kids([]Condition{*c.Not}, "not")
	}
	if c.Segment != "" {
		field("segment", OpSegment)
		if op, ok := builtinSegments[c.Segment]; ok {
			p.Op = op
			p.Values = []string{c.Segment}
		} else if i, ok := sc.index[c.Segment]; ok {
			p.Ref = i
		} else {
			v.add(path+".segment", "unknown segment %q (want one of %s)", c.Segment, strings.Join(segmentNames(sc.index), ", "))
		}
	}
	if c.Visits != nil {
		rng(c.Visits, "visits", OpVisits)
	}
	if c.DaysSinceLastVisit != nil {
		rng(c.DaysSinceLastVisit, "days_since_last_visit", OpDaysSinceLastVisit)
	}
	if c.CartsLeft != nil {
		rng(c.CartsLeft, "carts_left", OpCartsLeft)
	}
	if c.UTMSource != nil {
		list(c.UTMSource, "utm_source", OpUTMSource, nil)
	}
	if c.UTMMedium != nil {
		list(c.UTMMedium, "utm_medium", OpUTMMedium, nil)
	}
	if c.UTMCampaign != nil {
		list(c.UTMCampaign, "utm_campaign", OpUTMCampaign, nil)
	}
	if c.Referrer != nil {
		list(c.Referrer, "referrer", OpReferrer, nil)
	}
	if c.Traffic != nil {
		list(c.Traffic, "traffic", OpTraffic, traffic.Names())
	}
	if c.Device != nil {
		list(c.Device, "device", OpDevice, Devices)
	}
	if c.OS != nil {
		list(c.OS, "os", OpOS, agent.OSNames())
	}
	if c.Browser != nil {
		list(c.Browser, "browser", OpBrowser, agent.BrowserNames())
	}
	if c.Cart != "" {
		field("cart", OpCartEmpty)
		switch c.Cart {
		case "empty":
		case "not_empty":
			p.Op = OpCartNotEmpty
		default:
			v.add(path+".cart", "want empty or not_empty, got %q", c.Cart)
		}
	}
	if c.CartItems != nil {
		rng(c.CartItems, "cart_items", OpCartItems)
	}
	if c.CartValue != nil {
		rng(c.CartValue, "cart_value", OpCartValue)
	}
	if in := c.Interest; in != nil {
		field("interest", OpInterest)
		p.Min = in.AtLeast
		if p.Min == 0 {
			p.Min = 1
		}
		switch key := catalog.PathKey(in.Category); {
		case in.Category == "" || key == "":
			v.add(path+".interest.category", "required: the category's path on the shop, like /c/shoes")
		default:
			p.Category = catalog.CategoryID(key, "")
			p.Values = []string{key}
		}
		if p.Min < 0 {
			v.add(path+".interest.at_least", "must not be negative")
		}
	}
	if tc := c.TopCategories; tc != nil {
		field("top_categories", OpTopCategories)
		p.N = tc.Within
		if p.N == 0 {
			p.N = 3
		}
		if p.N < 0 {
			v.add(path+".top_categories.within", "want at least 1, got %d", tc.Within)
		}
		if len(tc.Categories) == 0 {
			v.add(path+".top_categories.categories", "required: the categories' paths on the shop, like [/c/shoes]")
		}
		paths(tc.Categories, "top_categories.categories")
	}
	if c.ViewedProducts != nil {
		field("viewed_products", OpViewedProducts)
		if len(c.ViewedProducts) == 0 {
			v.add(path+".viewed_products", "give at least one value")
		}
		for i, ident := range c.ViewedProducts {
			key := strings.TrimSpace(ident)
			if strings.HasPrefix(key, "/") {
				key = catalog.PathKey(key)
			}
			if key == "" {
				v.add(fmt.Sprintf("%s.viewed_products[%d]", path, i), "%q: want a product's path on the shop (/p/trail-shoe) or its SKU", ident)
				continue
			}
			p.IDs = append(p.IDs, catalog.KeyOf(key))
			p.Values = append(p.Values, key)
		}
	}
	if c.ViewedCategories != nil {
		field("viewed_categories", OpViewedCategories)
		if len(c.ViewedCategories) == 0 {
			v.add(path+".viewed_categories", "give at least one value")
		}
		paths(c.ViewedCategories, "viewed_categories")
	}
	if c.Searched != nil {
		list(c.Searched, "searched", OpSearched, nil)
		for i, t := range p.Values {
			if t == "" {
				v.add(fmt.Sprintf("%s.searched[%d]", path, i), "an empty term: give a word")
			}
		}
	}
	for _, m := range []struct {
		name string
		m    *Match
		op   Op
	}{{"cookie", c.Cookie, OpCookie}, {"header", c.Header, OpHeader}} {
		if m.m == nil {
			continue
		}
		field(m.name, m.op)
		p.Name, p.Equals = m.m.Name, m.m.Equals
		if m.m.Matches.Regexp != nil {
			p.Re = &m.m.Matches
		}
		if m.m.Name == "" {
			v.add(path+"."+m.name+".name", "required: the %s's name", m.name)
		}
		if m.m.Equals != "" && p.Re != nil {
			v.add(path+"."+m.name, "give equals or matches, not both")
		}
	}
	if c.Hour != nil {
		rng(c.Hour, "hour", OpHour)
	}
	if c.Weekday != nil {
		list(c.Weekday, "weekday", OpWeekday, weekdays)
		for i, d := range p.Values {
			p.Values[i] = fmt.Sprint(slices.Index(weekdays, d))
		}
	}
	if dr := c.Date; dr != nil {
		field("date", OpDate)
		p.Min, p.Max = negInf, posInf
		for _, f := range []struct {
			name, v string
			dst     *float64
		}{{"from", dr.From, &p.Min}, {"until", dr.Until, &p.Max}} {
			if f.v == "" {
				continue
			}
			t, err := time.Parse(time.DateOnly, f.v)
			if err != nil {
				v.add(path+".date."+f.name, "%q: want a day like 2026-12-24", f.v)
				continue
			}
			*f.dst = float64(t.Unix() / 86400)
		}
		if dr.From == "" && dr.Until == "" {
			v.add(path+".date", "give from, until or both")
		}
	}
	if sh := c.Share; sh != nil {
		field("share", OpShare)
		p.Max, p.Salt = sh.Percent, sh.Salt
		if p.Salt == "" {
			p.Salt = sc.name
		}
		if sh.Percent < 0 || sh.Percent > 100 {
			v.add(path+".share.percent", "want 0 to 100, got %v", sh.Percent)
		}
	}
	if c.Country != nil {
		list(c.Country, "country", OpCountry, nil)
		for i, code := range p.Values {
			p.Values[i] = strings.ToUpper(code)
			if !IsCountry(p.Values[i]) {
				v.add(fmt.Sprintf("%s.country[%d]", path, i), "%q: want an ISO 3166 country code of two letters, like DE", c.Country[i])
			}
		}
		if sc.cfg.Place.CountryHeader == "" {
			v.add(path+".country", "set place.country_header first: the request header your CDN puts the visitor's country in")
		}
	}
	if c.Language != nil {
		list(c.Language, "language", OpLanguage, nil)
		for i, code := range p.Values {
			if !isLanguage(code) {
				v.add(fmt.Sprintf("%s.language[%d]", path, i), "%q: want a language's code of two or three letters, like de (no region)", c.Language[i])
			}
		}
	}
	switch {
	case len(fields) == 0:
		if v.unlessInside == nil {
			v.unlessInside = map[int]bool{}
		}
		v.unlessInside[len(v.problems)] = true
		v.add(path, "empty condition: give one of %s", conditionNames)
	case len(fields) > 1:
		v.add(path, "a condition tests one thing: combine several with all or any")
	default:
		p.Path = path + "." + fields[0]
	}
	s.Preds[at] = p
}

// isLanguage reports whether code looks like a language's primary subtag:
// two or three letters, lowercase.
func isLanguage(code string) bool {
	if len(code) < 2 || len(code) > 3 {
		return false
	}
	for i := range len(code) {
		if code[i] < 'a' || code[i] > 'z' {
			return false
		}
	}
	return true
}

// checkCycles reports segments that name themselves, through others.
func checkCycles(segs []CompiledSegment, v *validator) {
	state := make([]uint8, len(segs)) // 0 unseen, 1 on the path, 2 done
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return true
		case 2:
			return false
		}
		state[i] = 1
		for _, p := range segs[i].Preds {
			if p.Op == OpSegment && visit(p.Ref) {
				state[i] = 2
				v.add("segments."+segs[i].Name, "segment %q names itself (through segment: references)", segs[i].Name)
				return false
			}
		}
		state[i] = 2
		return false
	}
	for i := range segs {
		visit(i)
	}
}

// segmentNames lists the segment names known, sorted.
func segmentNames(index map[string]int) []string {
	names := make([]string, 0, len(index))
	for n := range index {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Targeting is who an action is for, compiled: any of Segments, none of
// Exclude (indexes in Compiled.Segments). Empty Segments: every visitor.
type Targeting struct {
	Segments, Exclude []int
}

// target compiles an action's segments and exclude, at path.
func target(segs, exclude []string, path string, index map[string]int, v *validator) Targeting {
	var t Targeting
	for _, l := range []struct {
		names []string
		field string
		dst   *[]int
	}{{segs, "segments", &t.Segments}, {exclude, "exclude", &t.Exclude}} {
		for i, name := range l.names {
			j, ok := index[name]
			if !ok {
				v.add(fmt.Sprintf("%s.%s[%d]", path, l.field, i), "unknown segment %q (want one of %s)", name, strings.Join(segmentNames(index), ", "))
				continue
			}
			*l.dst = append(*l.dst, j)
		}
	}
	return t
}

// isBuiltin reports whether name is a built-in segment.
func isBuiltin(name string) bool {
	_, ok := builtinSegments[name]
	return ok
}
