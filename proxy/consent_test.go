package proxy

import (
	"regexp"
	"testing"

	"shopedge/rules"
)

// TestConsentGate: with identity.consent set, a visitor whose consent
// cookie is missing, or does not grant personalization, gets the shop's
// page byte for byte, no visitor cookie, and no profile; one whose cookie
// grants it gets the personalized page and the cookie, as without a gate.
func TestConsentGate(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t, func(c *rules.Config) {
		c.Identity.Consent = &rules.Consent{Cookie: "CookieConsent", Matches: rules.Regexp{Regexp: regexp.MustCompile(`marketing:true`)}}
	})
	const page = "/p/essential-grey-slip-dress-se-10001"
	shop := e.direct(t, page, host(e.url))
	for _, tt := range []struct {
		name     string
		cookie   string
		personal bool
	}{
		{"no consent cookie", "", false},
		{"consent without marketing", "CookieConsent={necessary:true%2Cmarketing:false}", false},
		{"consent with marketing", "CookieConsent={necessary:true%2Cmarketing:true}", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.proxy.profiles.Stats().Held
			v := e.visitor()
			if tt.cookie != "" {
				v.header.Set("Cookie", tt.cookie)
			}
			pg := v.get(e.url + page)
			gotCookie := cookieNamed(pg.resp, "se_vid") != nil
			if gotCookie != tt.personal {
				t.Errorf("visitor cookie set: %v, want %v", gotCookie, tt.personal)
			}
			if same := pg.body == shop; same == tt.personal {
				t.Errorf("page is the shop's, byte for byte: %v, want %v", same, !tt.personal)
			}
			if held := e.proxy.profiles.Stats().Held; (held > before) != tt.personal {
				t.Errorf("profiles held %d → %d, want a new one: %v", before, held, tt.personal)
			}
		})
	}
}
