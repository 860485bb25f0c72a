// Package console is the operations console of the admin listener: pages
// for people, server-rendered with html/template, with charts drawn as SVG
// on the server, one embedded stylesheet and no script, nothing loaded from
// a third party (it works offline). It does not know the proxy: it reads
// what it shows through Source, which the proxy implements
// (proxy/admin_console.go).
//
// Who may look: a tool sends the admin token as "Authorization: Bearer";
// a person signs in with the token on /login, which sets a session cookie
// (HttpOnly, SameSite=Strict, 12 hours; sessions held in memory, bounded).
// Every POST carries the session's CSRF token and is refused from another
// site (Origin, Sec-Fetch-Site): erasing a visitor, and making a preview
// link on the Preview page (a segment and/or an experiment's arm, made by
// Source.PreviewLink as POST /preview makes it).
//
// Files:
//   - source.go: Source and the view types it answers with.
//   - console.go: Console, the routes, the headers every page carries,
//     the Preview page's form and its POST.
//   - session.go: sessions, CSRF tokens, one-time sign-in codes.
//   - bearer.go: BearerOK and TokenOK, the token's one comparison (SHA-256
//     digests in constant time), shared with the admin API.
//   - throttle.go: failed sign-ins counted per client IP and overall; past
//     either limit POST /login answers 429 with Retry-After.
//   - charts.go: bars and intervals as SVG geometry, and template helpers.
//   - templates/*.html: the pages; static/console.css: their stylesheet.
package console
