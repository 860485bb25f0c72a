package proxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"shopedge/proxy/plan"
	"shopedge/proxy/proxytest"
	"shopedge/rules"
)

// newsletterHero is what the demo home's hero headline says to a visitor
// who came from the newsletter (the content swap TestContentSwap adds).
const (
	shopHero       = `<h1>Well made, for the way you live.</h1>`
	newsletterHero = `<h1>Hello, newsletter reader: <em>10% off</em> new arrivals this week.</h1>`
)

// withNewsletterSwap adds to the demo configuration a newsletter segment
// and two content swaps for it on the home page: the hero's headline
// (static) and the first button's link (per visit, from the campaign).
func withNewsletterSwap(c *rules.Config) {
	addSegments(c, map[string]rules.Condition{"newsletter": {UTMSource: rules.StringList{"newsletter"}}})
	sel := func(s string) rules.Selector {
		sl, err := rules.CompileSelector(s)
		if err != nil {
			panic(err) // a constant selector
		}
		return sl
	}
	c.Content = []rules.Swap{
		{ID: "newsletter-hero", Pages: []rules.PageType{rules.PageHome}, Selector: sel(".hero h1"),
			Segments: []string{"newsletter"}, HTML: "Hello, newsletter reader: <em>10% off</em> new arrivals this week."},
		{ID: "newsletter-link", Pages: []rules.PageType{rules.PageHome}, Selector: sel(".hero a.btn"),
			Segments: []string{"newsletter"}, Attribute: &rules.SwapAttribute{Name: "href", Value: "/c/women?campaign={{.UTMCampaign}}"}},
	}
}

// TestContentSwap: on the demo shop's home page, a visitor from the
// newsletter (?utm_source=newsletter) gets the campaign's headline and
// link; one without gets the shop's hero, byte for byte. Every other byte
// of the two pages is the same, identity or gzip.
func TestContentSwap(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, withNewsletterSwap)
	direct := proxytest.Direct(t, e.upstream+"/", "")
	if !strings.Contains(direct, shopHero) || !strings.Contains(direct, `<a class="btn" href="/c/women">`) {
		t.Fatalf("the demo's home has no hero headline %q", shopHero)
	}
	for _, enc := range []string{"", "gzip"} {
		t.Run("encoding "+enc, func(t *testing.T) {
			get := func(v *visitor, path string) reply {
				req, _ := http.NewRequest("GET", e.url+path, nil)
				if enc != "" {
					req.Header.Set("Accept-Encoding", enc)
				}
				r := v.do(req)
				if got := r.resp.Header.Get("Content-Encoding"); got != enc {
					t.Fatalf("Content-Encoding %q, want %q", got, enc)
				}
				return r
			}
			plain := get(e.visitor(), "/").body
			reader := get(e.visitor(), "/?utm_source=newsletter&utm_campaign=spring%22%3E").body
			hero := func(body string) string {
				i, j := strings.Index(body, `<section class="hero">`), strings.Index(body, `<section class="section">`)
				if i < 0 || j < i {
					t.Fatalf("no hero on the page:\n%s", body)
				}
				return body[i:j]
			}
			if got, want := hero(plain), hero(direct); got != want {
				t.Errorf("a plain visitor's hero:\n%s\nwant the shop's:\n%s", got, want)
			}
			wantHero := strings.Replace(strings.Replace(hero(direct), shopHero, newsletterHero, 1),
				`<a class="btn" href="/c/women">`, `<a class="btn" href="/c/women?campaign=spring%22%3e">`, 1)
			if got := hero(reader); got != wantHero {
				t.Errorf("the newsletter reader's hero:\n%s\nwant:\n%s", got, wantHero)
			}
			if got, want := strings.Replace(reader, hero(reader), "", 1), strings.Replace(plain, hero(plain), "", 1); got != want {
				t.Errorf("the pages differ outside the hero")
			}
		})
	}
	if got := metricValue(t, e.proxy, `shopedge_swap_applied_total{swap="newsletter-hero"}`); got != "2" {
		t.Errorf("newsletter-hero applied %s times, want 2", got)
	}
}

// TestExplainSwaps: /explain names the swap that took the hero's headline
// for a newsletter reader, and the one it shadowed.
func TestExplainSwaps(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) {
		withNewsletterSwap(c)
		everyone := c.Content[0]
		everyone.ID, everyone.Segments, everyone.Priority, everyone.HTML = "everyone-hero", nil, -1, "Hello"
		c.Content = append(c.Content, everyone)
	})
	admin := startAdmin(t, e, "t0ken")
	v := e.visitor()
	first := v.get(e.url + "/?utm_source=newsletter")
	if !strings.Contains(first.body, newsletterHero) {
		t.Fatalf("no newsletter headline:\n%s", first.body)
	}
	resp, body := adminCall(t, "GET", admin+"/explain?visitor="+url.QueryEscape(visitorID(t, e, first))+"&path=/", "t0ken")
	if resp.StatusCode != 200 {
		t.Fatalf("explain: %d %s", resp.StatusCode, body)
	}
	var got explanation
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	want := map[string]regionWhy{
		"newsletter-hero": {Kind: "swap", ID: "newsletter-hero", Action: "swap"},
		"newsletter-link": {Kind: "swap", ID: "newsletter-link", Action: "swap"},
		"everyone-hero":   {Kind: "swap", ID: "everyone-hero", Action: "keep", Why: plan.WhyShadowed},
	}
	for _, r := range got.Regions {
		if r.Kind != "swap" {
			continue
		}
		if w, ok := want[r.ID]; !ok || !reflect.DeepEqual(r, w) {
			t.Errorf("region %+v, want %+v", r, w)
		}
		delete(want, r.ID)
	}
	if len(want) > 0 {
		t.Errorf("not explained: %v\n%s", want, body)
	}
}
