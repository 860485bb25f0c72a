package proxy

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboard is what TestGrafanaDashboard reads of a Grafana dashboard.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name, Type string
			Query      any `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type, UID string
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// metricName finds the metric names in a PromQL expression: shopedge's,
// the Go runtime's and the process's.
var metricName = regexp.MustCompile(`\b(?:shopedge|go|process)_[a-z_]+\b`)

// TestGrafanaDashboard: configs/grafana/shopedge.json is a dashboard on a
// ${datasource} Prometheus variable whose every query asks for metrics a
// real scrape of a proxy (the shared store configured) writes: a name
// ending in _bucket, _sum or _count must be a histogram's (or a
// summary's) series, and histogram_quantile only reads buckets.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../configs/grafana/shopedge.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("shopedge.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 39 {
		t.Errorf("title %q, uid %q, schemaVersion %d: want a title, a uid and a schema of Grafana 11 or later", d.Title, d.UID, d.SchemaVersion)
	}
	var hasDatasource bool
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasDatasource = true
		}
	}
	if !hasDatasource {
		t.Errorf("no datasource variable of type prometheus: %+v", d.Templating.List)
	}

	x := parseExposition(t, scrapeDemo(t))
	var panels []panel
	for _, p := range d.Panels {
		panels = append(panels, p)
		panels = append(panels, p.Panels...)
	}
	ids := map[int]bool{}
	var asked []string
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d queries: want ${datasource} and a query", p.Title, p.Datasource, len(p.Targets))
		}
		for _, q := range p.Targets {
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q, query %s: no metric in %q", p.Title, q.RefID, q.Expr)
			}
			for _, name := range names {
				asked = append(asked, name)
				if !x.names[name] {
					t.Errorf("panel %q asks for %s, which /metrics does not write", p.Title, name)
					continue
				}
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					base, ok := strings.CutSuffix(name, suffix)
					if !ok {
						continue
					}
					if typ := x.types[base]; typ != "histogram" && (typ != "summary" || suffix == "_bucket") {
						t.Errorf("panel %q asks for %s, but %s is a %q", p.Title, name, base, typ)
					}
				}
			}
			if strings.Contains(q.Expr, "histogram_quantile") && !strings.Contains(q.Expr, "_bucket") {
				t.Errorf("panel %q: histogram_quantile of no buckets: %s", p.Title, q.Expr)
			}
		}
	}
	// The figures the dashboard is for, each asked for by some panel.
	for _, want := range []string{
		"shopedge_requests_total", "shopedge_rewrites_total", "shopedge_passthrough_total",
		"shopedge_added_seconds_bucket", "shopedge_upstream_errors_total",
		"shopedge_profiles_held", "shopedge_profiles_capacity", "shopedge_memory_resident_bytes", "shopedge_memory_limit_bytes",
		"shopedge_config_reloads_total", "shopedge_store_up", "shopedge_store_profile_reads_total",
		"shopedge_block_clicks_total", "shopedge_block_shown_total", "shopedge_overlay_events_total", "shopedge_overlay_injected_total",
		"shopedge_block_conversions_total", "shopedge_block_revenue_total", "shopedge_overlay_conversions_total", "shopedge_overlay_revenue_total",
		"go_memstats_heap_inuse_bytes", "go_gc_duration_seconds_count",
	} {
		if !slices.Contains(asked, want) {
			t.Errorf("no panel asks for %s", want)
		}
	}
}
