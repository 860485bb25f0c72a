package page

import (
	"io"
	"log/slog"
	"reflect"
	"testing"

	"shopedge/proxy/codec"
	"shopedge/rules"
)

// TestSwapRegions: where content swaps go on a page: one region for the
// swaps of one place (ranked by priority, then the file's order), none
// where the element cannot safely change or the swap is off, and nothing
// of the proxy's (stylesheet, script) for swaps alone.
func TestSwapRegions(t *testing.T) {
	t.Parallel()
	const config = `
upstream: {url: 'http://127.0.0.1:1'}
content:
  - {id: a, pages: [home], selector: 'h1', html: A}
  - {id: b, pages: [home], selector: '.hero > h1', html: B, priority: 5}
  - {id: c, pages: [home], selector: 'h1', attribute: {name: class, value: c}}
  - {id: d, pages: [home], selector: 'h1', attribute: {name: title, value: d}}
  - {id: e, pages: [home], selector: 'h1', attribute: {name: class, value: e}, priority: 1}
  - {id: f, pages: [home], selector: 'script', html: F}
  - {id: g, pages: [home], selector: 'p', html: '<div>G</div>'}
  - {id: h, pages: [home], selector: 'h1', html: H, enabled: false, priority: 9}
  - {id: i, pages: [product], selector: 'h1', html: I}
  - {id: j, pages: [home], selector: 'p', html: '<em>J</em>'}
  - {id: k, pages: [home], selector: 'section', html: '<h2>K</h2>', enabled: false}
  - {id: l, pages: [home], selector: 'h1', html: '<h2>L</h2>', priority: 8}
`
	const body = `<!DOCTYPE html><html><head><title>t</title><script>var x</script></head>` +
		`<body><section class=hero><h1 class=old>Hi</h1><p>text</p></section></body></html>`
	cfg, err := rules.Parse("swaps.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(Input{Config: cfg, Type: rules.PageHome, Raw: []byte(body), Encoding: codec.Identity,
		ContentType: []byte("text/html"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Kind  Kind
		Bytes string
		Index int
		Alts  []int
	}
	var regions []got
	for _, r := range a.Regions {
		regions = append(regions, got{r.Kind, string(r.Bytes), r.Index, r.Alts})
	}
	want := []got{
		{Swap, "", 3, nil},               // title, added
		{Swap, "class=old", 4, []int{2}}, // class: e (priority 1), then c
		{Swap, "Hi", 1, []int{0}},        // the content: b (priority 5), then a; h is off
		{Swap, "text", 9, nil},           // j: phrasing in a p; g's <div> may not go there
	}
	if !reflect.DeepEqual(regions, want) {
		t.Errorf("regions\n%+v\nwant\n%+v", regions, want)
	}
	if a.Injects {
		t.Error("Injects for swaps alone")
	}
	if a.Skips.Swaps != 3 { // f (a script's content), g, l (a heading in a heading)
		t.Errorf("Skips.Swaps %d, want 3", a.Skips.Swaps)
	}
}
