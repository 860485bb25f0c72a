package markup

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"html/template"
	"strings"
	"text/template/parse"
)

// SwapData is what a content swap's template reads: a few facts of the
// visit. Every one may come from the visitor (a UTM parameter is whatever
// the link said), so html/template escapes each for where it goes.
type SwapData struct {
	// UTMSource, UTMMedium and UTMCampaign are the visit's UTM
	// parameters, as the landing request carried them ("" when none).
	UTMSource, UTMMedium, UTMCampaign string
	// Device is mobile, tablet or desktop.
	Device string
	// Visits counts the visitor's visits, this one included.
	Visits int
	// Returning is true from the visitor's second visit on.
	Returning bool
	// Customer is true for a visitor who bought (or carries the shop's
	// customer cookie).
	Customer bool
}

// sampleData are the visits templates are tried on when they load, as
// unlike as can be, so that one that fails on some visit fails then.
var sampleData = [2]SwapData{
	{UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "spring", Device: "mobile", Visits: 3, Returning: true, Customer: true},
	{Device: "desktop", Visits: 1},
}

// SwapContent is what markup a swap's html may put in an element: a set
// of the bits below, none for text only.
type SwapContent uint8

// What a swap's html holds.
const (
	// SwapPhrasing: phrasing elements (span, em, strong, b, i, small,
	// br...), which sit wherever text does.
	SwapPhrasing SwapContent = 1 << iota
	// SwapFlow: other elements (div, p, a, ul, img...): only where a block
	// may go.
	SwapFlow
	// SwapItems: list items (li, dd, dt) at its top level: only where no
	// list item around would be closed by them.
	SwapItems
	// SwapHeadings: headings (h1 to h6) at its top level: not in a
	// heading, which they would close.
	SwapHeadings

	// SwapText is text only, no tags.
	SwapText SwapContent = 0
)

// phrasingTags are the elements a SwapPhrasing html may hold: none of them
// ends, or is ended by, what it sits in.
var phrasingTags = map[string]bool{
	"abbr": true, "b": true, "bdi": true, "bdo": true, "br": true, "cite": true, "code": true,
	"data": true, "dfn": true, "em": true, "i": true, "kbd": true, "mark": true, "q": true,
	"s": true, "samp": true, "small": true, "span": true, "strong": true, "sub": true,
	"sup": true, "time": true, "u": true, "var": true, "wbr": true,
}

// refusedTags are elements a swap's html may not hold: code and styles
// (which would also bypass the page's policy), elements that belong to the
// document (head, body, base, meta...), forms (a form inside a form is
// dropped), and raw-text or foreign content the proxy does not look into.
var refusedTags = map[string]bool{
	"script": true, "style": true, "link": true, "meta": true, "base": true, "title": true,
	"html": true, "head": true, "body": true, "frameset": true, "frame": true, "iframe": true,
	"object": true, "embed": true, "applet": true, "form": true, "textarea": true, "select": true,
	"plaintext": true, "xmp": true, "noembed": true, "noframes": true, "noscript": true,
	"template": true, "svg": true, "math": true, "table": true, "caption": true, "colgroup": true,
	"col": true, "tbody": true, "thead": true, "tfoot": true, "tr": true, "td": true, "th": true,
	"input": true, "button": true, "option": true, "optgroup": true, "datalist": true,
	"nobr": true, "rb": true, "rp": true, "rt": true, "rtc": true,
}

// ErrSwap is what the errors of swap templates that fail their checks,
// at load or at render, are (errors.Is).
var ErrSwap = errors.New("markup: content swap refused")

// refusal is a swap refused, saying why; it is ErrSwap.
type refusal string

func (r refusal) Error() string        { return string(r) }
func (r refusal) Is(target error) bool { return target == ErrSwap }

// refuse returns a refusal.
func refuse(format string, args ...any) error { return refusal(fmt.Sprintf(format, args...)) }

