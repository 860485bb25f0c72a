// Package identity issues and verifies the visitor token carried in
// shopedge's first-party cookie: an HS256 JWT naming a random visitor id,
// signed with one of a set of keys so that keys can rotate without
// forgetting visitors. It knows nothing of HTTP; the proxy reads and writes
// the cookie.
package identity
