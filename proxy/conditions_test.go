package proxy

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"shopedge/rules"
)

// TestPlaceAndTrafficSegments: through the proxy, a block for paid
// traffic shows on a landing with a click id, one for Germany when the
// country header comes from a trusted proxy (or the edge is said to set
// it), and one for German speakers by Accept-Language.
func TestPlaceAndTrafficSegments(t *testing.T) {
	t.Parallel()
	target := func(c *rules.Config, seg string, cond rules.Condition) {
		addSegments(c, map[string]rules.Condition{seg: cond})
		for i := range c.Recommendations.Blocks {
			if c.Recommendations.Blocks[i].ID == "popular" {
				c.Recommendations.Blocks[i].Segments = []string{seg}
			}
		}
	}
	country := func(trusted []string, edge bool) func(*rules.Config) {
		return func(c *rules.Config) {
			c.Server.TrustedProxies = trusted
			c.Place = rules.Place{CountryHeader: "CF-IPCountry", EdgeSetsHeader: edge}
			target(c, "germany", rules.Condition{Country: rules.StringList{"DE"}})
		}
	}
	paid := func(c *rules.Config) { target(c, "paid", rules.Condition{Traffic: rules.StringList{"paid"}}) }
	german := func(c *rules.Config) { target(c, "german", rules.Condition{Language: rules.StringList{"de"}}) }
	tests := []struct {
		name    string
		config  func(*rules.Config)
		landing string // the landing's query
		header  map[string]string
		want    bool
	}{
		{"paid: a click id", paid, "?gclid=abc123", nil, true},
		{"paid: utm_medium cpc", paid, "?utm_source=google&utm_medium=cpc", nil, true},
		{"paid: a search engine's referrer is not", paid, "", map[string]string{"Referer": "https://www.google.com/"}, false},
		{"country from a trusted proxy", country([]string{"127.0.0.1/32"}, false), "", map[string]string{"CF-IPCountry": "DE"}, true},
		{"another country from a trusted proxy", country([]string{"127.0.0.1/32"}, false), "", map[string]string{"CF-IPCountry": "FR"}, false},
		{"country from an untrusted peer", country(nil, false), "", map[string]string{"CF-IPCountry": "DE"}, false},
		{"country set by the edge", country(nil, true), "", map[string]string{"CF-IPCountry": "DE"}, true},
		{"language", german, "", map[string]string{"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"}, true},
		{"another language first", german, "", map[string]string{"Accept-Language": "en-GB,de;q=0.5"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newShopEnv(t, tt.config)
			v := e.visitor()
			for k, val := range tt.header {
				v.header.Set(k, val)
			}
			// The landing is a product page (something to be popular), then
			// the home page, in the same visit.
			v.get(e.url + "/p/essential-grey-slip-dress-se-10001" + tt.landing)
			home := v.get(e.url + "/")
			if got := strings.Contains(home.body, `data-se-block="popular"`); got != tt.want {
				t.Errorf("popular block on the home page: %v, want %v", got, tt.want)
			}
		})
	}
}

// TestExplainSegmentDetail: /explain names, for a block denied by its
// segments and an overlay denied by its, the condition that failed and
// what was seen.
func TestExplainSegmentDetail(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) {
		c.Place.CountryHeader = "CF-IPCountry"
		addSegments(c, map[string]rules.Condition{
			"dach":   {Country: rules.StringList{"DE", "AT", "CH"}},
			"mobile": {Device: rules.StringList{"mobile"}},
		})
		for i := range c.Recommendations.Blocks {
			if c.Recommendations.Blocks[i].ID == "popular" {
				c.Recommendations.Blocks[i].Segments = []string{"dach"}
			}
		}
		for i := range c.Overlays.Rules {
			c.Overlays.Rules[i].Segments = []string{"mobile"}
		}
	})
	admin := startAdmin(t, e, "t0ken")
	v := e.visitor()
	id := visitorID(t, e, v.get(e.url+"/p/essential-grey-slip-dress-se-10001"))
	resp, body := adminCall(t, "GET", admin+"/explain?visitor="+url.QueryEscape(id)+"&path=/&country=FR", "t0ken")
	if resp.StatusCode != 200 {
		t.Fatalf("explain: %d %s", resp.StatusCode, body)
	}
	var got explanation
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	t.Logf("explain:\n%s", body)
	block := false
	for _, r := range got.Regions {
		if r.ID == "popular" {
			block = true
			if want := `segment dach: segments.dach.country: got "FR", want one of DE, AT, CH`; r.Why != "visitor not in its segments" || r.Detail != want {
				t.Errorf("popular: why %q, detail %q; want the segment, %q", r.Why, r.Detail, want)
			}
		}
	}
	if !block {
		t.Errorf("no popular block region:\n%s", body)
	}
	overlay := false
	for _, p := range got.Passed {
		if p.Why == "visitor not in its segments" {
			overlay = true
			if want := `segment mobile: segments.mobile.device: got "desktop", want one of mobile`; p.Detail != want {
				t.Errorf("overlay %s: detail %q, want %q", p.ID, p.Detail, want)
			}
		}
	}
	if !overlay {
		t.Errorf("no overlay passed over for its segment:\n%s", body)
	}
}
