// Package profile keeps what shopedge learns of each visitor, in memory:
// recent products, decayed category interest, cart, purchases, visits,
// searches, traffic source and device. Profiles have a fixed maximum size
// and live in a ristretto cache bounded in bytes. It knows nothing of HTTP.
//
// Files:
//   - profile.go: Data, a visitor's profile, and the events that change it.
//   - store.go: Store, the bounded cache of profiles.
package profile
