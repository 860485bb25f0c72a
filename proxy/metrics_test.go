package proxy

import (
	"path/filepath"
	"shopedge/rewrite/golden"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shopedge/proxy/store/redistest"
)

// scrapeDemo serves the demo shop behind a proxy that shares its state
// through a Redis (so the shared store's families exist), browses it as a
// newsletter reader (the content swaps apply) who views two boots and sees
// the exit offer, and returns the admin listener's /metrics.
func scrapeDemo(t *testing.T) string {
	t.Helper()
	srv := redistest.Start(t)
	e := newShopEnv(t, sharedConfig(srv.URL()))
	v := e.visitor()
	v.get(e.url + "/?utm_source=newsletter&utm_medium=email&utm_campaign=winter")
	for _, p := range e.productsIn("shoes/boots", 2) {
		v.get(e.url + p)
	}
	v.beacon(e.url, `{"e":"shown","id":"exit-offer"}`, nil)
	return scrapeMetrics(t, e)
}

// exposition is a scrape read as Prometheus reads it: each family's type
// and help, and each sample's value by its series (name and labels).
type exposition struct {
	types, help map[string]string // by family
	samples     map[string]float64
	names       map[string]bool // sample names, labels left off
	order       []string        // families, as they first appear
}

// parseExposition reads the text format strictly: a sample must follow its
// family's # TYPE line, one family's lines are together, and every value
// is a number.
func parseExposition(t *testing.T, text string) exposition {
	t.Helper()
	x := exposition{types: map[string]string{}, help: map[string]string{}, samples: map[string]float64{}, names: map[string]bool{}}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(rest, " ")
			if help == "" {
				t.Fatalf("line %d: %q: a HELP line without text, which strict parsers refuse", i+1, line)
			}
			x.help[name] = help
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			if _, dup := x.types[name]; dup {
				t.Fatalf("line %d: a second # TYPE for %s (its lines are not together)", i+1, name)
			}
			if !slices.Contains([]string{"counter", "gauge", "histogram", "summary"}, typ) {
				t.Fatalf("line %d: %q: unknown type", i+1, line)
			}
			x.types[name], current = typ, name
			x.order = append(x.order, name)
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 || strings.HasPrefix(line, "#") {
			t.Fatalf("line %d: %q: not a sample", i+1, line)
		}
		series, value := line[:cut], line[cut+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("line %d: %q: value: %v", i+1, line, err)
		}
		name, _, _ := strings.Cut(series, "{")
		if strings.Contains(series, "{") && !strings.HasSuffix(series, "}") {
			t.Fatalf("line %d: %q: labels not closed", i+1, line)
		}
		for rest := series; strings.IndexByte(rest, '\\') >= 0; {
			j := strings.IndexByte(rest, '\\')
			if j+1 == len(rest) || !strings.ContainsRune(`\"n`, rune(rest[j+1])) {
				t.Fatalf("line %d: %q: an escape the format does not have", i+1, line)
			}
			rest = rest[j+2:]
		}
		family := name
		if typ := x.types[current]; typ == "histogram" || typ == "summary" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(name, suffix); ok && base == current {
					family = base
				}
			}
		}
		if family != current {
			t.Fatalf("line %d: %q: a sample of %s under # TYPE %s", i+1, line, family, current)
		}
		if _, dup := x.samples[series]; dup {
			t.Fatalf("line %d: %s written twice", i+1, series)
		}
		x.samples[series] = v
		x.names[name] = true
	}
	return x
}

