package console

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// bar is the width, out of 100, of n against the largest max.
// A value that is not finite (NaN, ±Inf) draws no bar: its width would
// be "NaN", and a NaN largest would blank the whole column.
func bar(n, largest float64) float64 {
	if !finite(n) || !finite(largest) || largest <= 0 || n <= 0 {
		return 0
	}
	return math.Round(1000*n/largest) / 10
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// maxFinite is the larger of m and v, v ignored when it is not finite.
func maxFinite(m, v float64) float64 {
	if !finite(v) {
		return m
	}
	return math.Max(m, v)
}

// number is f written by write, or "—" when f is not finite.
func number(f float64, write func(float64) string) string {
	if !finite(f) {
		return "—"
	}
	return write(f)
}

func maxCount(cs []Count) float64 {
	m := 0.0
	for _, c := range cs {
		m = math.Max(m, float64(c.N))
	}
	return m
}

// histogram is a histogram drawn in its own units: a viewBox W by H, the
// columns on a plot histPlot high, each column's label under it, written
// upwards, in a band as deep as the longest label. The SVG keeps its
// aspect (no preserveAspectRatio="none"), so the labels scale with the
// chart, never stretch, and every one of them lies inside the viewBox at
// any width: none is cut off on a phone.
type histogram struct {
	W, H  float64
	Plot  float64   // the plot's height: its baseline
	Font  float64   // the labels' font size
	Grid  []float64 // y of the plot's quarter lines
	Cols  []column
	Label float64 // the top of the labels' band
}

// column is one bar of a histogram, and where its label starts: (LX, LY)
// is the label's anchor, rotated a quarter turn upwards about itself, the
// text ending there (text-anchor end) and running down the band.
type column struct {
	X, W, Y, H float64
	LX, LY     float64
	Label      string
	N          int64
}

// The histogram's units: a column's pitch, the plot's height, the labels'
// font size, and the gap between the plot and the labels.
const (
	histPitch = 24
	histPlot  = 100
	histFont  = 12
	histGap   = 4
)

// glyphWidth bounds the mean advance of a label's characters, as a share
// of the font size. The widest of the fonts a browser may draw them in is
// DejaVu Sans (what Chromium on Debian falls back to): "≤" 0.84, digits
// 0.64, "m" 0.97, "s" 0.52, "µ" 0.64, so "≤100ms" averages 0.71.
const glyphWidth = 0.8

// labelLength bounds how long a label is drawn, in the histogram's units.
func labelLength(s string) float64 {
	return float64(utf8.RuneCountInString(s)) * glyphWidth * histFont
}

func histogramOf(cs []Count) histogram {
	h := histogram{W: histPitch * math.Max(1, float64(len(cs))), Plot: histPlot, Font: histFont, Label: histPlot + histGap}
	longest := 0.0
	for _, c := range cs {
		longest = math.Max(longest, labelLength(c.Label))
	}
	h.H = math.Ceil(h.Label + longest + histGap)
	for _, q := range []float64{0.25, 0.5, 0.75} {
		h.Grid = append(h.Grid, histPlot*q)
	}
	m := maxCount(cs)
	h.Cols = make([]column, len(cs))
	for i, c := range cs {
		height := bar(float64(c.N), m) * histPlot / 100
		x := float64(i) * histPitch
		// The rotated glyphs lie from 0.8 of the font size left of the
		// anchor to 0.2 right of it: 0.3 right of the column's middle
		// centres them under it.
		h.Cols[i] = column{X: x + 2, W: histPitch - 4, Y: histPlot - height, H: height,
			LX: x + histPitch/2 + 0.3*histFont, LY: h.Label, Label: c.Label, N: c.N}
	}
	return h
}

// interval is an uplift and its interval on a scale symmetric around
// zero, out of 100.
type interval struct {
	Zero, Low, Width, Mark float64
}

func intervalOf(a Arm, scale float64) interval {
	// A value that is not finite sits at zero (NaN) or at the scale's end
	// (±Inf), so no coordinate is written "NaN".
	at := func(v float64) float64 {
		if math.IsNaN(v) {
			v = 0
		}
		v = math.Max(-scale, math.Min(v, scale))
		return math.Round(10*(50+50*v/scale)) / 10
	}
	lo, hi := at(math.Max(a.Low, -scale)), at(math.Min(a.High, scale))
	return interval{Zero: 50, Low: lo, Width: math.Max(hi-lo, 0.5), Mark: at(a.Uplift)}
}

func scaleOf(arms []Arm) float64 {
	s := 0.05
	for _, a := range arms {
		if a.Effect {
			s = maxFinite(maxFinite(s, math.Abs(a.Low)), math.Abs(a.High))
		}
	}
	return math.Min(s, 10)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

var funcs = template.FuncMap{
	"bar":       func(n int64, m float64) float64 { return bar(float64(n), m) },
	"barf":      bar,
	"max":       maxCount,
	"histogram": histogramOf,
	"pct": func(f float64) string {
		return number(f, func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) })
	},
	"signed": func(f float64) string {
		return number(f, func(f float64) string { return fmt.Sprintf("%+.1f%%", 100*f) })
	},
	"money": func(f float64) string { return number(f, func(f float64) string { return fmt.Sprintf("%.2f", f) }) },
	"bytes": bytesText,
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"dur": func(d time.Duration) string {
		if d < time.Millisecond {
			return fmt.Sprintf("%dµs", d.Microseconds())
		}
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	},
	"share": func(a, b int64) float64 { return bar(float64(a), float64(b)) },
	"maxActions": func(as []Action, field string) float64 {
		m := 0.0
		for _, a := range as {
			switch field {
			case "shown":
				m = math.Max(m, float64(a.Shown))
			case "ctr":
				m = maxFinite(m, a.CTR)
			case "revenue":
				m = maxFinite(m, a.Revenue)
			}
		}
		return m
	},
	"float": func(n int64) float64 { return float64(n) },
	"split": func(rewrites int64, passed []Count) []Count {
		return append([]Count{{Label: "personalized", N: rewrites}}, passed...)
	},
	"shopLink": shopLink,
	"scale":    scaleOf,
	"interval": intervalOf,
}

// shopLink reports whether the catalog may link to u: a root-relative path
// (not "//host", nor "/\\host", which browsers read as another host), or
// an http(s) URL of origin, the shop's. Anything else is shown as text.
func shopLink(u, origin string) bool {
	if strings.HasPrefix(u, "/") {
		return !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, "/\\")
	}
	got, err := url.Parse(u)
	if err != nil || (got.Scheme != "http" && got.Scheme != "https") || got.Host == "" {
		return false
	}
	want, err := url.Parse(origin)
	return err == nil && strings.EqualFold(got.Scheme, want.Scheme) && strings.EqualFold(got.Host, want.Host)
}
