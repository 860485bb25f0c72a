package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"shopedge/proxy/profile"
	"shopedge/rules"
)

// SegmentDetail says, for an explanation, why an action targeted at t is
// not for the visitor of in: the excluded segment they are in, or, for
// each of its segments, the condition that failed, at its place in the
// file, and what was seen:
//
//	segment newsletter: segments.newsletter.all[0].utm_source: got "google", want one of newsletter
//
// It is "" when the action is for the visitor. It allocates: call it to
// explain, not to decide.
func SegmentDetail(in *Input, t rules.Targeting) string {
	m := &members{in: in}
	segs := in.Config.Segments
	for _, i := range t.Exclude {
		if m.member(i) {
			return "segment " + segs[i].Name + ": excluded, and the visitor is in it" + m.holds(&segs[i], 0)
		}
	}
	if len(t.Segments) == 0 {
		return ""
	}
	var parts []string
	for _, i := range t.Segments {
		if m.member(i) {
			return ""
		}
		parts = append(parts, "segment "+segs[i].Name+": "+m.why(&segs[i], 0))
	}
	return strings.Join(parts, "; ")
}

// why describes the failure of the condition at seg.Preds[k], which does
// not hold.
func (m *members) why(seg *rules.CompiledSegment, k int32) string {
	p := &seg.Preds[k]
	switch p.Op {
	case rules.OpAll:
		for _, c := range p.Kids {
			if !m.eval(seg, c) {
				return m.why(seg, c)
			}
		}
	case rules.OpAny:
		var parts []string
		for _, c := range p.Kids {
			parts = append(parts, m.why(seg, c))
		}
		return pathOf(p.Path) + "none holds (" + strings.Join(parts, "; ") + ")"
	case rules.OpNot:
		kid := &seg.Preds[p.Kids[0]]
		switch kid.Op {
		case rules.OpAll, rules.OpAny, rules.OpNot:
			return pathOf(kid.Path) + "holds, want it not to"
		case rules.OpSegment:
			return pathOf(kid.Path) + "in " + m.in.Config.Segments[kid.Ref].Name + ", want not"
		}
		return pathOf(kid.Path) + "got " + m.seen(kid) + ", want not " + m.want(kid)
	case rules.OpSegment:
		ref := &m.in.Config.Segments[p.Ref]
		return pathOf(p.Path) + "not in " + ref.Name + ": " + m.why(ref, 0)
	}
	return pathOf(p.Path) + "got " + m.seen(p) + ", want " + m.want(p)
}

// holds describes, after ": ", why the segment's condition at k holds, for
// a leaf; "" for combinations.
func (m *members) holds(seg *rules.CompiledSegment, k int32) string {
	p := &seg.Preds[k]
	switch p.Op {
	case rules.OpAll, rules.OpAny, rules.OpNot, rules.OpSegment:
		return ""
	}
	return ": " + pathOf(p.Path) + "got " + m.seen(p)
}

