package console

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
)

// addedLabels are the labels of the proxy's histogram of the time added
// (proxy/admin_console.go, buckets): its bounds, then "more".
var addedLabels = []string{"≤5µs", "≤10µs", "≤20µs", "≤35µs", "≤50µs", "≤75µs", "≤100µs", "≤150µs", "≤250µs",
	"≤500µs", "≤1ms", "≤2.5ms", "≤5ms", "≤10ms", "≤25ms", "≤100ms", "more"}

// overviewOf is a fake whose overview's histogram has the given labels.
type overviewOf struct {
	fake
	labels []string
}

func (o *overviewOf) Overview(now time.Time) Overview {
	v := o.fake.Overview(now)
	v.Added = make([]Count, len(o.labels))
	for i, l := range o.labels {
		v.Added[i] = Count{Label: l, N: int64(i * 7 % 11)}
	}
	return v
}

// box is a rectangle in the SVG's units.
type box struct{ x0, y0, x1, y1 float64 }

// textBox bounds where a <text> element's glyphs are drawn: its run (at
// most 0.8 of the font size per character, glyphWidth, from x to the left of it for
// text-anchor end, else to the right), from 0.9 of the font size above
// its baseline to 0.25 below, turned by its rotate(a cx cy) transform.
func textBox(t *testing.T, s *goquery.Selection) box {
	t.Helper()
	num := func(attr string) float64 {
		v, _ := s.Attr(attr)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("text %s=%q: %v", attr, v, err)
		}
		return f
	}
	x, y, fs := num("x"), num("y"), num("font-size")
	run := float64(utf8.RuneCountInString(s.Text())) * 0.8 * fs
	x0, x1 := x, x+run
	if a, _ := s.Attr("text-anchor"); a == "end" {
		x0, x1 = x-run, x
	}
	corners := [4][2]float64{{x0, y - 0.9*fs}, {x1, y - 0.9*fs}, {x0, y + 0.25*fs}, {x1, y + 0.25*fs}}
	if tr, ok := s.Attr("transform"); ok {
		var a, cx, cy float64
		if _, err := fmt.Sscanf(tr, "rotate(%g %g %g)", &a, &cx, &cy); err != nil {
			t.Fatalf("transform %q: %v", tr, err)
		}
		sin, cos := math.Sincos(a * math.Pi / 180)
		for i, c := range corners {
			dx, dy := c[0]-cx, c[1]-cy
			corners[i] = [2]float64{cx + dx*cos - dy*sin, cy + dx*sin + dy*cos}
		}
	}
	b := box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, c := range corners {
		b = box{math.Min(b.x0, c[0]), math.Min(b.y0, c[1]), math.Max(b.x1, c[0]), math.Max(b.y1, c[1])}
	}
	return b
}

// TestHistogramLabels: every bucket label of the Overview's histogram is
// a <text> of the SVG, drawn whole inside its viewBox (nothing cut off),
// under its own column and clear of its neighbours' labels, and the SVG
// keeps its aspect, so that the labels scale and never stretch.
func TestHistogramLabels(t *testing.T) {
	for _, tt := range []struct {
		name   string
		labels []string
	}{
		{"the proxy's buckets", addedLabels},
		{"three", []string{"≤1ms", "≤5ms", "more"}},
		{"one", []string{"more"}},
		{"a long label", []string{"≤5µs", "≤1.234567s", "more"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &overviewOf{labels: tt.labels}
			c := New(src, token, func() time.Time { return t0 }, nil)
			id, _ := signIn(t, c)
			d := doc(t, do(c, "GET", "/", withCookie(id, nil)))
			svg := d.Find(`svg#added`)
			if _, none := svg.Attr("preserveAspectRatio"); none {
				t.Errorf("the histogram stretches (preserveAspectRatio): its labels would too")
			}
			vb, _ := svg.Attr("viewBox")
			var minX, minY, w, h float64
			if _, err := fmt.Sscanf(vb, "%g %g %g %g", &minX, &minY, &w, &h); err != nil {
				t.Fatalf("viewBox %q: %v", vb, err)
			}
			texts := svg.Find("text")
			var got []string
			cols := svg.Find("rect")
			if cols.Length() != len(tt.labels) {
				t.Fatalf("%d columns for %d buckets", cols.Length(), len(tt.labels))
			}
			prev := math.Inf(-1)
			texts.Each(func(i int, s *goquery.Selection) {
				got = append(got, s.Text())
				b := textBox(t, s)
				if b.x0 < minX || b.y0 < minY || b.x1 > minX+w || b.y1 > minY+h {
					t.Errorf("label %q is drawn over %+v, outside the viewBox %q", s.Text(), b, vb)
				}
				col := cols.Eq(i)
				cx, _ := strconv.ParseFloat(col.AttrOr("x", ""), 64)
				cw, _ := strconv.ParseFloat(col.AttrOr("width", ""), 64)
				if mid := (b.x0 + b.x1) / 2; math.Abs(mid-(cx+cw/2)) > cw/2 {
					t.Errorf("label %q centred at %.1f, not under its column [%.1f, %.1f]", s.Text(), mid, cx, cx+cw)
				}
				if b.x0 < prev {
					t.Errorf("label %q overlaps the one before it", s.Text())
				}
				prev = b.x1
			})
			if strings.Join(got, " ") != strings.Join(tt.labels, " ") {
				t.Errorf("labels %q, want %q", got, tt.labels)
			}
		})
	}
}

// TestNotFinite: NaN, ±Inf, negative and zero values draw no bar, leave
// the other rows' bars alone, put no "NaN" in a coordinate, and print "—".
func TestNotFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, v := range []float64{nan, inf, -inf, -1, 0} {
		name := strconv.FormatFloat(v, 'g', -1, 64)
		if got := bar(v, 10); got != 0 {
			t.Errorf("bar(%s, 10) = %v, want 0", name, got)
		}
		if got := bar(5, v); got != 0 {
			t.Errorf("bar(5, %s) = %v, want 0", name, got)
		}
		as := []Action{{CTR: v, Revenue: v}, {CTR: 0.5, Revenue: 20}}
		for _, field := range []string{"ctr", "revenue"} {
			m := funcs["maxActions"].(func([]Action, string) float64)(as, field)
			if want := map[string]float64{"ctr": 0.5, "revenue": 20}[field]; m != want {
				t.Errorf("maxActions with %s %s = %v, want %v", field, name, m, want)
			}
		}
		arm := Arm{Effect: true, Uplift: v, Low: v, High: v}
		i := intervalOf(arm, scaleOf([]Arm{arm}))
		for _, f := range []float64{i.Low, i.Width, i.Mark, i.Zero} {
			if !finite(f) {
				t.Errorf("interval of %s: %+v", name, i)
			}
		}
		for _, fn := range []string{"pct", "signed", "money"} {
			got := funcs[fn].(func(float64) string)(v)
			if finite(v) == (got == "—") {
				t.Errorf("%s(%s) = %q", fn, name, got)
			}
		}
	}
}

func TestShopLink(t *testing.T) {
	const origin = "http://shop.example"
	for u, want := range map[string]bool{
		"/p/1": true, "http://shop.example/p/1": true, "HTTP://Shop.Example/p/1": true,
		"//evil.example/p": false, "/\\evil.example/p": false, "javascript:alert(1)": false,
		"https://shop.example/p/1": false, "http://evil.example/p/1": false, "p/1": false, "": false,
		"data:text/html,x": false,
	} {
		if got := shopLink(u, origin); got != want {
			t.Errorf("shopLink(%q) = %v, want %v", u, got, want)
		}
	}
}
