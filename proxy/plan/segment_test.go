package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/agent"
	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/proxy/recommend"
	"shopedge/proxy/traffic"
	"shopedge/rules"
)

// lookup is a request's cookies and headers.
type lookup struct{ cookies, headers map[string]string }

func (l lookup) Cookie(name string) []byte { return value(l.cookies, name) }
func (l lookup) Header(name string) []byte { return value(l.headers, name) }

func value(m map[string]string, k string) []byte {
	if v, ok := m[k]; ok {
		return []byte(v)
	}
	return nil
}

// bytesLookup is a lookup that allocates nothing, for benchmarks.
type bytesLookup struct{ cookies, headers map[string][]byte }

func (l bytesLookup) Cookie(name string) []byte { return l.cookies[name] }
func (l bytesLookup) Header(name string) []byte { return l.headers[name] }

// segmentConfig compiles a configuration with one segment, "s", of the
// given condition (YAML, indented under it).
func segmentConfig(t *testing.T, cond string) *rules.Compiled {
	t.Helper()
	c, err := rules.Parse("segments.yaml", []byte("upstream:\n  url: http://127.0.0.1:8081\ntime_zone: Europe/Berlin\nplace:\n  country_header: CF-IPCountry\nsegments:\n  s:\n"+cond+
		"  other:\n    device: [mobile]\n"))
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return c
}

func segmentIndex(t *testing.T, c *rules.Compiled, name string) int {
	t.Helper()
	for i, s := range c.Segments {
		if s.Name == name {
			return i
		}
	}
	t.Fatalf("no segment %q", name)
	return -1
}