// pathOf is a predicate's path and a colon, or "" for a built-in segment's.
func pathOf(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

// seen says what the visitor or request shows of what p tests.
func (m *members) seen(p *rules.Pred) string {
	in := m.in
	d := in.Profile
	half := in.Config.Profiles.InterestHalfLife.D()
	switch p.Op {
	case rules.OpNew, rules.OpReturning:
		return "visit " + strconv.Itoa(int(d.Visits))
	case rules.OpCustomer, rules.OpProspect:
		if d.Customer && d.Orders == 0 {
			return "a customer (by the shop's cookie)"
		}
		return strconv.Itoa(int(d.Orders)) + " orders"
	case rules.OpVisits:
		return strconv.Itoa(int(d.Visits))
	case rules.OpDaysSinceLastVisit:
		if days, ok := d.DaysSincePrevVisit(in.Now); ok {
			return strconv.Itoa(days)
		}
		return "no earlier visit"
	case rules.OpCartsLeft:
		return strconv.Itoa(int(d.CartsLeft))
	case rules.OpUTMSource:
		return quoted(d.SourceField(profile.SourceUTMSource))
	case rules.OpUTMMedium:
		return quoted(d.SourceField(profile.SourceUTMMedium))
	case rules.OpUTMCampaign:
		return quoted(d.SourceField(profile.SourceUTMCampaign))
	case rules.OpReferrer:
		return quoted(d.SourceField(profile.SourceReferrer))
	case rules.OpTraffic:
		return strconv.Quote(d.Traffic().String())
	case rules.OpDevice:
		return strconv.Quote(d.Device.Class.String())
	case rules.OpOS:
		return strconv.Quote(d.Device.OS.String())
	case rules.OpBrowser:
		return strconv.Quote(d.Device.Browser.String())
	case rules.OpCartEmpty, rules.OpCartNotEmpty, rules.OpCartItems:
		return strconv.Itoa(d.CartItems()) + " items"
	case rules.OpCartValue:
		total, _, known := cartValue(in.Catalog, d)
		switch {
		case d.CartItems() == 0:
			return "an empty cart"
		case !known:
			return "a cart with a price unknown (or mixed currencies)"
		}
		return strconv.FormatFloat(total, 'f', 2, 64)
	case rules.OpInterest:
		return fmt.Sprintf("%.2f in %s", d.Interest(p.Category, in.Now, half), first(p.Values))
	case rules.OpTopCategories:
		var parts []string
		for i, c := range p.IDs {
			if rank, ok := d.InterestRank(c, in.Now, half); ok {
				parts = append(parts, fmt.Sprintf("%s ranked %d", p.Values[i], rank+1))
			} else {
				parts = append(parts, p.Values[i]+" not viewed")
			}
		}
		return strings.Join(parts, ", ")
	case rules.OpViewedProducts:
		return "none of them among the last " + strconv.Itoa(profile.MaxRecent) + " viewed"
	case rules.OpViewedCategories:
		return "none of them viewed"
	case rules.OpSearched:
		var qs []string
		for i := 0; d.SearchTerm(i) != nil; i++ {
			qs = append(qs, quoted(d.SearchTerm(i)))
		}
		if len(qs) == 0 {
			return "no searches"
		}
		return "searches " + strings.Join(qs, ", ")
	case rules.OpCookie, rules.OpHeader:
		if in.Request.Lookup == nil {
			return "none"
		}
		var v []byte
		if p.Op == rules.OpCookie {
			v = in.Request.Lookup.Cookie(p.Name)
		} else {
			v = in.Request.Lookup.Header(p.Name)
		}
		// Never the value: a cookie or header a segment tests may be a
		// session or a credential, and explanations travel (the preview's
		// Shopedge-Explain header, logs, tickets).
		switch {
		case v == nil:
			return "none"
		case p.Re != nil && !p.Re.Match(v):
			return "a value not matching"
		case p.Equals != "" && string(v) != p.Equals:
			return "another value"
		}
		return "present"
	case rules.OpShare:
		return fmt.Sprintf("bucket %.2f%%", shareBucket(in.Request.VisitorID, p.Salt)/100)
	case rules.OpHour:
		return strconv.Itoa(m.clock().hour) + " (" + in.Config.Location.String() + ")"
	case rules.OpWeekday:
		return strconv.Quote(dayNames[m.clock().wday]) + " (" + in.Config.Location.String() + ")"
	case rules.OpDate:
		return day(m.clock().day) + " (" + in.Config.Location.String() + ")"
	case rules.OpCountry:
		if c := in.Request.Place.Country; c[0] != 0 {
			return strconv.Quote(string(c[:]))
		}
		return "none (no place.country_header, or not from a trusted proxy)"
	case rules.OpLanguage:
		if n := in.Request.Place.languageLen(); n > 0 {
			return strconv.Quote(string(in.Request.Place.Language[:n]))
		}
		return "none"
	}
	return "?"
}

// want says what p holds for.
func (m *members) want(p *rules.Pred) string {
	switch p.Op {
	case rules.OpNew:
		return "a first visit"
	case rules.OpReturning:
		return "a later visit"
	case rules.OpCustomer:
		return "a customer"
	case rules.OpProspect:
		return "no orders"
	case rules.OpVisits, rules.OpDaysSinceLastVisit, rules.OpCartsLeft, rules.OpCartItems, rules.OpCartValue, rules.OpHour:
		return wantRange(p.Min, p.Max)
	case rules.OpCartEmpty:
		return "empty"
	case rules.OpCartNotEmpty:
		return "not empty"
	case rules.OpInterest:
		return "at least " + strconv.FormatFloat(p.Min, 'f', -1, 64)
	case rules.OpReferrer:
		return "one of " + strings.Join(p.Values, ", ") + " (or a subdomain)"
	case rules.OpTopCategories:
		return "one of " + strings.Join(p.Values, ", ") + " in the " + strconv.Itoa(p.N) + " strongest"
	case rules.OpSearched:
		return "a word of " + strings.Join(p.Values, ", ")
	case rules.OpCookie, rules.OpHeader:
		switch {
		case p.Re != nil:
			return "matching `" + p.Re.String() + "`"
		case p.Equals != "":
			return strconv.Quote(p.Equals)
		}
		return "present"
	case rules.OpShare:
		return "below " + strconv.FormatFloat(p.Max, 'f', -1, 64) + "%"
	case rules.OpWeekday:
		var days []string
		for _, v := range p.Values {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(dayNames) {
				days = append(days, dayNames[n])
			}
		}
		return "one of " + strings.Join(days, ", ")
	case rules.OpDate:
		switch {
		case math.IsInf(p.Min, -1):
			return "until " + day(p.Max)
		case math.IsInf(p.Max, 1):
			return "from " + day(p.Min)
		}
		return day(p.Min) + " to " + day(p.Max)
	}
	return "one of " + strings.Join(p.Values, ", ")
}

// dayNames are the days as configurations write them, in time.Weekday
// order.
var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// wantRange says a range's bounds.
func wantRange(lo, hi float64) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch {
	case math.IsInf(lo, -1):
		return "at most " + f(hi)
	case math.IsInf(hi, 1):
		return "at least " + f(lo)
	}
	return f(lo) + " to " + f(hi)
}

// day formats days since 1970-01-01 as a date.
func day(days float64) string {
	return time.Unix(int64(days)*86400, 0).UTC().Format(time.DateOnly)
}

// quoted quotes what the visitor sent, cut to 40 bytes; "none" for nothing.
func quoted(b []byte) string {
	if len(b) == 0 {
		return "none"
	}
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
