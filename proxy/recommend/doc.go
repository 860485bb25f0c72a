// Package recommend chooses products to show, learned online from what
// visitors do: recently viewed, also viewed and also bought (item-to-item
// co-occurrence within visits, time-decayed, bounded), session kNN over
// the current visit (V-STAN's weightings: recent products, recent and
// nearby neighbours and rare products weighing more; plus the visit's own
// products and the latest one's co-views), popular and trending
// (overall and per category), upsell (same category, somewhat pricier),
// and a personal re-ranking by category interest. A request names a
// strategy and its fallbacks, and products in the cart, just bought, on
// the page, out of stock or unknown are never returned.
//
// It knows nothing of HTTP: the proxy feeds it events and asks it for
// products; the offline evaluation (Evaluate) replays a clickstream
// through the same code.
//
// Files:
//   - engine.go: Engine, Config, Event, Record, co-occurrence upkeep.
//   - sessions.go: the visits kept for session kNN, and the kNN itself.
//   - popular.go: popular and trending lists, rebuilt at most each second
//     (the top n selected, then sorted) and read without a lock.
//   - recommend.go: strategies, Recommend, filtering and re-ranking.
//   - snapshot.go: WriteSnapshot and ReadSnapshot, the engine's learned
//     state as a versioned binary stream, bounded on reading.
//   - eval.go: Evaluate, the offline evaluation on a clickstream CSV, with
//     reference.py's protocol and time split.
//   - testdata/tuning/tune.py: how the session strategy's defaults were
//     tuned, on the development clickstreams' training parts only.
package recommend
