package proxy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/bufpool"
	"shopedge/proxy/catalog"
	"shopedge/proxy/codec"
	"shopedge/proxy/csp"
	"shopedge/proxy/learn"
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// explanation is what GET /explain answers: for one visitor and one page
// of the shop, the segments the visitor is in, what each region of the
// page gets and why the others keep the shop's bytes, and why each
// overlay rule passed over was.
type explanation struct {
	Visitor  string          `json:"visitor"`
	Known    bool            `json:"known"` // the visitor has a profile
	Path     string          `json:"path"`
	Page     string          `json:"page"` // its type
	Segments map[string]bool `json:"segments"`
	Regions  []regionWhy     `json:"regions"`
	Overlay  string          `json:"overlay,omitempty"` // the one chosen
	Passed   []passedWhy     `json:"overlays_passed"`
	CSP      csp.Verdict     `json:"csp"`
	Skipped  bool            `json:"csp_skipped"`
}

type regionWhy struct {
	Kind     string       `json:"kind"`
	ID       string       `json:"id,omitempty"` // a block's or banner's
	Action   string       `json:"action"`
	Why      string       `json:"why,omitempty"`
	Detail   string       `json:"detail,omitempty"` // for a segment's why: the condition that failed
	Products []catalog.ID `json:"products,omitempty"`
	Text     string       `json:"text,omitempty"`
}

type passedWhy struct {
	ID     string `json:"id,omitempty"`
	Why    string `json:"why"`
	Detail string `json:"detail,omitempty"`
}

