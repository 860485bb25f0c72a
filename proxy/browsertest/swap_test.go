package browsertest

import (
	"testing"

	"github.com/chromedp/chromedp"

	"shopedge/rules"
)

// TestContentSwap: in a browser, under the shop's strict policy, a visitor
// from the newsletter sees the campaign's headline on the home page's hero
// (the swap's own markup, nothing of the proxy's loaded for it), and a
// visitor who came otherwise sees the shop's.
func TestContentSwap(t *testing.T) {
	e := newEnvWith(t, true, func(c *rules.Config) {
		c.Segments["newsletter"] = rules.Condition{UTMSource: rules.StringList{"newsletter"}} // as the demo's
		sel, err := rules.CompileSelector(".hero h1")
		if err != nil {
			t.Fatal(err)
		}
		c.Content = []rules.Swap{{ID: "newsletter-hero", Pages: []rules.PageType{rules.PageHome}, Selector: sel,
			Segments: []string{"newsletter"}, HTML: "Hello, {{.UTMSource}} reader: <em>10% off</em> this week."}}
	})
	for _, tt := range []struct {
		name, path, want string
		em               int // emphases in the headline
	}{
		{"from the newsletter", "/?utm_source=newsletter", "Hello, newsletter reader: <em>10% off</em> this week.", 1},
		{"from elsewhere", "/", "Well made, for the way you live.", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browser(t, false)
			run(t, ctx, chromedp.Navigate(e.url+tt.path), chromedp.WaitReady("body"))
			if got := eval[string](t, ctx, `document.querySelector('.hero h1').innerHTML`); got != tt.want {
				t.Errorf("headline %q, want %q", got, tt.want)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('.hero h1').length`); n != 1 {
				t.Errorf("%d headlines in the hero, want 1", n)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('.hero h1 em').length`); n != tt.em {
				t.Errorf("%d emphases in the headline, want %d", n, tt.em)
			}
			if v := eval[[]string](t, ctx, `window.__violations`); len(v) > 0 {
				t.Errorf("CSP violations: %v", v)
			}
		})
	}
}
