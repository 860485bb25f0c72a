package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestEvalParams: `shopedge eval` prints HR and MRR at 10 and 20 and the
// parameters the session strategy ran with (the engine's defaults, or the
// flags'), and -strategies limits the strategies evaluated.
func TestEvalParams(t *testing.T) {
	t.Parallel()
	const sample = "../../proxy/recommend/testdata/sample.csv"
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"defaults", nil,
			[]string{"HR@10", "MRR@10", "HR@20", "MRR@20", "µs/prediction", "µs p50", "session: K 100, sample 250, recency decay 1.5, time decay 20d, position decay 0.75, insert decay 1.5, IDF 5, remind 0.5, remind repeat 16, blend 0.3", "sknn baseline: K 100, sample 500"},
			nil},
		{"flags", []string{"-k", "50", "-sample", "100", "-recency-decay", "-1", "-time-decay", "240h", "-idf", "-1", "-blend", "-1", "-strategies", "session"},
			[]string{"session: K 50, sample 100, recency decay linear, time decay 10d, position decay 0.75, insert decay 1.5, IDF off, remind 0.5, remind repeat 16, blend off"},
			[]string{"sknn baseline", "also_viewed"}},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(append([]string{"eval", "-events", sample}, tt.args...), &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s", tt.name, code, errOut.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out.String())
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out.String(), w) {
				t.Errorf("%s: output has %q:\n%s", tt.name, w, out.String())
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"eval", "-json", "-strategies", "session", "-events", sample}, &out, &errOut); code != 0 {
		t.Fatalf("-json: exit %d: %s", code, errOut.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("-json -strategies session: %v\n%s", err, out.String())
	}
	if p, _ := rows[0]["params"].(string); !strings.HasPrefix(p, "K 100,") {
		t.Errorf("JSON params = %q", p)
	}
	if p50, _ := rows[0]["us_p50"].(float64); p50 <= 0 {
		t.Errorf("JSON us_p50 = %v", rows[0]["us_p50"])
	}
}
