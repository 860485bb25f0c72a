package catalog

import (
	"strings"

	"golang.org/x/net/html"

	"shopedge/rewrite"
)

// FromDoc gathers from an indexed HTML page what Extract reads: JSON-LD
// blocks, meta properties and the microdata of its first schema.org Product.
// The Page holds copies; it stays valid after the Doc is released.
func FromDoc(d *rewrite.Doc, pageURL string) Page {
	p := Page{URL: pageURL}
	for _, b := range d.JSONLD() {
		p.JSONLD = append(p.JSONLD, append([]byte(nil), b...))
	}
	for _, m := range d.Metas() {
		key, ok := m.Attr("property")
		if !ok {
			key, ok = m.Attr("name")
		}
		content, has := m.Attr("content")
		if ok && has {
			p.Meta = append(p.Meta, Meta{Key: strings.ToLower(key), Content: strings.Clone(content)})
		}
	}
	scopes := d.Find(productScope{})
	if len(scopes) > 0 {
		for _, e := range scopes[0].Find(hasItemprop{}) {
			prop, _ := e.Attr("itemprop")
			p.Microdata = append(p.Microdata, Meta{Key: strings.Clone(prop), Content: strings.Clone(microValue(e))})
		}
	}
	return p
}

type productScope struct{}

func (productScope) Match(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "itemtype" {
			t := strings.ToLower(a.Val)
			return strings.HasSuffix(strings.TrimRight(t, "/ "), "schema.org/product")
		}
	}
	return false
}

type hasItemprop struct{}

func (hasItemprop) Match(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "itemprop" {
			return true
		}
	}
	return false
}

// microValue is a microdata property's value: content, then the URL of
// links and media, then the text.
func microValue(e rewrite.Element) string {
	if v, ok := e.Attr("content"); ok {
		return v
	}
	switch e.Tag() {
	case "a", "link", "area":
		v, _ := e.Attr("href")
		return v
	case "img", "source", "video", "audio", "iframe", "embed":
		v, _ := e.Attr("src")
		return v
	case "meta":
		return ""
	}
	if _, scope := e.Attr("itemscope"); scope {
		return ""
	}
	return e.Text()
}
