// Package headless starts headless Chromium for shopedge's browser tests
// and drives it over the DevTools protocol (chromedp): find the browser
// (skip the test without one, fail it under CI), start it with a profile
// of its own, open private windows (new browser contexts: no cookies),
// emulate a phone, evaluate and wait on conditions in the page, and save
// screenshots as test artifacts.
//
// It is test support, used by test files only (the walk-through of the
// README in cmd/shopedge); nothing in the proxy imports it.
//
// Files:
//   - headless.go: Find, Start, Private, Phone, Run, Eval, WaitFor,
//     Screenshot.
package headless