// ParseSwapHTML parses the html of a swap (an html/template; name is for
// messages) and checks its markup: balanced tags, none of the refused
// ones (script, style, form, tables...). It says what the template's
// output holds.
func ParseSwapHTML(name, src string) (*template.Template, SwapContent, error) {
	t, err := template.New(name).Parse(src)
	if err != nil {
		return nil, 0, err
	}
	if err := checkActions(t); err != nil {
		return nil, 0, err
	}
	content, err := checkMarkup(literalText(t))
	if err != nil {
		return nil, 0, err
	}
	for _, d := range sampleData {
		if _, err := RenderSwapHTML(nil, t, d); err != nil {
			return nil, 0, err
		}
	}
	return t, content, nil
}

// checkActions keeps a swap's template to what costs a visit little: values
// and conditions ({{.UTMSource}}, {{if}}, {{with}}), no loops ({{range}}
// over a number would run as long as it says) and no other templates
// ({{define}}, {{template}}, {{block}}); and the branches of its
// conditions to text.
func checkActions(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return refuse("a swap's template defines no other templates")
	}
	if t.Tree == nil {
		return nil
	}
	return visit(t.Tree.Root, 0, func(n parse.Node, branches int) error {
		switch n := n.(type) {
		case *parse.ActionNode:
			return checkPipe(n.Pipe)
		case *parse.IfNode:
			return checkPipe(n.Pipe)
		case *parse.WithNode:
			return checkPipe(n.Pipe)
		case *parse.TextNode:
			// Branches hold text only: the template's markup is then the
			// same whichever branch a visit takes, and the checks of its
			// literal text (where each branch's edges count as an action:
			// literalText) hold for every rendering. Without it, branches
			// glued together could pass for markup no visit renders, and a
			// visit render markup never checked
			// (<s{{if .Customer}}pan{{else}}cript{{end}}>).
			if branches > 0 && bytes.ContainsAny(n.Text, "<>\"'=") {
				return refuse("{{if}} and {{with}} choose between texts: put tags, attributes and quotes around them, not in them")
			}
		case *parse.RangeNode, *parse.BreakNode, *parse.ContinueNode:
			return refuse("no {{range}} in a swap's template: what it reads is a few values")
		case *parse.TemplateNode:
			return refuse("no {{template}} in a swap's template")
		}
		return nil
	})
}

// visit calls f on n and on every node under it, in order, with how many
// {{if}} or {{with}} branches each is in; it stops at f's first error.
func visit(n parse.Node, branches int, f func(n parse.Node, branches int) error) error {
	if l, ok := n.(*parse.ListNode); ok {
		if l == nil {
			return nil
		}
		for _, c := range l.Nodes {
			if err := visit(c, branches, f); err != nil {
				return err
			}
		}
		return nil
	}
	if err := f(n, branches); err != nil {
		return err
	}
	var list, elseList *parse.ListNode
	switch n := n.(type) {
	case *parse.IfNode:
		list, elseList = n.List, n.ElseList
	case *parse.WithNode:
		list, elseList = n.List, n.ElseList
	default:
		return nil
	}
	if err := visit(list, branches+1, f); err != nil {
		return err
	}
	return visit(elseList, branches+1, f)
}

// swapFuncs are the functions a swap's template may call: comparisons and
// logic, none that makes output of any size (printf "%999999999d").
var swapFuncs = map[string]bool{"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true, "and": true, "or": true, "not": true}

// checkPipe checks the functions a pipeline calls, and those of the
// pipelines in it.
func checkPipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.IdentifierNode:
				if !swapFuncs[a.Ident] {
					return refuse("no %s in a swap's template: it may compare (eq, ne, lt, le, gt, ge) and combine (and, or, not)", a.Ident)
				}
			case *parse.PipeNode:
				if err := checkPipe(a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// literalText is the template's literal text, its pieces one after the
// other (what actions put between them is escaped text: no tag).
func literalText(t *template.Template) string {
	var b strings.Builder
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.TextNode:
			b.Write(n.Text)
		case *parse.IfNode:
			// A branch's edges count as actions: where a visit may take
			// one text or another, no tag name, attribute name or URL's
			// fixed start may be.
			b.WriteByte(action)
			walk(n.List)
			b.WriteByte(action)
			walk(n.ElseList)
			b.WriteByte(action)
		case *parse.WithNode:
			b.WriteByte(action)
			walk(n.List)
			b.WriteByte(action)
			walk(n.ElseList)
			b.WriteByte(action)
		case *parse.ActionNode:
			b.WriteByte(action) // escaped text
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			walk(tt.Tree.Root)
		}
	}
	return b.String()
}

