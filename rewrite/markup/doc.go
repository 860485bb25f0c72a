// Package markup is what shopedge itself puts in a shop's pages, rendered
// from html/template templates embedded with the overlay script and
// stylesheet: recommendation blocks (whole, or assembled from a head,
// cached product cards and a foot), banners, overlay dialogs, and the tags
// that load the stylesheet and the script; and the checks and rendering of
// the templates a shop's content swaps are written in. rewrite places
// these bytes; it does not know what they are.
//
// Files:
//   - blocks.go: recommendation blocks, the built-in template (product
//     cards: image, brand, name, the rating as inline SVG stars with its
//     words, price), Rating, and checks for a shop's own.
//   - swaps.go: content swaps' templates (SwapData, what they read):
//     their markup checked (balanced, no script, forms or tables), an
//     attribute's value escaped for it, URLs only http(s) or relative,
//     names that run code or styles refused.
//   - overlays.go: overlay dialogs (whole, or in parts: head, deadline,
//     product lines, tail), banners (whole, or rendered once around their
//     text: Banner), the stylesheet (coloured by a theme), the script
//     (rendered with DismissCookiePrefix, the name of its dismissal
//     cookies), the tags that load them (whole, or rendered once around
//     a page's nonce: Tags), and Version, the content hash in their
//     addresses.
//   - pieces.go: markup cut where a text goes, and that text escaped as
//     html/template escapes it.
//   - preview.go: the "preview: NAME" badge a preview shows, with its
//     link that ends the preview.
//   - templates/, assets/: the embedded templates, script and stylesheet
//     (the script and the stylesheet are text/template sources).
//
// markup imports nothing else of shopedge.
package markup