// TestMetricsExposition: /metrics reads as the Prometheus text format;
// shopedge's families are the ones the golden file lists, with their
// types (as they were before the library) and a # HELP text each; the
// configured blocks and overlays show from zero; the Go runtime's and the
// process's families come with them.
func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	x := parseExposition(t, scrapeDemo(t))

	var types []string
	for _, f := range x.order {
		if strings.HasPrefix(f, "shopedge_") {
			types = append(types, "# TYPE "+f+" "+x.types[f])
			if x.help[f] == "" {
				t.Errorf("%s has no # HELP text", f)
			}
		}
	}
	slices.Sort(types)
	got := strings.Join(types, "\n") + "\n"
	golden.Check(t, filepath.Join("testdata", "metrics", "types.txt"), got) // shopedge's families, their types and help

	for _, c := range []struct {
		series string
		want   float64
	}{
		{`shopedge_requests_total`, 4}, // the home page, two boots, the beacon (the admin listener's are not)
		{`shopedge_swap_applied_total{swap="newsletter-hero"}`, 1},
		{`shopedge_block_shown_total{block="also-viewed"}`, 1}, // on the second boot
		{`shopedge_block_shown_total{block="category-popular"}`, 0},
		{`shopedge_block_clicks_total{block="popular"}`, 0},
		{`shopedge_block_revenue_total{block="also-bought"}`, 0},
		{`shopedge_overlay_events_total{id="exit-offer",event="shown"}`, 1},
		{`shopedge_overlay_revenue_total{id="cart-reminder"}`, 0},
		{`shopedge_passthrough_total{reason="global_control"}`, 0},
		{`shopedge_config_reloads_total{result="failure"}`, 0},
		{`shopedge_config_last_reload_successful`, 1},
		{`shopedge_store_up`, 1},
		{`shopedge_added_seconds_count`, 4},
	} {
		if v, ok := x.samples[c.series]; !ok || v != c.want {
			t.Errorf("%s = %v (written: %v), want %v", c.series, v, ok, c.want)
		}
	}
	if n := x.samples[`shopedge_added_seconds_bucket{le="+Inf"}`]; n != x.samples["shopedge_added_seconds_count"] {
		t.Errorf("added +Inf bucket %v, count %v: want equal", n, x.samples["shopedge_added_seconds_count"])
	}

	for family, typ := range map[string]string{
		"go_goroutines": "gauge", "go_memstats_heap_inuse_bytes": "gauge", "go_memstats_next_gc_bytes": "gauge",
		"go_gc_duration_seconds": "summary", "go_gc_cpu_seconds_total": "counter",
		"process_cpu_seconds_total": "counter", "process_resident_memory_bytes": "gauge", "process_open_fds": "gauge",
	} {
		if x.types[family] != typ {
			t.Errorf("%s: type %q, want %q", family, x.types[family], typ)
		}
	}
	if x.samples["go_goroutines"] < 1 || x.samples["process_resident_memory_bytes"] <= 0 {
		t.Errorf("go_goroutines %v, process_resident_memory_bytes %v: want the process's own", x.samples["go_goroutines"], x.samples["process_resident_memory_bytes"])
	}
}

// TestMetricsApart: two proxies in one process count apart (each has a
// metrics.Set of its own, none is the library's default).
func TestMetricsApart(t *testing.T) {
	t.Parallel()
	a, b := newMetrics(), newMetrics()
	a.requests.Add(2)
	a.block("only-in-a").shown.Add(1)
	a.added.observe(1e-3)
	var sa, sb strings.Builder
	a.WriteTo(&sa, []Gauge{{Name: "shopedge_profiles_held", Help: "Visitor profiles in memory (approximate).", Value: 7}})
	b.WriteTo(&sb, nil)
	xa, xb := parseExposition(t, sa.String()), parseExposition(t, sb.String())
	if xa.samples["shopedge_requests_total"] != 2 || xb.samples["shopedge_requests_total"] != 0 {
		t.Errorf("requests: a %v, b %v; want 2, 0", xa.samples["shopedge_requests_total"], xb.samples["shopedge_requests_total"])
	}
	if _, ok := xb.samples[`shopedge_block_shown_total{block="only-in-a"}`]; ok {
		t.Errorf("b shows a's block")
	}
	if xa.samples["shopedge_added_seconds_count"] != 1 || xb.samples["shopedge_added_seconds_count"] != 0 {
		t.Errorf("added: a %v, b %v; want 1, 0", xa.samples["shopedge_added_seconds_count"], xb.samples["shopedge_added_seconds_count"])
	}
	if xa.samples["shopedge_profiles_held"] != 7 || xa.help["shopedge_profiles_held"] == "" || xa.types["shopedge_profiles_held"] != "gauge" {
		t.Errorf("a's sampled gauge: %v %q %q", xa.samples["shopedge_profiles_held"], xa.help["shopedge_profiles_held"], xa.types["shopedge_profiles_held"])
	}
	if _, ok := xb.types["shopedge_profiles_held"]; ok {
		t.Errorf("b shows a's sampled gauge")
	}
}
