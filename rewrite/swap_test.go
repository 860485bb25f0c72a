package rewrite

import (
	"errors"
	"testing"

	"golang.org/x/net/html"
)

// swapTarget finds the element with id=t.
var swapTarget = matchFunc(func(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "id" && a.Val == "t" {
			return true
		}
	}
	return false
})

// TestContentSite: where an element's content may be replaced, what the
// page becomes (every byte outside the site as it was), and where not.
func TestContentSite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     string // the output with "NEW" as the content, or "" when refused
		blocks   bool
	}{
		{"a heading", `<body><section><h1 id=t>Well <em>made</em></h1><p>x</p></section></body>`, `<body><section><h1 id=t>NEW</h1><p>x</p></section></body>`, true},
		{"entities and quoting elsewhere untouched", `<body><div class='a&amp;b'><p id=t>&eacute;t&eacute;</p> &copy;</div></body>`, `<body><div class='a&amp;b'><p id=t>NEW</p> &copy;</div></body>`, false},
		{"a link's text", `<body><a id=t href=/x>Shop <b>now</b></a></body>`, `<body><a id=t href=/x>NEW</a></body>`, false},
		{"an empty element", `<body><span id=t></span></body>`, `<body><span id=t>NEW</span></body>`, true},
		{"after the newline a pre drops", "<body><pre id=t>\nx</pre></body>", "<body><pre id=t>\nNEW</pre></body>", true},
		{"a td", `<body><table><tr><td id=t>a</td></tr></table></body>`, `<body><table><tr><td id=t>NEW</td></tr></table></body>`, true},
		{"script", `<body><script id=t>var a</script></body>`, "", false},
		{"style", `<head><style id=t>p{}</style></head>`, "", false},
		{"textarea", `<body><textarea id=t>a</textarea></body>`, "", false},
		{"title", `<head><title id=t>a</title></head>`, "", false},
		{"noscript", `<body><noscript id=t>a</noscript></body>`, "", false},
		{"template", `<body><template id=t><p>a</p></template></body>`, "", false},
		{"svg", `<body><svg id=t><text>a</text></svg></body>`, "", false},
		{"math", `<body><math id=t><mi>x</mi></math></body>`, "", false},
		{"a tr", `<body><table><tr id=t><td>a</td></tr></table></body>`, "", false},
		{"a table", `<body><table id=t><tr><td>a</td></tr></table></body>`, "", false},
		{"an option", `<body><select><option id=t>a</option></select></body>`, "", false},
		{"the body", `<body id=t><p>a</p></body>`, "", false},
		{"no end tag", `<body><div><p id=t>a</div></body>`, "", false},
		{"in doubt: misnested", `<body><div id=t><b><i>x</b>y</i></div></body>`, "", false},
		{"a void element", `<body><img id=t src=x></body>`, "", false},
		{"where a formatting element left open is re-created", `<body><div><b>x</div><p id=t>y</p></body>`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Parse([]byte(tt.in))
			defer d.Release()
			found := d.Find(swapTarget)
			if len(found) != 1 {
				t.Fatalf("found %d targets", len(found))
			}
			s, err := found[0].ContentSite()
			if tt.want == "" {
				if err == nil {
					t.Fatalf("site %v accepted, want refused", s.Range)
				}
				if !errors.Is(err, ErrUnsafe) {
					t.Fatalf("err %v, want ErrUnsafe", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ContentSite: %v", err)
			}
			var sp Splice
			_ = sp.Replace(s.Range, []byte("NEW"))
			if got := string(sp.Bytes(nil, []byte(tt.in))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if s.Blocks != tt.blocks {
				t.Errorf("Blocks %v, want %v", s.Blocks, tt.blocks)
			}
		})
	}
}

// TestAttrSite: an attribute replaced (the first of its name) or added,
// every other byte of the tag and the page as it was; refused on elements
// whose attributes load or run things, and on elements in doubt.
func TestAttrSite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, attr string
		want           string // with the value "v", or "" when refused
	}{
		{"replaced, double quotes", `<body><a id=t href="/old" class=x>a</a></body>`, "href", `<body><a id=t href="v" class=x>a</a></body>`},
		{"replaced, single quotes", `<body><a id=t href='/old'>a</a></body>`, "href", `<body><a id=t href="v">a</a></body>`},
		{"replaced, unquoted", `<body><a href=/old id=t>a</a></body>`, "href", `<body><a href="v" id=t>a</a></body>`},
		{"replaced, no value", `<body><div id=t hidden>a</div></body>`, "hidden", `<body><div id=t hidden="v">a</div></body>`},
		{"replaced, upper case, spaces", `<body><A ID=t HREF = "/old">a</A></body>`, "href", `<body><A ID=t href="v">a</A></body>`},
		{"the first of two", `<body><a id=t href=/1 href=/2>a</a></body>`, "href", `<body><a id=t href="v" href=/2>a</a></body>`},
		{"added", `<body><h1 id=t>a</h1></body>`, "class", `<body><h1 class="v" id=t>a</h1></body>`},
		{"added to a self-closed void", `<body><img id="t"/></body>`, "alt", `<body><img alt="v" id="t"/></body>`},
		{"a value holding >", `<body><a title="a>b" id=t>a</a></body>`, "title", `<body><a title="v" id=t>a</a></body>`},
		{"script", `<body><script id=t src=/a.js></script></body>`, "src", ""},
		{"link", `<head><link id=t rel=stylesheet href=/a.css></head>`, "href", ""},
		{"meta", `<head><meta id=t http-equiv=refresh content=1></head>`, "content", ""},
		{"iframe", `<body><iframe id=t src=/x></iframe></body>`, "src", ""},
		{"svg", `<body><svg id=t></svg></body>`, "class", ""},
		{"in doubt", `<body><b id=t><i>x</b>y</i></body>`, "class", ""},
		{"an unknown element", `<body><x-hero id=t>a</x-hero></body>`, "class", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Parse([]byte(tt.in))
			defer d.Release()
			found := d.Find(swapTarget)
			if len(found) != 1 {
				t.Fatalf("found %d targets", len(found))
			}
			s, err := found[0].AttrSite(tt.attr)
			if tt.want == "" {
				if err == nil || !errors.Is(err, ErrUnsafe) {
					t.Fatalf("site %v, err %v: want refused with ErrUnsafe", s.Range, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("AttrSite: %v", err)
			}
			var sp Splice
			_ = sp.Replace(s.Range, s.AppendAttr(nil, tt.attr, []byte("v")))
			if got := string(sp.Bytes(nil, []byte(tt.in))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestContentSiteItemsHeadings: where list items and headings may start
// swapped content: not where they would close an element around it.
func TestContentSiteItemsHeadings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in        string
		items, headings bool
	}{
		{"a list", `<body><ul id=t><li>a</li></ul></body>`, true, true},
		{"a div in a list item", `<body><ul><li><div id=t>a</div></li></ul></body>`, false, true},
		{"a section in a list item", `<body><ul><li><section id=t>a</section></li></ul></body>`, true, true},
		{"a list item", `<body><ul><li id=t>a</li></ul></body>`, false, true},
		{"a dd", `<body><dl><dd id=t>a</dd></dl></body>`, false, true},
		{"a heading", `<body><h1 id=t>a</h1></body>`, true, false},
		{"a div in a heading", `<body><h1><div id=t>a</div></h1></body>`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Parse([]byte(tt.in))
			defer d.Release()
			found := d.Find(swapTarget)
			if len(found) != 1 {
				t.Fatalf("found %d targets", len(found))
			}
			s, err := found[0].ContentSite()
			if err != nil {
				t.Fatalf("ContentSite: %v", err)
			}
			if s.Items != tt.items || s.Headings != tt.headings {
				t.Errorf("items %v, headings %v; want %v, %v", s.Items, s.Headings, tt.items, tt.headings)
			}
		})
	}
}
