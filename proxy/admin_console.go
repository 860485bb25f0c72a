package proxy

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/catalog"
	"shopedge/proxy/console"
	"shopedge/proxy/identity"
	"shopedge/proxy/plan"
)

// consoleSource is what the console (proxy/console) reads of the proxy.
type consoleSource struct{ p *Proxy }

var _ console.Source = consoleSource{}

// Overview reads Figures and the profiles' bound.
func (s consoleSource) Overview(now time.Time) console.Overview {
	p := s.p
	f := p.metrics.Figures(now)
	st := p.profiles.Stats()
	o := console.Overview{
		At: now, Requests: f.Requests, Rewrites: f.Rewrites, ClientErrors: f.ClientErrors, Events: f.Events,
		Passed: counts(f.Passed), Upstream: counts(f.Upstream), Added: buckets(f.Added),
		P50: seconds(f.Added.Quantile(0.5)), P99: seconds(f.Added.Quantile(0.99)),
		ProfilesHeld: int64(st.Held), ProfileBytes: st.CostUsed, MaxMemory: int64(p.Config().Profiles.MaxMemory),
	}
	for _, r := range f.Reloads {
		o.Reloads = append(o.Reloads, console.Reload{At: r.At, Result: r.Result, Detail: r.Detail})
	}
	return o
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// counts are the non-zero counts of m, the largest first.
func counts(m map[string]int64) []console.Count {
	var out []console.Count
	for k, n := range m {
		if n > 0 {
			out = append(out, console.Count{Label: strings.ReplaceAll(k, "_", " "), N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// buckets are h's buckets, labelled by their upper bound.
func buckets(h Histogram) []console.Count {
	out := make([]console.Count, len(h.Counts))
	for i, n := range h.Counts {
		label := "more"
		if i < len(h.Bounds) {
			label = "≤" + strings.TrimSuffix(seconds(h.Bounds[i]).String(), "0s")
		}
		out[i] = console.Count{Label: label, N: n}
	}
	return out
}

// Actions are Figures.Blocks and Figures.Overlays.
func (s consoleSource) Actions(now time.Time) (blocks, overlays []console.Action) {
	f := s.p.metrics.Figures(now)
	conv := func(as []ActionFigures) []console.Action {
		out := make([]console.Action, len(as))
		for i, a := range as {
			out[i] = console.Action{ID: a.ID, Shown: a.Shown, Seen: a.Seen, Clicks: a.Clicks, Dismissed: a.Dismissed,
				Conversions: a.Conversions, Revenue: a.Revenue, CTR: a.CTR()}
		}
		return out
	}
	return conv(f.Blocks), conv(f.Overlays)
}

// visitorID is the visitor id s is, or that the visitor cookie s (its
// value, a signed token) carries.
func (s consoleSource) visitorID(v string) (string, error) {
	v = strings.TrimSpace(v)
	if identity.ValidVisitorID(v) {
		return v, nil
	}
	if who, ok := s.p.ids.Verify(v); ok {
		return who.ID, nil
	}
	return "", fmt.Errorf("%q is neither a visitor id nor a visitor cookie shopedge signed: %w", v, console.ErrBadID)
}

// VisitorID is visitorID: the id that v, an id or a signed cookie, names.
func (s consoleSource) VisitorID(v string) (string, error) { return s.visitorID(v) }

// Profile is viewProfile, as tables.
func (s consoleSource) Profile(id string) ([]console.Section, bool, error) {
	id, err := s.visitorID(id)
	if err != nil {
		return nil, false, err
	}
	v, ok := s.p.viewProfile(id)
	if !ok {
		return nil, false, nil
	}
	when := func(t time.Time) string { return t.Format("2006-01-02 15:04:05 UTC") }
	main := console.Section{Title: "Profile", Rows: [][]string{
		{"First seen", when(v.FirstSeen)}, {"Last seen", when(v.LastSeen)},
		{"Visits", strconv.Itoa(int(v.Visits))}, {"Page views", strconv.Itoa(int(v.PageViews))},
		{"Customer", yesNo(v.Customer)}, {"Orders", strconv.Itoa(int(v.Orders))},
		{"Device", v.Device["class"] + ", " + v.Device["os"] + ", " + v.Device["browser"]},
		{"Carts left", strconv.Itoa(int(v.CartsLeft))}, {"Searches", strings.Join(v.Searches, ", ")},
	}}
	for _, k := range []string{"utm_source", "utm_medium", "utm_campaign", "referrer"} {
		if v.Source[k] != "" {
			main.Rows = append(main.Rows, []string{k, v.Source[k]})
		}
	}
	out := []console.Section{main}
	items := func(title string, its []itemView) {
		if len(its) == 0 {
			return
		}
		sec := console.Section{Title: title, Head: []string{"Product", "Name", "URL"}}
		for _, it := range its {
			sec.Rows = append(sec.Rows, []string{it.ID, it.Name, it.URL})
		}
		out = append(out, sec)
	}
	items("Recently viewed", v.Recent)
	if len(v.Cart) > 0 {
		sec := console.Section{Title: "Cart", Head: []string{"Product", "Name", "Quantity"}}
		for _, c := range v.Cart {
			sec.Rows = append(sec.Rows, []string{c.ID, c.Name, strconv.Itoa(int(c.Qty))})
		}
		out = append(out, sec)
	}
	items("Purchased", v.Purchased)
	if len(v.Interests) > 0 {
		sec := console.Section{Title: "Interests", Head: []string{"Category", "Score"}}
		for _, in := range v.Interests {
			sec.Rows = append(sec.Rows, []string{in.Category, strconv.FormatFloat(in.Score, 'f', 2, 64)})
		}
		out = append(out, sec)
	}
	if len(v.Overlays) > 0 {
		sec := console.Section{Title: "Overlays seen", Head: []string{"Overlay", "This visit", "Today", "Last shown", "Dismissed until"}}
		for _, o := range v.Overlays {
			last, until := "", ""
			if o.LastShown != nil {
				last = when(*o.LastShown)
			}
			if o.DismissedUntil != nil {
				until = when(*o.DismissedUntil)
			}
			sec.Rows = append(sec.Rows, []string{o.ID, strconv.Itoa(o.ShownThisVisit), strconv.Itoa(o.ShownToday), last, until})
		}
		out = append(out, sec)
	}
	return out, true, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Explain is explain, as tables.
func (s consoleSource) Explain(id, path string) ([]console.Section, error) {
	id, err := s.visitorID(id)
	if err != nil {
		return nil, err
	}
	ex, eerr := s.p.explain(id, path, "", plan.Place{})
	if eerr != nil {
		return nil, eerr
	}
	segs := make([]string, 0, len(ex.Segments))
	for name, in := range ex.Segments {
		if in {
			segs = append(segs, name)
		}
	}
	sort.Strings(segs)
	overlay := ex.Overlay
	if overlay == "" {
		overlay = "none"
	}
	pageSec := console.Section{Title: "Page", Rows: [][]string{
		{"Page type", ex.Page}, {"Profile held", yesNo(ex.Known)}, {"Segments", strings.Join(segs, ", ")},
		{"Overlay chosen", overlay}, {"Injections skipped for the page's CSP", yesNo(ex.Skipped)},
	}}
	regions := console.Section{Title: "Regions", Head: []string{"Region", "Id", "Action", "Why", "Products or text"}}
	for _, r := range ex.Regions {
		what := r.Text
		if len(r.Products) > 0 {
			names := make([]string, len(r.Products))
			for i, pid := range r.Products {
				names[i] = s.p.item(pid).Name
				if names[i] == "" {
					names[i] = s.p.item(pid).ID
				}
			}
			what = strings.Join(names, ", ")
		}
		why := r.Why
		if r.Detail != "" {
			why += ": " + r.Detail
		}
		regions.Rows = append(regions.Rows, []string{r.Kind, r.ID, r.Action, why, what})
	}
	out := []console.Section{pageSec, regions}
	if len(ex.Passed) > 0 {
		passed := console.Section{Title: "Overlays passed over", Head: []string{"Overlay", "Why"}}
		for _, ps := range ex.Passed {
			why := ps.Why
			if ps.Detail != "" {
				why += ": " + ps.Detail
			}
			passed.Rows = append(passed.Rows, []string{ps.ID, why})
		}
		out = append(out, passed)
	}
	return out, nil
}

// Erase is what DELETE /profiles/{id} does.
func (s consoleSource) Erase(id string) error {
	id, err := s.visitorID(id)
	if err != nil {
		return err
	}
	return s.p.erase(id)
}

// Catalog is GET /catalog's list, field by field.
func (s consoleSource) Catalog(q string, limit int) (int, []console.Product) {
	total, prods := s.p.catalog.List(q, 0, limit)
	out := make([]console.Product, 0, len(prods))
	for i := range prods {
		pr := &prods[i]
		v := viewProduct(pr)
		price := ""
		if v.Price != nil {
			price = strings.TrimSpace(strconv.FormatFloat(*v.Price, 'f', 2, 64) + " " + v.Currency)
		}
		cats := make([]string, len(v.Categories))
		for j, c := range v.Categories {
			cats[j] = c.Name
			if c.Path != "" {
				cats[j] += " (" + c.Path + ")"
			}
		}
		values := map[string]string{"name": v.Name, "url": v.URL, "image": v.Image, "price": price, "currency": v.Currency,
			"availability": v.Availability, "sku": v.SKU, "gtin": v.GTIN, "brand": v.Brand, "rating": v.Rating.String(), "categories": strings.Join(cats, ", ")}
		cp := console.Product{ID: v.ID, Key: pr.Key, Name: v.Name, URL: v.URL, Price: price, Brand: v.Brand, SKU: v.SKU,
			Availability: v.Availability, OutOfStock: outOfStock(pr.Availability)}
		for f := range catalog.NumFields {
			name := f.String()
			cp.Fields = append(cp.Fields, console.Field{Name: name, Value: values[name], Source: v.Source[name]})
		}
		out = append(out, cp)
	}
	return total, out
}

func outOfStock(a catalog.Availability) bool {
	return a == catalog.OutOfStock || a == catalog.SoldOut || a == catalog.Discontinued
}

// Experiments are reports(), arm by arm.
func (s consoleSource) Experiments(ctx context.Context) ([]console.Experiment, error) {
	cfg := s.p.conf.Load().cfg
	reports, err := s.p.experiments.reports(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("the shared store did not answer: %w", err)
	}
	out := make([]console.Experiment, 0, len(reports))
	for i, r := range reports {
		e := console.Experiment{Name: r.Name, Action: r.Action, SRM: r.SRM, SRMP: r.SRMP, Outcome: string(r.Outcome), Verdict: r.Verdict,
			Previewable: i != cfg.GlobalControl-1}
		for _, a := range r.Arms {
			arm := console.Arm{Name: a.Name, Visitors: a.Visitors, Converters: a.Converters, Rate: a.ConversionRate,
				Verdict: a.Verdict, MoreVisitors: a.MoreVisitors}
			if a.Effect != nil {
				arm.Effect, arm.Uplift, arm.Low, arm.High = true, a.Effect.Uplift, a.Effect.SeqLow, a.Effect.SeqHigh
			}
			e.Arms = append(e.Arms, arm)
		}
		out = append(out, e)
	}
	return out, nil
}

// PreviewChoices are the configuration's segments and the arms of its
// experiments on actions (the global control is not previewed:
// findForced).
func (s consoleSource) PreviewChoices() console.PreviewChoices {
	cfg := s.p.conf.Load().cfg
	c := console.PreviewChoices{Base: DefaultPreviewBase(cfg), Lifetime: "1h",
		Lifetimes: []string{"15m", "1h", "8h", "24h", "72h", "168h"}}
	for i := range cfg.Segments {
		c.Segments = append(c.Segments, cfg.Segments[i].Name)
	}
	for i := range cfg.Experiments {
		if x := &cfg.Experiments[i]; i != cfg.GlobalControl-1 {
			c.Experiments = append(c.Experiments, console.PreviewExperiment{Name: x.Name, Action: x.Action, Arms: x.Arms})
		}
	}
	return c
}

// PreviewLink is what POST /preview does: previewLink with the proxy's
// keys, on the running configuration.
func (s consoleSource) PreviewLink(r console.PreviewRequest) (console.PreviewLink, error) {
	ttl, err := parsePreviewTTL(r.Lifetime)
	if err != nil {
		return console.PreviewLink{}, err
	}
	v := identity.Previewed{Segment: r.Segment, Experiment: r.Experiment, Arm: r.Arm}
	l, err := previewLink(s.p.conf.Load().cfg, s.p.ids, v, ttl, r.Base, s.p.now())
	if err != nil {
		return console.PreviewLink{}, err
	}
	return console.PreviewLink{Link: l.Link, Segment: l.Segment, Experiment: l.Experiment, Arm: l.Arm, Expires: l.Expires}, nil
}

// AdminConsole is Admin's handler and its console, whose OnceCode makes
// one-time sign-in links (/login?once=CODE).
func (p *Proxy) AdminConsole(token string) (fasthttp.RequestHandler, *console.Console) {
	con := console.New(consoleSource{p}, token, p.now, p.log)
	if d := p.Config().Store.Timeout.D(); d > 0 {
		con.Timeout = d
	}
	return p.admin(token, con), con
}
