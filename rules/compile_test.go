package rules

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shopedge/proxy/recommend"
	"shopedge/rewrite/markup"
)

const upstreamOnly = "upstream:\n  url: http://127.0.0.1:8081\n"

// mustParse parses a configuration that must have no problem.
func mustParse(t *testing.T, yaml string) *Compiled {
	t.Helper()
	c, err := Parse("config.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return c
}

// overlayRule is an overlay rule with only what ordering needs.
func overlayRule(id string, priority int) string {
	return "    - {id: " + id + ", kind: timed, pages: [home], title: T, priority: " + strconv.Itoa(priority) + "}\n"
}

func TestCompileOverlayOrder(t *testing.T) {
	t.Parallel()
	type rule struct {
		id       string
		priority int
	}
	tests := []struct {
		name  string
		rules []rule
		want  []string
	}{
		{name: "none", want: nil},
		{name: "file order when priorities tie", rules: []rule{{"a", 0}, {"b", 0}, {"c", 0}}, want: []string{"a", "b", "c"}},
		{name: "highest priority first", rules: []rule{{"low", 1}, {"high", 9}, {"mid", 5}}, want: []string{"high", "mid", "low"}},
		{name: "ties keep the file's order", rules: []rule{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 2}}, want: []string{"b", "d", "a", "c"}},
		{name: "negative priorities go last", rules: []rule{{"neg", -1}, {"zero", 0}}, want: []string{"zero", "neg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			yaml := upstreamOnly
			if len(tt.rules) > 0 {
				yaml += "overlays:\n  rules:\n"
				for _, r := range tt.rules {
					yaml += overlayRule(r.id, r.priority)
				}
			}
			c := mustParse(t, yaml)
			var got []string
			for _, o := range c.OverlayRules {
				got = append(got, o.ID)
				if o.Overlay != &c.Overlays.Rules[o.index] {
					t.Errorf("overlay %s is not the rule it was compiled from", o.ID)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompileChains(t *testing.T) {
	t.Parallel()
	c := mustParse(t, upstreamOnly+`recommendations:
  blocks:
    - {id: alone, pages: [home], selector: main, strategy: popular}
    - {id: chained, pages: [home], selector: main, strategy: also_viewed, fallback: [session, trending]}
overlays:
  rules:
    - {id: up-default, kind: upsell, pages: [cart], title: T}
    - {id: up-own, kind: upsell, pages: [cart], title: T, strategy: upsell, fallback: [recently_viewed]}
    - {id: up-no-fallback, kind: upsell, pages: [cart], title: T, strategy: trending}
`)
	tests := []struct {
		name string
		got  []recommend.Strategy
		want []recommend.Strategy
	}{
		{"block without fallback", c.Blocks[0].Chain, []recommend.Strategy{recommend.Popular}},
		{"block with fallbacks", c.Blocks[1].Chain, []recommend.Strategy{recommend.AlsoViewed, recommend.Session, recommend.Trending}},
		{"overlay default", c.OverlayRules[0].Chain, []recommend.Strategy{recommend.AlsoBought, recommend.Popular}},
		{"overlay's own", c.OverlayRules[1].Chain, []recommend.Strategy{recommend.Upsell, recommend.RecentlyViewed}},
		{"overlay's own strategy drops the default fallback", c.OverlayRules[2].Chain, []recommend.Strategy{recommend.Trending}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	for i, b := range c.Blocks {
		if b.Block != &c.Recommendations.Blocks[i] {
			t.Errorf("block %d is not the block it was compiled from", i)
		}
	}
}

func TestCompileServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		yaml        string
		hosts       map[string]bool
		trusted     []netip.Prefix
		cookie      string
		assetHosts  []string
		wantLearns  bool
		wantTrusted int
	}{
		{
			name:   "defaults",
			yaml:   upstreamOnly,
			cookie: "se_vid",
		},
		{
			name:       "hosts lowercased, asset hosts after them",
			yaml:       upstreamOnly + "server:\n  hosts: [Shop.Example, www.shop.example]\ncatalog:\n  asset_hosts: ['*.shopcdn.net']\n",
			hosts:      map[string]bool{"shop.example": true, "www.shop.example": true},
			cookie:     "se_vid",
			assetHosts: []string{"Shop.Example", "www.shop.example", "*.shopcdn.net"},
		},
		{
			name:       "asset hosts alone",
			yaml:       upstreamOnly + "catalog:\n  asset_hosts: [cdn.shop.example]\n",
			cookie:     "se_vid",
			assetHosts: []string{"cdn.shop.example"},
		},
		{
			name: "trusted proxies: ranges masked, addresses whole",
			yaml: upstreamOnly + "server:\n  trusted_proxies: [10.1.2.3/8, 192.168.1.7, '::ffff:1.2.3.4', 'fd00::/8']\n",
			trusted: []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
				netip.MustParsePrefix("1.2.3.4/32"), netip.MustParsePrefix("fd00::/8"),
			},
			cookie: "se_vid",
		},
		{
			name:   "cookie over HTTPS only",
			yaml:   upstreamOnly + "identity:\n  cookie: vid\n  https_only: true\n",
			cookie: "__Host-vid",
		},
		{
			name:   "cookie renamed",
			yaml:   upstreamOnly + "identity:\n  cookie: vid\n",
			cookie: "vid",
		},
		{name: "learns from page rules", yaml: upstreamOnly + "pages:\n  - {type: home, path: '^/$'}\n", cookie: "se_vid", wantLearns: true},
		{name: "learns from cart events", yaml: upstreamOnly + "events:\n  cart_add:\n    - {path: '^/cart$', product_field: id}\n", cookie: "se_vid", wantLearns: true},
		{name: "learns for navigation", yaml: upstreamOnly + "navigation:\n  container: nav\n", cookie: "se_vid", wantLearns: true},
		{name: "learns for search", yaml: upstreamOnly + "search:\n  results: ul\n  item: li\n", cookie: "se_vid", wantLearns: true},
		{name: "learns for blocks", yaml: upstreamOnly + "recommendations:\n  blocks:\n    - {id: b, pages: [home], selector: main, strategy: popular}\n", cookie: "se_vid", wantLearns: true},
		{name: "learns for overlays", yaml: upstreamOnly + "overlays:\n  rules:\n" + overlayRule("o", 0), cookie: "se_vid", wantLearns: true},
		{name: "learns for banners", yaml: upstreamOnly + "overlays:\n  banners:\n    - {id: fs, kind: free_shipping, pages: [cart], selector: main, threshold: 50}\n", cookie: "se_vid", wantLearns: true},
		{name: "a bot list alone learns nothing", yaml: upstreamOnly + "tracking:\n  bot_agents: [probe]\n", cookie: "se_vid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tt.yaml)
			if !reflect.DeepEqual(c.Hosts, tt.hosts) {
				t.Errorf("Hosts = %v, want %v", c.Hosts, tt.hosts)
			}
			if !slices.Equal(c.TrustedProxies, tt.trusted) {
				t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, tt.trusted)
			}
			if c.CookieName != tt.cookie {
				t.Errorf("CookieName = %q, want %q", c.CookieName, tt.cookie)
			}
			if !slices.Equal(c.AssetHosts, tt.assetHosts) {
				t.Errorf("AssetHosts = %q, want %q", c.AssetHosts, tt.assetHosts)
			}
			if c.Learns != tt.wantLearns {
				t.Errorf("Learns = %v, want %v", c.Learns, tt.wantLearns)
			}
		})
	}
}

func TestCompileAssets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, prefix string
		theme              markup.Theme
	}{
		{"defaults", upstreamOnly, "/_shopedge/", markup.Theme{Accent: "#0b6e4f", AccentText: "#ffffff", Background: "#ffffff", Text: "#1d232b"}},
		{"own prefix and theme", upstreamOnly + "overlays:\n  prefix: /edge/x/\n  theme:\n    accent: '#123'\n    text: '#000000'\n",
			"/edge/x/", markup.Theme{Accent: "#123", AccentText: "#ffffff", Background: "#ffffff", Text: "#000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := mustParse(t, tt.yaml).Assets
			css, err := markup.Stylesheet(tt.theme)
			if err != nil {
				t.Fatal(err)
			}
			want := OwnAssets{
				Prefix: tt.prefix, CSS: css, JS: markup.Script(),
				CSSVersion: markup.Version(css), JSVersion: markup.Version(markup.Script()),
				CSSURL:     tt.prefix + "shopedge.css?v=" + markup.Version(css),
				JSURL:      tt.prefix + "shopedge.js?v=" + markup.Version(markup.Script()),
				BeaconPath: tt.prefix + "beacon",
			}
			if !reflect.DeepEqual(a, want) {
				t.Errorf("got %+v\nwant %+v", a, want)
			}
			if got := a.Tags("n1"); got != (markup.Assets{CSS: want.CSSURL, JS: want.JSURL, Beacon: want.BeaconPath, Nonce: "n1"}) {
				t.Errorf("Tags = %+v", got)
			}
		})
	}
}

const templatesAndSchedules = upstreamOnly + `recommendations:
  blocks:
    - {id: own, pages: [home], selector: main, strategy: popular, template: testdata/block-template.html}
    - {id: built-in, pages: [home], selector: main, strategy: popular}
overlays:
  rules:
    - {id: deal, kind: timed, pages: [home], title: T, template: testdata/overlay-template.html,
       starts: '2026-12-01T00:00:00Z', ends: '2026-12-24T18:00:00+01:00'}
    - {id: always, kind: timed, pages: [home], title: T}
  banners:
    - {id: fs, kind: free_shipping, pages: [cart], selector: main, threshold: 50}
    - {id: proof, kind: social_proof, pages: [product], selector: main}
`

func TestCompileTemplatesAndSchedules(t *testing.T) {
	t.Parallel()
	c := mustParse(t, templatesAndSchedules)
	if c.Blocks[0].Parsed == nil || c.Blocks[1].Parsed != nil {
		t.Errorf("block templates: own %v, built-in %v; want parsed, nil", c.Blocks[0].Parsed, c.Blocks[1].Parsed)
	}
	out, err := markup.RenderBlock(nil, c.Blocks[0].Parsed, markup.BlockData{ID: "own"})
	if err != nil || !strings.Contains(string(out), `class="my-recs"`) {
		t.Errorf("own block renders %q, %v", out, err)
	}
	deal, always := c.OverlayRules[0], c.OverlayRules[1]
	if deal.Parsed == nil || always.Parsed != nil {
		t.Errorf("overlay templates: deal %v, always %v; want parsed, nil", deal.Parsed, always.Parsed)
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 12, 24, 17, 0, 0, 0, time.UTC)
	if !deal.Start.Equal(start) || !deal.End.Equal(end) || !always.Start.IsZero() || !always.End.IsZero() {
		t.Errorf("schedules: deal %v to %v, always %v to %v", deal.Start, deal.End, always.Start, always.End)
	}
	for _, tt := range []struct {
		name string
		o    CompiledOverlay
		at   time.Time
		want bool
	}{
		{"before the start", deal, start.Add(-time.Second), false},
		{"at the start", deal, start, true},
		{"before the end", deal, end.Add(-time.Second), true},
		{"at the end", deal, end, false},
		{"unbounded", always, time.Time{}, true},
	} {
		if got := tt.o.Active(tt.at); got != tt.want {
			t.Errorf("%s: Active(%v) = %v, want %v", tt.name, tt.at, got, tt.want)
		}
	}
	if b := c.Banner("proof"); b == nil || b.Kind != BannerSocialProof || b != &c.Overlays.Banners[1] {
		t.Errorf("Banner(proof) = %+v", b)
	}
	if b := c.Banner("nope"); b != nil {
		t.Errorf("Banner(nope) = %+v, want nil", b)
	}
}

// derived is what Compile derives, without the templates (parsed anew
// each time) and with the blocks and overlays by value.
type derived struct {
	Hosts          map[string]bool
	TrustedProxies []netip.Prefix
	CookieName     string
	AssetHosts     []string
	Learns         bool
	Assets         OwnAssets
	Blocks         []string
	Chains         [][]recommend.Strategy
	Overlays       []string
	Schedules      [][2]time.Time
	Templates      []bool
	Banners        map[string]Banner
}

func derive(c *Compiled) derived {
	d := derived{
		Hosts: c.Hosts, TrustedProxies: c.TrustedProxies, CookieName: c.CookieName,
		AssetHosts: c.AssetHosts, Learns: c.Learns, Assets: c.Assets, Banners: map[string]Banner{},
	}
	for _, b := range c.Blocks {
		d.Blocks = append(d.Blocks, b.ID)
		d.Chains = append(d.Chains, b.Chain)
		d.Templates = append(d.Templates, b.Parsed != nil)
	}
	for _, o := range c.OverlayRules {
		d.Overlays = append(d.Overlays, o.ID)
		d.Chains = append(d.Chains, o.Chain)
		d.Schedules = append(d.Schedules, [2]time.Time{o.Start, o.End})
		d.Templates = append(d.Templates, o.Parsed != nil)
	}
	for id, b := range c.banners {
		d.Banners[id] = *b
	}
	return d
}

// TestCompileTwice: compiling the same Config twice derives the same
// values, and leaves the Config as it was.
func TestCompileTwice(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, yaml string }{
		{"templates and schedules", templatesAndSchedules},
		{"server", upstreamOnly + "server:\n  hosts: [A.example]\n  trusted_proxies: [10.0.0.0/8]\nidentity:\n  https_only: true\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := mustParse(t, tt.yaml).Config
			before := *cfg
			a, err := Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if da, db := derive(a), derive(b); !reflect.DeepEqual(da, db) {
				t.Errorf("compiled twice:\n%+v\n%+v", da, db)
			}
			if !reflect.DeepEqual(*cfg, before) {
				t.Error("Compile changed the Config it was given")
			}
			if a.Config == cfg {
				t.Error("the Compiled holds the Config it was given, not its own copy")
			}
			if len(cfg.Recommendations.Blocks) > 0 && &a.Recommendations.Blocks[0] == &cfg.Recommendations.Blocks[0] {
				t.Error("the Compiled shares the Config's blocks")
			}
		})
	}
}

