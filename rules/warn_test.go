package rules

import (
	"strings"
	"testing"
)

// TestWarnings: what check warns of, and what it does not.
func TestWarnings(t *testing.T) {
	t.Parallel()
	const head = upstreamOnly + "overlays:\n  rules:\n"
	rule := func(id, kind, pages, extra string, priority int) string {
		return "    - {id: " + id + ", kind: " + kind + ", pages: [" + pages + "], title: T, priority: " + string(rune('0'+priority)) + extra + "}\n"
	}
	tests := []struct {
		name string
		yaml string
		want string // a warning holding this; "" for none
	}{
		{"shadowed: everyone, a superset of pages", head + rule("a", "timed", "home, product", "", 5) + rule("b", "scroll_depth", "product", "", 1), "b shows only once a is capped"},
		{"new is a prospect without a customer cookie", head + rule("a", "exit_intent", "product", ", segments: [prospect]", 5) + rule("b", "timed", "product", ", segments: [new]", 1), "b shows only once a is capped"},
		{"new may be a customer with a customer cookie", "identity:\n  customer_cookie: logged_in\n" + head + rule("a", "exit_intent", "product", ", segments: [prospect]", 5) + rule("b", "timed", "product", ", segments: [new]", 1), ""},
		{"the higher priority shadows, wherever it is in the file", head + rule("a", "timed", "product", "", 1) + rule("b", "timed", "product", "", 5), "a shows only once b is capped"},
		{"a page the other does not cover", head + rule("a", "timed", "product", "", 5) + rule("b", "timed", "product, home", "", 1), ""},
		{"an overlay with a condition never shadows", head + rule("a", "abandoned_cart", "product", "", 5) + rule("b", "timed", "product", "", 1), ""},
		{"devices: desktop only does not cover all", head + rule("a", "timed", "product", ", devices: [desktop]", 5) + rule("b", "timed", "product", "", 1), ""},
		{"an exclusion the other does not have", "segments:\n  x:\n    cart: empty\n" + head + rule("a", "timed", "product", ", exclude: [x]", 5) + rule("b", "timed", "product", "", 1), ""},
		{"a schedule that has ended", head + rule("a", "timed", "product", ", ends: '2020-01-01T00:00:00Z'", 1), "the schedule ended at 2020-01-01T00:00:00Z: a never shows"},
		{"a share of nobody", "segments:\n  none:\n    share: {percent: 0}\n" + upstreamOnly, "no visitor is ever in none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tt.yaml)
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.Error())
			}
			all := strings.Join(got, "\n")
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("warnings:\n%s\nwant none", all)
			case tt.want != "" && !strings.Contains(all, tt.want):
				t.Errorf("warnings:\n%s\nwant one holding %q", all, tt.want)
			}
		})
	}
}