// TestSegmentConditions: each condition, and their combinations, against
// visitors built for them.
func TestSegmentConditions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	half := 7 * 24 * time.Hour
	// returning: a second visit, a week after the first.
	returning := func() profile.Data {
		var d profile.Data
		d.Touch(now.Add(-7*24*time.Hour), 30*time.Minute)
		d.Touch(now.Add(-time.Minute), 30*time.Minute)
		return d
	}
	first := func() profile.Data {
		var d profile.Data
		d.Touch(now, 30*time.Minute)
		return d
	}
	with := func(base func() profile.Data, f func(*profile.Data)) func() profile.Data {
		return func() profile.Data { d := base(); f(&d); return d }
	}
	boots := catalog.Product{ID: 1, Name: "Boots", URL: "/p/boots", Price: 80, Currency: "EUR"}
	shoes := catalog.CategoryID(catalog.PathKey("/c/shoes"), "")
	tests := []struct {
		name    string
		cond    string
		d       func() profile.Data
		look    lookup
		visitor string
		want    bool
	}{
		{"built-in returning", "    segment: returning\n", returning, lookup{}, "v1", true},
		{"built-in new", "    segment: new\n", returning, lookup{}, "v1", false},
		{"visits at least 2", "    visits: {at_least: 2}\n", returning, lookup{}, "v1", true},
		{"visits at most 1", "    visits: {at_most: 1}\n", returning, lookup{}, "v1", false},
		{"days since last visit", "    days_since_last_visit: {at_least: 6}\n", returning, lookup{}, "v1", true},
		{"days since last visit: too few", "    days_since_last_visit: {at_least: 8}\n", returning, lookup{}, "v1", false},
		{"days since last visit: a first visit has none", "    days_since_last_visit: {at_most: 100}\n", first, lookup{}, "v1", false},
		{"utm source", "    utm_source: newsletter\n", with(first, func(d *profile.Data) { d.SetSource(profile.Source{UTMSource: "Newsletter"}) }), lookup{}, "v1", true},
		{"utm source: another", "    utm_source: [ads, partner]\n", with(first, func(d *profile.Data) { d.SetSource(profile.Source{UTMSource: "newsletter"}) }), lookup{}, "v1", false},
		{"referrer subdomain", "    referrer: google.com\n", with(first, func(d *profile.Data) { d.SetSource(profile.Source{Referrer: "www.google.com"}) }), lookup{}, "v1", true},
		{"referrer look-alike", "    referrer: google.com\n", with(first, func(d *profile.Data) { d.SetSource(profile.Source{Referrer: "notgoogle.com"}) }), lookup{}, "v1", false},
		{"device", "    device: [tablet, mobile]\n", with(first, func(d *profile.Data) { d.Device = agent.Device{Class: agent.Mobile} }), lookup{}, "v1", true},
		{"os", "    os: ios\n", with(first, func(d *profile.Data) { d.Device = agent.Device{Class: agent.Mobile, OS: agent.IOS} }), lookup{}, "v1", true},
		{"browser", "    browser: firefox\n", with(first, func(d *profile.Data) { d.Device = agent.Device{Browser: agent.Chrome} }), lookup{}, "v1", false},
		{"cart empty", "    cart: empty\n", first, lookup{}, "v1", true},
		{"cart not empty", "    cart: not_empty\n", with(first, func(d *profile.Data) { d.AddToCart(1, 2, now) }), lookup{}, "v1", true},
		{"cart items", "    cart_items: {at_least: 2}\n", with(first, func(d *profile.Data) { d.AddToCart(1, 2, now) }), lookup{}, "v1", true},
		{"cart value", "    cart_value: {at_least: 150}\n", with(first, func(d *profile.Data) { d.AddToCart(1, 2, now) }), lookup{}, "v1", true},
		{"cart value: below", "    cart_value: {at_least: 200}\n", with(first, func(d *profile.Data) { d.AddToCart(1, 2, now) }), lookup{}, "v1", false},
		{"cart value: unknown price", "    cart_value: {at_most: 1000}\n", with(first, func(d *profile.Data) { d.AddToCart(9, 1, now) }), lookup{}, "v1", false},
		{"carts left", "    carts_left: {at_least: 1}\n", func() profile.Data {
			var d profile.Data
			d.Touch(now.Add(-2*time.Hour), 30*time.Minute)
			d.AddToCart(1, 1, now.Add(-2*time.Hour))
			d.Touch(now, 30*time.Minute)
			return d
		}, lookup{}, "v1", true},
		{"interest", "    interest: {category: /c/shoes, at_least: 1}\n", with(first, func(d *profile.Data) {
			d.ViewCategory([]catalog.ID{shoes}, now, half)
			d.ViewCategory([]catalog.ID{shoes}, now, half)
		}), lookup{}, "v1", true},
		{"interest: too little", "    interest: {category: /c/shoes, at_least: 3}\n", with(first, func(d *profile.Data) { d.ViewCategory([]catalog.ID{shoes}, now, half) }), lookup{}, "v1", false},
		{"cookie exists", "    cookie: {name: member}\n", first, lookup{cookies: map[string]string{"member": "1"}}, "v1", true},
		{"cookie missing", "    cookie: {name: member}\n", first, lookup{}, "v1", false},
		{"cookie equals", "    cookie: {name: tier, equals: gold}\n", first, lookup{cookies: map[string]string{"tier": "silver"}}, "v1", false},
		{"header matches", "    header: {name: CF-IPCountry, matches: '^(DE|AT|CH)$'}\n", first, lookup{headers: map[string]string{"CF-IPCountry": "AT"}}, "v1", true},
		{"share 100%", "    share: {percent: 100}\n", first, lookup{}, "v1", true},
		{"share 0%", "    share: {percent: 0}\n", first, lookup{}, "v1", false},
		{"all", "    all:\n      - segment: returning\n      - visits: {at_least: 2}\n", returning, lookup{}, "v1", true},
		{"all: one fails", "    all:\n      - segment: returning\n      - cart: not_empty\n", returning, lookup{}, "v1", false},
		{"any", "    any:\n      - cart: not_empty\n      - segment: returning\n", returning, lookup{}, "v1", true},
		{"not", "    not: {segment: customer}\n", returning, lookup{}, "v1", true},
		// now is 15:00 UTC on Tuesday 1 December 2026: 16:00 in Berlin.
		{"hour in the time zone", "    hour: {at_least: 16, at_most: 17}\n", first, lookup{}, "v1", true},
		{"hour: not UTC's", "    hour: {at_most: 15}\n", first, lookup{}, "v1", false},
		{"weekday", "    weekday: [mon, tue]\n", first, lookup{}, "v1", true},
		{"weekend", "    weekday: [sat, sun]\n", first, lookup{}, "v1", false},
		{"date range", "    date: {from: 2026-11-27, until: 2026-12-01}\n", first, lookup{}, "v1", true},
		{"date range over", "    date: {until: 2026-11-30}\n", first, lookup{}, "v1", false},
		{"another segment", "    segment: other\n", with(first, func(d *profile.Data) { d.Device = agent.Device{Class: agent.Mobile} }), lookup{}, "v1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := segmentConfig(t, tt.cond)
			d := tt.d()
			in := &Input{Config: c, Profile: &d, Now: now, Catalog: &fakeCatalog{products: map[catalog.ID]catalog.Product{1: boots}},
				Request: Request{VisitorID: tt.visitor, Lookup: tt.look}}
			m := &members{in: in}
			if got := m.member(segmentIndex(t, c, "s")); got != tt.want {
				t.Errorf("member = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMoreSegmentConditions: traffic class, interest, views, searches,
// country and language, alone and combined, true and false.
func TestMoreSegmentConditions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	half := 7 * 24 * time.Hour
	cat := func(p string) catalog.ID { return catalog.CategoryID(catalog.PathKey(p), "") }
	shoes, boots, hats, socks := cat("/c/shoes"), cat("/c/boots"), cat("/c/hats"), cat("/c/socks")
	trail := catalog.KeyOf("/p/trail-shoe")
	sku := catalog.KeyOf("SKU-42") // a product known by its SKU, at /p/rain-boot
	visitor := func(f func(d *profile.Data)) profile.Data {
		var d profile.Data
		d.Touch(now, 30*time.Minute)
		if f != nil {
			f(&d)
		}
		return d
	}
	// interested: boots strongest, then shoes, hats, socks.
	interested := visitor(func(d *profile.Data) {
		for range 4 {
			d.ViewProduct(1, []catalog.ID{boots}, now, half)
		}
		for range 3 {
			d.ViewCategory([]catalog.ID{shoes}, now, half)
		}
		d.ViewProduct(sku, []catalog.ID{hats}, now, half)
		d.ViewCategory([]catalog.ID{socks}, now, half)
	})
	searcher := visitor(func(d *profile.Data) {
		d.Search("Trail Running Shoes")
		d.Search("größe 42")
	})
	from := func(c traffic.Class) profile.Data {
		return visitor(func(d *profile.Data) { d.SetSource(profile.Source{Class: c}) })
	}
	de := Place{Country: [2]byte{'D', 'E'}, Language: [3]byte{'d', 'e'}}
	tests := []struct {
		name  string
		cond  string
		d     profile.Data
		place Place
		want  bool
	}{
		{"traffic paid", "    traffic: [paid]\n", from(traffic.Paid), Place{}, true},
		{"traffic: one of two", "    traffic: [search, social]\n", from(traffic.Social), Place{}, true},
		{"traffic: another class", "    traffic: paid\n", from(traffic.Email), Place{}, false},
		{"traffic direct is the zero", "    traffic: direct\n", visitor(nil), Place{}, true},
		{"top categories: the strongest", "    top_categories: {categories: [/c/boots], within: 1}\n", interested, Place{}, true},
		{"top categories: third within 3", "    top_categories: {categories: [/c/hats]}\n", interested, Place{}, true},
		{"top categories: fourth, not within 3", "    top_categories: {categories: [/c/socks]}\n", interested, Place{}, false},
		{"top categories: one of them", "    top_categories: {categories: [/c/socks, /c/shoes], within: 2}\n", interested, Place{}, true},
		{"top categories: never viewed", "    top_categories: {categories: [/c/coats], within: 12}\n", interested, Place{}, false},
		{"viewed product by path", "    viewed_products: [/p/trail-shoe]\n", visitor(func(d *profile.Data) { d.ViewProduct(trail, nil, now, half) }), Place{}, true},
		{"viewed product by path, trailing slash", "    viewed_products: [/p/trail-shoe/]\n", visitor(func(d *profile.Data) { d.ViewProduct(trail, nil, now, half) }), Place{}, true},
		{"viewed product by SKU", "    viewed_products: [SKU-42]\n", interested, Place{}, true},
		{"viewed product known by SKU, by its path", "    viewed_products: [/p/rain-boot]\n", interested, Place{}, true},
		{"viewed product: not viewed", "    viewed_products: [/p/trail-shoe]\n", interested, Place{}, false},
		{"viewed category: a product in it", "    viewed_categories: [/c/hats]\n", interested, Place{}, true},
		{"viewed category: its page", "    viewed_categories: [/c/socks]\n", interested, Place{}, true},
		{"viewed category: not", "    viewed_categories: [/c/coats]\n", interested, Place{}, false},
		{"searched a word, without case", "    searched: [running]\n", searcher, Place{}, true},
		{"searched words", "    searched: [trail running]\n", searcher, Place{}, true},
		{"searched: part of a word does not count", "    searched: [shoe]\n", searcher, Place{}, false},
		{"searched: ß is not ss (simple folding)", "    searched: [GRÖSSE]\n", searcher, Place{}, false},
		{"searched: Unicode", "    searched: [Größe]\n", searcher, Place{}, true},
		{"searched a number", "    searched: ['42']\n", searcher, Place{}, true},
		{"searched: nothing searched", "    searched: [shoes]\n", visitor(nil), Place{}, false},
		{"country", "    country: [AT, DE]\n", visitor(nil), de, true},
		{"country: lowercase in the file", "    country: [de]\n", visitor(nil), de, true},
		{"country: another", "    country: [FR]\n", visitor(nil), de, false},
		{"country: unknown", "    country: [DE]\n", visitor(nil), Place{}, false},
		{"language", "    language: [fr, de]\n", visitor(nil), de, true},
		{"language: another", "    language: [fr]\n", visitor(nil), de, false},
		{"language: unknown", "    language: [de]\n", visitor(nil), Place{}, false},
		{"all: paid from Germany", "    all:\n      - traffic: [paid]\n      - country: [DE]\n", from(traffic.Paid), de, true},
		{"all: paid, but not from Germany", "    all:\n      - traffic: [paid]\n      - country: [DE]\n", from(traffic.Paid), Place{Country: [2]byte{'F', 'R'}}, false},
		{"any: a search or a view", "    any:\n      - searched: [boots]\n      - viewed_categories: [/c/boots]\n", interested, Place{}, true},
		{"not: not German speaking", "    not: {language: [de]}\n", visitor(nil), de, false},
	}
	cat42 := &fakeCatalog{products: map[catalog.ID]catalog.Product{sku: {ID: sku, SKU: "SKU-42", URL: "/p/rain-boot"}},
		aliases: map[catalog.ID]catalog.ID{catalog.KeyOf("/p/rain-boot"): sku}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := segmentConfig(t, tt.cond)
			d := tt.d
			in := &Input{Config: c, Profile: &d, Now: now, Catalog: cat42, Request: Request{VisitorID: "v1", Place: tt.place}}
			m := &members{in: in}
			if got := m.member(segmentIndex(t, c, "s")); got != tt.want {
				t.Errorf("member = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestManySegments: a decision past 64 segments keeps each outcome in its
// own bit.
func TestManySegments(t *testing.T) {
	t.Parallel()
	var y strings.Builder
	y.WriteString("upstream:\n  url: http://127.0.0.1:8081\nsegments:\n")
	for i := range 200 {
		if i%3 == 0 {
			fmt.Fprintf(&y, "  s%03d:\n    device: [desktop]\n", i)
		} else {
			fmt.Fprintf(&y, "  s%03d:\n    device: [mobile]\n", i)
		}
	}
	c, err := rules.Parse("many.yaml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	var d profile.Data
	d.Device = agent.Device{Class: agent.Desktop}
	m := &members{in: &Input{Config: c, Profile: &d, Now: time.Now()}}
	for pass := range 2 { // the second pass reads the bits
		for i := range 200 {
			if got, want := m.member(segmentIndex(t, c, fmt.Sprintf("s%03d", i))), i%3 == 0; got != want {
				t.Fatalf("pass %d: s%03d = %v, want %v", pass, i, got, want)
			}
		}
	}
}

// TestParsePlace: the country header and Accept-Language, as browsers and
// CDNs send them.
func TestParsePlace(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"DE", "DE"}, {" at ", "AT"}, {"XX", ""}, {"T1", ""}, {"", ""}, {"DEU", ""}, {"D", ""},
	} {
		c := ParseCountry([]byte(tt.in))
		if got := strings.TrimRight(string(c[:]), "\x00"); got != tt.want {
			t.Errorf("ParseCountry(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"de-CH,de;q=0.9,en;q=0.8", "de"},
		{"en-US", "en"},
		{"fr;q=0.5, DE;q=0.9", "de"},
		{"*;q=1, it;q=0.2", "it"},
		{"es;q=0, pt-BR;q=0.1", "pt"},
		{"gsw, de;q=0.5", "gsw"},
		{"en;q=0.5, de;q=0.5", "en"},
		{"x-klingon, zh-Hant-TW;q=0.7", "zh"},
		{"de;q=2", ""},
		{"de;q=abc", ""},
		{"", ""},
	} {
		l := ParseLanguage([]byte(tt.in))
		if got := strings.TrimRight(string(l[:]), "\x00"); got != tt.want {
			t.Errorf("ParseLanguage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSegmentDetail: the explanation names the segment, the condition
// that failed at its path, and what was seen.
func TestSegmentDetail(t *testing.T) {
	t.Parallel()
	c, err := rules.Parse("t.yaml", []byte(`upstream:
  url: http://127.0.0.1:8081
place:
  country_header: CF-IPCountry
segments:
  newsletter:
    all:
      - utm_source: [newsletter]
      - not: {segment: customer}
  mobile:
    device: [mobile]
  either:
    any:
      - country: [DE, AT]
      - cart_value: {at_least: 100}
  no-mobile:
    not: {segment: mobile}
  big-fan:
    top_categories: {categories: [/c/shoes], within: 1}
recommendations:
  blocks:
    - {id: a, pages: [home], selector: main, strategy: popular, segments: [newsletter]}
    - {id: b, pages: [home], selector: main, strategy: popular, segments: [mobile, either]}
    - {id: c, pages: [home], selector: main, strategy: popular, exclude: [mobile]}
    - {id: d, pages: [home], selector: main, strategy: popular, segments: [no-mobile]}
    - {id: e, pages: [home], selector: main, strategy: popular, segments: [big-fan, returning]}
    - {id: f, pages: [home], selector: main, strategy: popular}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var d profile.Data
	d.Touch(now, 30*time.Minute)
	d.Device = agent.Device{Class: agent.Mobile}
	d.SetSource(profile.Source{UTMSource: "google"})
	in := &Input{Config: c, Profile: &d, Now: now, Catalog: &fakeCatalog{}, Request: Request{VisitorID: "v1", Place: Place{Country: [2]byte{'F', 'R'}}}}
	for i, want := range []string{
		`segment newsletter: segments.newsletter.all[0].utm_source: got "google", want one of newsletter`,
		``, // in mobile: the action is for the visitor
		`segment mobile: excluded, and the visitor is in it: segments.mobile.device: got "mobile"`,
		`segment no-mobile: segments.no-mobile.not.segment: in mobile, want not`,
		`segment big-fan: segments.big-fan.top_categories: got /c/shoes not viewed, want one of /c/shoes in the 1 strongest; segment returning: got visit 1, want a later visit`,
		``,
	} {
		if got := SegmentDetail(in, c.Blocks[i].Target); got != want {
			t.Errorf("block %s: detail\n got %s\nwant %s", c.Blocks[i].ID, got, want)
		}
	}
	// A cookie's or header's value is never in an explanation: it may be
	// a session (found in review).
	vip, err := rules.Parse("t.yaml", []byte("upstream:\n  url: http://127.0.0.1:8081\nsegments:\n  vip:\n    cookie: {name: sid, matches: '^gold'}\n"+
		"recommendations:\n  blocks:\n    - {id: a, pages: [home], selector: main, strategy: popular, segments: [vip]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	secret := &Input{Config: vip, Profile: &d, Now: now, Catalog: &fakeCatalog{}, Request: Request{VisitorID: "v1",
		Lookup: bytesLookup{cookies: map[string][]byte{"sid": []byte("s3cr3t-session-token")}}}}
	if got := SegmentDetail(secret, vip.Blocks[0].Target); strings.Contains(got, "s3cr3t") || !strings.Contains(got, "a value not matching") {
		t.Errorf("cookie detail %q: want the value left out", got)
	}
	d.Device = agent.Device{Class: agent.Desktop}
	got := SegmentDetail(in, c.Blocks[1].Target)
	want := `segment mobile: segments.mobile.device: got "desktop", want one of mobile; segment either: segments.either.any: none holds (segments.either.any[0].country: got "FR", want one of DE, AT; segments.either.any[1].cart_value: got an empty cart, want at least 100)`
	if got != want {
		t.Errorf("detail\n got %s\nwant %s", got, want)
	}
}

// TestSegmentsAllocateNothing: every condition evaluates without
// allocating (not parallel: AllocsPerRun).
func TestSegmentsAllocateNothing(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	conds := []string{
		"visits: {at_least: 2}", "days_since_last_visit: {at_least: 1}", "carts_left: {at_least: 1}",
		"utm_source: [newsletter]", "utm_medium: [email]", "utm_campaign: [xmas]", "referrer: [google.com]", "traffic: [search]",
		"device: [desktop]", "os: [linux]", "browser: [firefox]", "cart: empty", "cart_items: {at_least: 1}", "cart_value: {at_least: 1}",
		"interest: {category: /c/shoes}", "top_categories: {categories: [/c/shoes]}", "viewed_products: [/p/boots]",
		"viewed_categories: [/c/shoes]", "searched: [größe, boots]", "cookie: {name: member, equals: gold}",
		"header: {name: X-Test, matches: '^a'}", "share: {percent: 50}", "hour: {at_least: 8}", "weekday: [mon]",
		"date: {from: 2026-01-01}", "country: [DE]", "language: [de]", "segment: customer",
	}
	var y strings.Builder
	y.WriteString("upstream:\n  url: http://127.0.0.1:8081\ntime_zone: Europe/Berlin\nplace:\n  country_header: X-Country\nsegments:\n")
	for i, cond := range conds {
		fmt.Fprintf(&y, "  s%02d:\n    any:\n      - %s\n      - not: {%s}\n", i, cond, cond)
	}
	c, err := rules.Parse("alloc.yaml", []byte(y.String()))
	if err != nil {
		t.Fatal(err)
	}
	var d profile.Data
	d.Touch(now.Add(-48*time.Hour), 30*time.Minute)
	d.Touch(now, 30*time.Minute)
	d.SetSource(profile.Source{UTMSource: "Newsletter", Referrer: "www.google.com", Class: traffic.Search})
	d.ViewProduct(1, []catalog.ID{catalog.CategoryID("/c/shoes", "")}, now, time.Hour)
	d.Search("Größe 42 Boots")
	d.AddToCart(1, 1, now)
	in := &Input{Config: c, Profile: &d, Now: now,
		Catalog: &fakeCatalog{products: map[catalog.ID]catalog.Product{1: {ID: 1, URL: "/p/boots", Price: 10, Currency: "EUR"}}},
		Request: Request{VisitorID: "v1", Place: Place{Country: [2]byte{'D', 'E'}, Language: [3]byte{'d', 'e'}},
			Lookup: bytesLookup{cookies: map[string][]byte{"member": []byte("gold")}, headers: map[string][]byte{"X-Test": []byte("abc")}}}}
	n := testing.AllocsPerRun(20, func() {
		m := members{in: in}
		for i := range c.Segments {
			m.member(i)
		}
	})
	if n != 0 {
		t.Errorf("evaluating every condition allocates %v times", n)
	}
}

// TestShareStable: a share picks the same visitors every time, about the
// share asked for, and another salt picks others.
func TestShareStable(t *testing.T) {
	t.Parallel()
	in, n := 0, 10000
	same := 0
	for i := range n {
		id := "visitor-" + string(rune('a'+i%26)) + time.Duration(i).String()
		a := shareBucket(id, "s") < 1000
		if a != (shareBucket(id, "s") < 1000) {
			t.Fatal("a visitor's bucket changed")
		}
		if a {
			in++
			if shareBucket(id, "other") < 1000 {
				same++
			}
		}
	}
	if in < 900 || in > 1100 {
		t.Errorf("a 10%% share took %d of %d visitors", in, n)
	}
	if same > in/5 {
		t.Errorf("another salt kept %d of the %d visitors in its 10%%: not independent", same, in)
	}
}

// TestTargeting: an action's segments are any-of, its exclude none-of,
// and a block, banner, menu or overlay for others keeps the shop's bytes
// with the reason.
func TestTargeting(t *testing.T) {
	t.Parallel()
	c, err := rules.Parse("t.yaml", []byte(`upstream:
  url: http://127.0.0.1:8081
segments:
  mobile:
    device: [mobile]
recommendations:
  blocks:
    - {id: for-mobile, pages: [home], selector: main, strategy: popular, segments: [mobile]}
    - {id: not-returning, pages: [home], selector: main, strategy: popular, exclude: [returning]}
    - {id: everyone, pages: [home], selector: main, strategy: popular}
`))
	if err != nil {
		t.Fatal(err)
	}
	var d profile.Data
	d.Touch(time.Now(), 30*time.Minute)
	d.Device = agent.Device{Class: agent.Desktop}
	m := &members{in: &Input{Config: c, Profile: &d, Now: time.Now()}}
	for i, want := range []bool{false, true, true} {
		if got := m.targets(&c.Blocks[i].Target); got != want {
			t.Errorf("block %s: targets = %v, want %v", c.Blocks[i].ID, got, want)
		}
	}
}

// oneProduct is an engine and a catalog of one product that cost next to
// nothing, so that BenchmarkDecideSegments measures deciding, not the
// fakes' maps: the real engine's and catalog's costs are theirs
// (recommend's and catalog's benchmarks).
type oneProduct struct{ p catalog.Product }

func (o *oneProduct) Append(dst []recommend.ID, _ *recommend.Context, _ recommend.Request, _ recommend.Catalog) []recommend.ID {
	return append(dst, o.p.ID)
}
func (o *oneProduct) Card(id catalog.ID) (catalog.Card, bool) {
	return catalog.CardOf(&o.p), id == o.p.ID
}
func (o *oneProduct) CardPath(id catalog.ID, cats []catalog.ID) ([]catalog.ID, catalog.Card, bool) {
	return cats, catalog.CardOf(&o.p), id == o.p.ID
}
func (o *oneProduct) ResolveKey(key catalog.ID) (catalog.ID, bool) {
	return key, key == o.p.ID
}
func (o *oneProduct) PathOf(key catalog.ID, cats []catalog.ID) (catalog.ID, bool, []catalog.ID) {
	return key, key == o.p.ID, cats
}

// BenchmarkDecideSegments decides a product page of 40 targeted blocks
// and 10 targeted overlays (50 actions) over 20 segments, for a returning
// desktop visitor from a campaign: what segments cost on the hot path.
func BenchmarkDecideSegments(b *testing.B) {
	var y strings.Builder
	y.WriteString("upstream:\n  url: http://127.0.0.1:8081\nsegments:\n")
	conds := []string{
		"device: [desktop]", "device: [mobile]", "utm_source: [newsletter]", "visits: {at_least: 2}",
		"cart: empty", "cart_items: {at_least: 1}", "interest: {category: /c/shoes, at_least: 1}",
		"cookie: {name: member}", "header: {name: X-Country, matches: '^(DE|AT)$'}", "share: {percent: 50}",
	}
	for i := range 20 {
		fmt.Fprintf(&y, "  s%d:\n    all:\n      - %s\n      - not: {segment: customer}\n", i, conds[i%len(conds)])
	}
	y.WriteString("recommendations:\n  blocks:\n")
	for i := range 40 {
		fmt.Fprintf(&y, "    - {id: b%d, pages: [product], selector: main, strategy: popular, segments: [s%d, s%d], exclude: [s%d]}\n", i, i%20, (i+3)%20, (i+7)%20)
	}
	y.WriteString("overlays:\n  rules:\n")
	for i := range 10 {
		fmt.Fprintf(&y, "    - {id: o%d, kind: timed, pages: [product], title: T, priority: %d, segments: [s%d], exclude: [s%d]}\n", i, i, (i*2)%20, (i*2+1)%20)
	}
	cfg, err := rules.Parse("bench.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	var rs []page.Region
	for i := range 40 {
		rs = append(rs, page.Region{Kind: page.Block, Index: i})
	}
	rs = append(rs, page.Region{Kind: page.Head}, page.Region{Kind: page.Body})
	a := regions(rs...)
	now := time.Now()
	var d profile.Data
	d.Touch(now.Add(-48*time.Hour), 30*time.Minute)
	d.Touch(now, 30*time.Minute)
	d.Device = agent.Device{Class: agent.Desktop}
	d.SetSource(profile.Source{UTMSource: "newsletter"})
	in := input(cfg, a, &d)
	in.Now = now
	one := &oneProduct{p: catalog.Product{ID: 1, Name: "Boots", URL: "/p/boots"}}
	in.Engine, in.Catalog = one, one
	in.Request.Lookup = bytesLookup{cookies: map[string][]byte{"member": []byte("1")}, headers: map[string][]byte{"X-Country": []byte("DE")}}
	b.ReportAllocs()
	for b.Loop() {
		pl := Decide(in)
		if !pl.Changed() {
			b.Fatal("nothing decided")
		}
		pl.Release()
	}
}

// BenchmarkSegments evaluates 20 segments of mixed conditions for one
// visitor, as a decision does when its actions target all of them: just
// the segments, without the rest of Decide.
func BenchmarkSegments(b *testing.B) { benchSegments(b, 20) }

// BenchmarkSegmentsMany is BenchmarkSegments with 100 segments: past the
// first 64.
func BenchmarkSegmentsMany(b *testing.B) { benchSegments(b, 100) }

func benchSegments(b *testing.B, segments int) {
	var y strings.Builder
	y.WriteString("upstream:\n  url: http://127.0.0.1:8081\ntime_zone: Europe/Berlin\nsegments:\n")
	conds := []string{
		"device: [desktop]", "utm_source: [newsletter, partner]", "visits: {at_least: 2}", "cart_value: {at_least: 50}",
		"interest: {category: /c/shoes, at_least: 1}", "cookie: {name: member, equals: gold}", "header: {name: X-Country, matches: '^(DE|AT)$'}",
		"share: {percent: 50}", "hour: {at_least: 8, at_most: 20}", "weekday: [sat, sun]", "referrer: [google.com, bing.com]",
	}
	for i := range segments {
		fmt.Fprintf(&y, "  s%d:\n    all:\n      - %s\n      - not: {segment: customer}\n", i, conds[i%len(conds)])
	}
	cfg, err := rules.Parse("bench.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var d profile.Data
	d.Touch(now.Add(-48*time.Hour), 30*time.Minute)
	d.Touch(now, 30*time.Minute)
	d.Device = agent.Device{Class: agent.Desktop}
	d.SetSource(profile.Source{UTMSource: "newsletter", Referrer: "www.google.com"})
	d.AddToCart(1, 1, now)
	in := &Input{Config: cfg, Profile: &d, Now: now, Catalog: &fakeCatalog{products: map[catalog.ID]catalog.Product{1: {ID: 1, Name: "Boots", URL: "/p/boots", Price: 80, Currency: "EUR"}}},
		Request: Request{VisitorID: "v1", Lookup: bytesLookup{cookies: map[string][]byte{"member": []byte("gold")}, headers: map[string][]byte{"X-Country": []byte("DE")}}}}
	first := len(rules.Segments)
	b.ReportAllocs()
	for b.Loop() {
		m := members{in: in}
		n := 0
		for i := first; i < len(cfg.Segments); i++ {
			if m.member(i) {
				n++
			}
		}
		if n == 0 {
			b.Fatal("in no segment")
		}
	}
}

// TestEqualFold agrees with strings.EqualFold.
func TestEqualFold(t *testing.T) {
	t.Parallel()
	words := []string{"", "a", "A", "newsletter", "NewsLetter", "newsletters", "@", "`", "[", "{", "K", "\u212a", "k", "größe", "GRÖSSE", "GRÖßE", "ǅ", "ǆ", "Ǆ", "σ", "Σ", "ς", "a\xffb", "A\xffB"}
	for _, a := range words {
		for _, b := range words {
			if got, want := equalFold([]byte(a), b), strings.EqualFold(a, b); got != want {
				t.Errorf("equalFold(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}
