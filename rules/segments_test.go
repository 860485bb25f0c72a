package rules

import (
	"fmt"
	"strings"
	"testing"

	"shopedge/proxy/catalog"
)

// TestSegmentLimit: the segments a configuration may have are bounded,
// with the problem at the section.
func TestSegmentLimit(t *testing.T) {
	t.Parallel()
	build := func(n int) string {
		var y strings.Builder
		y.WriteString(upstreamOnly + "segments:\n")
		for i := range n {
			fmt.Fprintf(&y, "  s%d:\n    cart: empty\n", i)
		}
		return y.String()
	}
	mustParse(t, build(MaxSegments-len(Segments)))
	_, err := Parse("config.yaml", []byte(build(MaxSegments-len(Segments)+1)))
	if err == nil || !strings.Contains(err.Error(), "config.yaml:4:3: segments: 253 segments: at most 252 besides the built-in ones") {
		t.Errorf("err = %v", err)
	}
}

// TestPredicates: what the new conditions compile to, and each
// predicate's path in the file.
func TestPredicates(t *testing.T) {
	t.Parallel()
	c := mustParse(t, upstreamOnly+`place:
  country_header: CF-IPCountry
segments:
  s:
    all:
      - traffic: [Paid, email]
      - top_categories: {categories: [/c/shoes/]}
      - viewed_products: ['/p/trail-shoe?color=red', SKU-1]
      - searched: [Trail Shoes]
      - country: [de, AT]
      - language: [DE]
      - not: {segment: customer}
`)
	s := c.Segments[len(Segments)]
	want := []struct {
		path string
		op   Op
		vals string
	}{
		{"segments.s.all", OpAll, ""},
		{"segments.s.all[0].traffic", OpTraffic, "paid email"},
		{"segments.s.all[1].top_categories", OpTopCategories, "/c/shoes"},
		{"segments.s.all[2].viewed_products", OpViewedProducts, "/p/trail-shoe SKU-1"},
		{"segments.s.all[3].searched", OpSearched, "trail shoes"},
		{"segments.s.all[4].country", OpCountry, "DE AT"},
		{"segments.s.all[5].language", OpLanguage, "de"},
		{"segments.s.all[6].not", OpNot, ""},
		{"segments.s.all[6].not.segment", OpCustomer, "customer"},
	}
	if len(s.Preds) != len(want) {
		t.Fatalf("%d predicates, want %d", len(s.Preds), len(want))
	}
	for i, w := range want {
		p := s.Preds[i]
		if p.Path != w.path || p.Op != w.op || strings.Join(p.Values, " ") != w.vals {
			t.Errorf("pred %d: %s op %d %q; want %s op %d %q", i, p.Path, p.Op, p.Values, w.path, w.op, w.vals)
		}
	}
	if p := s.Preds[2]; p.N != 3 || len(p.IDs) != 1 || p.IDs[0] != catalog.CategoryID("/c/shoes", "") {
		t.Errorf("top_categories: within %d, ids %v", p.N, p.IDs)
	}
	if p := s.Preds[3]; p.IDs[0] != catalog.KeyOf("/p/trail-shoe") || p.IDs[1] != catalog.KeyOf("SKU-1") {
		t.Errorf("viewed_products: ids %v", p.IDs)
	}
}

// TestCountryTrustWarning: a country header no peer is trusted for is
// warned of, unless the edge sets it or a proxy is trusted.
func TestCountryTrustWarning(t *testing.T) {
	t.Parallel()
	const segs = "segments:\n  dach:\n    country: [DE, AT]\n"
	for _, tt := range []struct {
		name, yaml string
		warn       bool
	}{
		{"no trusted proxy", upstreamOnly + "place:\n  country_header: CF-IPCountry\n" + segs, true},
		{"a trusted proxy", upstreamOnly + "server:\n  trusted_proxies: [10.0.0.0/8]\nplace:\n  country_header: CF-IPCountry\n" + segs, false},
		{"set by the edge", upstreamOnly + "place:\n  country_header: CF-IPCountry\n  edge_sets_header: true\n" + segs, false},
		{"no country condition", upstreamOnly + "place:\n  country_header: CF-IPCountry\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tt.yaml)
			got := strings.Contains(c.Warnings.Error(), "country conditions never hold")
			if got != tt.warn {
				t.Errorf("warned %v, want %v: %v", got, tt.warn, c.Warnings)
			}
		})
	}
}
