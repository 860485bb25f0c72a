package proxy

import (
	"encoding/json"
	"html"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"shopedge/configs"
	"shopedge/proxy/experiment"
	"shopedge/rules"
)

// TestExperimentsEndToEnd (issue 12): simulated shoppers browse the demo
// shop through the proxy, some of them buying through its checkout, under
// the demo's experiments (an A/B of the popular block's strategy, a 10%
// holdout on the exit offer) and a global control of 10%. The report GET
// /experiments answers counts every visitor once in the global control's
// arms; each home page that showed the popular block once in its A/B's
// arms, by the title it showed; everyone outside the global control,
// once, in the exit offer's (each reached a product page, where it
// applies for a new desktop visitor); the buyers and their orders' totals
// (from the confirmation pages' Order JSON-LD) in the global arms; and no
// sample ratio mismatch. Visitors with Sec-GPC and crawlers are not
// counted at all.
func TestExperimentsEndToEnd(t *testing.T) {
	t.Parallel()
	demo, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatal(err)
	}
	e := newShopEnv(t, func(c *rules.Config) {
		// The demo's experiments (the harness leaves them out), and a
		// global control.
		c.Experiments.GlobalControl = 10
		for i := range c.Overlays.Rules {
			c.Overlays.Rules[i].Experiment = demo.Overlays.Rules[i].Experiment
		}
		for i := range c.Recommendations.Blocks {
			c.Recommendations.Blocks[i].Experiment = demo.Recommendations.Blocks[i].Experiment
		}
	})
	admin := startAdmin(t, e, "t0ken")
	products := e.productsIn("women", 12)
	rng := rand.New(rand.NewPCG(11, 12))
	totalRe := regexp.MustCompile(`"totalPaymentDue":\s*\{[^}]*"price":\s*"?([0-9.]+)`)
	var stock []string // SKUs the shop sells
	for _, p := range e.shop.Catalog.Products {
		if p.InStock && len(stock) < 40 {
			stock = append(stock, p.SKU)
		}
	}
	const shoppers = 400
	buyers, revenue, offers, popular, trending, clicks := 0, 0.0, 0, 0, 0, 0
	recLink := regexp.MustCompile(`href="(/p/[^"]*se_rec=popular)"`)
	for range shoppers {
		v := e.visitor()
		home := v.get(e.url + "/")
		if strings.Contains(home.body, `data-se-block="popular"`) {
			popular++
			if strings.Contains(home.body, "Trending now") {
				trending++
			}
			if m := recLink.FindStringSubmatch(home.body); m != nil && rng.Float64() < 0.5 {
				v.get(e.url + html.UnescapeString(m[1])) // a click on the block
				v.get(e.url + html.UnescapeString(m[1])) // and another: one clicker
				clicks++
			}
		}
		pg := v.get(e.url + products[rng.IntN(len(products))])
		if overlayOf(pg.body) == "exit-offer" {
			offers++
		}
		if rng.Float64() >= 0.3 {
			continue
		}
		v.addToCart(e.url, stock[rng.IntN(len(stock))], 1+rng.IntN(2))
		placed := v.post(e.url+"/checkout/place", "application/x-www-form-urlencoded", "first=A")
		thanks := v.get(e.url + placed.resp.Header.Get("Location"))
		m := totalRe.FindStringSubmatch(thanks.body)
		if m == nil {
			t.Fatalf("no order total on the confirmation page:\n%s", thanks.body)
		}
		total, _ := strconv.ParseFloat(m[1], 64)
		buyers++
		revenue += total
		v.get(e.url + placed.resp.Header.Get("Location")) // a reload counts once
	}
	// Visitors who are never counted: Sec-GPC, and crawlers.
	for i := range 10 {
		v := e.visitor()
		if i%2 == 0 {
			v.header.Set("Sec-GPC", "1")
		} else {
			v.ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
		}
		v.get(e.url + "/")
		v.get(e.url + products[i])
	}
	_, body := adminCall(t, "GET", admin+"/experiments", "t0ken")
	var got struct {
		Experiments []experiment.Report `json:"experiments"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	t.Logf("report:\n%s", body)
	reports := map[string]experiment.Report{}
	for _, r := range got.Experiments {
		reports[r.Name] = r
		if r.SRM {
			t.Errorf("%s: sample ratio mismatch (p %v)", r.Name, r.SRMP)
		}
	}
	global, exit, ab := reports[rules.GlobalExperiment], reports["exit-offer-holdout"], reports["popular-vs-trending"]
	if len(global.Arms) != 2 || len(exit.Arms) != 2 || len(ab.Arms) != 2 || exit.Action != "overlay:exit-offer" || global.Action != "everything" || ab.Action != "block:popular" {
		t.Fatalf("experiments %+v, want the global control, exit-offer-holdout and popular-vs-trending, two arms each", got.Experiments)
	}
	sum := func(r experiment.Report, f func(a experiment.ArmReport) float64) float64 {
		s := 0.0
		for _, a := range r.Arms {
			s += f(a)
		}
		return s
	}
	visitors := func(a experiment.ArmReport) float64 { return float64(a.Visitors) }
	if n := sum(global, visitors); n != shoppers {
		t.Errorf("global arms hold %v visitors, want every shopper once: %d", n, shoppers)
	}
	outside := shoppers - global.Arms[rules.ArmControl].Visitors
	if n := sum(exit, visitors); n != float64(outside) {
		t.Errorf("exit-holdout arms hold %v visitors, want the %d outside the global control", n, outside)
	}
	if n := sum(ab, visitors); n != float64(popular) || ab.Arms[1].Name != "trending" || ab.Arms[1].Visitors != int64(trending) {
		t.Errorf("popular-vs-trending arms %d default, %d trending; want %d home pages with the block, %d of them trending",
			ab.Arms[0].Visitors, ab.Arms[1].Visitors, popular, trending)
	}
	if n := sum(ab, func(a experiment.ArmReport) float64 { return float64(a.Clickers) }); n != float64(clicks) || clicks == 0 {
		t.Errorf("popular-vs-trending counts %v clickers, want the %d shoppers who clicked the block", n, clicks)
	}
	if n := sum(global, func(a experiment.ArmReport) float64 { return float64(a.CartAdders) }); n != float64(buyers) {
		t.Errorf("global arms count %v cart adders, want the %d buyers (each added once)", n, buyers)
	}
	if popular < shoppers/2 {
		t.Errorf("only %d of %d home pages had the popular block", popular, shoppers)
	}
	if offers != int(exit.Arms[rules.ArmTreatment].Visitors) {
		t.Errorf("%d shoppers got the exit offer, the treatment arm counts %d", offers, exit.Arms[rules.ArmTreatment].Visitors)
	}
	if n := sum(global, func(a experiment.ArmReport) float64 { return float64(a.Converters) }); n != float64(buyers) {
		t.Errorf("global arms count %v converters, want the %d buyers", n, buyers)
	}
	if n := sum(global, func(a experiment.ArmReport) float64 { return float64(a.Orders) }); n != float64(buyers) {
		t.Errorf("global arms count %v orders, want %d (a reloaded confirmation counts once)", n, buyers)
	}
	if got := sum(global, func(a experiment.ArmReport) float64 { return a.Revenue }); got < revenue-0.01 || got > revenue+0.01 {
		t.Errorf("global revenue %.2f, want the orders' %.2f", got, revenue)
	}
	if global.Verdict == "" || exit.Verdict == "" {
		t.Errorf("no verdict: %q, %q", global.Verdict, exit.Verdict)
	}
}
