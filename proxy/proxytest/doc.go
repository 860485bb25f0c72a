// Package proxytest is the test harness shared by shopedge's proxy,
// end-to-end, browser and command tests: the demo shop (bench/shop) on a
// loopback port, a proxy in front of it on another (or on fasthttp's
// in-memory listener), and a Visitor that browses like a browser, with a
// cookie jar.
//
// It does not import package proxy, whose own tests use it: a proxy is
// taken through the Server interface, which *proxy.Proxy satisfies, and
// built by the caller (Start's build function, or a proxy handed to
// Serve).
//
// Files:
//   - env.go: Start and Env, the shop and a proxy for one test, and
//     Options.
//   - config.go: DemoConfig (the demo configuration pointed at a shop: the
//     one place that parses it), Config, Keys.
//   - shop.go: StartShop and Shop, the demo shop and the requests it saw;
//     Nav and ProductsIn, a demo shop's menu and products; Direct, a page
//     fetched from the shop itself; NavOrder, a page's menu.
//   - serve.go: Server, and Serve and ServeInMemory, a proxy served until
//     the test ends.
//   - visitor.go: Visitor and Page, a browser's requests and what it
//     sees of the responses; Decode, a body decoded; BrowserUA.
//   - clock.go: Clock, a time a test moves forward, and Ticking.
//   - eventually.go: Eventually, a condition polled until it holds.
package proxytest