// TestValidateDoesNotMutate: a Config changed in Go is compiled again; its
// problems are reported, all at once, and neither it nor the Compiled
// validated changes.
func TestValidateDoesNotMutate(t *testing.T) {
	t.Parallel()
	const yaml = upstreamOnly + `overlays:
  rules:
    - {id: deal, kind: timed, pages: [home], title: T, starts: '2026-12-01T00:00:00Z', ends: '2026-12-24T00:00:00Z'}
`
	cfg := mustParse(t, yaml).Config
	cfg.Limits.GzipLevel = 12
	cfg.Overlays.Rules[0].Ends = "2026-11-01T00:00:00Z"
	before := *cfg
	beforeRule := cfg.Overlays.Rules[0]

	_, err := Compile(cfg)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Compile: %v, want Problems", err)
	}
	// Problems keep the positions of the file the Config came from; a
	// field that is not in it has none.
	want := "config.yaml: limits.gzip_level: want 1 to 9, got 12\n" +
		"config.yaml:5:94: overlays.rules[0].ends: must be after starts"
	if got := ps.Error(); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}
	if !reflect.DeepEqual(*cfg, before) || !reflect.DeepEqual(cfg.Overlays.Rules[0], beforeRule) {
		t.Error("Compile changed the Config it was given")
	}

	// validate alone, on a Compiled: it reports and changes nothing.
	v := &validator{file: cfg.file, idx: cfg.pos}
	c := provision(cfg, v)
	snapshot := derive(c)
	settings := *c.Config
	c.validate(v)
	if len(v.problems) != 2 {
		t.Errorf("validate found %d problems, want 2:\n%s", len(v.problems), v.problems)
	}
	if !reflect.DeepEqual(derive(c), snapshot) || !reflect.DeepEqual(*c.Config, settings) {
		t.Error("validate changed the Compiled")
	}
}

