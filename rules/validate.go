package rules

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"shopedge/proxy/recommend"
	"shopedge/rewrite"
	"shopedge/rewrite/markup"
)

func setDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}

func setInt(i *int, def int) {
	if *i == 0 {
		*i = def
	}
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func setSize(b *ByteSize, def int64) {
	if *b == 0 {
		*b = ByteSize(def)
	}
}

// setDefaults fills every field left out with its documented default.
func (c *Config) setDefaults() {
	u := &c.Upstream
	setString(&u.HostHeader, "keep")
	setDuration(&u.DialTimeout, 3*time.Second)
	setDuration(&u.Timeout, 30*time.Second)
	setInt(&u.MaxConns, 512)
	setDuration(&u.MaxConnWait, time.Second)
	setDuration(&u.MaxIdleConnDuration, time.Second)

	s := &c.Server
	setString(&s.Listen, "127.0.0.1:8080")
	setDuration(&s.ReadTimeout, 10*time.Second)
	setDuration(&s.WriteTimeout, 60*time.Second)
	setDuration(&s.IdleTimeout, 60*time.Second)
	setInt(&s.Concurrency, 10000)
	setSize(&s.MaxRequestBody, 8<<20)
	setSize(&s.ReadBufferSize, 32<<10)

	setString(&c.Admin.TokenEnv, "SHOPEDGE_ADMIN_TOKEN")

	l := &c.Limits
	setSize(&l.MaxRewriteBody, 4<<20)
	setInt(&l.GzipLevel, 1)
	setInt(&l.BrotliLevel, 4)
	setSize(&l.PageCache, 64<<20)

	id := &c.Identity
	setString(&id.Cookie, "se_vid")
	setDuration(&id.TTL, 365*24*time.Hour)
	setDuration(&id.Refresh, 24*time.Hour)
	if len(id.Keys) == 0 {
		id.Keys = []Key{{ID: "k1", SecretEnv: "SHOPEDGE_SECRET"}}
	}

	p := &c.Profiles
	setSize(&p.MaxMemory, 256<<20)
	setDuration(&p.TTL, 30*24*time.Hour)
	setDuration(&p.VisitGap, 30*time.Minute)
	setDuration(&p.InterestHalfLife, 7*24*time.Hour)

	setInt(&c.Catalog.MaxProducts, 100000)
	setDuration(&c.Store.SnapshotInterval, time.Minute)
	setDuration(&c.Store.Budget, 3*time.Millisecond)
	setDuration(&c.Store.Timeout, time.Second)
	setDuration(&c.Store.FlushInterval, 50*time.Millisecond)
	setSize(&c.Store.Backlog, 64<<20)

	for i := range c.Pages {
		if c.Pages[i].Type == PageSearch {
			setString(&c.Pages[i].Query, "q")
		}
	}
	for i := range c.Events.CartAdd {
		setString(&c.Events.CartAdd[i].Method, "POST")
		setString(&c.Events.CartAdd[i].QuantityField, "quantity")
	}
	if n := c.Navigation; n != nil {
		if n.Item.IsZero() {
			n.Item, _ = CompileSelector("li")
		}
		if n.MinInterest == 0 {
			n.MinInterest = 1
		}
	}
	r := &c.Recommendations
	setInt(&r.MaxProducts, 100000)
	setInt(&r.Neighbours, 40)
	setInt(&r.MaxSessions, 200000)
	setInt(&r.SessionsPerProduct, 300)
	setDuration(&r.HalfLife, 7*24*time.Hour)
	setDuration(&r.TrendingHalfLife, 6*time.Hour)
	setString(&r.AttributionParam, "se_rec")
	if !c.pos.has("attribution.window") {
		// Left out; a window written as 0 is an error (validate).
		setDuration(&c.Attribution.Window, 24*time.Hour)
	}
	for i := range r.Blocks {
		b := &r.Blocks[i]
		setString(&b.Position, "after")
		setInt(&b.Count, 4)
		setInt(&b.Min, 1)
	}
	c.setOverlayDefaults()
	setString(&c.Log.Level, "info")
	setString(&c.Log.Format, "text")
}

// validate checks what decoding and provisioning alone cannot, adding
// every problem to v. It reads no file and changes nothing.
func (c *Compiled) validate(v *validator) {
	if st := c.Store; st.Snapshot != "" && st.SnapshotInterval.D() < time.Second {
		v.add("store.snapshot_interval", "want at least 1s, got %s", st.SnapshotInterval.D())
	}
	c.validateStore(v)
	u := c.Upstream
	switch {
	case u.URL == "":
		v.add("upstream.url", "required: the shop's base URL, like https://shop.example.com")
	default:
		if _, err := ParseUpstreamURL(u.URL); err != nil {
			v.add("upstream.url", "%v", err)
		}
	}
	if u.HostHeader != "keep" && u.HostHeader != "upstream" {
		v.add("upstream.host_header", "want keep or upstream, got %q", u.HostHeader)
	}
	if u.MaxConns < 0 {
		v.add("upstream.max_conns", "must be positive")
	}

	s := c.Server
	checkAddr(v, "server.listen", s.Listen)
	for i, h := range s.Hosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			v.add(fmt.Sprintf("server.hosts[%d]", i), "%q is not a host name", h)
		}
	}
	if s.MaxConnsPerIP < 0 {
		v.add("server.max_conns_per_ip", "must not be negative")
	}
	if s.Concurrency < 0 {
		v.add("server.concurrency", "must be positive")
	}
	if s.ReadBufferSize < 4<<10 {
		v.add("server.read_buffer_size", "must be at least 4KiB (real cookie jars are large)")
	}
	if t := s.TLS; t != nil {
		if t.Cert == "" {
			v.add("server.tls.cert", "required: a PEM certificate file")
		}
		if t.Key == "" {
			v.add("server.tls.key", "required: a PEM private key file")
		}
	}
	if c.Admin.Listen != "" {
		checkAddr(v, "admin.listen", c.Admin.Listen)
	}

	l := c.Limits
	if l.GzipLevel < 1 || l.GzipLevel > 9 {
		v.add("limits.gzip_level", "want 1 to 9, got %d", l.GzipLevel)
	}
	if l.BrotliLevel < 0 || l.BrotliLevel > 11 {
		v.add("limits.brotli_level", "want 0 to 11, got %d", l.BrotliLevel)
	}
	if l.PageCache < 1<<20 {
		v.add("limits.page_cache", "must be at least 1MiB")
	}

	id := c.Identity
	if !validCookieName(id.Cookie) {
		v.add("identity.cookie", "%q is not a valid cookie name", id.Cookie)
	}
	if c := id.Consent; c != nil && !validCookieName(c.Cookie) {
		v.add("identity.consent.cookie", "required: the consent manager's cookie name, like OptanonConsent or CookieConsent")
	}
	if id.CustomerCookie != "" && !validCookieName(id.CustomerCookie) {
		v.add("identity.customer_cookie", "%q is not a valid cookie name", id.CustomerCookie)
	}
	if id.Refresh.D() >= id.TTL.D() {
		v.add("identity.refresh", "must be shorter than identity.ttl")
	}
	seen := map[string]bool{}
	for i, k := range id.Keys {
		p := fmt.Sprintf("identity.keys[%d]", i)
		switch {
		case k.ID == "":
			v.add(p+".id", "required: a short key name, sent as the token's kid")
		case seen[k.ID]:
			v.add(p+".id", "key %q is listed twice", k.ID)
		}
		seen[k.ID] = true
		if (k.SecretEnv == "") == (k.SecretFile == "") {
			v.add(p, "give exactly one of secret_env and secret_file")
		}
	}

	if c.Profiles.MaxMemory < 1<<20 {
		v.add("profiles.max_memory", "must be at least 1MiB")
	}
	if m := int64(c.Server.MemoryLimit); m != 0 && m < c.MinMemoryLimit() {
		v.add("server.memory_limit", "%d MiB is below profiles.max_memory + limits.page_cache + 64MiB (%d MiB): the garbage collector would run almost without pause",
			m>>20, c.MinMemoryLimit()>>20)
	}
	if c.Catalog.MaxProducts < 0 {
		v.add("catalog.max_products", "must be positive")
	}
	for i, h := range c.Catalog.AssetHosts {
		if !validHostPattern(h) {
			v.add(fmt.Sprintf("catalog.asset_hosts[%d]", i), "%q is not a host name like cdn.shop.com or *.shopcdn.net (no scheme, port or path)", h)
		}
	}

	for i, p := range c.Pages {
		path := fmt.Sprintf("pages[%d]", i)
		if p.Type == PageOther {
			v.add(path+".type", "required: one of home, category, product, search, cart, checkout, purchase")
		}
		if p.Path.Regexp == nil {
			v.add(path+".path", "required: a regular expression for the URL path")
		}
		if p.Query != "" && p.Type != PageSearch {
			v.add(path+".query", "only search pages have a query parameter")
		}
	}
	for i, e := range c.Events.CartAdd {
		path := fmt.Sprintf("events.cart_add[%d]", i)
		if e.Path.Regexp == nil {
			v.add(path+".path", "required: a regular expression for the URL path")
		}
		if e.ProductField == "" {
			v.add(path+".product_field", "required: the form field or JSON key holding the product id")
		}
		if e.Method != strings.ToUpper(e.Method) || strings.ContainsAny(e.Method, " /") {
			v.add(path+".method", "%q is not an HTTP method like POST", e.Method)
		}
	}
	if p := c.Events.Purchase; p != nil {
		if p.Selector.IsZero() && p.Pattern.Regexp == nil {
			v.add("events.purchase", "give a selector for the element showing the order's total, a pattern with one group for the amount, or both")
		}
		if re := p.Pattern.Regexp; re != nil && re.NumSubexp() != 1 {
			v.add("events.purchase.pattern", "want exactly one group, the amount, like 'Total: ([0-9.,]+)'; got %d (use (?:...) for the others)", re.NumSubexp())
		}
		if p.Currency != "" && !IsCurrency(p.Currency) {
			v.add("events.purchase.currency", "%q is not an ISO 4217 currency code like EUR or USD (upper case)", p.Currency)
		}
	}
	if n := c.Navigation; n != nil {
		if n.Container.IsZero() {
			v.add("navigation.container", "required: a CSS selector for the menu, like \"nav > ul\"")
		}
		if n.MinInterest < 0 {
			v.add("navigation.min_interest", "must not be negative")
		}
		if n.MaxPromoted < 0 {
			v.add("navigation.max_promoted", "must not be negative")
		}
		checkSchedule(v, "navigation", &c.NavAction)
	}
	c.validateRecommendations(v)
	c.validateAttribution(v)
	c.validateOverlays(v)
	c.validateSwaps(v)
	if s := c.Search; s != nil {
		if s.Results.IsZero() {
			v.add("search.results", "required: a CSS selector for the list of search results")
		}
		if s.Item.IsZero() {
			v.add("search.item", "required: a CSS selector for one result in the list")
		}
		checkSchedule(v, "search", &c.SearchAction)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		v.add("log.format", "want text or json, got %q", c.Log.Format)
	}
}

