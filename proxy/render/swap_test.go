package render

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"shopedge/proxy/codec"
	"shopedge/proxy/csp"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/splice"
	"shopedge/rules"
)

const swapConfig = `
upstream: {url: 'http://127.0.0.1:1'}
pages: [{type: home, path: '^/$'}]
content:
  - {id: static, pages: [home], selector: 'h1', html: 'New <em>season</em>'}
  - {id: visit, pages: [home], selector: 'p.lead', html: 'Hello {{.UTMSource}} reader, visit {{.Visits}}'}
  - {id: link, pages: [home], selector: 'a.btn', attribute: {name: href, value: '/c/{{.UTMCampaign}}?from={{.UTMSource}}'}}
  - {id: any-link, pages: [home], selector: 'a.more', attribute: {name: href, value: '/go/{{.UTMSource}}'}}
  - {id: added, pages: [home], selector: 'section.hero', attribute: {name: data-campaign, value: '{{.UTMCampaign}}'}}
`

const swapPage = `<!DOCTYPE html><html><head><title>Home</title></head><body>` +
	`<section class="hero"><h1>Well made</h1><p class=lead>Clothing &amp; shoes</p>` +
	`<a class="btn" href='/c/women'>Shop</a> <a class=more href=/c>More</a></section></body></html>`

// TestSwaps: what each swap puts in the page, every byte around it the
// shop's; what the visit says is escaped where it goes, and in a URL
// attribute fills in a path or query on the shop, never another scheme
// or host.
func TestSwaps(t *testing.T) {
	t.Parallel()
	cfg, err := rules.Parse("swaps.yaml", []byte(swapConfig))
	if err != nil {
		t.Fatal(err)
	}
	r := New(cfg, fakeCatalog{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a, err := page.Analyze(page.Input{Config: cfg, Type: rules.PageHome, Raw: []byte(swapPage), Encoding: codec.Identity,
		ContentType: []byte("text/html; charset=utf-8"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Regions) != 5 || a.Injects {
		t.Fatalf("regions %+v (injects %v), want the 5 swaps and nothing of the proxy's", a.Regions, a.Injects)
	}
	tests := []struct {
		name  string
		visit plan.Visit
		want  string
	}{
		{"a plain visit", plan.Visit{Visits: 1},
			`<!DOCTYPE html><html><head><title>Home</title></head><body>` +
				`<section data-campaign="" class="hero"><h1>New <em>season</em></h1><p class=lead>Hello  reader, visit 1</p>` +
				`<a class="btn" href="/c/?from=">Shop</a> <a class=more href="/go/">More</a></section></body></html>`},
		{"a campaign", plan.Visit{UTMSource: "newsletter", UTMCampaign: "spring sale", Visits: 3},
			`<!DOCTYPE html><html><head><title>Home</title></head><body>` +
				`<section data-campaign="spring sale" class="hero"><h1>New <em>season</em></h1><p class=lead>Hello newsletter reader, visit 3</p>` +
				`<a class="btn" href="/c/spring%20sale?from=newsletter">Shop</a> <a class=more href="/go/newsletter">More</a></section></body></html>`},
		{"a hostile link", plan.Visit{UTMSource: `javascript:alert(1)`, UTMCampaign: `"><script>x</script>`},
			`<!DOCTYPE html><html><head><title>Home</title></head><body>` +
				`<section data-campaign="&#34;&gt;&lt;script&gt;x&lt;/script&gt;" class="hero"><h1>New <em>season</em></h1>` +
				`<p class=lead>Hello javascript:alert(1) reader, visit 0</p>` +
				`<a class="btn" href="/c/%22%3e%3cscript%3ex%3c/script%3e?from=javascript%3aalert%281%29">Shop</a> <a class=more href="/go/javascript:alert%281%29">More</a></section></body></html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pl := &plan.Plan{Stylesheet: -1, Regions: make([]plan.Region, len(a.Regions)), Visit: tt.visit}
			for i, reg := range a.Regions {
				pl.Regions[i] = plan.Region{Action: plan.Swap, Index: reg.Index}
			}
			var buf []byte
			out := r.Render(&buf, pl, a, csp.AllowAll, time.Now())
			for i := range a.Regions {
				if !out.Done(i) {
					t.Errorf("region %d (swap %s) not rendered", i, cfg.Swaps[a.Regions[i].Index].ID)
				}
			}
			if got := string(splice.Assemble(nil, []byte(swapPage), a.Spans, out.Contents)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
