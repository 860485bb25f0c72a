package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestPreviewToken: a preview token verifies as a preview of its segment
// until it expires; forged, foreign-key, expired, oversize tokens and
// visitor tokens do not, and a preview token is no visitor token.
func TestPreviewToken(t *testing.T) {
	t.Parallel()
	now := t0
	is := newIssuer(t, &now, Key{"a", secretA}, Key{"b", secretB})
	tok, err := is.IssuePreview(Previewed{Segment: "customer"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := is.VerifyPreview([]byte(tok))
	if !ok || p.Segment != "customer" || p.KeyID != "a" || !p.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("VerifyPreview = %+v, %v; want customer from key a until %v", p, ok, t0.Add(time.Hour))
	}
	if _, ok := is.Verify(tok); ok {
		t.Errorf("a preview token verifies as a visitor token")
	}
	visitor, _ := is.Issue(NewVisitorID())
	claims := func(aud, sub, seg string, exp time.Time) jwt.Claims {
		c := previewClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: sub, IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(exp)}, Segment: seg}
		if aud != "" {
			c.Audience = jwt.ClaimStrings{aud}
		}
		return c
	}
	later := t0.Add(time.Hour)
	for _, tt := range []struct {
		name, token string
	}{
		{"visitor token", visitor},
		{"unknown key", forge(t, jwt.SigningMethodHS256, []byte("another secret, 32 bytes or more!!"), "a", claims(PreviewAudience, "", "customer", later))},
		{"unknown kid", forge(t, jwt.SigningMethodHS256, secretA, "z", claims(PreviewAudience, "", "customer", later))},
		{"no kid", forge(t, jwt.SigningMethodHS256, secretA, "", claims(PreviewAudience, "", "customer", later))},
		{"HS512", forge(t, jwt.SigningMethodHS512, secretA, "a", claims(PreviewAudience, "", "customer", later))},
		{"no audience", forge(t, jwt.SigningMethodHS256, secretA, "a", claims("", "", "customer", later))},
		{"another audience", forge(t, jwt.SigningMethodHS256, secretA, "a", claims("shopedge", "", "customer", later))},
		{"a subject", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(PreviewAudience, "AAAAAAAAAAAAAAAAAAAAAA", "customer", later))},
		{"no segment", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(PreviewAudience, "", "", later))},
		{"expired", forge(t, jwt.SigningMethodHS256, secretA, "a", claims(PreviewAudience, "", "customer", t0.Add(-time.Second)))},
		{"tampered", tok[:len(tok)-2] + "xx"},
		{"oversize", tok + "." + strings.Repeat("a", MaxTokenLen)},
		{"garbage", "not a token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p, ok := is.VerifyPreview([]byte(tt.token)); ok {
				t.Errorf("VerifyPreview = %+v, true; want false", p)
			}
		})
	}
	// Signed by key b (a rotation): still good.
	if _, ok := is.VerifyPreview([]byte(forge(t, jwt.SigningMethodHS256, secretB, "b", claims(PreviewAudience, "", "new", later)))); !ok {
		t.Errorf("a token of the second key does not verify")
	}
	now = t0.Add(time.Hour + time.Second)
	if _, ok := is.VerifyPreview([]byte(tok)); ok {
		t.Errorf("a preview token verifies after its expiry")
	}
	for _, ttl := range []time.Duration{0, -time.Minute, MaxPreviewTTL + time.Second} {
		if _, err := is.IssuePreview(Previewed{Segment: "new"}, ttl); err == nil {
			t.Errorf("IssuePreview(ttl %v): no error", ttl)
		}
	}
}

// oldPreviewToken is a preview token as the first preview tokens were
// (a segment only: {"seg":"customer"}), issued by that code with key a at
// t0 for 7 days.
const oldPreviewToken = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImEiLCJ0eXAiOiJKV1QifQ." +
	"eyJpc3MiOiJzaG9wZWRnZSIsImF1ZCI6WyJzaG9wZWRnZS1wcmV2aWV3Il0sImV4cCI6MTc5NjA0MDAwMCwiaWF0IjoxNzk1NDM1MjAwLCJzZWciOiJjdXN0b21lciJ9." +
	"EN_cMFuRF0tgWmzcreblIWuBWw8XbIuAv1fYhzOBnmU"

// TestPreviewTokenRoundTrip: what a preview token previews (a segment, an
// experiment's arm, both) comes back as it was issued; a token of the
// first kind (segment only) still verifies; an arm without its experiment,
// or the other way round, is neither issued nor verified.
func TestPreviewTokenRoundTrip(t *testing.T) {
	t.Parallel()
	now := t0
	is := newIssuer(t, &now, Key{"a", secretA})
	for _, tt := range []struct {
		name string
		v    Previewed
	}{
		{"segment", Previewed{Segment: "customer"}},
		{"arm", Previewed{Experiment: "popular-vs-trending", Arm: "trending"}},
		{"both", Previewed{Segment: "campaign", Experiment: "exit-offer-holdout", Arm: "control"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := is.IssuePreview(tt.v, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := is.VerifyPreview([]byte(tok))
			if !ok || p.Previewed != tt.v || !p.Expires.Equal(t0.Add(time.Hour)) {
				t.Errorf("VerifyPreview = %+v, %v; want %+v until %v", p, ok, tt.v, t0.Add(time.Hour))
			}
		})
	}
	t.Run("old token", func(t *testing.T) {
		p, ok := is.VerifyPreview([]byte(oldPreviewToken))
		if want := (Previewed{Segment: "customer"}); !ok || p.Previewed != want || !p.Expires.Equal(t0.Add(MaxPreviewTTL)) {
			t.Errorf("VerifyPreview(old token) = %+v, %v; want %+v until %v", p, ok, want, t0.Add(MaxPreviewTTL))
		}
	})
	for _, v := range []Previewed{{}, {Experiment: "x"}, {Arm: "control"}, {Segment: "new", Arm: "control"}} {
		if tok, err := is.IssuePreview(v, time.Hour); err == nil {
			t.Errorf("IssuePreview(%+v) = %q, want an error", v, tok)
		}
	}
	later := jwt.NewNumericDate(t0.Add(time.Hour))
	for _, c := range []previewClaims{
		{Experiment: "x"},
		{Arm: "control"},
		{Segment: "new", Experiment: "x"},
	} {
		c.RegisteredClaims = jwt.RegisteredClaims{Issuer: issuer, Audience: jwt.ClaimStrings{PreviewAudience}, IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: later}
		if p, ok := is.VerifyPreview([]byte(forge(t, jwt.SigningMethodHS256, secretA, "a", c))); ok {
			t.Errorf("a token of %+v verifies: %+v", c, p)
		}
	}
}

// FuzzVerifyPreview: no input makes VerifyPreview panic, and nothing but
// the preview tokens the key signed verifies (of a segment, an arm, both,
// and the first kind).
func FuzzVerifyPreview(f *testing.F) {
	now := t0
	is := newIssuer(f, &now, Key{"a", secretA})
	good := map[string]bool{oldPreviewToken: true}
	for _, v := range []Previewed{{Segment: "customer"}, {Experiment: "popular-vs-trending", Arm: "trending"}, {Segment: "new", Experiment: "x", Arm: "control"}} {
		tok, err := is.IssuePreview(v, time.Hour)
		if err != nil {
			f.Fatal(err)
		}
		good[tok] = true
		f.Add(tok)
	}
	f.Add(oldPreviewToken)
	f.Add("")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		if p, ok := is.VerifyPreview([]byte(tok)); ok && !good[tok] {
			t.Fatalf("accepted %q as %+v", tok, p)
		}
	})
}
