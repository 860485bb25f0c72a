package proxy

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"shopedge/rewrite/golden"
	"sync"
	"testing"
	"time"
)

// manualClock is a proxy's time that moves only when a test moves it: the
// times an explanation states ("7m0s left") are the same on every run.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestExplainGolden explains a handful of visitors of the demo
// configuration, each after a browsing history of their own, and compares
// the JSON GET /explain answers with testdata/explain/<case>.json
// (regenerate with go test -run TestExplainGolden -update ./proxy/, and
// read the diff). The visitor's id, random, is left out.
func TestExplainGolden(t *testing.T) {
	t.Parallel()
	const (
		dress = "/p/essential-grey-slip-dress-se-10001"
		iPad  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
	)
	cases := []struct {
		name string
		ua   string // default: the harness's desktop browser
		// visit browses as the visitor, with the clock at hand; the
		// explanation is then asked for path.
		visit func(t *testing.T, e *env, v *visitor, clock *manualClock)
		path  string
	}{
		{
			name:  "new-visitor-home",
			visit: func(t *testing.T, e *env, v *visitor, _ *manualClock) { v.get(e.url + "/") },
			path:  "/",
		},
		{
			// Shown the exit offer a minute ago: every overlay waits
			// for min_gap, and the explanation says how long.
			name: "min-gap-product",
			visit: func(t *testing.T, e *env, v *visitor, clock *manualClock) {
				v.get(e.url + dress)
				if code := v.beacon(e.url, `{"e":"shown","id":"exit-offer"}`, nil); code != 204 {
					t.Fatalf("beacon: %d", code)
				}
				clock.Advance(time.Minute)
			},
			path: dress,
		},
		{
			// Left a cart yesterday: the reminder on the home page.
			name: "cart-left-home",
			visit: func(t *testing.T, e *env, v *visitor, clock *manualClock) {
				v.get(e.url + dress)
				v.post(e.url+"/cart/add", "application/x-www-form-urlencoded", "sku=SE-10001&qty=1")
				clock.Advance(26 * time.Hour)
				v.get(e.url + "/")
			},
			path: "/c/women",
		},
		{
			name: "mobile-product",
			ua:   iPad,
			visit: func(t *testing.T, e *env, v *visitor, clock *manualClock) {
				v.get(e.url + "/")
				clock.Advance(5 * time.Second)
				v.get(e.url + dress)
			},
			path: dress,
		},
		{
			name: "newsletter-home",
			visit: func(t *testing.T, e *env, v *visitor, clock *manualClock) {
				v.get(e.url + "/?utm_source=newsletter&utm_medium=email&utm_campaign=winter")
			},
			path: "/",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &manualClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
			e := newShopEnvAt(t, nil, clock.Now)
			admin := startAdmin(t, e, "t0ken")
			v := e.visitor()
			if tc.ua != "" {
				v.ua = tc.ua
			}
			tc.visit(t, e, v, clock)
			token, ok := v.v.Cookie("se_vid")
			if !ok {
				t.Fatal("no visitor cookie")
			}
			who, ok := e.proxy.ids.VerifyBytes([]byte(token))
			if !ok {
				t.Fatal("the visitor cookie does not verify")
			}
			id := who.ID
			resp, body := adminCall(t, "GET", admin+"/explain?visitor="+url.QueryEscape(id)+"&path="+url.QueryEscape(tc.path), "t0ken")
			if resp.StatusCode != 200 {
				t.Fatalf("explain: %d %s", resp.StatusCode, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v:\n%s", err, body)
			}
			delete(got, "visitor")
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			golden.Check(t, filepath.Join("testdata", "explain", tc.name+".json"), string(out)) // the explanation of tc.path
		})
	}
}