// action stands for an action ({{...}}) in a template's literal text:
// what it writes is escaped text.
const action = '\x00'

// checkMarkup checks the tags of a swap's literal text (its actions as
// action bytes): each a known element, none refused, each opened one
// closed in order (void ones aside); no attribute that runs code or
// styles; actions only in text and in quoted attribute values; and URLs
// http(s) or relative, a visit filling in at most their path and query
// (checkURLPrefix). It says what the text holds.
func checkMarkup(text string) (SwapContent, error) {
	content := SwapText
	var open []string
	for i := 0; i < len(text); i++ {
		if text[i] != '<' {
			continue
		}
		i++
		if strings.HasPrefix(text[i:], "!--") {
			return 0, refuse("no comments in swapped content")
		}
		end := i < len(text) && text[i] == '/'
		if end {
			i++
		}
		j := i
		for j < len(text) && (text[j] >= 'a' && text[j] <= 'z' || text[j] >= 'A' && text[j] <= 'Z' || text[j] >= '0' && text[j] <= '9' || text[j] == '-') {
			j++
		}
		if j == i {
			return 0, refuse("a %q that opens no tag: write &lt;", "<")
		}
		tag := strings.ToLower(text[i:j])
		if refusedTags[tag] {
			return 0, refuse("<%s> may not be swapped in", tag)
		}
		switch {
		case phrasingTags[tag]:
			content |= SwapPhrasing
		default:
			content |= SwapFlow
		}
		if len(open) == 0 && !end {
			switch tag {
			case "li", "dd", "dt":
				content |= SwapItems
			case "h1", "h2", "h3", "h4", "h5", "h6":
				content |= SwapHeadings
			}
		}
		k, selfClosing, err := checkAttrs(text, j, tag)
		if err != nil {
			return 0, err
		}
		i = k
		switch {
		case end:
			if len(open) == 0 || open[len(open)-1] != tag {
				return 0, refuse("</%s> closes no open <%s>", tag, tag)
			}
			open = open[:len(open)-1]
		case voidTags[tag]:
		case selfClosing:
			return 0, refuse("<%s/> is not closed in HTML: write <%s></%s>", tag, tag, tag)
		default:
			open = append(open, tag)
		}
	}
	if len(open) > 0 {
		return 0, refuse("<%s> is not closed", open[len(open)-1])
	}
	return content, nil
}

