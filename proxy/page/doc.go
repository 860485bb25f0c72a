// Package page analyses a shop's page once per distinct body: where it may
// differ per visitor (its regions: menus to reorder, search results to
// re-rank, places for blocks and banners, the elements' content or
// attributes content swaps change, the ends of the head and the body;
// the blocks, banners or swaps that want one place share one region, by
// rank), what its own Content-Security-Policy and <base> say, and what it
// describes (a product, a category's path and the products it lists, the
// order a purchase page confirms). Analyses are cached by the
// page's bytes, so that each later visitor costs a lookup. Analysis
// changes nothing outside what it returns: learning from the page is the
// caller's step.
//
// Files:
//   - page.go: Analysis (or a Refusal: why a page may not be rewritten),
//     Region and its kinds, Analyze, block, banner and swap places (one
//     region for the actions of one place), the page's CSP and <base>,
//     the charset check (a browser's reading of the byte order mark, the
//     Content-Type and the <meta>, in the first 1024 bytes and, as
//     Chromium and WebKit read it, anywhere in the head).
//   - lists.go: menus and search results that may be reordered, the
//     breadcrumb trails that never are, and the products a category page
//     lists (links to product pages outside the page's frame).
//   - order.go: Order, read from a purchase page's schema.org Order or
//     Invoice JSON-LD, or its text (events.purchase); ParseAmount, for
//     amounts of money as shops write them.
//   - cache.go: Cache, keyed by the page's bytes, encoding, Content-Type,
//     page type and configuration generation (Key).
//
// page knows no HTTP: it reads bytes and a configuration.
package page
