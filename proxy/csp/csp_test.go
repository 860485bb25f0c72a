package csp

import (
	"strings"
	"testing"
)

func TestCheckCSP(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		policies []string
		host     string
		https    bool
		want     Verdict
	}{
		{"none", nil, "shop.example", true, Verdict{Style: true, Script: true, Connect: true}},
		{"self", []string{"default-src 'self'"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true}},
		{"none source", []string{"default-src 'none'"}, "shop.example", true, Verdict{}},
		{"host and port", []string{"script-src https://shop.example; style-src shop.example:8443"}, "shop.example:8443", true, Verdict{Style: true, Connect: true}},
		{"host, default port", []string{"script-src https://shop.example"}, "shop.example:443", true, Verdict{Style: true, Script: true, Connect: true}},
		{"any port", []string{"script-src shop.example:*"}, "shop.example:8443", true, Verdict{Style: true, Script: true, Connect: true}},
		{"https host on http page", []string{"script-src https://shop.example"}, "shop.example", false, Verdict{Style: true, Connect: true}},
		{"wildcard host", []string{"script-src *.example"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true}},
		{"other host", []string{"script-src cdn.example"}, "shop.example", true, Verdict{Style: true, Connect: true}},
		{"scheme", []string{"script-src https:"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true}},
		{"nonce", []string{"script-src 'nonce-n1'; style-src 'nonce-n1'"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true, StyleNonce: "n1", ScriptNonce: "n1"}},
		{"nonce and self", []string{"script-src 'self' 'nonce-n1'"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true, ScriptNonce: "n1"}},
		{"strict-dynamic ignores self", []string{"script-src 'self' 'strict-dynamic'"}, "shop.example", true, Verdict{Style: true, Connect: true}},
		{"elem directive first", []string{"script-src 'none'; script-src-elem 'self'"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true}},
		{"first of a repeat", []string{"script-src 'none'; script-src 'self'"}, "shop.example", true, Verdict{Style: true, Connect: true}},
		{"two policies both must allow", []string{"script-src 'self'", "script-src 'nonce-n2'"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true, ScriptNonce: "n2"}},
		{"two nonces that differ", []string{"script-src 'nonce-a'", "script-src 'nonce-b'"}, "shop.example", true, Verdict{Style: true, Connect: true, ScriptNonce: "a"}},
		{"comma-joined", []string{"default-src 'self', script-src 'none'"}, "shop.example", true, Verdict{Style: true, Connect: true}},
		{"case", []string{"Script-Src 'SELF'"}, "shop.example", true, Verdict{Style: true, Script: true, Connect: true}},
	} {
		if got := Check(c.policies, c.host, c.https); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// FuzzCheckCSP: reading any policy never panics, and a nonce the verdict
// asks for is one the policy holds.
func FuzzCheckCSP(f *testing.F) {
	for _, s := range []string{
		"default-src 'self'",
		"script-src 'nonce-abc' 'strict-dynamic'; style-src 'self' 'nonce-abc'",
		"script-src https://shop.example:*; connect-src 'none'",
		"default-src 'self', script-src 'nonce-'",
		";;;,,, 'nonce-x",
		"script-src *.example:443/path",
	} {
		f.Add(s, "shop.example:8080", true)
	}
	f.Fuzz(func(t *testing.T, policy, host string, https bool) {
		v := Check([]string{policy}, host, https)
		for _, n := range []string{v.ScriptNonce, v.StyleNonce} {
			if n != "" && !strings.Contains(strings.ToLower(policy), "nonce-"+strings.ToLower(n)+"'") {
				t.Fatalf("nonce %q is not in %q", n, policy)
			}
		}
	})
}
