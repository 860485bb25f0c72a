package rules

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// never is why a segment's condition can never hold: the field to warn
// at and what is wrong there.
type never struct {
	path, why string
}

// segmentWarner finds the segments that never match, each once.
type segmentWarner struct {
	c     *Compiled
	today float64 // days since 1970-01-01, in time_zone
	memo  map[int]*never
}

// warnSegments warns of segments no visitor can ever be in (lists that
// share nothing, a condition and its not, a share of 0%, a date range
// that has ended, at most 0 visits...), of actions whose segments all
// never match, and of country conditions the proxy can never believe.
func (c *Compiled) warnSegments(now time.Time, v *validator) {
	y, mo, d := now.In(c.Location).Date()
	w := &segmentWarner{c: c, today: float64(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400), memo: map[int]*never{}}
	country := false
	for i := len(Segments); i < len(c.Segments); i++ {
		s := &c.Segments[i]
		for _, p := range s.Preds {
			country = country || p.Op == OpCountry
		}
		n := w.segment(i)
		if n == nil {
			continue
		}
		if p := s.Preds[0]; p.Op == OpShare && p.Max == 0 {
			continue // warn says so
		}
		v.add(n.path, "warning: %s: no visitor is ever in %s", n.why, s.Name)
	}
	if country && c.Place.CountryHeader != "" && !c.Place.EdgeSetsHeader && len(c.TrustedProxies) == 0 {
		v.add("place.country_header", "warning: %s is believed only from server.trusted_proxies, and there are none: country conditions never hold (set edge_sets_header if your edge sets it on every request)", c.Place.CountryHeader)
	}
	action := func(path, id string, t Targeting) {
		if len(t.Segments) == 0 {
			return
		}
		var names []string
		for _, s := range t.Segments {
			if w.segment(s) == nil {
				return
			}
			names = append(names, c.Segments[s].Name)
		}
		v.add(path+".segments", "warning: no visitor is ever in %s: %s never applies", strings.Join(names, " or "), id)
	}
	if c.Navigation != nil {
		action("navigation", "the menu's reordering", c.NavAction.Target)
	}
	if c.Search != nil {
		action("search", "the search re-ranking", c.SearchAction.Target)
	}
	for i := range c.Blocks {
		action(fmt.Sprintf("recommendations.blocks[%d]", i), c.Blocks[i].ID, c.Blocks[i].Target)
	}
	for i := range c.Banners {
		action(fmt.Sprintf("overlays.banners[%d]", i), c.Banners[i].ID, c.Banners[i].Target)
	}
	for i := range c.Swaps {
		action(fmt.Sprintf("content[%d]", i), c.Swaps[i].ID, c.Swaps[i].Target)
	}
	for i := range c.OverlayRules {
		o := &c.OverlayRules[i]
		action(fmt.Sprintf("overlays.rules[%d]", o.index), o.ID, o.Target)
	}
}

// segment returns why segment i never matches, or nil when it may.
func (w *segmentWarner) segment(i int) *never {
	if n, ok := w.memo[i]; ok {
		return n
	}
	w.memo[i] = nil // cycles are errors, reported already: none here
	s := &w.c.Segments[i]
	n := w.pred(s, 0)
	w.memo[i] = n
	return n
}

