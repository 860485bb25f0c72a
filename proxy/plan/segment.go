package plan

import (
	"bytes"
	"slices"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"

	"shopedge/proxy/profile"
	"shopedge/rules"
)

// Lookup reads the request's cookies and headers, for conditions that
// test them; nil: none.
type Lookup interface {
	Cookie(name string) []byte
	Header(name string) []byte
}

// members evaluates the configuration's segments for one decision, each
// at most once: a segment many actions target costs one evaluation.
type members struct {
	in         *Input
	done, held uint64 // segments 0–63: evaluated, and the outcome
	more       map[int]bool
}

// member reports whether the visitor is in segment i (an index in
// Compiled.Segments).
func (m *members) member(i int) bool {
	if v, ok := m.in.Request.forced(m.in.Config, i); ok {
		return v // a preview (preview.go)
	}
	if i < 64 {
		if m.done&(1<<i) != 0 {
			return m.held&(1<<i) != 0
		}
	} else if v, ok := m.more[i]; ok {
		return v
	}
	seg := &m.in.Config.Segments[i]
	v := m.eval(seg, 0)
	if i < 64 {
		m.done |= 1 << i
		if v {
			m.held |= 1 << i
		}
	} else {
		if m.more == nil {
			m.more = map[int]bool{}
		}
		m.more[i] = v
	}
	return v
}

// targets reports whether an action with targeting t is for the visitor:
// in one of its segments (or it names none), and in none it excludes.
func (m *members) targets(t rules.Targeting) bool {
	for _, i := range t.Exclude {
		if m.member(i) {
			return false
		}
	}
	if len(t.Segments) == 0 {
		return true
	}
	for _, i := range t.Segments {
		if m.member(i) {
			return true
		}
	}
	return false
}

// eval evaluates the condition at seg.Preds[k].
func (m *members) eval(seg *rules.CompiledSegment, k int32) bool {
	p := &seg.Preds[k]
	in := m.in
	d := in.Profile
	switch p.Op {
	case rules.OpAll:
		for _, c := range p.Kids {
			if !m.eval(seg, c) {
				return false
			}
		}
		return true
	case rules.OpAny:
		for _, c := range p.Kids {
			if m.eval(seg, c) {
				return true
			}
		}
		return false
	case rules.OpNot:
		return !m.eval(seg, p.Kids[0])
	case rules.OpSegment:
		return m.member(p.Ref)
	case rules.OpNew:
		return !d.Returning()
	case rules.OpReturning:
		return d.Returning()
	case rules.OpCustomer:
		return d.Customer || d.Orders > 0
	case rules.OpProspect:
		return !d.Customer && d.Orders == 0
	case rules.OpVisits:
		return inRange(p, float64(d.Visits))
	case rules.OpDaysSinceLastVisit:
		days, ok := d.DaysSincePrevVisit(in.Now)
		return ok && inRange(p, float64(days))
	case rules.OpCartsLeft:
		return inRange(p, float64(d.CartsLeft))
	case rules.OpUTMSource:
		return oneOf(p.Values, d.SourceField(profile.SourceUTMSource))
	case rules.OpUTMMedium:
		return oneOf(p.Values, d.SourceField(profile.SourceUTMMedium))
	case rules.OpUTMCampaign:
		return oneOf(p.Values, d.SourceField(profile.SourceUTMCampaign))
	case rules.OpReferrer:
		ref := d.SourceField(profile.SourceReferrer)
		for _, h := range p.Values {
			if n := len(ref) - len(h); n >= 0 && bytes.EqualFold(ref[n:], []byte(h)) && (n == 0 || ref[n-1] == '.') {
				return true
			}
		}
		return false
	case rules.OpDevice:
		return slices.Contains(p.Values, d.Device.Class.String())
	case rules.OpOS:
		return slices.Contains(p.Values, d.Device.OS.String())
	case rules.OpBrowser:
		return slices.Contains(p.Values, d.Device.Browser.String())
	case rules.OpCartEmpty:
		return d.CartItems() == 0
	case rules.OpCartNotEmpty:
		return d.CartItems() > 0
	case rules.OpCartItems:
		return inRange(p, float64(d.CartItems()))
	case rules.OpCartValue:
		total, _, known := cartValue(in.Catalog, d)
		return known && d.CartItems() > 0 && inRange(p, total)
	case rules.OpInterest:
		return d.Interest(p.Category, in.Now, in.Config.Profiles.InterestHalfLife.D()) >= p.Min
	case rules.OpCookie, rules.OpHeader:
		if in.Request.Lookup == nil {
			return false
		}
		var v []byte
		if p.Op == rules.OpCookie {
			v = in.Request.Lookup.Cookie(p.Name)
		} else {
			v = in.Request.Lookup.Header(p.Name)
		}
		switch {
		case v == nil:
			return false
		case p.Re != nil:
			return p.Re.Match(v)
		case p.Equals != "":
			return string(v) == p.Equals
		}
		return true
	case rules.OpHour:
		return inRange(p, float64(in.Now.In(in.Config.Location).Hour()))
	case rules.OpWeekday:
		return slices.Contains(p.Values, strconv.Itoa(int(in.Now.In(in.Config.Location).Weekday())))
	case rules.OpDate:
		y, mo, day := in.Now.In(in.Config.Location).Date()
		return inRange(p, float64(time.Date(y, mo, day, 0, 0, 0, 0, time.UTC).Unix()/86400))
	case rules.OpShare:
		return shareBucket(in.Request.VisitorID, p.Salt) < p.Max*100
	}
	return false
}

// inRange reports whether x is within the predicate's bounds.
func inRange(p *rules.Pred, x float64) bool { return x >= p.Min && x <= p.Max }

// oneOf reports whether b, without case, is one of values (lowercase).
func oneOf(values []string, b []byte) bool {
	for _, v := range values {
		if len(v) == len(b) && bytes.EqualFold([]byte(v), b) {
			return true
		}
	}
	return false
}

// shareBucket places a visitor in one of 10,000 buckets, stably for a
// salt: the same visitor, the same bucket, in every process and after
// every restart; another salt, an independent bucket.
func shareBucket(visitorID, salt string) float64 {
	h := (xxhash.Sum64String(visitorID) ^ xxhash.Sum64String(salt)) * 0x9e3779b97f4a7c15
	return float64((h >> 32) % 10000)
}
