package console

import (
	"fmt"
	"html/template"
	"math"
	"time"
)

// bar is the width, out of 100, of n against the largest max.
func bar(n, largest float64) float64 {
	if largest <= 0 || n <= 0 {
		return 0
	}
	return math.Round(1000*n/largest) / 10
}

func maxCount(cs []Count) float64 {
	m := 0.0
	for _, c := range cs {
		m = math.Max(m, float64(c.N))
	}
	return m
}

// column is one bar of a histogram: x and height out of 100.
type column struct {
	X, W, Y, H float64
	Label      string
	N          int64
}

func columns(cs []Count) []column {
	out := make([]column, len(cs))
	m := maxCount(cs)
	w := 100 / math.Max(1, float64(len(cs)))
	for i, c := range cs {
		h := bar(float64(c.N), m)
		out[i] = column{X: float64(i) * w, W: w * 0.8, Y: 100 - h, H: h, Label: c.Label, N: c.N}
	}
	return out
}

// interval is an uplift and its interval on a scale symmetric around
// zero, out of 100.
type interval struct {
	Zero, Low, Width, Mark float64
}

func intervalOf(a Arm, scale float64) interval {
	at := func(v float64) float64 { return math.Round(10*(50+50*v/scale)) / 10 }
	lo, hi := at(math.Max(a.Low, -scale)), at(math.Min(a.High, scale))
	return interval{Zero: 50, Low: lo, Width: math.Max(hi-lo, 0.5), Mark: at(a.Uplift)}
}

func scaleOf(arms []Arm) float64 {
	s := 0.05
	for _, a := range arms {
		if a.Effect {
			s = math.Max(s, math.Max(math.Abs(a.Low), math.Abs(a.High)))
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
	"bar":     func(n int64, m float64) float64 { return bar(float64(n), m) },
	"barf":    bar,
	"max":     maxCount,
	"columns": columns,
	"pct":     func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"signed":  func(f float64) string { return fmt.Sprintf("%+.1f%%", 100*f) },
	"money":   func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"bytes":   bytesText,
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
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
				m = math.Max(m, a.CTR)
			case "revenue":
				m = math.Max(m, a.Revenue)
			}
		}
		return m
	},
	"float": func(n int64) float64 { return float64(n) },
	"split": func(rewrites int64, passed []Count) []Count {
		return append([]Count{{Label: "personalized", N: rewrites}}, passed...)
	},
	"scale":    scaleOf,
	"interval": intervalOf,
}
