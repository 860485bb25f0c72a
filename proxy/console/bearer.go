package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// BearerOK reads an Authorization header's value h: present is whether
// there is one at all, ok whether it is "Bearer <token>" (the scheme's case
// does not matter, RFC 9110 section 11.1). An empty token matches nothing.
func BearerOK(h []byte, token string) (present, ok bool) {
	if len(h) == 0 {
		return false, false
	}
	const scheme = "bearer "
	if len(h) < len(scheme) || !strings.EqualFold(string(h[:len(scheme)]), scheme) {
		return true, false
	}
	return true, TokenOK(h[len(scheme):], token)
}

// TokenOK reports whether got is token, comparing their SHA-256 digests in
// constant time, so neither the token's bytes nor its length show in the
// timing. An empty token matches nothing.
func TokenOK(got []byte, token string) bool {
	if token == "" {
		return false
	}
	a, b := sha256.Sum256(got), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
