package markup

import (
	"errors"
	"html"
	"net/url"
	"strings"
	"testing"

	nethtml "golang.org/x/net/html"
)

// TestSwapChecks: what a swap's html or attribute may be.
func TestSwapChecks(t *testing.T) {
	t.Parallel()
	htmls := []struct {
		name, src string
		want      SwapContent
		bad       bool
	}{
		{"text", "Hello {{.UTMSource}}", SwapText, false},
		{"phrasing", "Hello <em>you</em><br>", SwapPhrasing, false},
		{"flow", `<div class="x"><a href="/c/{{.UTMCampaign}}">go</a></div>`, SwapFlow, false},
		{"a text in each branch", `<strong>{{if .Returning}}Back!{{else}}Hi{{end}}</strong>`, SwapPhrasing, false},
		// Branches glued together must not pass for markup no visit
		// renders (found in review).
		{"a tag in a branch", `{{if .Returning}}<strong>Back!</strong>{{else}}Hi{{end}}`, 0, true},
		{"a tag name made of branches", `<s{{if .Customer}}pan{{else}}cript{{end}}>{{.UTMSource}}</span>`, 0, true},
		{"a URL's scheme in a branch", `<a href="{{if .Customer}}/x{{else}}javascript:{{end}}{{.UTMSource}}">x</a>`, 0, true},
		{"a URL's host from a branch", `<a href="{{if .Returning}}/a{{.UTMSource}}{{else}}{{.UTMSource}}{{end}}">x</a>`, 0, true},
		{"a scheme-relative link", `<a href="//evil.example/">x</a>`, 0, true},
		{"script", "<script>x()</script>", 0, true},
		{"a form", "<form><input></form>", 0, true},
		{"unclosed", "<em>x", 0, true},
		{"misnested", "<em><b>x</em></b>", 0, true},
		{"stray end", "x</div>", 0, true},
		{"a comment", "<!-- x -->", 0, true},
		{"a bare <", "1 < 2", 0, true},
		{"self-closed div", "<div/>", 0, true},
		{"unknown field", "{{.Name}}", 0, true},
		{"a loop", "{{range 1000000000}}x{{end}}", 0, true},
		{"printf", `{{printf "%999999999d" 1}}`, 0, true},
		{"a comparison", `{{if and (eq .UTMSource "newsletter") (gt .Visits 1)}}Back{{end}}`, SwapText, false},
		{"another template", `{{define "x"}}y{{end}}{{template "x"}}`, 0, true},
	}
	for _, tt := range htmls {
		t.Run("html "+tt.name, func(t *testing.T) {
			t.Parallel()
			_, got, err := ParseSwapHTML("t", tt.src)
			if (err != nil) != tt.bad || err == nil && got != tt.want {
				t.Errorf("content %d, err %v; want %d, bad %v", got, err, tt.want, tt.bad)
			}
		})
	}
	attrs := []struct {
		name, attr, src string
		bad             bool
	}{
		{"class", "class", "hero {{.Device}}", false},
		{"a relative link", "href", "/c/{{.UTMCampaign}}", false},
		{"an https link", "href", "https://shop.example/{{.UTMSource}}", false},
		{"a javascript link", "href", "javascript:alert(1)", true},
		{"a data link", "src", "data:text/html,x", true},
		{"a srcset with a javascript URL", "srcset", "/a.jpg 1x, javascript:x 2x", true},
		{"a tab in the scheme", "href", "java\tscript:x", true},
		{"onclick", "onclick", "x()", true},
		{"ONCLICK", "ONCLICK", "x()", true},
		{"style", "style", "color:red", true},
		{"srcdoc", "srcdoc", "<p>", true},
		{"formaction", "formaction", "/x", true},
		{"a namespaced name", "xlink:href", "/x", true},
		{"a quote", "title", `a" onclick="x`, true},
		{"a URL's start in a branch", "href", `{{if .Returning}}/a{{end}}{{.UTMSource}}`, true},
		{"a scheme-relative link", "href", "//evil.example/x", true},
		{"a backslash link", "href", `/\evil.example/x`, true},
	}
	for _, tt := range attrs {
		t.Run("attribute "+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSwapAttr("t", tt.attr, tt.src)
			if (err != nil) != tt.bad {
				t.Errorf("err %v, want bad %v", err, tt.bad)
			}
			if err != nil && !errors.Is(err, ErrSwap) && !strings.Contains(err.Error(), "template") {
				t.Errorf("err %v is neither ErrSwap nor a template's", err)
			}
		})
	}
}