// adminExplain answers GET /explain?visitor=ID&path=/some/page: it asks
// the shop for the page (as a visitor would, identity encoding), analyses
// it and decides for the visitor's profile as it is now, with every
// reason. It records nothing: no profile is made or changed, nothing is
// learned, nothing counted. The request it explains sends no cookies or
// headers of the visitor's; country=DE and language=de say where it comes
// from, for segments that test that.
func (p *Proxy) adminExplain(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	out, err := p.explain(string(args.Peek("visitor")), string(args.Peek("path")), string(args.Peek("host")),
		plan.Place{Country: plan.ParseCountry(args.Peek("country")), Language: plan.ParseLanguage(args.Peek("language"))})
	if err != nil {
		adminError(ctx, err.msg+"\n", err.status)
		return
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// notInTarget reports a byte that a request target or Host may not hold
// as it is: a space or a control character (a CR or LF would split the
// request line the shop reads).
func notInTarget(r rune) bool { return r <= ' ' || r == 0x7f }

// explainError is why a page cannot be explained, and the status that says so.
type explainError struct {
	status int
	msg    string
}

func (e *explainError) Error() string { return e.msg }

// explain is what the visitor gets on the page at path (of host, "" for
// the shop's first; from place) and why; see adminExplain.
func (p *Proxy) explain(visitor, path, hostArg string, place plan.Place) (explanation, *explainError) {
	conf := p.conf.Load()
	cfg := conf.cfg
	if visitor == "" || !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || hasPrefixFold([]byte(path), cfg.Assets.Prefix) ||
		strings.ContainsFunc(path+hostArg, notInTarget) {
		return explanation{}, &explainError{fasthttp.StatusBadRequest, "want ?visitor=ID&path=/a/page/of/the/shop"}
	}
	host := p.up.host
	if len(cfg.Server.Hosts) > 0 {
		host = cfg.Server.Hosts[0]
	}
	if hostArg != "" {
		host = hostArg
	}

	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(p.up.scheme + "://" + p.up.host + path)
	req.Header.SetHost(host)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.SetUserAgent("shopedge-explain")
	if err := p.up.client.DoDeadline(req, resp, time.Now().Add(p.up.timeout)); err != nil {
		return explanation{}, &explainError{fasthttp.StatusBadGateway, fmt.Sprintf("the shop did not answer: %v", err)}
	}
	if resp.StatusCode() != fasthttp.StatusOK || !isHTML(resp.Header.ContentType()) {
		return explanation{}, &explainError{fasthttp.StatusUnprocessableEntity, fmt.Sprintf("the shop answered %d %s: not a page shopedge changes", resp.StatusCode(), resp.Header.ContentType())}
	}
	raw := bufpool.Get()
	defer bufpool.Put(raw)
	if complete, err := readBody(resp, int(cfg.Limits.MaxRewriteBody), raw); err != nil || !complete {
		return explanation{}, &explainError{fasthttp.StatusUnprocessableEntity, "the page is larger than limits.max_rewrite_body, or was cut: passed through as it is"}
	}
	// Pages are classified, and categories named, by the path alone; a
	// search page's query comes from the rest.
	pathOnly, rawQuery, _ := strings.Cut(path, "?")
	pathBytes := []byte(pathOnly)
	kind, rule := cfg.Classify(pathBytes)
	a, err := page.Analyze(page.Input{
		Config: cfg, Type: kind, Raw: *raw, Encoding: codec.Parse(resp.Header.ContentEncoding()),
		ContentType: resp.Header.ContentType(), URL: "http://" + host + path, Budget: nil, Log: p.log,
	})
	if err != nil {
		return explanation{}, &explainError{fasthttp.StatusUnprocessableEntity, fmt.Sprintf("the page cannot be analysed (%v): passed through as it is", err)}
	}

	var d profile.Data
	prof, known := p.profiles.Get(visitor)
	if known {
		d = prof.Snapshot()
	}
	var pageArgs fasthttp.Args
	pageArgs.Parse(rawQuery)
	facts := &learn.Facts{VisitorID: visitor, Returning: known, Page: kind, Path: pathBytes, Query: searchQuery(kind, rule, &pageArgs)}
	ev := p.learner.EventOf(facts, a)
	verdict := csp.AllowAll
	if a.Injects {
		verdict = policyVerdict(resp, a, host, p.up.scheme == "https")
	}
	in := &plan.Input{
		Config: cfg, Page: a, Profile: &d,
		Request: plan.Request{Type: kind, VisitorID: visitor, Returning: known, Host: []byte(host), Product: ev.Product, Categories: ev.Categories, Place: place},
		CSP:     verdict, Now: p.now(), Engine: p.rec, Catalog: p.catalog, Counts: &p.counts, Explain: true,
	}
	pl := plan.Decide(in)
	defer pl.Release()

	out := explanation{Visitor: visitor, Known: known, Path: path, Page: kind.String(), Segments: map[string]bool{},
		CSP: verdict, Skipped: pl.CSPSkipped, Passed: []passedWhy{}}
	for i, m := range plan.SegmentsOf(in) {
		out.Segments[cfg.Segments[i].Name] = m
	}
	for i, r := range a.Regions {
		d := pl.Regions[i]
		// Cloned: the plan's buffers go back to its pool when explain returns.
		rw := regionWhy{Kind: r.Kind.String(), Action: d.Action.String(), Why: d.Why, Products: slices.Clone(d.Products), Text: d.Text}
		rw.ID = placeID(cfg, r.Kind, d.Index)
		if d.Why == plan.WhySegment {
			rw.Detail = plan.SegmentDetail(in, targetOf(cfg, r.Kind, d.Index))
		}
		out.Regions = append(out.Regions, rw)
	}
	for _, o := range pl.Others {
		kind := a.Regions[o.Region].Kind
		rw := regionWhy{Kind: kind.String(), ID: placeID(cfg, kind, o.Index), Action: plan.Keep.String(), Why: o.Why}
		if o.Why == plan.WhySegment {
			rw.Detail = plan.SegmentDetail(in, targetOf(cfg, kind, o.Index))
		}
		out.Regions = append(out.Regions, rw)
	}
	if pl.Overlay != nil {
		out.Overlay = pl.Overlay.ID
	}
	for _, ps := range pl.Passed {
		out.Passed = append(out.Passed, passedWhy(ps))
	}
	return out, nil
}

// placeID is the id of the block, banner or swap i, or "" for other
// kinds of region.
func placeID(cfg *rules.Compiled, k page.Kind, i int) string {
	switch k {
	case page.Block:
		return cfg.Recommendations.Blocks[i].ID
	case page.Banner:
		return cfg.Overlays.Banners[i].ID
	case page.Swap:
		return cfg.Swaps[i].ID
	}
	return ""
}

// targetOf is who the action of a region of kind k (the i-th block,
// banner or swap; the menu; search results) is for.
func targetOf(cfg *rules.Compiled, k page.Kind, i int) rules.Targeting {
	switch k {
	case page.Block:
		return cfg.Blocks[i].Target
	case page.Banner:
		return cfg.Banners[i].Target
	case page.Swap:
		return cfg.Swaps[i].Target
	case page.Menu:
		return cfg.NavAction.Target
	case page.Results:
		return cfg.SearchAction.Target
	}
	return rules.Targeting{}
}