// ParseUpstreamURL checks a shop's base URL: http or https, a host, no path
// beyond "/", no query, no credentials.
func ParseUpstreamURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("%q: the upstream is a whole site; give no path", s)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q: give no query or fragment", s)
	case u.User != nil:
		return nil, fmt.Errorf("%q: give no user or password", s)
	}
	return u, nil
}

// ParsePrefix accepts an IP address or a CIDR range.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func checkAddr(v *validator, path, addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		v.add(path, "%q is not a host:port address", addr)
	}
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// strategyNames are the recommendation strategies' names, as a block or
// an overlay names them.
func strategyNames() []string {
	names := make([]string, len(recommend.Strategies))
	for i, s := range recommend.Strategies {
		names[i] = string(s)
	}
	return names
}

// checkChain checks a strategy chain of the block or overlay at path (the
// strategy, then the fallbacks), from its entry from on: each must be one
// of recommend.Strategies.
func checkChain(v *validator, path string, ch []recommend.Strategy, from int) {
	for j := from; j < len(ch); j++ {
		if ch[j].Valid() {
			continue
		}
		field := path + ".strategy"
		if j > 0 {
			field = fmt.Sprintf("%s.fallback[%d]", path, j-1)
		}
		v.add(field, "unknown strategy %q (want one of %s)", ch[j], strings.Join(strategyNames(), ", "))
	}
}

