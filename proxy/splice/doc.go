// Package splice assembles a personalized page from the shop's bytes and
// what a visitor gets in each of the page's regions: as pieces for an
// identity body (streamed, nothing copied), as one buffer, or as a gzip
// stream built from pieces compressed once per page and once per distinct
// content or part of one (a block's card) for every page, so that most
// visitors cost no compression at all.
//
// Files:
//   - splice.go: Assemble and Pieces, for identity bodies.
//   - gzip.go: Gzip, a page's compressed pieces; Budget, what visitors
//     got, compressed, kept for every page within a bound.
//   - crc.go: the CRC-32 arithmetic that joins the pieces' CRCs.
//
// splice knows regions only as byte ranges (rewrite.Range); it imports
// nothing else of shopedge.
package splice
