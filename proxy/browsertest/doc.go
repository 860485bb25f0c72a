// Package browsertest holds shopedge's tests in a real browser: headless
// Chromium, driven over the DevTools protocol, visits the demo shop through
// the proxy and checks what a shopper sees of the overlays and banners:
// exit intent on desktop and on touch devices, Esc and the frequency cap,
// the abandoned-cart reminder on a later visit, the free-shipping amount,
// a shop with a strict Content-Security-Policy, a page whose <base href>
// points at another host, and a content swap on the home page's hero for
// a visitor from a newsletter (swap_test.go).
//
// The package has no code of its own: the shop and the proxy come from
// proxytest, with the exit offer's dwell time shortened in the
// configuration, and the tests wait on conditions in the page, not on the
// clock. They need a Chromium binary (Debian's chromium, found on PATH or
// at $SHOPEDGE_CHROMIUM); without one they are skipped, except under CI
// (CI=true), where they fail. Screenshots of the overlays go to
// artifacts/, which git ignores. The subpackage headless holds Chromium
// helpers for browser tests elsewhere (the README's walk-through in
// cmd/shopedge, whose screenshots, tryit-*.png, go to artifacts/ too).
package browsertest
