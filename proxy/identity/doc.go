// Package identity issues and verifies the visitor token carried in
// shopedge's first-party cookie: an HS256 JWT naming a random visitor id,
// signed with one of a set of keys so that keys can rotate without
// forgetting visitors. It knows nothing of HTTP; the proxy reads and writes
// the cookie. It also issues and verifies preview tokens, a separate
// kind with the same keys.
//
// Files:
//   - identity.go: Issuer, visitor tokens and ids.
//   - preview.go: preview tokens (IssuePreview, VerifyPreview) of a
//     segment, an experiment's arm, or both (Previewed), which a visitor
//     token never passes for, nor the other way round.
package identity