func (c *Compiled) validateAttribution(v *validator) {
	switch w := c.Attribution.Window.D(); {
	case w < time.Second:
		v.add("attribution.window", "want a duration of at least 1s, like 24h; got %s", w)
	case w > MaxAttributionWindow:
		v.add("attribution.window", "want at most 720h (30 days), got %s", shortDuration(w))
	}
}

// shortDuration writes d as a duration is written in the file: 48h, not
// 48h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (c *Compiled) validateRecommendations(v *validator) {
	r := &c.Recommendations
	for _, f := range []struct {
		name string
		v    int
	}{{"max_products", r.MaxProducts}, {"neighbours", r.Neighbours}, {"max_sessions", r.MaxSessions}, {"sessions_per_product", r.SessionsPerProduct}} {
		if f.v < 0 {
			v.add("recommendations."+f.name, "must be positive")
		}
	}
	if !validCookieName(r.AttributionParam) {
		v.add("recommendations.attribution_param", "%q is not a usable query parameter name", r.AttributionParam)
	}
	ids := map[string]bool{}
	for i, b := range c.Blocks {
		path := fmt.Sprintf("recommendations.blocks[%d]", i)
		checkID(v, ids, path, b.ID, "block %q is defined twice")
		checkPlacement(v, path, "block", "[home, product]", b.Pages, b.Selector, b.Position)
		checkSchedule(v, path, &b.Action)
		if b.Strategy == "" {
			v.add(path+".strategy", "required: one of %s", strings.Join(strategyNames(), ", "))
			checkChain(v, path, b.Chain, 1)
		} else {
			checkChain(v, path, b.Chain, 0)
		}
		if b.Count < 1 || b.Count > 24 {
			v.add(path+".count", "want 1 to 24, got %d", b.Count)
		}
		if b.Min < 1 || b.Min > b.Count {
			v.add(path+".min", "want 1 to count (%d), got %d", b.Count, b.Min)
		}
		if b.Parsed != nil {
			if err := markup.CheckBlockTemplate(b.Parsed); err != nil {
				v.add(path+".template", "%v", err)
			}
		}
	}
}