// TestCompileGoConfig: a Config made in Go, without a file, compiles;
// its problems name the field without a position.
func TestCompileGoConfig(t *testing.T) {
	t.Parallel()
	cfg := *mustParse(t, upstreamOnly).Config
	cfg.file, cfg.pos = "", nil
	if _, err := Compile(&cfg); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	cfg.Log.Format = "xml"
	_, err := Compile(&cfg)
	if want := `log.format: want text or json, got "xml"`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"exit-offer", true},
		{"9lives", true},
		{"trailing-", true},
		{strings.Repeat("a", 40), true},
		{"", false},
		{"-lead", false},
		{strings.Repeat("a", 41), false},
		{"Upper", false},
		{"under_score", false},
		{"sp ace", false},
		{"é", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			if got := ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

// TestCompileFillsDefaults: an entry a test or a command adds in Go gets
// the defaults a decoded one gets, in the Compiled's copy only.
func TestCompileFillsDefaults(t *testing.T) {
	t.Parallel()
	cfg := *mustParse(t, upstreamOnly).Config
	cfg.Overlays.Rules = append(cfg.Overlays.Rules, Overlay{
		ID: "deal", Kind: OverlayTimed, Pages: []PageType{PageHome}, Title: "Today only",
		Cap: Cap{PerVisit: 1, PerDay: 1},
	})
	c, err := Compile(&cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if got := c.Overlays.Rules[0].Delay.D(); got != 15*time.Second {
		t.Errorf("compiled delay = %v, want the default 15s", got)
	}
	if got := cfg.Overlays.Rules[0].Delay; got != 0 {
		t.Errorf("the caller's Config changed: delay = %v", got)
	}
}
