// Package store keeps shopedge's state across restarts and shares it
// between instances. Shared is what instances tell each other (Local, the
// default, shares nothing; package remote shares through Redis). A
// snapshot keeps the state of one process: named sections (the
// profiles, the catalog, the recommendation engine, live counts,
// experiment counts), each written and read by its owner, in a container
// with a header naming the format and the shop it belongs to, ending with
// a checksum of the whole file (checked before any section reads a byte),
// written atomically (a new file, synced, renamed over the old). A file that is not a snapshot, of another format or
// shop, cut short or failing a checksum is refused, and the proxy starts
// empty. It knows nothing of HTTP.
//
// Files:
//   - shared.go: Shared, Sink, Health and Local.
//   - snapshot.go: Section, Save and Load (a file), Encode and Decode (any
//     stream: a shared store keeps the state instances start from).
package store
