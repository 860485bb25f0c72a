package rules

import (
	"fmt"
	"time"
)

// Config is a whole shopedge configuration. Its YAML form is documented
// field by field in configs/reference.yaml; the comments here say what a
// missing field means.
type Config struct {
	// Upstream is the shop shopedge stands in front of. Required.
	Upstream Upstream `yaml:"upstream"`
	// Server is the public listener.
	Server Server `yaml:"server"`
	// Admin is the operations listener (health, metrics, profiles).
	Admin Admin `yaml:"admin"`
	// Limits bound what the proxy rewrites.
	Limits Limits `yaml:"limits"`
	// Identity is the visitor cookie.
	Identity Identity `yaml:"identity"`
	// Profiles bound the in-memory visitor profiles.
	Profiles Profiles `yaml:"profiles"`
	// Catalog bounds the product catalog learned from pages.
	Catalog Catalog `yaml:"catalog"`
	// Tracking says who is tracked.
	Tracking Tracking `yaml:"tracking"`
	// Pages classify requests by URL; the first match wins. A request no
	// rule matches is of type "other".
	Pages []PageRule `yaml:"pages"`
	// Events are the behaviours read from requests other than page views.
	Events Events `yaml:"events"`
	// Navigation reorders the shop's menu by the visitor's interests.
	// Default: no reordering.
	Navigation *Navigation `yaml:"navigation"`
	// Recommendations configure the engine and the blocks it fills.
	Recommendations Recommendations `yaml:"recommendations"`
	// Search re-ranks search results for the visitor. Default: off.
	Search *Search `yaml:"search"`
	// Overlays are dialogs and banners shown to visitors. Default: none.
	Overlays Overlays `yaml:"overlays"`
	// Attribution says which orders count as conversions of a block or
	// an overlay after a click on it.
	Attribution Attribution `yaml:"attribution"`
	// Content are content swaps: the inner HTML, or one attribute, of an
	// element replaced for the visitors they target. Default: none.
	Content []Swap `yaml:"content"`
	// Segments are named groups of visitors, each a condition over the
	// visitor and the request, that actions target by name. Default:
	// only the built-in new, returning, customer and prospect.
	Segments map[string]Condition `yaml:"segments"`
	// Store says where state lives beyond the process. Default: in
	// memory only.
	Store Store `yaml:"store"`
	// Experiments configure the global control group. Default: none.
	Experiments Experiments `yaml:"experiments"`
	// TimeZone is where the time conditions of segments (hour, weekday,
	// date) are read, an IANA name like Europe/Berlin. Default: UTC.
	TimeZone string `yaml:"time_zone"`
	// Place says where the request's country comes from, for segments'
	// country conditions. Default: nowhere.
	Place Place `yaml:"place"`
	// Log configures logging.
	Log Log `yaml:"log"`

	// file is the name the configuration was loaded from, and pos where
	// its fields are, for messages.
	file string
	pos  *positions
}

// File returns the name of the file the configuration came from.
func (c *Config) File() string { return c.file }

