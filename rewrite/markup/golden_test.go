package markup

import (
	"bytes"
	"html/template"
	"path/filepath"
	"shopedge/rewrite/golden"
	"testing"
)

// overlayCases are dialogs as the built-in template shows them: each of
// its optional parts on and off, every field of the data escaped.
var overlayCases = []struct {
	name string
	data OverlayData
}{
	{"exit-offer", OverlayData{ID: "exit-offer", Kind: "exit_intent", Trigger: "exit", Ms: 3000, DismissFor: 86400,
		Title: "Before you go", Text: "Here is 10% off your first order.", Code: "WELCOME10", Ends: "Ends in 3 hours"}},
	{"cart-reminder", OverlayData{ID: "cart-reminder", Kind: "abandoned_cart", Trigger: "load", DismissFor: 0,
		Title: "You left something in your cart", Text: "It is still there for you.", Button: "View cart", Link: "/cart",
		Items: []OverlayItem{
			{Name: "Trail Runner 2", URL: "/p/trail-runner-2", Image: "/img/SE-1.svg", Price: "€89.00", Qty: 2},
			{Name: "Wool Socks", URL: "/p/wool-socks", Price: "€12.50", Qty: 1},
		}}},
	{"upsell", OverlayData{ID: "upsell", Kind: "upsell", Trigger: "scroll", Depth: 70, Title: "Goes well with your order",
		Items: []OverlayItem{
			{Name: "Laces", URL: "/p/laces", Image: "https://cdn.example/laces.jpg"},
			{Name: "Insoles", URL: "/p/insoles?size=42&w=1", Image: "/img/insoles.svg", Price: "€19.00"},
		}}},
	{"title-only", OverlayData{ID: "t", Kind: "timed", Trigger: "timer", Ms: 1500, Title: "Hello"}},
	{"escaped", OverlayData{ID: `o"1`, Kind: "timed<x>", Trigger: "timer", Ms: 1,
		Title: `<script>alert("t")</script>`, Text: "Fish & chips + 'peas'", Code: "A<B>", Ends: "Ends <soon> & \x00",
		Button: `Go "now"`, Link: "javascript:alert(1)",
		Items: []OverlayItem{
			{Name: `<img src=x onerror=alert(1)>`, URL: "javascript:alert(2)", Image: `x" onerror="alert(3)`, Price: "€1+1", Qty: 3},
			{Name: "Ünïcode ✓ \ufdd0", URL: "/p/ü?q=a b&c=\"d\"", Image: "/img/ü.svg"},
		}}},
}

// bannerCases are banners, reached and not, their text escaped.
var bannerCases = []struct {
	name string
	data BannerData
}{
	{"free-shipping", BannerData{ID: "free-shipping", Kind: "free_shipping", Text: "Add €12.50 more for free shipping"}},
	{"free-shipping-reached", BannerData{ID: "free-shipping", Kind: "free_shipping", Text: "Free shipping on this order", Reached: true}},
	{"viewers", BannerData{ID: "viewers", Kind: "social_proof", Text: "14 people viewed this today"}},
	{"escaped", BannerData{ID: `b"<1>`, Kind: "k&k", Text: `<b>"Fish" & 'chips'</b> + more` + "\x00\xff"}},
}

// TestOverlayGolden: dialogs and banners as a shopper gets them, byte for
// byte (testdata/overlays/, rewritten with -update): what the proxy
// assembles from parts must keep to them.
func TestOverlayGolden(t *testing.T) {
	t.Parallel()
	for _, c := range overlayCases {
		got, err := RenderOverlay(nil, nil, c.data)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "overlays", c.name+".html"), string(got))
	}
	for _, c := range bannerCases {
		got, err := RenderBanner(nil, c.data)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "banners", c.name+".html"), string(got))
	}
}

