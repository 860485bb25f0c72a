package identity

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// PreviewAudience is the "aud" claim of a preview token. Visitor tokens
// have none and a subject that is a visitor id; preview tokens have this
// audience and no subject, so that neither verifies as the other.
const PreviewAudience = "shopedge-preview"

// MaxPreviewTTL is the longest a preview token may live.
const MaxPreviewTTL = 7 * 24 * time.Hour

// Previewed is what a preview shows: a segment, an experiment's arm, or
// both. A segment alone is what the first preview tokens held; they still
// verify.
type Previewed struct {
	Segment    string // a segment's name; "": none forced
	Experiment string // an experiment's name, with Arm; "": none forced
	Arm        string // one of the experiment's arms, by name
}

// check reports what is wrong with v as a token's content: nothing
// previewed, or an experiment without an arm (or the other way round).
func (v Previewed) check() error {
	switch {
	case (v.Experiment == "") != (v.Arm == ""):
		return errors.New("an experiment and its arm go together")
	case v.Segment == "" && v.Experiment == "":
		return errors.New("neither a segment nor an experiment's arm")
	}
	return nil
}

// Preview is what a valid preview token says: what to preview and until
// when.
type Preview struct {
	Previewed
	Expires time.Time
	KeyID   string // the key that signed it
}

// previewClaims are a preview token's claims: the registered ones (iss,
// aud, iat, exp; no sub), the segment, and the experiment and its arm
// (left out when there are none, so that a segment's token is what it
// always was).
type previewClaims struct {
	jwt.RegisteredClaims
	Segment    string `json:"seg,omitempty"`
	Experiment string `json:"xp,omitempty"`
	Arm        string `json:"arm,omitempty"`
}

// IssuePreview returns a signed preview token for what v names (a
// segment, an experiment's arm, or both), valid for ttl (at most
// MaxPreviewTTL): an HS256 JWT with the Issuer's signing key and kid, iss,
// aud PreviewAudience, iat, exp, and the names of v.
func (is *Issuer) IssuePreview(v Previewed, ttl time.Duration) (string, error) {
	if err := v.check(); err != nil {
		return "", fmt.Errorf("identity: preview: %w", err)
	}
	if ttl <= 0 || ttl > MaxPreviewTTL {
		return "", fmt.Errorf("identity: preview: lifetime %v: want more than 0 and at most %v", ttl, MaxPreviewTTL)
	}
	now := is.now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, previewClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{PreviewAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Segment:    v.Segment,
		Experiment: v.Experiment,
		Arm:        v.Arm,
	})
	t.Header["kid"] = is.signing.ID
	s, err := t.SignedString(is.signing.Secret)
	if err != nil {
		return "", fmt.Errorf("identity: preview: sign: %w", err)
	}
	return s, nil
}

// VerifyPreview checks a preview token: HS256 only, a kid naming one of
// the Issuer's keys, iss, aud PreviewAudience, exp required and not past
// (no leeway: a preview ends when it says), no subject, a segment or an
// experiment with its arm (or both), and at most MaxTokenLen bytes. Any failure returns false. It allocates: preview
// tokens are rare, and only they pay.
func (is *Issuer) VerifyPreview(token []byte) (Preview, bool) {
	if len(token) == 0 || len(token) > MaxTokenLen {
		return Preview{}, false
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(PreviewAudience),
		jwt.WithTimeFunc(is.now),
		jwt.WithStrictDecoding(),
	)
	var claims previewClaims
	var kid string
	t, err := parser.ParseWithClaims(string(token), &claims, func(t *jwt.Token) (any, error) {
		k, _ := t.Header["kid"].(string)
		secret, ok := is.keys[k]
		if !ok {
			return nil, errors.New("unknown key")
		}
		kid = k
		return secret, nil
	})
	if err != nil || !t.Valid || claims.Subject != "" || claims.IssuedAt == nil {
		return Preview{}, false
	}
	v := Previewed{Segment: claims.Segment, Experiment: claims.Experiment, Arm: claims.Arm}
	if v.check() != nil {
		return Preview{}, false
	}
	return Preview{Previewed: v, Expires: claims.ExpiresAt.Time, KeyID: kid}, true
}
