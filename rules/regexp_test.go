package rules

import (
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestRegexpMatch: an expression of one anchored literal, as page rules'
// paths mostly are, is matched by comparing text; every expression
// matches exactly what the regexp package says, fast path or not.
func TestRegexpMatch(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "/", "//", "/c/", "/c/men", "/C/men", "/x/c/", "/cart", "/cart/", "/cartx", "/cart\n",
		"\n/cart", "/p/é", "/p/\xff", "/p/\uFFFD", "/search", "/search?q=x", "/checkout/thank-you"}
	for _, c := range []struct {
		expr string
		fast bool
	}{
		{`^/$`, true},
		{`^/c/`, true},
		{`^/cart$`, true},
		{`^/checkout/thank-you$`, true},
		{`^/p/é`, true},
		{`^/p/\.x`, true}, // an escaped dot is a literal
		{`^/p/.`, false},
		{`(?i)^/c/`, false},
		{`(?m)^/cart$`, false},
		{`^/cart\z`, true}, // \z is the end of the text, as $ is
		{`/cart$`, false},
		{`^/p/\x{FFFD}`, false},
		{`^(/c/)`, false},
		{`^/c/|^/p/`, false},
		{`^`, false},
		{`^$`, false},
		{`/c/`, false},
	} {
		var r Regexp
		if err := yaml.Unmarshal([]byte("'"+c.expr+"'"), &r); err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if r.litOK != c.fast {
			t.Errorf("%s: compared as text %t, want %t", c.expr, r.litOK, c.fast)
		}
		re := regexp.MustCompile(c.expr)
		for _, in := range inputs {
			if got, want := r.Match([]byte(in)), re.Match([]byte(in)); got != want {
				t.Errorf("%s matches %q: %t, the regexp package says %t", c.expr, in, got, want)
			}
		}
	}
	// Made in code (tests do), the expression runs as a regexp.
	if r := (Regexp{Regexp: regexp.MustCompile(`^/c/`)}); !r.Match([]byte("/c/men")) || r.Match([]byte("/p/x")) {
		t.Errorf("a Regexp made in code matches wrongly")
	}
}
