package plan

import (
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

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
// at most once: a segment many actions target costs one evaluation. Its
// bitsets are fixed (rules.MaxSegments): no allocation.
type members struct {
	in         *Input
	done, held [rules.MaxSegments / 64]uint64 // evaluated, and the outcome
	local      localTime
}

// localTime is the request's time in the configuration's time zone, read
// once per decision, when a condition first needs it.
type localTime struct {
	ok         bool
	hour, wday int
	day        float64 // days since 1970-01-01, of the local date
}

// clock returns the request's local time.
func (m *members) clock() *localTime {
	if !m.local.ok {
		t := m.in.Now.In(m.in.Config.Location)
		y, mo, d := t.Date()
		m.local = localTime{ok: true, hour: t.Hour(), wday: int(t.Weekday()),
			day: float64(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)}
	}
	return &m.local
}

// member reports whether the visitor is in segment i (an index in
// Compiled.Segments).
func (m *members) member(i int) bool {
	if m.in.Request.Preview != 0 {
		if v, ok := m.in.Request.forced(m.in.Config, i); ok {
			return v // a preview (preview.go)
		}
	}
	w, bit := i/64, uint64(1)<<(i%64)
	if m.done[w]&bit != 0 {
		return m.held[w]&bit != 0
	}
	seg := &m.in.Config.Segments[i]
	v := m.eval(seg, 0)
	m.done[w] |= bit
	if v {
		m.held[w] |= bit
	}
	return v
}

// targets reports whether an action with targeting t is for the visitor:
// in one of its segments (or it names none), and in none it excludes.
func (m *members) targets(t *rules.Targeting) bool {
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
			if n := len(ref) - len(h); n >= 0 && equalFold(ref[n:], h) && (n == 0 || ref[n-1] == '.') {
				return true
			}
		}
		return false
	case rules.OpTraffic:
		return slices.Contains(p.Values, d.Traffic().String())
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
		return inRange(p, float64(m.clock().hour))
	case rules.OpWeekday:
		wd := m.clock().wday
		for _, v := range p.Values {
			if len(v) == 1 && int(v[0]-'0') == wd {
				return true
			}
		}
		return false
	case rules.OpDate:
		return inRange(p, m.clock().day)
	case rules.OpTopCategories:
		half := in.Config.Profiles.InterestHalfLife.D()
		for _, c := range p.IDs {
			if rank, ok := d.InterestRank(c, in.Now, half); ok && rank < p.N {
				return true
			}
		}
		return false
	case rules.OpViewedProducts:
		for _, key := range p.IDs {
			if d.Viewed(key) {
				return true
			}
			if in.Catalog != nil {
				if id, ok := in.Catalog.ResolveKey(key); ok && id != key && d.Viewed(id) {
					return true
				}
			}
		}
		return false
	case rules.OpViewedCategories:
		for _, c := range p.IDs {
			if d.HasInterest(c) {
				return true
			}
		}
		return false
	case rules.OpSearched:
		for i := 0; ; i++ {
			q := d.SearchTerm(i)
			if q == nil {
				return false
			}
			for _, term := range p.Values {
				if containsWord(q, term) {
					return true
				}
			}
		}
	case rules.OpCountry:
		c := in.Request.Place.Country
		if c[0] == 0 {
			return false
		}
		for _, v := range p.Values {
			if v == string(c[:]) {
				return true
			}
		}
		return false
	case rules.OpLanguage:
		l := in.Request.Place.Language[:in.Request.Place.languageLen()]
		if len(l) == 0 {
			return false
		}
		for _, v := range p.Values {
			if v == string(l) {
				return true
			}
		}
		return false
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
		if equalFold(b, v) {
			return true
		}
	}
	return false
}

// equalFold reports whether b and s are equal under simple Unicode case
// folding, as strings.EqualFold, without converting either.
func equalFold(b []byte, s string) bool {
	// ASCII, the common case, a byte at a time.
	for len(b) > 0 && len(s) > 0 && b[0] < utf8.RuneSelf && s[0] < utf8.RuneSelf {
		if c, d := b[0], s[0]; c != d && (c|0x20 != d|0x20 || c|0x20 < 'a' || c|0x20 > 'z') {
			return false
		}
		b, s = b[1:], s[1:]
	}
	for len(b) > 0 && len(s) > 0 {
		var r, q rune
		if b[0] < utf8.RuneSelf {
			r, b = rune(b[0]), b[1:]
		} else {
			var n int
			r, n = utf8.DecodeRune(b)
			b = b[n:]
		}
		if s[0] < utf8.RuneSelf {
			q, s = rune(s[0]), s[1:]
		} else {
			var n int
			q, n = utf8.DecodeRuneInString(s)
			s = s[n:]
		}
		if r == q {
			continue
		}
		if q < r {
			r, q = q, r
		}
		if q < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' && q == r+'a'-'A' {
				continue
			}
			return false
		}
		f := unicode.SimpleFold(r)
		for f != r && f < q {
			f = unicode.SimpleFold(f)
		}
		if f != q {
			return false
		}
	}
	return len(b) == len(s)
}

// containsWord reports whether the term (lowercase; a word or words) is
// in q, without case, as whole words: neither side of it touches a letter
// or digit.
func containsWord(q []byte, term string) bool {
	if term == "" {
		return false
	}
	ascii := isASCII(q) && isASCIIString(term)
	for i := 0; i < len(q); i++ {
		if !utf8.RuneStart(q[i]) || i > 0 && isWordBefore(q, i) {
			continue // inside a character, or a word
		}
		if ascii { // folding keeps lengths
			if j := i + len(term); j <= len(q) && equalFold(q[i:j], term) && (j == len(q) || !isWordByte(q, j)) {
				return true
			}
			continue
		}
		for j := i + 1; j <= len(q); j++ {
			if (j == len(q) || utf8.RuneStart(q[j])) && equalFold(q[i:j], term) && (j == len(q) || !isWordByte(q, j)) {
				return true
			}
		}
	}
	return false
}

// isASCII reports whether b is all ASCII.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isASCIIString reports whether s is all ASCII.
func isASCIIString(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isWordByte reports whether the character starting at q[i] is a letter or
// digit; a byte inside a character is not a start.
func isWordByte(q []byte, i int) bool {
	if !utf8.RuneStart(q[i]) {
		return false
	}
	r, _ := utf8.DecodeRune(q[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// isWordBefore reports whether the character before q[i] is a letter or
// digit.
func isWordBefore(q []byte, i int) bool {
	r, _ := utf8.DecodeLastRune(q[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// shareBucket places a visitor in one of 10,000 buckets, stably for a
// salt: the same visitor, the same bucket, in every process and after
// every restart; another salt, an independent bucket.
func shareBucket(visitorID, salt string) float64 {
	h := (xxhash.Sum64String(visitorID) ^ xxhash.Sum64String(salt)) * 0x9e3779b97f4a7c15
	return float64((h >> 32) % 10000)
}