// FuzzSwapTemplate: whatever a swap's template and the visit say, an
// accepted html renders balanced markup with no tag a swap refuses, and an
// accepted href stays in its quotes and is http(s) or relative.
func FuzzSwapTemplate(f *testing.F) {
	for _, s := range []string{"Hello {{.UTMSource}}", "<em>{{.UTMCampaign}}</em>", `<a href="/p/{{.UTMSource}}">x</a>`, "/c/{{.UTMSource}}", "{{.UTMSource}}:x", "https://shop.example/{{.UTMSource}}", "/{{.UTMSource}}",
		`<s{{if .Customer}}pan{{else}}cript{{end}}>{{.UTMSource}}</span>`, `<a href="{{if .Customer}}/x{{else}}javascript:{{end}}{{.UTMSource}}">x</a>`,
		`{{if .Returning}}/a{{.UTMSource}}{{else}}{{.UTMSource}}{{end}}`, `<em>{{with .UTMCampaign}}{{.}}{{else}}all{{end}}</em>`} {
		for _, v := range []string{"newsletter", `"><script>x</script>`, "javascript:alert(1)", "&amp;<", " java\nscript:x", "//evil.example/", "\\evil.example", "https://evil.example"} {
			f.Add(s, v)
		}
	}
	f.Fuzz(func(t *testing.T, src, visit string) {
		d := SwapData{UTMSource: visit, UTMMedium: visit, UTMCampaign: visit, Device: "mobile"}
		if tpl, _, err := ParseSwapHTML("t", src); err == nil {
			out, err := RenderSwapHTML(nil, tpl, d)
			if err == nil {
				checkBalanced(t, src, string(out))
			}
		}
		if tpl, err := ParseSwapAttr("t", "href", src); err == nil {
			out, err := RenderSwapAttr(nil, tpl, "href", d)
			if err != nil {
				if !errors.Is(err, ErrSwap) && !strings.Contains(err.Error(), "template") {
					t.Fatalf("render: %v", err)
				}
				return
			}
			if strings.ContainsRune(string(out), '"') {
				t.Fatalf("href %q from %q and %q", out, src, visit)
			}
			checkURL(t, src, html.UnescapeString(string(out)))
		}
	})
}

// checkURL fails when u is not http(s) or relative, or names a host the
// template src does not.
func checkURL(t *testing.T, src, u string) {
	t.Helper()
	if !safeURL(u) {
		t.Fatalf("URL %q from %q", u, src)
	}
	trimmed := strings.TrimFunc(strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(u), func(r rune) bool { return r <= ' ' })
	if p, err := url.Parse(strings.ReplaceAll(trimmed, "\\", "/")); err == nil && p.Host != "" && !strings.Contains(strings.ToLower(src), strings.ToLower(p.Host)) {
		t.Fatalf("URL %q goes to %s, which the template %q does not name", u, p.Host, src)
	}
}

// checkBalanced fails when out's tags are not balanced or hold a refused
// one.
func checkBalanced(t *testing.T, src, out string) {
	t.Helper()
	z := nethtml.NewTokenizer(strings.NewReader(out))
	var open []string
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			if len(open) > 0 {
				t.Fatalf("<%s> left open in %q (from %q)", open[len(open)-1], out, src)
			}
			return
		case nethtml.StartTagToken:
			name, more := z.TagName()
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if URLAttr(string(k)) {
					checkURL(t, src, string(v))
				}
			}
			tag := string(name)
			if refusedTags[tag] {
				t.Fatalf("<%s> in %q (from %q)", tag, out, src)
			}
			if !voidTags[tag] {
				open = append(open, tag)
			}
		case nethtml.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				t.Fatalf("</%s> closes nothing open in %q (from %q)", name, out, src)
			}
			open = open[:len(open)-1]
		case nethtml.SelfClosingTagToken:
			name, _ := z.TagName()
			if !voidTags[string(name)] {
				t.Fatalf("<%s/> in %q (from %q)", name, out, src)
			}
		case nethtml.CommentToken, nethtml.DoctypeToken:
			t.Fatalf("a comment or doctype in %q (from %q)", out, src)
		}
	}
}
