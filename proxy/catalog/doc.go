// Package catalog learns the shop's products from the pages that pass
// through the proxy: schema.org Product and BreadcrumbList JSON-LD, with
// OpenGraph product tags as a fallback. It knows nothing of HTTP: it reads
// the JSON-LD blocks and meta tags the rewriter found.
//
// Files:
//   - extract.go: Extract, Breadcrumbs and the forgiving JSON-LD reading.
//   - catalog.go: Product, Category, IDs and the bounded Catalog.
package catalog
