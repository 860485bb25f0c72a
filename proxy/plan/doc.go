// Package plan decides what one visitor gets on one page: for each region
// of the page's analysis, keep the shop's bytes, reorder its entries, put
// in a block of these products, a banner saying this, a content swap, and
// at most one overlay, with the reason for each region left alone (and,
// asked for, for each overlay rule passed over and each action that
// wanted a place another took). Where several blocks, banners or swaps
// want one place, the first by rank (priority, then the file's order)
// that applies takes it. Decide is a pure function of its Input:
// the compiled configuration, the page's analysis, a snapshot of the
// visitor's profile, the request's facts, the page's CSP verdict and the
// time, with the recommendation engine, catalog and live counts read
// through small interfaces. It renders nothing and counts nothing.
//
// A Plan holds every buffer its decision needs (regions, the blocks'
// products, the orders, the engine's view of the visitor), and Release
// gives it back for reuse: a recycled plan decides a page without
// allocating, but for the texts of the banners it shows.
//
// Files:
//   - plan.go: Input, Plan, Decide; search order, places (blocks,
//     banners and swaps by rank, each enabled, in its schedule, for the
//     visitor), banners (what is true to say), prices as shown.
//   - menu.go: the order of a menu's entries by the visitor's interests.
//   - experiment.go: the visitor's arm in an action's experiment, held
//     out or a variant, and the exposures a decision records.
//   - overlay.go: which overlay, if any, and why the others were not.
//   - segment.go: segments' conditions, evaluated at most once each per
//     decision, over fixed bitsets and without allocating.
//   - segment_explain.go: SegmentDetail, which condition of which segment
//     kept an action from the visitor, for explanations.
//   - place.go: Place, the request's country and language, and the
//     parsing of their headers.
//   - preview.go: a preview (Request.Preview, Preview): the segment
//     forced, what it implies and contradicts; the experiment's arm forced
//     (Request.PreviewArm, PreviewArm); AppendExplain, the compact
//     explanation for the Shopedge-Explain header.
//
// plan imports neither fasthttp nor html/template.
package plan
