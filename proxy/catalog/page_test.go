package catalog

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"shopedge/rewrite"
)

// ldPage is a product page with a JSON-LD Product of many offers and a
// BreadcrumbList, as large shops write them.
func ldPage() []byte {
	var offers []string
	for i := range 60 {
		offers = append(offers, `{"@type":"Offer","sku":"S-`+strings.Repeat("9", i%5+1)+`","price":"19.90","priceCurrency":"EUR","availability":"https://schema.org/InStock","seller":{"@type":"Organization","name":"Shop"}}`)
	}
	return []byte(`<!DOCTYPE html><html><head><title>Boots</title>
<meta property="OG:Type" content="product"><meta property="og:title" content="Boots">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Boots","sku":"B-1","image":"/img/b.jpg","offers":[` + strings.Join(offers, ",") + `]}</script>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"BreadcrumbList","itemListElement":[
{"@type":"ListItem","position":1,"name":"Home","item":"https://shop.example/"},
{"@type":"ListItem","position":2,"name":"Shoes","item":"https://shop.example/c/shoes"},
{"@type":"ListItem","position":3,"name":"Boots","item":"https://shop.example/c/shoes/boots"}]}</script>
</head><body><div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Boots</h1>
<div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><span itemprop="price">19.90</span></div></div></body></html>`)
}

// TestFromDocDecodesOnce: a Page from FromDoc decodes its JSON-LD once, for
// Breadcrumbs and Extract both (the proxy calls both on a category trail
// and a product page), and reads the same as a Page built by hand; a Page
// whose JSONLD is replaced reads the new blocks (issue 9).
func TestFromDocDecodesOnce(t *testing.T) {
	const url = "https://shop.example/p/boots"
	d := rewrite.Parse(ldPage())
	defer d.Release()
	pg := FromDoc(d, url)
	plain := Page{URL: url, JSONLD: pg.JSONLD, Meta: pg.Meta, Microdata: pg.Microdata, MicroCrumbs: pg.MicroCrumbs}
	if got, want := Breadcrumbs(pg), Breadcrumbs(plain); !reflect.DeepEqual(got, want) || len(got) != 2 {
		t.Errorf("Breadcrumbs: got %v, want %v (two categories)", got, want)
	}
	gotProd, ok := Extract(pg)
	wantProd, _ := Extract(plain)
	if !ok || !reflect.DeepEqual(gotProd, wantProd) {
		t.Errorf("Extract: got %+v, want %+v", gotProd, wantProd)
	}
	decode := testing.AllocsPerRun(10, func() { findJSONLD(pg.JSONLD) })
	crumbs := testing.AllocsPerRun(10, func() { Breadcrumbs(pg) })
	extract := testing.AllocsPerRun(10, func() { Extract(pg) })
	if crumbs >= decode || extract >= decode {
		t.Errorf("allocations: Breadcrumbs %v, Extract %v, decoding the page's JSON-LD %v: want each below the decoding (it was done once, by FromDoc)", crumbs, extract, decode)
	}
	other := pg
	other.JSONLD = [][]byte{[]byte(`{"@type":"Product","name":"Socks","sku":"S-1"}`)}
	if got, ok := Extract(other); !ok || got.Name != "Socks" {
		t.Errorf("a Page whose JSONLD was replaced: got %q, want Socks", got.Name)
	}
}

// TestFromDocCopies: what FromDoc reads stays true after the page's bytes
// are reused for another response: meta keys, item types and property
// names included (issue 9).
func TestFromDocCopies(t *testing.T) {
	t.Parallel()
	buf := ldPage()
	d := rewrite.Parse(buf)
	pg := FromDoc(d, "https://shop.example/p/boots")
	d.Release()
	// A deep copy of what the Page says.
	want := func() (string, []Meta, string, []string) {
		var names []string
		for _, p := range pg.Microdata.Props {
			names = append(names, strings.Clone(p.Name))
		}
		var meta []Meta
		for _, m := range pg.Meta {
			meta = append(meta, Meta{strings.Clone(m.Key), strings.Clone(m.Content)})
		}
		return string(bytes.Join(pg.JSONLD, nil)), meta, strings.Clone(pg.Microdata.Type), names
	}
	ld, meta, typ, names := want()
	for i := range buf {
		buf[i] = 'x'
	}
	gotLD, gotMeta, gotType, gotNames := want()
	if gotLD != ld {
		t.Errorf("JSONLD changed with the page's bytes")
	}
	if !reflect.DeepEqual(gotMeta, meta) || meta[1].Key != "og:title" {
		t.Errorf("meta: got %q, want %q", gotMeta, meta)
	}
	if gotType != typ || typ != "Product" {
		t.Errorf("item type: got %q, want %q", gotType, typ)
	}
	if !reflect.DeepEqual(gotNames, names) || len(names) != 2 {
		t.Errorf("property names: got %q, want %q", gotNames, names)
	}
}

// TestContainsFold: the one case-insensitive search the catalog's listing
// and the proxy's breadcrumb marks share.
func TestContainsFold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, s, sub string
		want         bool
	}{
		{name: "any case", s: "nav Breadcrumbs", sub: "crumb", want: true},
		{name: "upper word", s: "bread-crumbs", sub: "CRUMB", want: true},
		{name: "at the end", s: "schema.org/BreadcrumbList", sub: "list", want: true},
		{name: "empty word", s: "x", sub: "", want: true},
		{name: "absent", s: "main menu", sub: "crumb"},
		{name: "longer than s", s: "crum", sub: "crumb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ContainsFold(tt.s, tt.sub); got != tt.want {
				t.Errorf("ContainsFold(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.want)
			}
		})
	}
}
