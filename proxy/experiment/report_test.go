package experiment

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func conv(visitors, converters int64) Counts {
	return Counts{Visitors: visitors, Converters: converters}
}

func TestBuildVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		arms        []ArmCounts
		outcome     Outcome
		verdict     string
		armOutcomes []Outcome // of the variants, in order
	}{
		{
			name:        "planted 48/52 split",
			arms:        []ArmCounts{{"control", 1, conv(9600, 480)}, {"b", 1, conv(10400, 700)}},
			outcome:     OutcomeSRM,
			verdict:     "sample ratio mismatch: do not trust these numbers",
			armOutcomes: []Outcome{OutcomeSRM},
		},
		{
			name:        "variant better",
			arms:        []ArmCounts{{"control", 1, conv(100_000, 5000)}, {"b", 1, conv(100_000, 6000)}},
			outcome:     OutcomeBetter,
			verdict:     "variant better",
			armOutcomes: []Outcome{OutcomeBetter},
		},
		{
			name:        "variant worse",
			arms:        []ArmCounts{{"control", 1, conv(100_000, 5000)}, {"b", 1, conv(100_000, 4000)}},
			outcome:     OutcomeWorse,
			verdict:     "variant worse",
			armOutcomes: []Outcome{OutcomeWorse},
		},
		{
			// 128,235 needed at 5 % (see TestSampleSize), 2,000 there.
			name:        "not enough data",
			arms:        []ArmCounts{{"control", 1, conv(2000, 100)}, {"b", 1, conv(2000, 110)}},
			outcome:     OutcomeNotEnoughData,
			verdict:     "not enough data: 319,795 more visitors per arm",
			armOutcomes: []Outcome{OutcomeNotEnoughData},
		},
		{
			name:        "no conversions yet",
			arms:        []ArmCounts{{"control", 1, conv(100, 0)}, {"b", 1, conv(100, 0)}},
			outcome:     OutcomeNotEnoughData,
			verdict:     "not enough data: too few conversions yet",
			armOutcomes: []Outcome{OutcomeNotEnoughData},
		},
		{
			name:        "no difference",
			arms:        []ArmCounts{{"control", 1, conv(400_000, 20_000)}, {"b", 1, conv(400_000, 20_100)}},
			outcome:     OutcomeNoDifference,
			verdict:     "no difference detected",
			armOutcomes: []Outcome{OutcomeNoDifference},
		},
		{
			name: "mixed",
			arms: []ArmCounts{
				{"control", 1, conv(100_000, 5000)},
				{"b", 1, conv(100_000, 6000)},
				{"c", 1, conv(100_000, 5000)},
			},
			outcome:     OutcomeMixed,
			verdict:     "b: variant better; c: not enough data: 221,795 more visitors per arm",
			armOutcomes: []Outcome{OutcomeBetter, OutcomeNotEnoughData},
		},
		{
			name: "two variants not there yet",
			arms: []ArmCounts{
				{"control", 2, conv(4000, 200)},
				{"b", 1, conv(2000, 100)},
				{"c", 1, conv(2000, 100)},
			},
			outcome:     OutcomeNotEnoughData,
			verdict:     "not enough data: 319,795 more visitors per arm",
			armOutcomes: []Outcome{OutcomeNotEnoughData, OutcomeNotEnoughData},
		},
		{
			name:    "control only",
			arms:    []ArmCounts{{"control", 1, conv(100, 5)}},
			outcome: OutcomeNotEnoughData,
			verdict: "not enough data: no variant to compare",
		},
		{
			name:    "no arms",
			outcome: OutcomeNotEnoughData,
			verdict: "not enough data: no arms",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(tc.arms, Options{})
			if r.Outcome != tc.outcome || r.Verdict != tc.verdict {
				t.Errorf("got %q, %q, want %q, %q", r.Outcome, r.Verdict, tc.outcome, tc.verdict)
			}
			var got []Outcome
			for _, a := range r.Arms[min(1, len(r.Arms)):] {
				got = append(got, a.Outcome)
			}
			if !slices.Equal(got, tc.armOutcomes) {
				t.Errorf("variants' outcomes %q, want %q", got, tc.armOutcomes)
			}
			if len(r.Arms) > 0 && (r.Arms[0].Effect != nil || r.Arms[0].Outcome != "") {
				t.Errorf("control has an effect or outcome: %+v", r.Arms[0])
			}
		})
	}
}