// pred returns why the condition at s.Preds[k] never holds, or nil.
func (w *segmentWarner) pred(s *CompiledSegment, k int32) *never {
	p := &s.Preds[k]
	fail := func(format string, args ...any) *never {
		return &never{path: p.Path, why: fmt.Sprintf(format, args...)}
	}
	switch p.Op {
	case OpAll:
		for _, kid := range p.Kids {
			if n := w.pred(s, kid); n != nil {
				return n
			}
		}
		return w.contradiction(s, p)
	case OpAny:
		var first *never
		for _, kid := range p.Kids {
			n := w.pred(s, kid)
			if n == nil {
				return nil
			}
			if first == nil {
				first = n
			}
		}
		if first != nil {
			return &never{path: p.Path, why: "none of its conditions can hold (" + first.why + ", ...)"}
		}
	case OpSegment:
		if n := w.segment(p.Ref); n != nil {
			return fail("segment %s never matches", w.c.Segments[p.Ref].Name)
		}
	case OpShare:
		if p.Max == 0 {
			return fail("a share of 0%%")
		}
	case OpDate:
		switch {
		case p.Min > p.Max:
			return fail("from is after until")
		case p.Max < w.today:
			return fail("the date range ended on %s", time.Unix(int64(p.Max)*86400, 0).UTC().Format(time.DateOnly))
		}
	case OpVisits:
		if p.Max < 1 {
			return fail("at most %v visits: the visit being made counts", p.Max)
		}
	case OpDaysSinceLastVisit, OpCartsLeft, OpCartItems, OpCartValue:
		if p.Max < 0 {
			return fail("at most %v: it is never negative", p.Max)
		}
	case OpHour:
		if p.Max < 0 || p.Min > 23 {
			return fail("hours run from 0 to 23")
		}
	}
	return nil
}

// listOps are the conditions that test one value of the visitor against a
// list: within one all, two of the same kind must share a value.
var listOps = map[Op]string{
	OpDevice: "device", OpOS: "os", OpBrowser: "browser", OpCountry: "country", OpLanguage: "language",
	OpTraffic: "traffic", OpUTMSource: "utm_source", OpUTMMedium: "utm_medium", OpUTMCampaign: "utm_campaign",
}

// opposites are conditions no visitor meets both of.
var opposites = [][2]Op{{OpNew, OpReturning}, {OpCustomer, OpProspect}, {OpCartEmpty, OpCartNotEmpty}}

// contradiction reports what in an all can never hold together: lists of
// one kind with nothing in common, a condition and its not, opposites.
func (w *segmentWarner) contradiction(s *CompiledSegment, all *Pred) *never {
	common := map[Op][]string{}
	for _, k := range all.Kids {
		p := &s.Preds[k]
		name, ok := listOps[p.Op]
		if !ok {
			continue
		}
		prev, seen := common[p.Op]
		if !seen {
			common[p.Op] = p.Values
			continue
		}
		var both []string
		for _, x := range prev {
			if slices.Contains(p.Values, x) {
				both = append(both, x)
			}
		}
		if len(both) == 0 {
			return &never{path: p.Path, why: fmt.Sprintf("%s %s shares nothing with the %s before it", name, strings.Join(p.Values, ", "), name)}
		}
		common[p.Op] = both
	}
	for i, a := range all.Kids {
		pa := &s.Preds[a]
		for _, b := range all.Kids[i+1:] {
			pb := &s.Preds[b]
			for _, pair := range opposites {
				if pa.Op == pair[0] && pb.Op == pair[1] || pa.Op == pair[1] && pb.Op == pair[0] {
					return &never{path: pb.Path, why: "it contradicts " + pa.Path}
				}
			}
			if pa.Op == OpNot && samePred(s, s.Preds[pa.Kids[0]], *pb) || pb.Op == OpNot && samePred(s, s.Preds[pb.Kids[0]], *pa) {
				return &never{path: pb.Path, why: "a condition and its not: " + pa.Path + " and " + pb.Path}
			}
		}
	}
	return nil
}

// samePred reports whether two conditions of s test the same thing the
// same way.
func samePred(s *CompiledSegment, a, b Pred) bool {
	if a.Op != b.Op || a.Ref != b.Ref || a.Name != b.Name || a.Equals != b.Equals || a.Salt != b.Salt || a.N != b.N ||
		a.Category != b.Category || !slices.Equal(a.Values, b.Values) || !slices.Equal(a.IDs, b.IDs) || len(a.Kids) != len(b.Kids) {
		return false
	}
	if !sameFloat(a.Min, b.Min) || !sameFloat(a.Max, b.Max) || (a.Re == nil) != (b.Re == nil) || a.Re != nil && a.Re.String() != b.Re.String() {
		return false
	}
	for i := range a.Kids {
		if !samePred(s, s.Preds[a.Kids[i]], s.Preds[b.Kids[i]]) {
			return false
		}
	}
	return true
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
