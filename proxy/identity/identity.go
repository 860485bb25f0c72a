package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenLen is the longest token Verify parses; longer ones are refused
// unread. Tokens this package issues are about 200 bytes.
const MaxTokenLen = 1024

// MinSecretLen is the shortest secret a Key may have.
const MinSecretLen = 32

// issuer is the "iss" claim of every token, so that a JWT issued by another
// system with the same secret is not taken for a visitor token.
const issuer = "shopedge"

// Key is one HMAC key: its kid and secret.
type Key struct {
	ID     string
	Secret []byte
}

// Visitor is who a valid token says the visitor is.
type Visitor struct {
	ID       string    // 22 characters of base64url: 128 random bits
	IssuedAt time.Time // when the token was issued
	KeyID    string    // the key that signed it
}

// Issuer issues and verifies visitor tokens: HS256 JWTs with the visitor id
// as subject, iat, exp and the key id in the header. Only HS256 is
// accepted, the kid must name a configured key, and exp is required. It is
// safe for concurrent use.
type Issuer struct {
	keys    map[string][]byte
	signing Key
	ttl     time.Duration
	refresh time.Duration
	now     func() time.Time
	parser  *jwt.Parser
	// header is the signing key's JWT header, base64url-encoded and
	// followed by '.': the same for every token it signs.
	header string
	// macs are HMAC-SHA256 states keyed with the signing secret (a
	// hash.Hash each). hmac.New hashes the key into its two pads every
	// time, two of the four SHA-256 blocks a token's signature costs;
	// Reset restores them keyed.
	macs sync.Pool
	// seen remembers recently verified tokens, so that a visitor's every
	// request does not pay for parsing and an HMAC: a slot holds one token
	// and what it verified to, and answers only for that exact token
	// before its expiry.
	seen [seenSlots]atomic.Pointer[seenToken]
}

const seenSlots = 1 << 14

type seenToken struct {
	token   string
	visitor Visitor
	expires time.Time
}

// Options configure an Issuer.
type Options struct {
	// Keys verify tokens; the first also signs. Required.
	Keys []Key
	// TTL is a token's lifetime. Required.
	TTL time.Duration
	// Refresh is the age after which a token is re-issued.
	Refresh time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// New returns an Issuer, or an error naming the key that is unusable.
func New(o Options) (*Issuer, error) {
	if len(o.Keys) == 0 {
		return nil, errors.New("identity: no signing key")
	}
	if o.TTL <= 0 {
		return nil, errors.New("identity: token lifetime must be positive")
	}
	keys := make(map[string][]byte, len(o.Keys))
	for _, k := range o.Keys {
		if k.ID == "" {
			return nil, errors.New("identity: a key has no id")
		}
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("identity: key %q: secret is %d bytes, want at least %d", k.ID, len(k.Secret), MinSecretLen)
		}
		if _, dup := keys[k.ID]; dup {
			return nil, fmt.Errorf("identity: key %q is given twice", k.ID)
		}
		keys[k.ID] = k.Secret
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	header, err := json.Marshal(map[string]string{"alg": jwt.SigningMethodHS256.Alg(), "kid": o.Keys[0].ID, "typ": "JWT"})
	if err != nil {
		return nil, fmt.Errorf("identity: key %q: header: %w", o.Keys[0].ID, err)
	}
	secret := o.Keys[0].Secret
	return &Issuer{
		macs:    sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }},
		header:  base64.RawURLEncoding.EncodeToString(header) + ".",
		keys:    keys,
		signing: o.Keys[0],
		ttl:     o.TTL,
		refresh: o.Refresh,
		now:     now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(issuer),
			jwt.WithLeeway(time.Minute),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		),
	}, nil
}

