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
}

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
	OpWeekday // Values: day numbers, as "0" (sun) to "6" (sat)
	OpDate    // Min, Max: days since 1970-01-01 in the time zone
)

// Pred is a compiled condition: an operation and what it reads. Kids
// index the segment's Preds (All, Any, Not).
type Pred struct {
	Op       Op
	Kids     []int32
	Ref      int        // OpSegment: index in Compiled.Segments
	Min, Max float64    // ranges; Min -inf and Max +inf when unbounded; OpShare: Max is the percent
	Values   []string   // lists, lowercase
	Category catalog.ID // OpInterest
	Name     string     // OpCookie, OpHeader
	Equals   string     // OpCookie, OpHeader: "" with Re nil means exists
	Re       *Regexp    // OpCookie, OpHeader
	Salt     string     // OpShare
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
	sort.Strings(names)
	for _, name := range names {
		index[name] = len(out)
		out = append(out, CompiledSegment{Name: name})
	}
	for _, name := range names {
		c := cfg.Segments[name]
		s := &out[index[name]]
		s.Preds = make([]Pred, 1)
		compileCond(&c, "segments."+name, name, s, 0, index, v)
	}
	checkCycles(out, v)
	return out, index
}

// compileCond compiles c into s.Preds[at].
func compileCond(c *Condition, path, segName string, s *CompiledSegment, at int, index map[string]int, v *validator) {
	var p Pred
	set := 0
	kids := func(list []Condition, name string) {
		if len(list) == 0 {
			v.add(path+"."+name, "give at least one condition")
		}
		for i := range list {
			j := len(s.Preds)
			s.Preds = append(s.Preds, Pred{})
			p.Kids = append(p.Kids, int32(j))
			compileCond(&list[i], fmt.Sprintf("%s.%s[%d]", path, name, i), segName, s, j, index, v)
		}
	}
	rng := func(r *Range, name string, op Op) {
		set++
		p.Op = op
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
		set++
		p.Op = op
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
	if c.All != nil {
		set++
		p.Op = OpAll
		kids(c.All, "all")
	}
	if c.Any != nil {
		set++
		p.Op = OpAny
		kids(c.Any, "any")
	}
	if c.Not != nil {
		set++
		p.Op = OpNot
		kids([]Condition{*c.Not}, "not")
	}
	if c.Segment != "" {
		set++
		p.Op = OpSegment
		if op, ok := builtinSegments[c.Segment]; ok {
			p.Op = op
		} else if i, ok := index[c.Segment]; ok {
			p.Ref = i
		} else {
			v.add(path+".segment", "unknown segment %q (want one of %s)", c.Segment, strings.Join(segmentNames(index), ", "))
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
		set++
		switch c.Cart {
		case "empty":
			p.Op = OpCartEmpty
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
		set++
		p.Op = OpInterest
		p.Min = in.AtLeast
		if p.Min == 0 {
			p.Min = 1
		}
		switch key := catalog.PathKey(in.Category); {
		case in.Category == "" || key == "":
			v.add(path+".interest.category", "required: the category's path on the shop, like /c/shoes")
		default:
			p.Category = catalog.CategoryID(key, "")
		}
		if p.Min < 0 {
			v.add(path+".interest.at_least", "must not be negative")
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
		set++
		p.Op, p.Name, p.Equals = m.op, m.m.Name, m.m.Equals
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
		set++
		p.Op, p.Min, p.Max = OpDate, negInf, posInf
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
		set++
		p.Op, p.Max, p.Salt = OpShare, sh.Percent, sh.Salt
		if p.Salt == "" {
			p.Salt = segName
		}
		if sh.Percent < 0 || sh.Percent > 100 {
			v.add(path+".share.percent", "want 0 to 100, got %v", sh.Percent)
		}
	}
	switch {
	case set == 0:
		if v.unlessInside == nil {
			v.unlessInside = map[int]bool{}
		}
		v.unlessInside[len(v.problems)] = true
		v.add(path, "empty condition: give one of all, any, not, segment, visits, days_since_last_visit, carts_left, utm_source, utm_medium, utm_campaign, referrer, device, os, browser, cart, cart_items, cart_value, interest, cookie, header, share, hour, weekday, date")
	case set > 1:
		v.add(path, "a condition tests one thing: combine several with all or any")
	}
	s.Preds[at] = p
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