// TestOverlayParts: a dialog assembled from its parts is byte for byte
// the one RenderOverlay makes, for every golden case.
func TestOverlayParts(t *testing.T) {
	t.Parallel()
	for _, c := range overlayCases {
		want, err := RenderOverlay(nil, nil, c.data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendOverlayHead([]byte("before:"), c.data)
		if err != nil {
			t.Fatal(err)
		}
		if c.data.Ends != "" {
			got = AppendOverlayEnds(got, c.data.Ends)
		}
		if len(c.data.Items) > 0 {
			got = AppendOverlayItemsOpen(got)
			for _, it := range c.data.Items {
				if got, err = AppendOverlayItem(got, it); err != nil {
					t.Fatal(err)
				}
			}
			got = AppendOverlayItemsClose(got)
		}
		if got, err = AppendOverlayTail(got, c.data); err != nil {
			t.Fatal(err)
		}
		if string(got) != "before:"+string(want) {
			t.Errorf("%s: parts:\n%q\nwhole:\n%q", c.name, got, want)
		}
	}
}

// TestBannerPieces: a banner rendered once around its text gives, for
// any text, the bytes RenderBanner makes.
func TestBannerPieces(t *testing.T) {
	t.Parallel()
	for _, c := range bannerCases {
		want, err := RenderBanner(nil, c.data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewBanner(c.data.ID, c.data.Kind)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Append([]byte("before:"), c.data.Text, c.data.Reached); string(got) != "before:"+string(want) {
			t.Errorf("%s: pieces:\n%q\ntemplate:\n%q", c.name, got, want)
		}
	}
	// An id that holds the text's marker cannot be cut: refused, so that
	// the caller renders it with the template.
	if _, err := NewBanner("x"+marker, "k"); err == nil {
		t.Error("a banner whose id holds the marker was cut")
	}
}

// escapedCases are texts with every character html/template escapes, and
// some it does not.
var escapedCases = []string{
	"", "plain", "Add €12.50 more", `<>&"'+`, "\x00", "a\x00b", "\xff\xfe<", "\xe2\x82", "€\xe2<",
	"&amp; stays escaped: &amp;amp;", "\ufdd0\ufdef\ufff0\uffff", "tab\tand\nnewline\r", "{{.}}", "`backtick` = ~ ! ;",
}

// TestEscapedAsTemplate: appendEscaped writes what html/template writes
// for a string in text and in a quoted attribute.
func TestEscapedAsTemplate(t *testing.T) {
	t.Parallel()
	for _, s := range escapedCases {
		checkEscaped(t, s)
	}
}

func FuzzEscaped(f *testing.F) {
	for _, s := range escapedCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkEscaped(t, s) })
}

var escapeCheck = template.Must(template.New("e").Parse(`<p title="{{.}}">{{.}}</p>`))

func checkEscaped(t *testing.T, s string) {
	t.Helper()
	var buf bytes.Buffer
	if err := escapeCheck.Execute(&buf, s); err != nil {
		t.Fatal(err)
	}
	e := string(appendEscaped(nil, s))
	if want := `<p title="` + e + `">` + e + `</p>`; buf.String() != want {
		t.Errorf("escaped %q: got %q, html/template %q", s, want, buf.String())
	}
}

func BenchmarkBanner(b *testing.B) {
	m, err := NewBanner("free-shipping", "free_shipping")
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = m.Append(dst[:0], "Add €12.50 more for free shipping", false)
	}
}

// TestTags: the tags rendered once around their nonce are, for every
// nonce (base64 with its '+' and '/', none, one that tries to end the
// attribute), the bytes the template makes.
func TestTags(t *testing.T) {
	t.Parallel()
	a := Assets{CSS: "/_shopedge/shopedge.css?v=0123456789", JS: "/_shopedge/shopedge.js?v=0123456789", Beacon: "/_shopedge/beacon"}
	tags, err := NewTags(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, nonce := range []string{"", "rAnd0m+b64/nonce==", `x" onload="alert(1)`, "<&>'\x00"} {
		a.Nonce = nonce
		if got, want := tags.AppendStylesheet([]byte("before:"), nonce), AppendStylesheet([]byte("before:"), a); !bytes.Equal(got, want) {
			t.Errorf("stylesheet with nonce %q:\n%q\nwant\n%q", nonce, got, want)
		}
		if got, want := tags.AppendScript([]byte("before:"), nonce), AppendScript([]byte("before:"), a); !bytes.Equal(got, want) {
			t.Errorf("script with nonce %q:\n%q\nwant\n%q", nonce, got, want)
		}
	}
}
