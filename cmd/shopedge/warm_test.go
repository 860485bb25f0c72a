package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/proxytest"
)

// TestDemoWarm (issue 14): the demo starts with the recommendations warmed
// by simulated shoppers, so that a first visitor sees different products
// in "Customers also viewed" on different product pages and a popular
// block on the home page, and nobody was counted: no social proof, no
// experiment visitor. -warm=false starts cold.
func TestDemoWarm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const token = "warm-test-token-0123"
	also := regexp.MustCompile(`(?s)<section class="se-rec" data-se-block="also-viewed".*?</section>`)
	names := regexp.MustCompile(`se-rec-name">([^<]*)<`)
	products := []string{"/p/classic-forest-green-high-top-sneakers-se-10149", "/p/essential-grey-slip-dress-se-10001"}

	p := start(t, []string{"SHOPEDGE_ADMIN_TOKEN=" + token}, "demo", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
	took := p.waitFor(t, `msg="demo warmed.*products=(\d+) events=(\d+) took=(\S+)`)
	url := p.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
	admin := p.waitFor(t, `admin:\s+(http://\S+)/metrics`)[1]
	if d, err := time.ParseDuration(took[3]); err != nil || d > 10*time.Second {
		t.Errorf("warming took %s", took[3])
	}
	t.Logf("warmed: %s products, %s events, in %s", took[1], took[2], took[3])
	if held := metricValue(scrape(t, admin, token), "shopedge_profiles_held"); held != "0" {
		t.Errorf("warming made %s profiles", held)
	}
	if exps := scrapePath(t, admin+"/experiments", token); strings.Contains(exps, `"visitors": 1`) || !strings.Contains(exps, `"visitors": 0`) {
		t.Errorf("warming counted experiment visitors:\n%s", exps)
	}

	v := proxytest.NewVisitor(t, url)
	var blocks []string
	for _, path := range products {
		body := v.Get(path).Body
		block := also.FindString(body)
		if len(names.FindAllString(block, -1)) < 2 {
			t.Errorf("a first visitor's %s: also viewed %q, want products", path, block)
		}
		if strings.Contains(body, `data-se-banner="viewers"`) {
			t.Errorf("a first visitor's %s shows social proof the simulated shoppers made", path)
		}
		blocks = append(blocks, strings.Join(names.FindAllString(block, -1), ","))
	}
	if blocks[0] == blocks[1] {
		t.Errorf("the same also viewed on two product pages: %s", blocks[0])
	}
	if home := v.Get("/").Body; !regexp.MustCompile(`(?s)data-se-block="popular".*?se-rec-name`).MatchString(home) {
		t.Error("no popular block on the home page")
	}

	cold := start(t, nil, "demo", "-warm=false", "-listen", "127.0.0.1:0", "-shop-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0")
	coldURL := cold.waitFor(t, `shopedge \(open me\):\s+(http://\S+)/`)[1]
	if block := also.FindString(proxytest.NewVisitor(t, coldURL).Get(products[0]).Body); block != "" {
		t.Errorf("-warm=false: a first visitor sees also viewed %q", block)
	}
}
