package plan

import (
	"strings"
	"testing"
	"time"

	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// TestPreviewForces: under a preview of each segment, the segments the
// visitor is in: the previewed one, what it implies, never its
// contradiction, and the rest as evaluated (a first-time visitor on a
// desktop).
func TestPreviewForces(t *testing.T) {
	t.Parallel()
	c, err := rules.Parse("preview.yaml", []byte(`upstream:
  url: http://127.0.0.1:8081
segments:
  vip:
    all:
      - segment: customer
      - visits: {at_least: 3}
  fans: {segment: vip}
  not-vip: {not: {segment: vip}}
  mobile: {device: [mobile]}
  lapsed: {not: {any: [{segment: customer}, {segment: new}]}}
  either: {any: [{segment: customer}, {segment: mobile}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		preview string
		in      string // the segments held, in Compiled.Segments order (built-ins first, then by name)
	}{
		{"", "new prospect not-vip"},
		{"new", "new prospect not-vip"},
		{"returning", "returning prospect lapsed not-vip"},
		{"customer", "new customer either not-vip"},
		{"prospect", "new prospect not-vip"},
		{"vip", "new customer either fans vip"},
		{"fans", "new customer either fans vip"},
		{"not-vip", "new prospect not-vip"},
		{"mobile", "new prospect either mobile not-vip"},
		{"lapsed", "returning prospect lapsed not-vip"},
		{"either", "new prospect either not-vip"},
	}
	for _, tt := range tests {
		t.Run("preview "+tt.preview, func(t *testing.T) {
			var d profile.Data
			d.Touch(now, 30*time.Minute)
			in := &Input{Config: c, Profile: &d, Now: now, Request: Request{VisitorID: "AAAAAAAAAAAAAAAAAAAAAA"}}
			if tt.preview != "" {
				Preview(in, segmentIndex(t, c, tt.preview))
			}
			var got []string
			for i, held := range SegmentsOf(in) {
				if held {
					got = append(got, c.Segments[i].Name)
				}
			}
			if g := strings.Join(got, " "); g != tt.in {
				t.Errorf("in %q, want %q", g, tt.in)
			}
			if wantRet := strings.Contains(tt.in, "returning"); in.Request.Returning != wantRet && tt.preview != "" {
				t.Errorf("Request.Returning = %v, want %v", in.Request.Returning, wantRet)
			}
		})
	}
	// Out of range: no preview.
	var d profile.Data
	in := &Input{Config: c, Profile: &d, Now: now}
	Preview(in, len(c.Segments))
	if in.Request.Preview != 0 {
		t.Errorf("Preview out of range set %d", in.Request.Preview)
	}
}

// TestAppendExplain: the compact explanation of a plan, and its bounds.
func TestAppendExplain(t *testing.T) {
	t.Parallel()
	c, err := rules.Parse("explain.yaml", []byte(`upstream:
  url: http://127.0.0.1:8081
pages:
  - type: home
    path: '^/$'
recommendations:
  blocks:
    - id: also-viewed
      pages: [home]
      selector: main
      strategy: popular
    - id: popular
      pages: [home]
      selector: main
      strategy: popular
`))
	if err != nil {
		t.Fatal(err)
	}
	a := &page.Analysis{Regions: []page.Region{{Kind: page.Menu}, {Kind: page.Block, Index: 0}, {Kind: page.Block, Index: 1}, {Kind: page.Head}, {Kind: page.Body}}}
	tests := []struct {
		name string
		pl   func(*Plan)
		want string
	}{
		{"an overlay", func(pl *Plan) {
			pl.Overlay = &Chosen{CompiledOverlay: &rules.CompiledOverlay{Overlay: &rules.Overlay{ID: "exit-offer"}}}
			pl.Regions[0] = Region{Action: Reorder}
			pl.Regions[1] = Region{Action: Block}
			pl.Regions[2] = Region{Why: WhyTooFew}
			pl.Regions[4] = Region{Action: Body}
			pl.Passed = []Passed{{ID: "cart-reminder", Why: WhyCondition}, {ID: "upsell", Why: WhyPage}, {ID: "new-arrivals", Why: WhySegment}}
		}, "overlay=exit-offer; menu=reordered; block:also-viewed=shown; block:popular=too-few; overlay:cart-reminder=condition; overlay:new-arrivals=segment"},
		{"min_gap", func(pl *Plan) {
			pl.Regions[0] = Region{Why: WhyNewVisitor}
			pl.Regions[1] = Region{Why: WhySegment}
			pl.Regions[2] = Region{Why: "some new reason; with (odd) bytes"}
			pl.Regions[4] = Region{Why: WhyNoOverlay}
			pl.Passed = []Passed{{Why: WhyMinGap, Detail: "7m12s left"}}
		}, "overlay=none(no-overlay); menu=new-visitor; block:also-viewed=segment; block:popular=some-new-reason-with; overlays=min_gap(7m12s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := &Plan{Stylesheet: -1}
			pl.Regions = pl.regions[:len(a.Regions)]
			tt.pl(pl)
			if got := string(AppendExplain(nil, pl, a, c)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		pl := &Plan{Stylesheet: -1}
		pl.Regions = pl.regions[:len(a.Regions)]
		for range 200 {
			pl.Passed = append(pl.Passed, Passed{ID: "a-rather-long-overlay-identifier", Why: WhyCap, Detail: "x\r\ny\xff"})
		}
		got := AppendExplain([]byte("prefix"), pl, a, c)[len("prefix"):]
		if len(got) > MaxExplain || !strings.HasSuffix(string(got), " more") {
			t.Errorf("%d bytes, ending %q", len(got), got[max(0, len(got)-40):])
		}
		for _, b := range got {
			if b < ' ' || b >= 0x7f {
				t.Fatalf("byte %#x in %q", b, got)
			}
		}
	})
}