// checkID checks an id of a block, overlay or banner: present, of the
// form ValidID accepts, and not in seen (dup formats the message for a
// repeat).
func checkID(v *validator, seen map[string]bool, path, id, dup string) {
	switch {
	case id == "":
		v.add(path+".id", "required: a short name of lowercase letters, digits and dashes")
	case !ValidID(id):
		v.add(path+".id", "%q: use lowercase letters, digits and dashes (at most 40)", id)
	case seen[id]:
		v.add(path+".id", dup, id)
	}
	seen[id] = true
}

// checkPlacement checks where a block or banner goes: its page types, its
// selector and its position.
func checkPlacement(v *validator, path, what, example string, pages []PageType, sel Selector, pos string) {
	if len(pages) == 0 {
		v.add(path+".pages", "required: the page types the %s goes on, like %s", what, example)
	}
	if sel.IsZero() {
		v.add(path+".selector", "required: a CSS selector for where the %s goes", what)
	}
	if !slices.Contains(rewrite.Positions, rewrite.Position(pos)) {
		v.add(path+".position", "want %s, got %q", positionNames(), pos)
	}
}

// positionNames lists rewrite.Positions as "before, after, ... or replace".
func positionNames() string {
	names := make([]string, len(rewrite.Positions))
	for i, p := range rewrite.Positions {
		names[i] = string(p)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// validHostPattern reports whether s is a host name, or "*." and a domain
// of at least two labels.
func validHostPattern(s string) bool {
	name, wild := strings.CutPrefix(s, "*.")
	labels := strings.Split(name, ".")
	if name == "" || len(name) > 253 || wild && len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
