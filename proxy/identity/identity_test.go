package identity

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef-A")
	secretB = []byte("0123456789abcdef0123456789abcdef-B")
	t0      = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
)

func newIssuer(t testing.TB, now *time.Time, keys ...Key) *Issuer {
	t.Helper()
	is, err := New(Options{Keys: keys, TTL: 365 * 24 * time.Hour, Refresh: 24 * time.Hour, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	now := t0
	is := newIssuer(t, &now, Key{"a", secretA})
	id := NewVisitorID()
	tok, err := is.Issue(id)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := is.Verify(tok)
	if !ok || v.ID != id || v.KeyID != "a" || !v.IssuedAt.Equal(t0) {
		t.Fatalf("Verify = %+v, %v; want id %s from key a", v, ok, id)
	}
	if is.NeedsRefresh(v) {
		t.Errorf("fresh token needs refresh")
	}
	now = t0.Add(25 * time.Hour)
	if !is.NeedsRefresh(v) {
		t.Errorf("day-old token does not need refresh")
	}
}

// forge signs arbitrary claims and header fields, as an attacker could with
// a known or guessed secret.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	now := t0
	is := newIssuer(t, &now, Key{"a", secretA})
	id := NewVisitorID()
	good, _ := is.Issue(id)
	claims := func(mod func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := jwt.RegisteredClaims{Issuer: issuer, Subject: id, IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour))}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	parts := strings.Split(good, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"a"}`))
	tests := []struct {
		name, token string
	}{
		{"empty", ""},
		{"garbage", "not a token"},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"shopedge","sub":"AAAAAAAAAAAAAAAAAAAAAA","iat":1,"exp":9999999999}`)) + "." + parts[2]},
		{"tampered signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))},
		{"alg none", noneHeader + "." + parts[1] + "."},
		{"wrong secret", forge(t, jwt.SigningMethodHS256, secretB, "a", claims(nil))},
		{"unknown kid", forge(t, jwt.SigningMethodHS256, secretA, "zz", claims(nil))},
		{"no kid", forge(t, jwt.SigningMethodHS256, secretA, "", claims(nil))},
		{"HS512", forge(t, jwt.SigningMethodHS512, secretA, "a", claims(nil))},
		{"expired", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(-time.Hour)) }))},
		{"no exp", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }))},
		{"no iat", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(func(c *jwt.RegisteredClaims) { c.IssuedAt = nil }))},
		{"issued in the future", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(func(c *jwt.RegisteredClaims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(time.Hour)) }))},
		{"foreign issuer", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(func(c *jwt.RegisteredClaims) { c.Issuer = "other-app" }))},
		{"bad subject", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(func(c *jwt.RegisteredClaims) { c.Subject = "../../admin" }))},
		{"oversized", good + strings.Repeat("A", MaxTokenLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if v, ok := is.Verify(tt.token); ok {
				t.Errorf("Verify accepted %q as %+v", tt.token, v)
			}
		})
	}
}

// TestKeyRotation: a token signed with the old key stays valid after a new
// key is put first, and is marked for re-issue with the new key.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	now := t0
	old := newIssuer(t, &now, Key{"old", secretA})
	id := NewVisitorID()
	tok, _ := old.Issue(id)

	rotated := newIssuer(t, &now, Key{"new", secretB}, Key{"old", secretA})
	v, ok := rotated.Verify(tok)
	if !ok || v.ID != id {
		t.Fatalf("old token rejected after rotation")
	}
	if !rotated.NeedsRefresh(v) {
		t.Errorf("token signed by a retired key does not need refresh")
	}
	fresh, _ := rotated.Issue(v.ID)
	if v2, ok := rotated.Verify(fresh); !ok || v2.KeyID != "new" || v2.ID != id {
		t.Errorf("re-issued token = %+v, %v", v2, ok)
	}
	dropped := newIssuer(t, &now, Key{"new", secretB})
	if _, ok := dropped.Verify(tok); ok {
		t.Errorf("token of a removed key accepted")
	}
}

