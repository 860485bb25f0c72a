// Package console is the operations console of the admin listener: pages
// for people, server-rendered with html/template, with charts drawn as SVG
// on the server, one embedded stylesheet and no script, nothing loaded from
// a third party (it works offline). It does not know the proxy: it reads
// what it shows through Source, which the proxy implements
// (proxy/admin_console.go).
//
// Who may look: a tool sends the admin token as "Authorization: Bearer"
// (a wrong one is answered 401 with a Bearer challenge); a person signs in
// with the token on /login, or once with a one-time code (/login?once=,
// good for CodeLifetime), which ends the session the browser held and sets
// a new session cookie (HttpOnly, SameSite=Strict, 12 hours; sessions held
// in memory, bounded). Failed sign-ins are counted per client IP and
// overall, and past a limit answered 429 with Retry-After; every sign-in
// and failure is logged (never the token nor a session id).
//
// Every POST is refused from another site (Sec-Fetch-Site, or without it
// Origin). Every POST but the sign-in form's (there is no session yet)
// also carries the session's CSRF token: erasing a visitor, signing out,
// and making a preview link on the Preview page (a segment and/or an
// experiment's arm, made by Source.PreviewLink as POST /preview makes it).
// Errors keep the security headers every page carries, and redirects are
// root-relative, never made from the request's Host.
//
// Files:
//   - source.go: Source and the view types it answers with.
//   - console.go: Console, the routes, the headers every page carries,
//     sign-in and sign-out, erasure, the Preview page's form and its POST.
//   - session.go: sessions, CSRF tokens, one-time sign-in codes.
//   - bearer.go: BearerOK and TokenOK, the token's one comparison (SHA-256
//     digests in constant time), shared with the admin API.
//   - throttle.go: failed sign-ins counted per client IP and overall; past
//     either limit POST /login answers 429 with Retry-After.
//   - charts.go: bars and intervals as SVG geometry, and template helpers.
//   - templates/*.html: the pages; static/console.css: their stylesheet.
package console
