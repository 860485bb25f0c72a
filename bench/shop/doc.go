// Package shop is the demo storefront shopedge stands in front of in the
// demo, the tests and the benchmarks: a generated catalog of a few hundred
// products in ten categories (two with submenus), category listings,
// product pages with schema.org Product and BreadcrumbList JSON-LD, search,
// a cart with form and JSON add-to-cart POSTs, checkout and an order
// confirmation that prints the order placed (the cart as it was) as
// schema.org Order JSON-LD, as shop platforms do. Pages are rendered with html/template, carry inline CSS and
// JS like real themes, weigh tens of kilobytes, and are compressed with
// brotli or gzip when the client asks.
//
// Files:
//   - catalog.go: the generated catalog and search.
//   - shoppers.go: Catalog.Shoppers, simulated shoppers' views, cart adds
//     and purchases (the clickstream of bench/clickstream, and the demo's
//     warm start).
//   - shop.go: routing, pages, cart, sessions, orders and their JSON-LD,
//     cache headers, compression.
//   - assets.go: images, static files and a large binary download.
//   - templates/, static/: the theme.
package shop