func TestNewRejectsWeakKeys(t *testing.T) {
	t.Parallel()
	for _, keys := range [][]Key{nil, {{"a", []byte("short")}}, {{"", secretA}}, {{"a", secretA}, {"a", secretB}}} {
		if _, err := New(Options{Keys: keys, TTL: time.Hour}); err == nil {
			t.Errorf("New(%v) accepted", keys)
		}
	}
}

// FuzzVerify: no input makes Verify panic, and nothing but a token signed
// with the key verifies.
func FuzzVerify(f *testing.F) {
	now := t0
	is := newIssuer(f, &now, Key{"a", secretA})
	good, _ := is.Issue("gJYpXZJ0GyjZCxBswS8CIw") // fixed, so the corpus stays valid
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Repeat(".", 100))
	f.Fuzz(func(t *testing.T, tok string) {
		// Strict decoding leaves one encoding of the signed token.
		if v, ok := is.Verify(tok); ok && tok != good {
			t.Fatalf("accepted %q as %+v", tok, v)
		}
	})
}

// TestVerifyBytesRemembers: a verified token is answered from memory, but
// only that exact token and only until it expires.
func TestVerifyBytesRemembers(t *testing.T) {
	now := t0
	is, err := New(Options{Keys: []Key{{"a", secretA}}, TTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	id := NewVisitorID()
	tok, _ := is.Issue(id)
	for range 2 {
		if v, ok := is.VerifyBytes([]byte(tok)); !ok || v.ID != id {
			t.Fatalf("VerifyBytes = %+v, %v", v, ok)
		}
	}
	b := []byte(tok)
	if n := testing.AllocsPerRun(100, func() { is.VerifyBytes(b) }); n > 0 {
		t.Errorf("a remembered token costs %v allocations", n)
	}
	tampered := []byte(tok)
	tampered[len(tampered)-2] ^= 1
	if _, ok := is.VerifyBytes(tampered); ok {
		t.Errorf("a tampered token verified")
	}
	now = t0.Add(2 * time.Hour)
	if _, ok := is.VerifyBytes([]byte(tok)); ok {
		t.Errorf("an expired token was answered from memory")
	}
}

// TestIssueMatchesLibrary: the token Issue puts together is the one
// golang-jwt signs for the same claims, byte for byte, at whole and
// fractional seconds, with a kid that JSON must escape; and a token just
// issued verifies from memory, without an HMAC.
func TestIssueMatchesLibrary(t *testing.T) {
	for _, tc := range []struct {
		name, kid string
		now       time.Time
	}{
		{"whole second", "a", t0},
		{"fraction", "2026-12", t0.Add(999 * time.Millisecond)},
		{"kid to escape", `k"\<1>`, t0.Add(time.Nanosecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			is := newIssuer(t, &now, Key{tc.kid, secretA})
			other := newIssuer(t, &now, Key{tc.kid, secretA}) // remembers none of is's tokens
			var id string
			for range 3 { // the signing state is kept for the next token: each is the library's
				id = NewVisitorID()
				got, err := is.Issue(id)
				if err != nil {
					t.Fatal(err)
				}
				lib := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
					Issuer:    "shopedge",
					Subject:   id,
					IssuedAt:  jwt.NewNumericDate(now),
					ExpiresAt: jwt.NewNumericDate(now.Add(365 * 24 * time.Hour)),
				})
				lib.Header["kid"] = tc.kid
				want, err := lib.SignedString(secretA)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("Issue =\n%s\nlibrary:\n%s", got, want)
				}
				v, ok := other.VerifyBytes([]byte(got)) // parsed and checked, not from memory
				if !ok || v.ID != id || !v.IssuedAt.Equal(now.Truncate(time.Second)) || v.KeyID != tc.kid {
					t.Fatalf("Verify = %+v, %v", v, ok)
				}
			}
			fresh := newIssuer(t, &now, Key{tc.kid, secretA})
			tok, _ := fresh.Issue(id)
			b := []byte(tok)
			if n := testing.AllocsPerRun(10, func() { fresh.VerifyBytes(b) }); n > 0 {
				t.Errorf("verifying a token just issued costs %v allocations: it was not remembered", n)
			}
		})
	}
}