// checkAttrs checks the attributes of the tag whose name ends at i in
// text, and returns where its '>' is and whether it self-closes.
func checkAttrs(text string, i int, tag string) (gt int, selfClosing bool, err error) {
	for {
		for i < len(text) && (isSpace(text[i]) || text[i] == '/') {
			selfClosing = text[i] == '/'
			i++
		}
		if i >= len(text) {
			return 0, false, refuse("<%s is not closed with >", tag)
		}
		if text[i] == '>' {
			return i, selfClosing, nil
		}
		selfClosing = false
		ns := i
		for i < len(text) && !isSpace(text[i]) && text[i] != '=' && text[i] != '>' && text[i] != '/' {
			i++
		}
		name := strings.ToLower(text[ns:i])
		if strings.IndexByte(name, action) >= 0 {
			return 0, false, refuse("<%s>: no action in an attribute's name", tag)
		}
		if err := CheckAttrName(name); err != nil {
			return 0, false, fmt.Errorf("<%s>: %w", tag, err)
		}
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if i >= len(text) || text[i] != '=' {
			continue
		}
		i++
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if i >= len(text) || text[i] != '"' && text[i] != '\'' {
			return 0, false, refuse("<%s>: quote the value of %s", tag, name)
		}
		q := text[i]
		k := strings.IndexByte(text[i+1:], q)
		if k < 0 {
			return 0, false, refuse("<%s>: the value of %s is not closed", tag, name)
		}
		value := text[i+1 : i+1+k]
		i += k + 2
		if !URLAttr(name) {
			continue
		}
		at := strings.IndexByte(value, action)
		switch {
		case at < 0:
			if err := checkURLs(name, html.UnescapeString(value)); err != nil {
				return 0, false, err
			}
		case strings.HasSuffix(name, "srcset"):
			return 0, false, refuse("<%s>: a srcset reads nothing of the visit", tag)
		default:
			if err := checkURLPrefix(name, value[:at]); err != nil {
				return 0, false, err
			}
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// checkURLPrefix checks the literal start of a URL that a visit's values
// complete: it must fix where the URL goes, so that a visit can fill in
// its path and query but never name another host or scheme (a link to
// the shop with ?utm_source=https://elsewhere must not put elsewhere on
// the shop's page). So it starts with a path (/x, ./, ../), a query or a
// fragment, or an http(s) URL with its host and the '/' after it.
func checkURLPrefix(attr, prefix string) error {
	p := html.UnescapeString(prefix)
	ok := false
	switch {
	case strings.HasPrefix(p, "?"), strings.HasPrefix(p, "#"), strings.HasPrefix(p, "./"), strings.HasPrefix(p, "../"):
		ok = true
	case len(p) >= 2 && p[0] == '/' && p[1] != '/' && p[1] != '\\':
		ok = true
	default:
		for _, scheme := range []string{"http://", "https://"} {
			if rest, found := strings.CutPrefix(strings.ToLower(p), scheme); found {
				slash := strings.IndexByte(rest, '/')
				ok = slash > 0 && !strings.ContainsAny(rest[:slash], "\\@")
			}
		}
	}
	if !ok {
		return refuse("%s: start the URL with its path (/c/...) or its address (https://host/...), then the visit's values: they may fill in the path or query, never where the link goes", attr)
	}
	return nil
}

// voidTags are the elements without an end tag a swap may hold.
var voidTags = map[string]bool{"br": true, "wbr": true, "img": true, "hr": true, "area": true, "source": true, "track": true}

// RenderSwapHTML appends a swap's html, rendered for a visit, to dst. The
// rendering is checked as the template was (checkMarkup): what the load
// checked of the template is true of every visit's markup, and this makes
// sure of it. A rendering that fails the check is an error wrapping
// ErrSwap, and dst comes back as it was.
func RenderSwapHTML(dst []byte, t *template.Template, data SwapData) ([]byte, error) {
	start := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := t.Execute(buf, data); err != nil {
		return dst, fmt.Errorf("render swap %q: %w", t.Name(), err)
	}
	out := buf.Bytes()
	if _, err := checkMarkup(string(out[start:])); err != nil {
		return dst[:start], fmt.Errorf("render swap %q: %w", t.Name(), err)
	}
	return out, nil
}

// The wrapper an attribute's value template is parsed in, so that
// html/template escapes it for that attribute (URL, srcset or text).
const (
	attrOpen  = "<se-swap "
	attrClose = "\">"
)

// ParseSwapAttr parses the value of a swap's attribute (an html/template,
// for the attribute name, which must pass CheckAttrName) and checks it on
// sample visits: it must stay inside the attribute's quotes, and a URL it
// makes must be http(s) or relative.
func ParseSwapAttr(name, attr, src string) (*template.Template, error) {
	if err := CheckAttrName(attr); err != nil {
		return nil, err
	}
	t, err := template.New(name).Parse(attrOpen + attr + `="` + src + attrClose)
	if err != nil {
		return nil, err
	}
	if err := checkActions(t); err != nil {
		return nil, err
	}
	lit := literalText(t)
	if value := lit[len(attrOpen)+len(attr)+2 : len(lit)-len(attrClose)]; strings.ContainsAny(value, "\"<>") {
		return nil, refuse("the value of %s holds a quote or a tag: write &#34;, &lt; or &gt;", attr)
	}
	if _, _, err := checkAttrs(lit, len(attrOpen)-1, "se-swap"); err != nil {
		return nil, err
	}
	for _, d := range sampleData {
		if _, err := RenderSwapAttr(nil, t, attr, d); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// RenderSwapAttr appends the value of a swap's attribute (parsed by
// ParseSwapAttr for attr), rendered for a visit, to dst: escaped for a
// double-quoted attribute. A value that would leave its quotes, or a URL
// that is not http(s) or relative, is an error wrapping ErrSwap.
func RenderSwapAttr(dst []byte, t *template.Template, attr string, data SwapData) ([]byte, error) {
	start := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := t.Execute(buf, data); err != nil {
		return dst, fmt.Errorf("render swap %q: %w", t.Name(), err)
	}
	out := buf.Bytes()
	prefix := attrOpen + attr + `="`
	body := out[start:]
	if !bytes.HasPrefix(body, []byte(prefix)) || !bytes.HasSuffix(body, []byte(attrClose)) {
		return dst, refuse("the value of %s leaves its attribute", attr)
	}
	value := body[len(prefix) : len(body)-len(attrClose)]
	if bytes.IndexByte(value, '"') >= 0 {
		return dst, refuse("the value of %s holds a quote: write &#34;", attr)
	}
	if URLAttr(attr) {
		if err := checkURLs(attr, html.UnescapeString(string(value))); err != nil {
			return dst, err
		}
	}
	n := copy(out[start:], value)
	return out[:start+n], nil
}

// checkURLs checks the URL (or, for a srcset, each URL) of an attribute's
// value: http(s) or relative.
func checkURLs(attr, v string) error {
	urls := []string{v}
	if strings.HasSuffix(attr, "srcset") {
		urls = strings.Split(v, ",")
		for i, c := range urls {
			if f := strings.Fields(c); len(f) > 0 {
				urls[i] = f[0]
			}
		}
	}
	for _, u := range urls {
		if !safeURL(u) {
			return refuse("%s %q is not an http(s) or relative URL", attr, u)
		}
	}
	return nil
}

// safeURL reports whether u, as a browser reads it (surrounding spaces and
// control characters trimmed, tabs and newlines dropped), is relative or
// http(s).
func safeURL(u string) bool {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	u = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(u)
	if strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") || strings.HasPrefix(u, "\\") {
		return false // another host, without a scheme (browsers read \ as /)
	}
	i := strings.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return true // relative: no scheme
	}
	switch strings.ToLower(u[:i]) {
	case "http", "https":
		return true
	}
	return false
}

// urlAttrs are attributes whose value is a URL (or URLs): a swap's value
// for them is escaped as a URL and must be http(s) or relative.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "srcset": true, "imagesrcset": true, "poster": true,
	"cite": true, "data": true, "background": true, "longdesc": true, "manifest": true, "icon": true,
	"codebase": true, "usemap": true, "profile": true,
}

// URLAttr reports whether a swap's attribute holds URLs: a known URL
// attribute, or, as html/template judges by name, one whose name (without
// data-) has src, uri or url in it.
func URLAttr(name string) bool {
	name = strings.TrimPrefix(name, "data-")
	return urlAttrs[name] || strings.Contains(name, "src") || strings.Contains(name, "uri") || strings.Contains(name, "url")
}

// refusedAttrs are attributes no swap sets: they run code or styles, or
// change what the page loads or how its policy reads it.
var refusedAttrs = map[string]string{
	"style":      "it styles the page",
	"srcdoc":     "it is a whole document",
	"formaction": "it sends a form elsewhere",
	"http-equiv": "it acts as a response header",
	"nonce":      "it is the page's policy nonce",
	"integrity":  "it vouches for a script or stylesheet",
	"ping":       "it sends requests",
	"is":         "it runs a custom element",
	"xmlns":      "it changes the namespace",
}

// CheckAttrName checks the name of an attribute a swap sets: lowercase
// letters, digits, '-', '_' and '.', starting with a letter, and none that
// runs code or styles (on*, style, srcdoc, formaction...).
func CheckAttrName(name string) error {
	if name == "" {
		return refuse("no attribute name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
			return refuse("%q is not an attribute name of lowercase letters, digits and dashes", name)
		}
	}
	if strings.HasPrefix(name, "on") {
		return refuse("%s runs code", name)
	}
	if why, ok := refusedAttrs[name]; ok {
		return refuse("%s: %s", name, why)
	}
	return nil
}

// Static reports whether a swap's template reads nothing of the visit
// (it is literal text only), so that it may be rendered once.
func Static(t *template.Template) bool {
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		for _, n := range tt.Tree.Root.Nodes {
			if _, ok := n.(*parse.TextNode); !ok {
				return false
			}
		}
	}
	return true
}
