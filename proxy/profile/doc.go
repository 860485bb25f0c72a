// Package profile keeps what shopedge learns of each visitor, in memory:
// recent products, decayed category interest, cart, purchases, visits,
// searches, traffic source (and its class), device, and the last click on
// a block or an overlay (for last-click attribution). Profiles have a
// fixed size and live in a store bounded in bytes: a sharded LRU by last
// seen, so that a new visitor is always held and the visitor seen least
// recently makes room (a cache's admission policy would refuse newcomers;
// profiles are data, not a cache). It knows nothing of HTTP.
//
// Files:
//   - profile.go: Data, a visitor's profile, and the events that change
//     it; the interest each adds (ViewWeight, CategoryWeight, CartWeight,
//     PurchaseWeight, ProductInterest); Decayed, the interests decayed
//     to one time once, for the decide step's many questions.
//   - append.go: AppendRecent, AppendPurchased and AppendCart, the lists into a caller's
//     buffer (for the decide step, which allocates nothing of its own).
//   - experiments.go: ExperimentSlot, a visitor's part in an experiment
//     (arm, and what was counted of them), Expose.
//   - click.go: ClickKey, Data.Clicked and LastClick, a visitor's last
//     click on a block or an overlay, and Ordered, which credits an order
//     to it within a window, once per order.
//   - store.go: Store, the bounded store of profiles (Forget drops all but
//     some, for a shared store that may have missed writes elsewhere), and
//     Cost, the bytes each is charged.
//   - snapshot.go: Store.WriteSnapshot and ReadSnapshot, the held profiles
//     as a binary stream (Data raw, behind a fingerprint of its layout),
//     and ErrSnapshot.
//   - shared.go: Store.Encode and Install, one visitor's profile as bytes
//     (the same raw Data, behind a version and the layout's fingerprint)
//     for instances that share profiles, and ErrProfile; installed over a
//     held profile, the newer last click stays.
//   - layouts.go: the layouts of Data this build reads (its own, and
//     layout 1's, frozen as dataV1 and upgraded field by field), so that
//     snapshots and shared profiles of the build before still load.
package profile
