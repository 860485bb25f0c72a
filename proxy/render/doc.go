// Package render turns a plan into bytes: for each region of a page the
// plan acts on, the reordered entries, the block, the banner, the overlay
// dialog and the tags that load the proxy's stylesheet and script (with
// the page's nonce when its policy wants one), the content swaps. A Renderer belongs to one
// configuration and keeps what many visitors share: blocks and product
// cards for a short while, overlays without products and banners by
// text, the tags without a nonce; and, for a short while, an overlay of a
// visitor's products (their cart's reminder, on every page).
//
// Files:
//   - render.go: Renderer, Render, banners, the tags.
//   - blocks.go: recommendation blocks, whole or from cached cards (a
//     product's rating on its card only when the catalog accepted it),
//     and the attribution parameter on their links.
//   - overlay.go: overlay dialogs and their deadline text.
//   - swap.go: content swaps, their content or attribute, rendered once
//     when static, else for the visit, escaped.
//
// The markup itself comes from rewrite/markup; render knows no HTTP.
package render
