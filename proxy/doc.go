// Package proxy is shopedge's edge: a fasthttp reverse proxy in front of one
// shop. handler.go reads top to bottom as a request flows, one step a call,
// each below forward in a package of its own:
//
//	admit → classify → identify → forward
//	  → analyse (page, cached by the page's bytes)
//	  → learn and record (catalog, profile, recommend, live)
//	  → decide (plan, a pure function) → render → assemble (splice)
//	  → respond
//
// Anything it cannot change safely passes through byte for byte. Requests
// under the reserved prefix (/_shopedge/) are its own: the overlay script
// and stylesheet, the beacon, and the start and end of a preview; they
// never reach the shop. The request's
// state is one exchange (handler.go), whose fields say which step sets
// them; the configuration in force is one read-only config, swapped whole
// by a reload.
//
// Files:
//   - proxy.go: Proxy, New, the config in force, the fasthttp Server.
//   - reload.go: Reload and ReloadFailed: which settings a reload applies
//     and which keep their running value until a restart, and the reload
//     metrics.
//   - handler.go: the request path, top to bottom, and the exchange.
//   - admit.go: what is refused before anything else (hosts, versions,
//     header names, transfer codings, trailers, the reserved prefix's
//     look-alikes).
//   - classify.go: what a request is (page type, events, bots, Sec-GPC,
//     a browser's navigation or another fetch) and why a response must
//     pass through.
//   - identify.go: the visitor cookie, read and set; every cookie of a
//     request is read from its Cookie lines as they came (requestCookie),
//     so that the shop gets the header as the browser sent it.
//   - forward.go: request hygiene (what of the visitor's request is
//     forwarded, hop-by-hop headers, X-Forwarded-*) and the forward step.
//   - upstream.go: the upstream client: connections tracked so that a
//     request goes again only when that is safe (upstream_unix.go: the
//     check that the shop has not closed a pooled connection;
//     upstream_other.go: none elsewhere), and the
//     status an upstream failure gets.
//   - framing.go: what fasthttp's reading lets through: one pass over a
//     request's raw header block, and Serve, whose connections follow the
//     requests' framing to answer a header block ended by a bare LF at
//     once.
//   - wake.go: the read that wakes an idle client connection takes the
//     whole request in one call, into a buffer held only until it is
//     served (wake_unix.go: the socket read; wake_other.go: none
//     elsewhere).
//   - more.go: writes of a response that more of it follows go out marked
//     MSG_MORE, so that a page larger than the write buffer leaves in one
//     segment train (more_linux.go: the socket write; more_other.go: none
//     elsewhere).
//   - record.go: the glue to the learn step: what it reads of the request
//     (learn.Facts), the views and cart adds it records, counted; the
//     cart add's body.
//   - personalize.go: the page path's steps handler.go calls: the analysis
//     (cached), the page's CSP verdict, what plan reads through its
//     interfaces.
//   - place.go: the request's country (a CDN's header, from a trusted
//     peer) and language, for segments.
//   - respond.go: respond, the one way a response from the shop goes out
//     (streamed, from a buffer, in pieces), pass-through, cache headers,
//     error pages.
//   - attribution.go: clicks on recommended products, counted, kept as the
//     visitor's last click, and taken out of the query.
//   - conversions.go: orders credited to the block or overlay last clicked
//     within attribution.window (last-click attribution).
//   - own.go: what the proxy serves under its prefix, and the beacon.
//   - preview.go: preview mode: signed links of a segment and/or an
//     experiment's arm (NewPreviewLink, POST /preview), the preview cookie set and cleared under the prefix, the
//     request path's read-only identity and profile under it, the badge
//     and the Shopedge-Explain header.
//   - metrics.go: the counters, in a metrics.Set of the proxy's own
//     (github.com/VictoriaMetrics/metrics); metrics_write.go: /metrics,
//     their exposition with HELP texts, the sampled gauges, the Go
//     runtime's and the process's figures; figures.go: Figures, one
//     reading of them for the console.
//   - admin.go: the operations listener.
//   - admin_console.go: what the console (proxy/console) reads of the
//     proxy: Figures, profiles, explanations, the catalog, experiments;
//     erasure as DELETE /profiles/{id} does it; preview links as POST
//     /preview makes them.
//   - admin_catalog.go: the operations listener's view of the learned
//     catalog (GET /catalog, /catalog/{id}).
//   - experiments.go: experiments' counts, per visitor (exposures, orders,
//     cart adds, clicks), GET /experiments.
//   - admin_explain.go: GET /explain?visitor=ID&path=/page, what a visitor
//     gets on a page and why not the rest, recording nothing.
//   - snapshot.go: the state in a snapshot file (store.snapshot): its
//     sections, SaveSnapshot, the restore at start, the shop it belongs to.
//   - warm.go: LearnPage and Warm, a demo's warm start: the catalog from
//     the shop's product pages, the engine from simulated shoppers, no
//     visitor made or counted.
//   - shared.go: the state several instances share (store.url): profiles
//     read through and written behind, the store's Sink (what others sent
//     applied here, the state a starting instance reads), Shutdown.
//
// Sub-packages, none of which imports proxy, and none below forward
// fasthttp: page (analysis), learn (learning and recording), plan
// (decisions), render (plan to bytes), splice (assembly, gzip from
// pieces), csp (policies); bufpool lends the steps their byte buffers.
// The engines know nothing of HTTP: identity (tokens), profile (visitor state), catalog
// (products), recommend (recommendations), live (per-product counts for
// social proof), agent (user agents), traffic (a visit's class: search,
// social, paid...) and codec (compression). store keeps state across
// restarts (snapshots) and between instances (store.Shared; store/remote
// on Redis). proxytest
// is the shared test harness (the demo shop, a proxy, a cookie-jar
// visitor); browsertest holds the tests in headless Chromium.
package proxy