// Problem builds a Problem about a field of the configuration, placed at
// the field (or its nearest ancestor in the file): for checks made after
// loading, such as a secret missing from the environment.
func (c *Config) Problem(field, format string, args ...any) Problem {
	p := Problem{File: c.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if c.pos != nil {
		p.Line, p.Col = c.pos.find(field)
	}
	return p
}

// Upstream is the shop's origin.
type Upstream struct {
	// URL is the shop's base URL, http or https, with no path. Required.
	URL string `yaml:"url"`
	// HostHeader is "keep" to forward the visitor's Host header, or
	// "upstream" to send the upstream URL's host. Default: keep.
	HostHeader string `yaml:"host_header"`
	// DialTimeout bounds connecting to the shop, TLS handshake included.
	// Default: 3s.
	DialTimeout Duration `yaml:"dial_timeout"`
	// Timeout bounds a whole upstream exchange, body included, and any
	// retry with it: a request that timed out is never sent again.
	// Default: 30s.
	Timeout Duration `yaml:"timeout"`
	// MaxConns bounds open connections to the shop. Default: 512.
	MaxConns int `yaml:"max_conns"`
	// MaxConnWait is how long a request waits for a free connection before
	// it is answered 503. Default: 1s.
	MaxConnWait Duration `yaml:"max_conn_wait"`
	// MaxIdleConnDuration closes connections to the shop idle this long.
	// Keep it below the shop's keep-alive timeout by more than a round trip
	// to the shop: a request sent as the shop closes the connection is lost
	// on the way, and only a GET or HEAD may then be sent again. The
	// default is below the default keep-alive of every common shop server
	// (Gunicorn 2s to 5s by version; Apache httpd 2.2+, Node.js, uvicorn,
	// lighttpd 5s; Puma, Tomcat 20s; nginx 75s; IIS 120s); the cost is a
	// new connection (and TLS handshake, resumed) after a second without
	// traffic. A connection the shop closed earlier is found before a
	// request is written on it, and the request goes on a fresh one.
	// Default: 1s.
	MaxIdleConnDuration Duration `yaml:"max_idle_conn_duration"`
	// InsecureSkipVerify disables TLS verification of the shop. Default: false.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Server is the public listener.
type Server struct {
	// Listen is the address to listen on. Default: 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// Hosts lists the Host names shopedge answers for; other hosts get 421.
	// Default: any host.
	Hosts []string `yaml:"hosts"`
	// TrustedProxies lists the peers (IP or CIDR) whose X-Forwarded-*,
	// Forwarded and X-Real-IP headers are believed; from others every copy
	// of them is removed. Default: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// UnderscoresInHeaders forwards request headers whose name has an '_'.
	// Off, they are dropped, as nginx's underscores_in_headers off does: a
	// shop that reads headers CGI-style (HTTP_X_FORWARDED_FOR) cannot tell
	// X_Forwarded_For from X-Forwarded-For. Even on, a forwarded header
	// spelled with '_' is dropped from a peer not in TrustedProxies.
	// Default: false.
	UnderscoresInHeaders bool `yaml:"underscores_in_headers"`
	// ReadTimeout bounds reading a request, headers and body. Default: 10s.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response. Default: 60s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default: 60s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxConnsPerIP bounds connections from one address. Default: 0 (none).
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// Concurrency bounds requests served at once. Default: 10000.
	Concurrency int `yaml:"concurrency"`
	// MaxRequestBody bounds request bodies; larger ones get 413.
	// Default: 8MiB.
	MaxRequestBody ByteSize `yaml:"max_request_body"`
	// ReadBufferSize bounds request headers; larger ones get 431.
	// Default: 32KiB.
	ReadBufferSize ByteSize `yaml:"read_buffer_size"`
	// MemoryLimit is the process's memory target, the Go runtime's soft
	// limit (debug.SetMemoryLimit): the garbage collector works harder as
	// the heap nears it, so that freed memory is reused rather than the
	// process growing to twice its live heap. Size it as
	// profiles.max_memory + limits.page_cache + the recommendation engine
	// (recommendations.max_sessions × 350 B + products × 2.5 KiB) + the
	// catalog and live counters (products × 1 KiB) + 64 KiB per connection
	// open at once + 64MiB; it must be at least profiles.max_memory +
	// limits.page_cache + 64MiB. Resident memory stays near it once the
	// stores are full. Needs a restart. Default: the GOMEMLIMIT environment
	// variable if set, else profiles.max_memory + limits.page_cache +
	// 256MiB (by the rule, room for the default 200,000 past visits, 10,000
	// products and 1,500 connections).
	MemoryLimit ByteSize `yaml:"memory_limit"`
	// TLS, when set, serves HTTPS with this certificate and key.
	TLS *TLS `yaml:"tls"`
}

// memoryAllowance is what the default memory limit allows beyond the
// profiles and the page cache: the engine, the catalog, live counters,
// connections' buffers and stacks, and the runtime.
const memoryAllowance = 256 << 20

// MinMemoryLimit is the lowest server.memory_limit the configuration
// allows: the two large bounded stores and 64MiB for the rest. Below it
// the garbage collector would run almost without pause.
func (c *Config) MinMemoryLimit() int64 {
	return int64(c.Profiles.MaxMemory) + int64(c.Limits.PageCache) + 64<<20
}

// DerivedMemoryLimit is the memory limit when server.memory_limit is not
// set (and GOMEMLIMIT is not either): profiles.max_memory +
// limits.page_cache + 256MiB.
func (c *Config) DerivedMemoryLimit() int64 {
	return int64(c.Profiles.MaxMemory) + int64(c.Limits.PageCache) + memoryAllowance
}

// TLS names a certificate and its key.
type TLS struct {
	// Cert is a PEM certificate chain file. Required.
	Cert string `yaml:"cert"`
	// Key is a PEM private key file. Required.
	Key string `yaml:"key"`
}

// Admin is the operations listener.
type Admin struct {
	// Listen is the admin address. Default: off.
	Listen string `yaml:"listen"`
	// TokenEnv names an environment variable holding the bearer token that
	// guards every admin path but /healthz. Default: SHOPEDGE_ADMIN_TOKEN.
	TokenEnv string `yaml:"token_env"`
}

// Limits bound rewriting.
type Limits struct {
	// MaxRewriteBody is the largest page rewritten, decoded; larger pages
	// pass through untouched. Default: 4MiB.
	MaxRewriteBody ByteSize `yaml:"max_rewrite_body"`
	// GzipLevel is the gzip level of the parts of a personalized page made
	// for each visitor (its menus), 1-9; the unchanged parts are compressed
	// once per page at level 6. Default: 1.
	GzipLevel int `yaml:"gzip_level"`
	// BrotliLevel is the brotli level for rewritten pages, 0-11. Default: 4.
	BrotliLevel int `yaml:"brotli_level"`
	// PageCache bounds the memory kept for analysed pages (the positions
	// of what may change per visitor, the product read from the page, and
	// for gzip pages the unchanged parts, compressed; never the page
	// itself), so that a page served to many visitors is decoded and read
	// once. Default: 64MiB.
	PageCache ByteSize `yaml:"page_cache"`
}

// Identity is the visitor cookie, a signed JWT.
type Identity struct {
	// Cookie is the cookie's name. Default: se_vid. Served over HTTPS only
	// (HTTPSOnly), the name gets the __Host- prefix.
	Cookie string `yaml:"cookie"`
	// TTL is how long a visitor is remembered. Default: 8760h (a year).
	TTL Duration `yaml:"ttl"`
	// Refresh re-issues a token older than this. Default: 24h.
	Refresh Duration `yaml:"refresh"`
	// HTTPSOnly marks the cookie Secure and names it __Host-<cookie>, for
	// shops served over HTTPS only. Default: false (Secure is still set on
	// requests that came over HTTPS).
	HTTPSOnly bool `yaml:"https_only"`
	// Keys sign and verify tokens. The first signs; all verify, so a new
	// key goes first and the old one stays until its tokens expire.
	// Default: one key, "k1", from SHOPEDGE_SECRET.
	Keys []Key `yaml:"keys"`
	// CustomerCookie names the shop's cookie whose presence means a
	// logged-in customer. Default: none.
	CustomerCookie string `yaml:"customer_cookie"`
	// Consent, when set, is the consent manager's cookie that must grant
	// personalization: a visitor without it (or whose value does not
	// match) gets the shop's page as it is, no visitor cookie and no
	// profile, as with Sec-GPC. Default: none (only Sec-GPC is honoured).
	Consent *Consent `yaml:"consent"`
}

// Consent names the cookie a consent manager sets and what its value must
// hold for personalization.
type Consent struct {
	// Cookie is the consent cookie's name (OptanonConsent for OneTrust,
	// CookieConsent for Cookiebot). Required.
	Cookie string `yaml:"cookie"`
	// Matches is a regular expression the cookie's value (as sent,
	// percent-encoding included) must match, like 'marketing:true' for
	// Cookiebot. Default: the cookie being present grants consent.
	Matches Regexp `yaml:"matches"`
}

// Key is one signing key.
type Key struct {
	// ID is the key's kid. Required.
	ID string `yaml:"id"`
	// SecretEnv names the environment variable that holds the secret.
	SecretEnv string `yaml:"secret_env"`
	// SecretFile names a file that holds the secret. One of SecretEnv and
	// SecretFile is required.
	SecretFile string `yaml:"secret_file"`
}

// Profiles bound visitor profiles.
type Profiles struct {
	// MaxMemory bounds the memory profiles take. Default: 256MiB.
	MaxMemory ByteSize `yaml:"max_memory"`
	// TTL forgets a visitor not seen for this long. Default: 720h (30 days).
	TTL Duration `yaml:"ttl"`
	// VisitGap starts a new visit after this much inactivity. Default: 30m.
	VisitGap Duration `yaml:"visit_gap"`
	// InterestHalfLife halves category interest over this time.
	// Default: 168h (a week).
	InterestHalfLife Duration `yaml:"interest_half_life"`
}

// Catalog bounds the learned catalog.
type Catalog struct {
	// MaxProducts bounds the products remembered. Default: 100000.
	MaxProducts int `yaml:"max_products"`
	// AssetHosts are the hosts besides the shop's own that a product's
	// image and link, read from its page, may point to: the shop's CDNs.
	// A name ("cdn.shop.com") allows that host, "*." and a domain
	// ("*.shopcdn.net") any host under it; the page's own host and those
	// of server.hosts are always allowed. Images on other hosts are
	// dropped, and a product whose link points elsewhere is linked to the
	// page it was read from, so that markup on a page cannot make
	// shopedge show other visitors a third party's image or link.
	// Default: none (the shop's own origin only).
	AssetHosts []string `yaml:"asset_hosts"`
}

// Tracking says who is tracked.
type Tracking struct {
	// BotAgents adds user-agent substrings (case-insensitive) to the
	// built-in list of crawlers and tools that are never tracked.
	BotAgents []string `yaml:"bot_agents"`
}

// PageRule classifies requests whose path matches.
type PageRule struct {
	// Type is one of home, category, product, search, cart, checkout,
	// purchase. Required.
	Type PageType `yaml:"type"`
	// Path is a regular expression matched against the URL path. Required.
	Path Regexp `yaml:"path"`
	// Query names the query parameter holding the search terms, for search
	// pages. Default: q.
	Query string `yaml:"query"`
}

// Events are behaviours read from requests.
type Events struct {
	// CartAdd recognises add-to-cart requests.
	CartAdd []CartAdd `yaml:"cart_add"`
	// Purchase says where a purchase page shows the order's total when
	// the page prints no schema.org Order or Invoice JSON-LD with one.
	// Default: the JSON-LD only.
	Purchase *Purchase `yaml:"purchase"`
}

// Purchase reads an order's total from a purchase page's text (pages of
// type purchase), for shops whose confirmation page has no schema.org
// Order or Invoice JSON-LD, or one without a total. One of Selector and
// Pattern is required.
type Purchase struct {
	// Selector selects the element whose text holds the order's total
	// (CSS; the first match), like ".order-total". Default: none (Pattern
	// reads the page's HTML).
	Selector Selector `yaml:"selector"`
	// Pattern is a regular expression with exactly one group, the amount.
	// With Selector it is matched against the selected element's text;
	// without, against the page's HTML, scripts included (a dataLayer
	// push like '"revenue":\s*"?([0-9.,]+)'). Default: the selected
	// element's whole text is the amount.
	Pattern Regexp `yaml:"pattern"`
	// Currency is the ISO 4217 code of the order's total when the page
	// names none: a JSON-LD total without priceCurrency, a text amount
	// without a code or a symbol only one currency uses (€, £, ₹, ...;
	// $, ¥ and kr are shared, and read as this currency). Default: none
	// ($ is then read as USD, ¥ as JPY, and an amount that names no
	// currency has none).
	Currency string `yaml:"currency"`
}

// CartAdd recognises an add-to-cart request (a form or JSON POST).
type CartAdd struct {
	// Path is a regular expression matched against the URL path. Required.
	Path Regexp `yaml:"path"`
	// Method is the HTTP method. Default: POST.
	Method string `yaml:"method"`
	// ProductField is the form field or JSON key with the product id or
	// SKU. Required.
	ProductField string `yaml:"product_field"`
	// QuantityField is the field with the quantity. Default: quantity.
	QuantityField string `yaml:"quantity_field"`
}

// Navigation reorders the shop's menu.
type Navigation struct {
	// Segments are who the reordering is for: members of any of these segments
	// (named under segments:, or new, returning, customer, prospect).
	// Default: every visitor.
	Segments []string `yaml:"segments"`
	// Exclude are segments whose members never get it.
	Exclude []string `yaml:"exclude"`
	// Priority ranks the reordering against other actions that want the same
	// place: the highest that applies wins, then the first in the file. No
	// other action wants a menu's place today (a block or swap inside the
	// menu is left out, the menu kept whole): it is here for the day one
	// does, and for experiments. Default: 0.
	Priority int `yaml:"priority"`
	// Enabled false keeps the reordering in the file, off: it never applies and
	// costs nothing. Default: true.
	Enabled *bool `yaml:"enabled"`
	// Starts and Ends bound when the reordering runs (RFC 3339). Default: always.
	Starts string `yaml:"starts"`
	Ends   string `yaml:"ends"`
	// Experiment holds a share of the visitors it would apply to out, and
	// counts both arms (experiments in configs/reference.yaml). Default:
	// none.
	Experiment *Experiment `yaml:"experiment"`

	// Pages are the page types whose menu is reordered. Default: every
	// page.
	Pages []PageType `yaml:"pages"`
	// Container selects the menu (CSS). Every match is reordered. Required.
	Container Selector `yaml:"container"`
	// Item selects the menu's entries inside the container; entries inside
	// other entries (submenus) move with them. Default: li.
	Item Selector `yaml:"item"`
	// MinInterest is the interest a category needs to be moved up; a view
	// of a product counts 1 for each of its categories. Default: 1.
	MinInterest float64 `yaml:"min_interest"`
	// MaxPromoted bounds how many entries move up. Default: 0 (no bound).
	MaxPromoted int `yaml:"max_promoted"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default: info.
	Level string `yaml:"level"`
	// Format is text or json. Default: text.
	Format string `yaml:"format"`
	// Access logs every request at info level. Default: false.
	Access bool `yaml:"access"`
}

// Attribution credits orders to the block or overlay a visitor last
// clicked (last-click attribution): every order placed within Window of
// that click counts once for it, as a conversion with the order's value
// (shopedge_block_conversions_total, shopedge_overlay_conversions_total
// and their revenue).
type Attribution struct {
	// Window is how long after a click on a block's product or an
	// overlay's link the visitor's orders count for it: from 1s up to
	// MaxAttributionWindow (720h, 30 days; a visitor's click lives in
	// their profile, which profiles.ttl forgets). Default: 24h.
	Window Duration `yaml:"window"`
}

// MaxAttributionWindow bounds attribution.window.
const MaxAttributionWindow = 30 * 24 * time.Hour

// Recommendations configure the recommendation engine and its blocks.
type Recommendations struct {
	// MaxProducts bounds the products the engine tracks. Default: 100000.
	MaxProducts int `yaml:"max_products"`
	// Neighbours is how many co-viewed and co-bought products are kept per
	// product. Default: 40.
	Neighbours int `yaml:"neighbours"`
	// MaxSessions bounds the past visits kept for the session strategy.
	// Default: 200000.
	MaxSessions int `yaml:"max_sessions"`
	// SessionsPerProduct is how many recent visits per product the session
	// strategy compares with. Default: 300.
	SessionsPerProduct int `yaml:"sessions_per_product"`
	// HalfLife halves co-occurrence and popularity. Default: 168h.
	HalfLife Duration `yaml:"half_life"`
	// TrendingHalfLife halves the trending score. Default: 6h.
	TrendingHalfLife Duration `yaml:"trending_half_life"`
	// AttributionParam is the query parameter added to recommended links
	// (its value is the block's id), so that a click is counted for the
	// block; it is removed before the request reaches the shop.
	// Default: se_rec.
	AttributionParam string `yaml:"attribution_param"`
	// Blocks are put on pages.
	Blocks []Block `yaml:"blocks"`
}

// Block is a recommendation block put on pages.
type Block struct {
	// ID names the block in links, metrics and the page (of the form
	// ValidID accepts). Required.
	ID string `yaml:"id"`
	// Segments are who the block is for: members of any of these segments
	// (named under segments:, or new, returning, customer, prospect).
	// Default: every visitor.
	Segments []string `yaml:"segments"`
	// Exclude are segments whose members never get it.
	Exclude []string `yaml:"exclude"`
	// Priority ranks the block against other actions that want the same
	// place: the highest that applies wins, then the first in the file.
	// Default: 0.
	Priority int `yaml:"priority"`
	// Enabled false keeps the block in the file, off: it never applies and
	// costs nothing. Default: true.
	Enabled *bool `yaml:"enabled"`
	// Starts and Ends bound when the block runs (RFC 3339). Default: always.
	Starts string `yaml:"starts"`
	Ends   string `yaml:"ends"`
	// Experiment holds a share of the visitors it would apply to out, and
	// counts both arms (experiments in configs/reference.yaml). Default:
	// none.
	Experiment *Experiment `yaml:"experiment"`

	// Pages are the page types the block goes on. Required.
	Pages []PageType `yaml:"pages"`
	// Selector is where the block goes (CSS; the first match). Required.
	Selector Selector `yaml:"selector"`
	// Position is before, after, prepend, append or replace, relative to
	// the selected element. Default: after.
	Position string `yaml:"position"`
	// Strategy is recently_viewed, also_viewed, also_bought, session,
	// popular, trending or upsell. Required.
	Strategy string `yaml:"strategy"`
	// Fallback are strategies tried in turn when the strategy finds too
	// few products. Default: none.
	Fallback []string `yaml:"fallback"`
	// Count is how many products, 1-24. Default: 4.
	Count int `yaml:"count"`
	// Min is the fewest products worth showing; with fewer, no block.
	// Default: 1.
	Min int `yaml:"min"`
	// Title heads the block. Default: none.
	Title string `yaml:"title"`
	// Personal re-ranks the products by the visitor's interest in their
	// categories. Default: false.
	Personal bool `yaml:"personal"`
	// Template is an html/template file (relative to the configuration)
	// rendering BlockData. Default: the built-in grid of product cards.
	Template string `yaml:"template"`
}

// Search re-ranks search results.
type Search struct {
	// Segments are who the re-ranking is for: members of any of these segments
	// (named under segments:, or new, returning, customer, prospect).
	// Default: every visitor.
	Segments []string `yaml:"segments"`
	// Exclude are segments whose members never get it.
	Exclude []string `yaml:"exclude"`
	// Priority ranks the re-ranking against other actions that want the same
	// place: the highest that applies wins, then the first in the file. No
	// other action wants the results' place today: it is here for the day
	// one does, and for experiments. Default: 0.
	Priority int `yaml:"priority"`
	// Enabled false keeps the re-ranking in the file, off: it never applies and
	// costs nothing. Default: true.
	Enabled *bool `yaml:"enabled"`
	// Starts and Ends bound when the re-ranking runs (RFC 3339). Default: always.
	Starts string `yaml:"starts"`
	Ends   string `yaml:"ends"`
	// Experiment holds a share of the visitors it would apply to out, and
	// counts both arms (experiments in configs/reference.yaml). Default:
	// none.
	Experiment *Experiment `yaml:"experiment"`

	// Results selects the list of results (CSS). Required.
	Results Selector `yaml:"results"`
	// Item selects a result inside it; its first link names the product.
	// Required.
	Item Selector `yaml:"item"`
}

// Store says where shopedge's state (visitor profiles, the learned
// catalog, the recommendation engine, live counts, experiment counts)
// lives beyond the process.
type Store struct {
	// Snapshot is a file the whole state is written to, atomically, every
	// SnapshotInterval and when the process stops, and read from when it
	// starts: a restart forgets no visitor. A file that is not a snapshot
	// of this shop, of this build's format, or whole, is refused with a
	// log line and the proxy starts empty. Relative to the working
	// directory. Default: none (state lives in memory only). Restart to
	// change.
	Snapshot string `yaml:"snapshot"`
	// SnapshotInterval is how often the snapshot is written: what a crash
	// (not a stop) may lose. Default: 1m. Restart to change.
	SnapshotInterval Duration `yaml:"snapshot_interval"`
	// URL is a Redis (7 or later) or Valkey server several instances share
	// their state through: redis://host:port/db, or rediss:// for TLS.
	// The password goes in the URL (redis://:secret@host:6379/0) or in
	// the environment variable SHOPEDGE_REDIS_PASSWORD, which wins; it is
	// never logged. Each instance keeps serving from its own memory when
	// the server is slow or down, and catches up when it answers. With a
	// URL, the state instances start from is saved in Redis every
	// SnapshotInterval too. Default: none (state is the process's own).
	// Restart to change.
	URL string `yaml:"url"`
	// Cluster says URL names one node of a Redis Cluster. Default: false.
	// Restart to change.
	Cluster bool `yaml:"cluster"`
	// TLS configures the connection to the server: with rediss:// URLs
	// or when any field is set. Restart to change.
	TLS StoreTLS `yaml:"tls"`
	// Prefix begins every key shopedge writes, so that several shops (or
	// a staging and a production) can share one server. Default:
	// "shopedge:" and the shop's first host (else the upstream's), and
	// ":". Restart to change.
	Prefix string `yaml:"prefix"`
	// Budget is the longest a request waits on the server (to read a
	// returning visitor's profile another instance wrote): past it, the
	// request goes on with what this instance holds. Default: 3ms.
	// Restart to change.
	Budget Duration `yaml:"budget"`
	// Timeout bounds the store's background work: writes, reads of
	// shared counts, the state at start. Default: 1s. Restart to change.
	Timeout Duration `yaml:"timeout"`
	// FlushInterval is how often what an instance learned is written:
	// profiles, changes to the engine, catalog and live counts, counter
	// increments. It is how long another instance may see a visitor as
	// they were before, and what a crash may lose. Default: 50ms.
	// Restart to change.
	FlushInterval Duration `yaml:"flush_interval"`
	// Backlog bounds what an instance keeps to write while the server is
	// down; past it, the oldest changes are dropped (and counted).
	// Default: 64MiB. Restart to change.
	Backlog ByteSize `yaml:"backlog"`
}

// StoreTLS configures TLS to the state server.
type StoreTLS struct {
	// CAFile is a PEM file of the authorities that sign the server's
	// certificate. Default: the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key (PEM),
	// for servers that ask for one. Default: none.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name the certificate must carry. Default: the
	// URL's host.
	ServerName string `yaml:"server_name"`
}

// Enabled reports whether any TLS field is set.
func (t StoreTLS) Enabled() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != ""
}