// NewVisitorID returns a fresh random visitor id.
func NewVisitorID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidVisitorID reports whether s has the shape of a visitor id.
func ValidVisitorID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Issue returns a signed token for a visitor id, and remembers it as
// verified: the visitor's next request, which carries it, costs a lookup
// and no HMAC.
//
// The token is the one jwt.NewWithClaims(jwt.SigningMethodHS256,
// RegisteredClaims{Issuer, Subject, IssuedAt, ExpiresAt}) signs, byte for
// byte (TestIssueMatchesLibrary), put together here rather than through
// the library's map header and reflective JSON: a first page view issues
// one, and that cost 36 allocations. The signature is HMAC-SHA256 of
// header and claims, as SigningMethodHS256.Sign makes it, from a keyed
// state kept for reuse (Issuer.macs).
func (is *Issuer) Issue(visitorID string) (string, error) {
	if !ValidVisitorID(visitorID) {
		return "", errors.New("identity: malformed visitor id")
	}
	now := is.now()
	iat := now.Truncate(time.Second)
	exp := now.Add(is.ttl).Truncate(time.Second)
	// {"iss":"shopedge","sub":"<22 base64url>","exp":N,"iat":N}: nothing
	// in it needs escaping (the id's alphabet is base64url).
	var claims [128]byte
	c := append(claims[:0], `{"iss":"`+issuer+`","sub":"`...)
	c = append(c, visitorID...)
	c = append(c, `","exp":`...)
	c = strconv.AppendInt(c, exp.Unix(), 10)
	c = append(c, `,"iat":`...)
	c = strconv.AppendInt(c, iat.Unix(), 10)
	c = append(c, '}')
	var buf [256]byte
	b := append(buf[:0], is.header...)
	b = base64.RawURLEncoding.AppendEncode(b, c)
	mac := is.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(b)
	var sum [sha256.Size]byte
	sig := mac.Sum(sum[:0])
	is.macs.Put(mac)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, sig)
	token := string(b)
	v := Visitor{ID: visitorID, IssuedAt: iat, KeyID: is.signing.ID}
	is.seen[xxhash.Sum64String(token)&(seenSlots-1)].Store(&seenToken{token: token, visitor: v, expires: exp})
	return token, nil
}

// VerifyBytes is Verify for a token in a byte slice (a request buffer);
// a token verified recently costs a lookup and no allocation.
func (is *Issuer) VerifyBytes(token []byte) (Visitor, bool) {
	if len(token) == 0 || len(token) > MaxTokenLen {
		return Visitor{}, false
	}
	slot := &is.seen[xxhash.Sum64(token)&(seenSlots-1)]
	if s := slot.Load(); s != nil && s.token == string(token) && is.now().Before(s.expires) {
		return s.visitor, true
	}
	return is.Verify(string(token))
}

// Verify checks a token and returns the visitor it names. Any failure
// (tampered, expired, unknown key, another algorithm, oversized, garbage)
// returns false: the caller treats the visitor as new.
func (is *Issuer) Verify(token string) (Visitor, bool) {
	if token == "" || len(token) > MaxTokenLen {
		return Visitor{}, false
	}
	var claims jwt.RegisteredClaims
	var kid string
	t, err := is.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		k, _ := t.Header["kid"].(string)
		secret, ok := is.keys[k]
		if !ok {
			return nil, errors.New("unknown key")
		}
		kid = k
		return secret, nil
	})
	if err != nil || !t.Valid || claims.IssuedAt == nil || !ValidVisitorID(claims.Subject) {
		return Visitor{}, false
	}
	v := Visitor{ID: claims.Subject, IssuedAt: claims.IssuedAt.Time, KeyID: kid}
	is.seen[xxhash.Sum64String(token)&(seenSlots-1)].Store(&seenToken{token: token, visitor: v, expires: claims.ExpiresAt.Time})
	return v, true
}

// NeedsRefresh reports whether a verified token should be re-issued: it is
// older than the refresh age, or signed with a key that no longer signs.
func (is *Issuer) NeedsRefresh(v Visitor) bool {
	return v.KeyID != is.signing.ID || is.refresh > 0 && is.now().Sub(v.IssuedAt) > is.refresh
}

// TTL returns the lifetime of the tokens this Issuer issues.
func (is *Issuer) TTL() time.Duration { return is.ttl }
