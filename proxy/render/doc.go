// Package render turns a plan into bytes: for each region of a page the
// plan acts on, the reordered entries, the block, the banner, the overlay
// dialog and the tags that load the proxy's stylesheet and script (with
// the page's nonce when its policy wants one), the content swaps. A Renderer belongs to one
// configuration and keeps what many visitors share: blocks, product cards
// and dialogs' product lines for a short while; banners and dialogs of
// the built-in content cut, once, where what differs between visitors
// goes (a banner's text, a dialog's deadline and products), so that no
// template runs for them; the tags, cut where a nonce goes; and, for dialogs of
// their own template, the dialog without products, and for a short while
// one of a visitor's products (their cart's reminder, on every page).
//
// Render says where a block's content is cut into the parts it was
// rendered from (its head, each card), for gzip pages assembled from
// parts compressed once (splice); a list reordered is one part.
//
// Files:
//   - render.go: Renderer, Render, lists reordered, banners, the tags.
//   - blocks.go: recommendation blocks, whole or from cached cards (a
//     product's rating on its card only when the catalog accepted it),
//     the part cache, and the attribution parameter on their links.
//   - overlay.go: overlay dialogs, from their parts or whole, and their
//     deadline text.
//   - swap.go: content swaps, their content or attribute, rendered once
//     when static, else for the visit, escaped.
//
// The markup itself comes from rewrite/markup; render knows no HTTP.
package render
