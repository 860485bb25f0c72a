// Package learn is the step that learns from traffic: a product page's
// product into the catalog (from the page's analysis), the products a
// category page lists into the catalog's listings (their category path),
// and each view, cart add and purchase into the visitor's profile (a cart
// add and a purchase as interest in the product's categories too), the
// recommendation engine and the live counts social proof reads. It reads a Facts (what the
// request says, as plain values) and changes only the stores a Recorder
// holds. It knows no HTTP.
//
// Files:
//   - learn.go: Recorder, Facts and Event, and what each request records.
//   - replica.go: what instances that share state tell each other: each
//     change a Recorder makes to the engine, the live counts and the
//     catalog, encoded for a Publisher (Recorder.Share) and applied by
//     another instance's Recorder.Apply; ErrChange.
package learn
