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
	const content = upstreamOnly + "content:\n"
	swap := func(id, pages, extra string, priority int) string {
		html := ", html: Hi"
		if strings.Contains(extra, "attribute") {
			html = ""
		}
		return "  - {id: " + id + ", pages: [" + pages + "], selector: '.hero h1', priority: " + string(rune('0'+priority)) + html + extra + "}\n"
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
		{"a switched-off overlay is not warned of", head + rule("a", "timed", "product", ", ends: '2020-01-01T00:00:00Z', enabled: false", 1), ""},
		{"a switched-off overlay shadows nothing", head + rule("a", "timed", "home, product", ", enabled: false", 5) + rule("b", "scroll_depth", "product", "", 1), ""},
		{"a swap another always beats", content + swap("a", "home, product", "", 5) + swap("b", "home", "", 1), "content[1]: warning: a (priority 5) takes the same place, on each of b's pages, for every visitor b is for: b never applies"},
		{"the same priority: the first in the file wins", content + swap("a", "home", "", 0) + swap("b", "home", "", 0), "b never applies"},
		{"a swap for fewer visitors does not shadow", content + swap("a", "home", ", segments: [returning]", 5) + swap("b", "home", "", 1), ""},
		{"a swap for visitors the other's are among is shadowed", content + swap("a", "home", ", segments: [prospect]", 5) + swap("b", "home", ", segments: [new]", 1), "b never applies"},
		{"a swap of another attribute does not shadow", content + swap("a", "home", ", attribute: {name: class}", 5) + swap("b", "home", ", attribute: {name: title}", 1), ""},
		{"a swap with a schedule does not always win", content + swap("a", "home", ", starts: '2026-01-01T00:00:00Z'", 5) + swap("b", "home", "", 1), ""},
		{"a swap whose schedule ended", content + swap("a", "home", ", ends: '2020-01-01T00:00:00Z'", 1), "content[0].ends: warning: the schedule ended at 2020-01-01T00:00:00Z: a never applies"},
		{"a block whose schedule ended", upstreamOnly + "recommendations:\n  blocks:\n    - {id: a, pages: [home], selector: main, strategy: popular, ends: '2020-01-01T00:00:00Z'}\n", "the schedule ended at 2020-01-01T00:00:00Z: a never shows"},
		{"a block in the place of a higher one", upstreamOnly + "recommendations:\n  blocks:\n    - {id: a, pages: [home], selector: main, strategy: popular, priority: 2}\n    - {id: b, pages: [home], selector: main, strategy: trending}\n", "b shows only when a has fewer products than its min"},
		{"blocks at two positions are two places", upstreamOnly + "recommendations:\n  blocks:\n    - {id: a, pages: [home], selector: main, strategy: popular, priority: 2}\n    - {id: b, pages: [home], selector: main, position: before, strategy: trending}\n", ""},
		{"a banner in the place of a higher one", upstreamOnly + "overlays:\n  banners:\n    - {id: a, kind: social_proof, pages: [product], selector: h1, priority: 2}\n    - {id: b, kind: social_proof, pages: [product], selector: h1}\n", "b shows only when a has nothing true to say"},
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
