// Package proxy is shopedge's edge: a fasthttp reverse proxy in front of one
// shop. For each request it admits (host checks), classifies (page type,
// events, bots, Sec-GPC), identifies the visitor (signed cookie), forwards
// to the shop (hop-by-hop headers stripped, X-Forwarded-* set, bounded
// time), and on the way back either streams the response untouched or, for
// HTML pages it may change, learns from the page (catalog), records the view
// (profile, recommendation engine), decides what each of the page's sites
// gets for this visitor (menu order, search order, recommendation blocks,
// banners, at most one overlay) and splices it in (rewrite). Anything it
// cannot change safely passes through byte for byte. Requests under the
// reserved prefix (/_shopedge/) are its own: the overlay script and
// stylesheet, and the beacon; they never reach the shop.
//
// Files:
//   - proxy.go: Proxy, New, the state a configuration decides, the fasthttp
//     Server, LoadKeys.
//   - reload.go: Reload and ReloadFailed: which settings a reload applies
//     and which keep their running value until a restart, and the reload
//     metrics.
//   - handler.go: the request pipeline, top to bottom, and classification.
//   - forward.go: request hygiene: what of the visitor's request is
//     forwarded, hop-by-hop headers, X-Forwarded-*.
//   - upstream.go: the upstream client: connections tracked so that a
//     request goes again only when that is safe (upstream_unix.go: the
//     check that the shop has not closed a pooled connection), and the
//     status an upstream failure gets.
//   - framing.go: what fasthttp's reading lets through: one pass over a
//     request's raw header block (names, forwarded headers, transfer
//     coding), and Serve, whose connections follow the requests' framing
//     to answer a header block ended by a bare LF at once.
//   - visitor.go: identity cookie and event recording.
//   - personalize.go: reading, learning from and rewriting pages.
//   - page.go: a page's analysis (its sites and what it teaches), cached
//     by the page's bytes.
//   - blocks.go: the recommendation engine's wiring: events, blocks,
//     search order, click attribution.
//   - overlay.go: overlays (which one, when, rendered) and banners, the
//     reserved prefix and the beacon.
//   - csp.go: what a page's Content-Security-Policy lets the proxy add, and
//     with which nonce.
//   - gzip.go: gzip pages assembled from pieces compressed once.
//   - respond.go: pass-through streaming, buffered responses, cache headers,
//     error pages.
//   - metrics.go, admin.go: counters and the operations listener.
//   - admin_catalog.go: the operations listener's view of the learned
//     catalog (GET /catalog, /catalog/{id}).
//
// Sub-packages hold the engines, which know nothing of HTTP: identity
// (tokens), profile (visitor state), catalog (products), recommend
// (recommendations), live (per-product counts for social proof), agent
// (user agents) and codec (compression). browsertest holds the tests in
// headless Chromium.
package proxy
