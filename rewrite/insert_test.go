package rewrite

import (
	"errors"
	"testing"

	"golang.org/x/net/html"
)

const block = `<section data-se-ins><h2>x</h2><ul><li><a href="/p">p</a></li></ul></section>`

// insertAt splices block at a site.
func insertAt(src []byte, s Site, b string) []byte {
	var sp Splice
	_ = sp.Replace(s.Range, []byte(b))
	return sp.Bytes(nil, src)
}

func TestBlockSite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		pos      Position
		want     string // the output, or "" when refused
	}{
		{"after", `<body><main><div id=t>a</div><p>b</p></main></body>`, After, `<body><main><div id=t>a</div>` + block + `<p>b</p></main></body>`},
		{"before", `<body><main><div id=t>a</div></main></body>`, Before, `<body><main>` + block + `<div id=t>a</div></main></body>`},
		{"prepend", `<body><main id=t><h1>a</h1></main></body>`, Prepend, `<body><main id=t>` + block + `<h1>a</h1></main></body>`},
		{"append", `<body><main id=t><h1>a</h1></main></body>`, Append, `<body><main id=t><h1>a</h1>` + block + `</main></body>`},
		{"replace", `<body><main><div id=t>a</div></main></body>`, Replace, `<body><main>` + block + `</main></body>`},
		{"in a td", `<body><table><tr><td id=t>a</td></tr></table></body>`, Append, `<body><table><tr><td id=t>a` + block + `</td></tr></table></body>`},
		{"p inside a td is fine", `<body><p><table><tr><td id=t>a</td></tr></table></body>`, Append, `<body><p><table><tr><td id=t>a` + block + `</td></tr></table></body>`},
		{"in a p", `<body><p id=t>a</p></body>`, Append, ""},
		{"after a span in a p", `<body><p>a<span id=t>b</span>c</p></body>`, After, ""},
		{"directly in a tr", `<body><table><tr id=t><td>a</td></tr></table></body>`, Append, ""},
		{"after a tr", `<body><table><tbody><tr id=t><td>a</td></tr></tbody></table></body>`, After, ""},
		{"in a select", `<body><select><option id=t>a</option></select></body>`, Append, ""},
		{"in a link", `<body><a href=/x><div id=t>a</div></a></body>`, Append, ""},
		{"in head", `<html><head><title id=t>a</title></head><body></body></html>`, After, ""},
		{"no end tag", `<body><main><div id=t>a</main></body>`, After, ""},
		{"void element", `<body><main><img id=t src=x></main></body>`, Append, ""},
		{"before an li after one left open", `<body><ul><li>a<li id=t>b</ul></body>`, Before, ""},
		{"before an li after a closed one", `<body><ul><li>a</li><li id=t>b</li></ul></body>`, Before, `<body><ul><li>a</li>` + block + `<li id=t>b</li></ul></body>`},
		{"append after an li left open", `<body><ul id=t><li>a</ul></body>`, Append, ""},
		{"after a void element", `<body><main><img id=t src=x></main></body>`, After, `<body><main><img id=t src=x>` + block + `</main></body>`},
		// Found by FuzzBlockSite.
		{"append where a b left open is re-created", `<body><div><b>x</div><main id=t><span>y</span></main></body>`, Append, ""},
		{"after a b whose misnested i is re-created", `<body><b id=t><i>x</b>y</i><div>z</div></body>`, After, ""},
		{"in a td where a b left open is re-created", `<body><table><tr><td><span><b>x</span><div id=t>y</div></td></tr></table></body>`, Append, ""},
		{"after a table whose b left open is cleared", `<body><table id=t><tr><td><b>x</td></tr></table><div>y</div></body>`, After, `<body><table id=t><tr><td><b>x</td></tr></table>` + block + `<div>y</div></body>`},
		{"before a table content is moved out of", `<body><table id=t><div>x</div><tr><td>y</table></body>`, Before, ""},
		{"before a table a stray </br> puts a br before", `<body><table id=t><tr><td>a</td></tr></br></table></body>`, Before, ""},
		{"in a b moved out of a table", `<body><table><tr><b><table id=t></table></b></tr></table></body>`, Before, ""},
		{"after a table in a p, maybe in quirks mode", `<body><p><table id=t><tr><td>a</td></tr></table></p></body>`, After, ""},
		{"after a table that closed a p, no quirks", `<!DOCTYPE html><body><p>a<table id=t><tr><td>b</td></tr></table></body>`, After, `<!DOCTYPE html><body><p>a<table id=t><tr><td>b</td></tr></table>` + block + `</body>`},
		{"before a p a misnested b is closed around", `<body><b><p id=t>x</b></body>`, Before, ""},
		{"in a p a misnested b is closed around", `<body><b><p id=t>x</b></body>`, Prepend, ""},
		{"in a th that closed a caption", `<body><table><caption>c<th id=t>x</th></table></body>`, Append, ""},
		{"in an li where a nested link left a list open", `<body><ul><li id=t><a href=/1>x<ul><a href=/2>y</a></li></ul></body>`, Append, ""},
		{"replace what holds a body tag", `<body><main><div id=t><body class=x></div></main></body>`, Replace, ""},
		{"append to a body with an element open at its end", `<body id=t><main><div>a</div></body></main>`, Append, ""},
		{"replace an svg holding a link left open", `<body><main><b><svg id=t><foreignObject><a href=/x></svg>y</b></main></body>`, Replace, ""},
		{"replace a heading that closed another", `<body><h1>a<h2 id=t>b</h2></h1><div>c</div></body>`, Replace, ""},
		{"prepend to a pre before its newline", "<body><pre id=t>\n\nx</pre></body>", Prepend, ""},
		{"prepend to a pre", `<body><pre id=t>x</pre></body>`, Prepend, `<body><pre id=t>` + block + `x</pre></body>`},
		{"after a div a nested form's end tag left open", `<body><form><div id=t><form><div>x</div></form></div></form></body>`, After, ""},
		{"after a form closed with a div open in it", `<body><form id=t><div>x</form><p>y</p></body>`, After, ""},
		{"in a div in a form tag browsers ignore", `<body><div><form></div><form><div id=t>x</div></form></body>`, Append, `<body><div><form></div><form><div id=t>x` + block + `</div></form></body>`},
	}
	isT := matchFunc(func(n *html.Node) bool {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == "t" {
				return true
			}
		}
		return false
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Parse([]byte(tt.in))
			defer d.Release()
			found := d.Find(isT)
			if len(found) != 1 {
				t.Fatalf("found %d targets", len(found))
			}
			s, err := found[0].BlockSite(tt.pos)
			if tt.want == "" {
				if !errors.Is(err, ErrUnsafe) {
					t.Errorf("site = %v, err %v; want refused", s, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(insertAt(d.Source(), s, block)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