// TestReportJSON checks the shape the admin endpoint serves: the issue's
// keys, the uplift fields on variants only, no NaN anywhere.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	r := Build(sampleArms(), Options{})
	r.Name, r.Action = "home-blocks", "block:home-recs"
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got struct {
		Name    string           `json:"name"`
		Action  string           `json:"action"`
		Arms    []map[string]any `json:"arms"`
		SRMP    *float64         `json:"srm_p"`
		Verdict string           `json:"verdict"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("unmarshal %s: %v", out, err)
	}
	if got.Name != "home-blocks" || got.Action != "block:home-recs" || got.SRMP == nil || got.Verdict == "" || len(got.Arms) != 3 {
		t.Fatalf("report JSON lacks the experiment's keys: %s", out)
	}
	always := []string{"name", "visitors", "converters", "revenue", "conversion_rate", "revenue_per_visitor", "aov"}
	effect := []string{"uplift", "ci_low", "ci_high", "p", "seq_low", "seq_high"}
	for i, arm := range got.Arms {
		for _, k := range always {
			if _, ok := arm[k]; !ok {
				t.Errorf("arm %d lacks %q: %v", i, k, arm)
			}
		}
		for _, k := range effect {
			if _, ok := arm[k]; ok != (i > 0) {
				t.Errorf("arm %d has %q: %v, want %v", i, k, ok, i > 0)
			}
		}
	}
	if _, ok := got.Arms[1]["revenue_per_visitor_effect"].(map[string]any)["uplift"]; !ok {
		t.Errorf("variant lacks revenue_per_visitor_effect.uplift: %v", got.Arms[1])
	}
}

// sampleArms is a three-arm experiment part way through: "bestsellers"
// converts better, "recent" no differently yet.
func sampleArms() []ArmCounts {
	return []ArmCounts{
		{"control", 1, Counts{Visitors: 40_120, Converters: 2006, Orders: 2150, Revenue: 112_400.50, RevenueSq: 11_950_000, CartAdders: 6100, Clickers: 0}},
		{"bestsellers", 1, Counts{Visitors: 39_870, Converters: 2350, Orders: 2510, Revenue: 129_800.25, RevenueSq: 13_610_000, CartAdders: 6900, Clickers: 3100}},
		{"recent", 1, Counts{Visitors: 40_010, Converters: 2050, Orders: 2190, Revenue: 114_100.00, RevenueSq: 12_300_000, CartAdders: 6200, Clickers: 2500}},
	}
}

// TestWriteTextGolden compares the merchandiser's table with
// testdata/report.txt (regenerate with go test -run TestWriteTextGolden
// -update ./proxy/experiment/ and review the diff).
func TestWriteTextGolden(t *testing.T) {
	t.Parallel()
	blocks := Build(sampleArms(), Options{})
	blocks.Name, blocks.Action, blocks.Currency = "home-blocks", "block:home-recs", "EUR"
	holdout := Build([]ArmCounts{
		{"control", 10, Counts{Visitors: 900, Converters: 40, Orders: 41, Revenue: 2050, RevenueSq: 110_000}},
		{"treated", 90, Counts{Visitors: 9100, Converters: 470, Orders: 480, Revenue: 24_000, RevenueSq: 1_300_000}},
	}, Options{})
	holdout.Name, holdout.Action = "exit-offer-holdout", "overlay:exit-offer"
	early := Build([]ArmCounts{{"control", 1, conv(120, 3)}, {"b", 1, conv(118, 4)}}, Options{})
	early.Name = "new-banner"
	var b bytes.Buffer
	if err := WriteText(&b, blocks, holdout, early); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.txt")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("WriteText differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 128235: "128,235", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func BenchmarkBuild3Arms(b *testing.B) {
	arms := sampleArms()
	b.ReportAllocs()
	for b.Loop() {
		_ = Build(arms, Options{})
	}
}
