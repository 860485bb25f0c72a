// Package catalog learns the shop's products from the pages that pass
// through the proxy: schema.org Product and BreadcrumbList JSON-LD, then
// schema.org microdata, then OpenGraph product tags for what they lack. It
// knows nothing of HTTP: it reads the JSON-LD blocks, meta tags and
// microdata items the rewriter found. A product's image and link are kept
// only on the page's own origin or on the asset hosts the shop lists.
//
// Files:
//   - extract.go: Extract, Breadcrumbs, the forgiving JSON-LD reading,
//     offers, prices, GTINs, aggregate ratings (kept only when every
//     figure is real) and the confinement of URLs.
//   - page.go: FromDoc, which gathers a Page from an indexed HTML page
//     (its JSON-LD decoded once, for Extract and Breadcrumbs), and the
//     microdata items (Item, Prop) it reads.
//   - availability.go: Availability and the words shops write for it.
//   - source.go: Source, Field and Sources, which markup each field of a
//     product came from.
//   - catalog.go: Product, Rating, Category, IDs and the bounded Catalog;
//     Card, what choosing products to show reads of one, without a copy.
//   - listing.go: what the shop's category listings say of the products
//     they show (PutListing, Listed), the weaker fact that fills in for
//     products whose pages were never seen or name no category
//     (CategoriesOf; PathOf, a search result's path in one lookup).
//   - snapshot.go: Catalog.WriteSnapshot and ReadSnapshot, the products and
//     categories as a binary stream, and ErrSnapshot; AppendProduct and
//     DecodeProduct, one product in the same encoding (what instances
//     send each other), and ErrProduct. A product's rating travels in an
//     extension flagged in its sources word, so products and snapshots
//     written before ratings (testdata/format1) still load.
package catalog
