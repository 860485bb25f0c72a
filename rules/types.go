package rules

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"go.yaml.in/yaml/v3"
	"golang.org/x/net/html"
)

// nodeError reports a problem with a YAML value at its position, in the
// form the decoder collects so that every problem is reported at once.
func nodeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{
		fmt.Sprintf("line %d:%d: %s", n.Line, n.Column, fmt.Sprintf(format, args...)),
	}}
}

func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", nodeError(n, "want a single value, not a %s", kindName(n.Kind))
	}
	return n.Value, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// Duration is a time.Duration written like "30s" or "1h30m".
type Duration time.Duration

// UnmarshalYAML parses a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n)
	if err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return nodeError(n, "%q is not a duration like 500ms, 30s or 2h", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ByteSize is a size in bytes written like "512KiB", "4MiB" or "1000".
type ByteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// UnmarshalYAML parses a size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n)
	if err != nil {
		return err
	}
	v, ok := parseSize(s)
	if !ok {
		return nodeError(n, "%q is not a size like 512KiB, 4MiB or 1GiB", s)
	}
	*b = ByteSize(v)
	return nil
}

func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, false
	}
	return v * mult, true
}

// Regexp is a regular expression (Go RE2 syntax), compiled when loaded.
type Regexp struct {
	*regexp.Regexp
	// lit is the text an expression of one anchored literal matches
	// ("^/p/", "^/cart$"), as the paths of page rules mostly are: Match
	// compares it where the regexp would run its machine (~150 ns a rule,
	// and a request's page type tries the rules in order). litWhole: the
	// expression ends with $ (the whole text), else it is a prefix.
	lit      string
	litOK    bool
	litWhole bool
}

// UnmarshalYAML compiles the expression.
func (r *Regexp) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n)
	if err != nil {
		return err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nodeError(n, "bad regular expression %q: %v", s, cleanRegexpErr(err))
	}
	*r = Regexp{Regexp: re}
	r.lit, r.litWhole, r.litOK = anchoredLiteral(s)
	return nil
}

// Match reports whether b contains a match of the expression.
func (r *Regexp) Match(b []byte) bool {
	if r.litOK {
		if r.litWhole {
			return string(b) == r.lit
		}
		return len(b) >= len(r.lit) && string(b[:len(r.lit)]) == r.lit
	}
	return r.Regexp.Match(b)
}

// anchoredLiteral returns the literal text of an expression that is one,
// anchored at the start of the text (^, not multi-line) and maybe at its
// end ($), matched case-sensitively; ok is false for any other.
func anchoredLiteral(expr string) (lit string, whole, ok bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false, false
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || len(re.Sub) > 3 || re.Sub[0].Op != syntax.OpBeginText {
		return "", false, false
	}
	l := re.Sub[1]
	// U+FFFD matches any invalid byte to the regexp: not to a comparison.
	if l.Op != syntax.OpLiteral || l.Flags&syntax.FoldCase != 0 || slices.Contains(l.Rune, utf8.RuneError) {
		return "", false, false
	}
	if len(re.Sub) == 3 {
		if re.Sub[2].Op != syntax.OpEndText {
			return "", false, false
		}
		whole = true
	}
	return string(l.Rune), whole, true
}

func cleanRegexpErr(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// Selector is a CSS selector group, compiled when loaded. Selectors that
// depend on text (:contains, :matches, :empty) are refused: the rewriter
// matches elements, not text.
type Selector struct {
	cascadia.SelectorGroup
	src string
}

// UnmarshalYAML compiles the selector.
func (s *Selector) UnmarshalYAML(n *yaml.Node) error {
	v, err := scalar(n)
	if err != nil {
		return err
	}
	sel, err := CompileSelector(v)
	if err != nil {
		return nodeError(n, "%v", err)
	}
	*s = sel
	return nil
}

// CompileSelector compiles a CSS selector group.
func CompileSelector(v string) (Selector, error) {
	if strings.TrimSpace(v) == "" {
		return Selector{}, fmt.Errorf("empty CSS selector")
	}
	lower := strings.ToLower(v)
	for _, p := range []string{":contains", ":matches", ":empty", ":containsown", ":matchesown"} {
		if strings.Contains(lower, p) {
			return Selector{}, fmt.Errorf("CSS selector %q: %s is not supported (it depends on text)", v, p)
		}
	}
	g, err := cascadia.ParseGroup(v)
	if err != nil {
		return Selector{}, fmt.Errorf("bad CSS selector %q: %v", v, err)
	}
	return Selector{SelectorGroup: g, src: v}, nil
}

// String returns the selector as written.
func (s Selector) String() string { return s.src }

// Match reports whether n matches the selector.
func (s Selector) Match(n *html.Node) bool { return s.SelectorGroup.Match(n) }

// IsZero reports whether the selector was left out.
func (s Selector) IsZero() bool { return s.src == "" }

// PageType is the kind of page a request is for.
type PageType string

// The page types.
const (
	PageOther    PageType = ""
	PageHome     PageType = "home"
	PageCategory PageType = "category"
	PageProduct  PageType = "product"
	PageSearch   PageType = "search"
	PageCart     PageType = "cart"
	PageCheckout PageType = "checkout"
	PagePurchase PageType = "purchase"
)

var pageTypes = []PageType{PageHome, PageCategory, PageProduct, PageSearch, PageCart, PageCheckout, PagePurchase}

// UnmarshalYAML checks the page type.
func (p *PageType) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n)
	if err != nil {
		return err
	}
	for _, t := range pageTypes {
		if string(t) == s {
			*p = t
			return nil
		}
	}
	names := make([]string, len(pageTypes))
	for i, t := range pageTypes {
		names[i] = string(t)
	}
	return nodeError(n, "unknown page type %q (want one of %s)", s, strings.Join(names, ", "))
}

// String returns the type's name, "other" for PageOther.
func (p PageType) String() string {
	if p == PageOther {
		return "other"
	}
	return string(p)
}
