package plan

import (
	"reflect"
	"testing"
	"time"

	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// placesConfig has three swaps of one place (the hero's headline), by
// priority: for newsletter readers (from 2026-12-01), for returning
// visitors, for everyone; one switched off; and two blocks of one place.
const placesConfig = `
upstream: {url: 'http://127.0.0.1:1'}
segments:
  newsletter: {utm_source: [newsletter]}
content:
  - id: everyone
    pages: [home]
    selector: '.hero h1'
    html: Hello
  - id: newsletter
    pages: [home]
    selector: '.hero h1'
    segments: [newsletter]
    priority: 20
    html: 'Hello, {{.UTMSource}} reader'
  - id: returning
    pages: [home]
    selector: '.hero h1'
    segments: [returning]
    priority: 10
    html: Welcome back
  - id: off
    pages: [home]
    selector: '.hero h1'
    priority: 30
    enabled: false
    html: Never
  - id: december
    pages: [home]
    selector: '.hero h1'
    priority: 25
    starts: '2026-12-01T00:00:00Z'
    html: December
recommendations:
  blocks:
    - {id: bought, pages: [home], selector: main, strategy: also_bought, priority: 5, min: 2}
    - {id: popular, pages: [home], selector: main, strategy: popular}
`

// TestPlaces: the place goes to the first by rank that applies; the
// others keep why not (their own reason, or shadowed).
func TestPlaces(t *testing.T) {
	t.Parallel()
	cfg, err := rules.Parse("places.yaml", []byte(placesConfig))
	if err != nil {
		t.Fatal(err)
	}
	// The swaps' place, ranked as page.Analyze ranks it: off (30),
	// december (25), newsletter (20), returning (10), everyone (0).
	swaps := page.Region{Kind: page.Swap, Index: 3, Alts: []int{4, 1, 2, 0}}
	blocks := page.Region{Kind: page.Block, Index: 0, Alts: []int{1}}
	newsletter := func(d *profile.Data) { d.SetSource(profile.Source{UTMSource: "newsletter"}) }
	first := func(d *profile.Data) { *d = profile.Data{}; d.Touch(now, 0) }
	tests := []struct {
		name    string
		region  page.Region
		visitor func(*profile.Data)
		by      map[string][]catalog.ID
		want    Region
		others  []Other
		visit   Visit
	}{
		{"a campaign's visitor: its swap, with the visit", swaps, newsletter, nil,
			Region{Action: Swap, Index: 1},
			[]Other{{0, 3, WhyDisabled}, {0, 4, WhySchedule}, {0, 2, WhyShadowed}, {0, 0, WhyShadowed}},
			Visit{UTMSource: "newsletter", Device: "desktop", Visits: 2, Returning: true}},
		{"a returning visitor: the next that applies", swaps, nil, nil,
			Region{Action: Swap, Index: 2},
			[]Other{{0, 3, WhyDisabled}, {0, 4, WhySchedule}, {0, 1, WhySegment}, {0, 0, WhyShadowed}}, Visit{}},
		{"a new visitor: the one for everyone", swaps, first, nil,
			Region{Action: Swap, Index: 0},
			[]Other{{0, 3, WhyDisabled}, {0, 4, WhySchedule}, {0, 1, WhySegment}, {0, 2, WhySegment}}, Visit{}},
		{"a block with too few gives the place to the next", blocks, nil,
			map[string][]catalog.ID{"also_bought": {prodBoots}, "popular": {prodHat, prodBag}},
			Region{Action: Block, Index: 1, Products: []catalog.ID{prodHat, prodBag}},
			[]Other{{0, 0, WhyTooFew}}, Visit{}},
		{"the first block takes it, the next is shadowed", blocks, nil,
			map[string][]catalog.ID{"also_bought": {prodBoots, prodHat}, "popular": {prodBag}},
			Region{Action: Block, Index: 0, Products: []catalog.ID{prodBoots, prodHat}},
			[]Other{{0, 1, WhyShadowed}}, Visit{}},
		{"no block has enough: the first one's reason", blocks, nil, nil,
			Region{Index: 0, Why: WhyTooFew}, []Other{{0, 1, WhyTooFew}}, Visit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := returningProspect()
			if tt.visitor != nil {
				tt.visitor(&d)
			}
			in := input(cfg, regions(tt.region), &d)
			in.Request.Type = rules.PageHome
			in.Engine = &fakeEngine{by: tt.by}
			in.Explain = true
			pl := Decide(in)
			if got := pl.Regions[0]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(pl.Others, tt.others) {
				t.Errorf("others %+v, want %+v", pl.Others, tt.others)
			}
			if pl.Visit != tt.visit {
				t.Errorf("visit %+v, want %+v", pl.Visit, tt.visit)
			}
			if pl.Stylesheet >= 0 && tt.want.Action == Swap {
				t.Errorf("stylesheet at %d for a swap alone", pl.Stylesheet)
			}
		})
	}
}

// TestSwapSchedule: a swap runs from its start on.
func TestSwapSchedule(t *testing.T) {
	t.Parallel()
	cfg, err := rules.Parse("places.yaml", []byte(placesConfig))
	if err != nil {
		t.Fatal(err)
	}
	d := returningProspect()
	in := input(cfg, regions(page.Region{Kind: page.Swap, Index: 4}), &d)
	in.Request.Type = rules.PageHome
	for _, c := range []struct {
		name string
		at   string
		want Region
	}{
		{"before", "2026-11-30T23:59:59Z", Region{Index: 4, Why: WhySchedule}},
		{"from its start", "2026-12-01T00:00:00Z", Region{Action: Swap, Index: 4}},
	} {
		in.Now = mustTime(t, c.at)
		if got := Decide(in).Regions[0]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
