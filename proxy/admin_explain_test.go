package proxy

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"shopedge/rules"
)

// TestExplain: GET /explain says what a visitor gets on a page and why
// not the rest (a visitor shown the exit offer a moment ago is denied
// every overlay by min_gap, with the time left), names the segments the
// visitor is in, and writes nothing: the profile count is the same after.
func TestExplain(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) {
		addSegments(c, map[string]rules.Condition{"desktop": {Device: rules.StringList{"desktop"}}})
	})
	admin := startAdmin(t, e, "t0ken")
	const path = "/p/essential-grey-slip-dress-se-10001"
	v := e.visitor()
	first := v.get(e.url + path)
	if !strings.Contains(first.body, `data-se-overlay="exit-offer"`) {
		t.Fatalf("no exit offer on the first product page:\n%s", first.body)
	}
	if code := v.beacon(e.url, `{"e":"shown","id":"exit-offer"}`, nil); code != 204 {
		t.Fatalf("beacon: %d", code)
	}
	id := visitorID(t, e, first)
	held := e.proxy.profiles.Stats().Held

	resp, body := adminCall(t, "GET", admin+"/explain?visitor="+url.QueryEscape(id)+"&path="+url.QueryEscape(path), "t0ken")
	if resp.StatusCode != 200 {
		t.Fatalf("explain: %d %s", resp.StatusCode, body)
	}
	var got explanation
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	t.Logf("explain:\n%s", body)
	if !got.Known || got.Page != "product" || got.Overlay != "" {
		t.Errorf("known %v, page %q, overlay %q; want a known visitor on a product page, no overlay", got.Known, got.Page, got.Overlay)
	}
	if len(got.Passed) != 1 || got.Passed[0].Why != "an overlay was shown within min_gap" || !strings.HasSuffix(got.Passed[0].Detail, " left") {
		t.Errorf("overlays passed = %+v, want min_gap with the time left", got.Passed)
	}
	if !got.Segments["new"] || got.Segments["returning"] || !got.Segments["desktop"] {
		t.Errorf("segments = %v, want new and desktop", got.Segments)
	}
	body2 := false
	for _, r := range got.Regions {
		if r.Kind == "block" && r.ID == "also-viewed" && r.Action == "keep" && r.Why == "" {
			t.Errorf("a block kept without a reason: %+v", r)
		}
		if r.Kind == "body" {
			body2 = true
		}
	}
	if !body2 {
		t.Errorf("no body region in %+v", got.Regions)
	}
	if n := e.proxy.profiles.Stats().Held; n != held {
		t.Errorf("explain changed the profiles held: %d → %d", held, n)
	}

	// An unknown visitor is explained as a new one, and nothing is made.
	resp, body = adminCall(t, "GET", admin+"/explain?visitor=nobody&path=/", "t0ken")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"known": false`) {
		t.Errorf("unknown visitor: %d %s", resp.StatusCode, body)
	}
	if n := e.proxy.profiles.Stats().Held; n != held {
		t.Errorf("explaining an unknown visitor made a profile: %d → %d", held, n)
	}
	// A page with a query is classified by its path: a search page.
	resp, body = adminCall(t, "GET", admin+"/explain?visitor="+url.QueryEscape(id)+"&path="+url.QueryEscape("/search?q=grey"), "t0ken")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"page": "search"`) {
		t.Errorf("a search page: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{"?visitor=x", "?visitor=x&path=//evil.example/", "?visitor=x&path=/_shopedge/beacon"} {
		if resp, _ := adminCall(t, "GET", admin+"/explain"+bad, "t0ken"); resp.StatusCode != 400 {
			t.Errorf("explain%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

// visitorID is the visitor id in the cookie a page set.
func visitorID(t *testing.T, e *env, pg reply) string {
	t.Helper()
	c := cookieNamed(pg.resp, "se_vid")
	if c == nil {
		t.Fatal("no visitor cookie")
	}
	who, ok := e.proxy.ids.VerifyBytes([]byte(c.Value))
	if !ok {
		t.Fatal("the visitor cookie does not verify")
	}
	return who.ID
}
