package experiment

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteText writes reports as plain-text tables for a merchandiser, one
// block per experiment: a heading, one row per arm (visitors, conversion
// rate, revenue per visitor, the conversion uplift with its 95 % interval
// and its always-valid interval, the revenue-per-visitor uplift with its
// interval, the verdict), the sample-ratio check and the verdict. Rates
// and uplifts are percentages; "—" marks what cannot be computed yet.
func WriteText(w io.Writer, reports ...Report) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeReport(&b, r)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write experiment report: %w", err)
	}
	return nil
}

func writeReport(b *strings.Builder, r Report) {
	fmt.Fprintf(b, "experiment %s", r.Name)
	if r.Action != "" {
		fmt.Fprintf(b, " (action %s)", r.Action)
	}
	b.WriteByte('\n')
	rev := "revenue/visitor"
	if r.Currency != "" {
		rev += " (" + r.Currency + ")"
	}
	rows := [][]string{{"arm", "visitors", "conv. rate", rev, "conv. uplift [95% CI]", "always valid", "rev./visitor uplift [95% CI]", "verdict"}}
	for i, a := range r.Arms {
		row := []string{
			a.Name,
			thousands(a.Visitors),
			fmt.Sprintf("%.2f%%", 100*a.ConversionRate),
			fmt.Sprintf("%.2f", a.RevenuePerVisitor),
			"", "", "", a.Verdict,
		}
		switch {
		case i == 0:
			row[4], row[7] = "control", ""
		default:
			row[4], row[5], row[6] = "—", "—", "—"
			if e := a.Effect; e != nil {
				row[4] = fmt.Sprintf("%s [%s, %s]", pct(e.Uplift), pct(e.CILow), pct(e.CIHigh))
				row[5] = fmt.Sprintf("[%s, %s]", pct(e.SeqLow), pct(e.SeqHigh))
			}
			if e := a.RevenueEffect; e != nil {
				row[6] = fmt.Sprintf("%s [%s, %s]", pct(e.Uplift), pct(e.CILow), pct(e.CIHigh))
			}
		}
		rows = append(rows, row)
	}
	writeTable(b, rows, []bool{false, true, true, true, false, false, false, false})
	state := "ok"
	if r.SRM {
		state = "MISMATCH"
	}
	fmt.Fprintf(b, "sample ratio: p = %.4g (%s)\n", r.SRMP, state)
	fmt.Fprintf(b, "verdict: %s\n", r.Verdict)
}

// pct is a signed percentage with one decimal: +10.0%, -3.2%.
func pct(f float64) string { return fmt.Sprintf("%+.1f%%", 100*f) }

// writeTable writes rows in columns two spaces apart, the columns marked in
// right right-aligned, with no trailing spaces.
func writeTable(b *strings.Builder, rows [][]string, right []bool) {
	width := make([]int, len(right))
	for _, row := range rows {
		for j, cell := range row {
			width[j] = max(width[j], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for j, cell := range row {
			if j > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(cell))
			if right[j] {
				line.WriteString(pad + cell)
			} else {
				line.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}
