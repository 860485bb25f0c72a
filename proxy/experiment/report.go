package experiment

import (
	"fmt"
	"strings"
)

// ArmCounts is one arm as Build reads it: its name, its configured weight
// and its counts.
type ArmCounts struct {
	// Name is the arm's name ("control", "bestsellers").
	Name string
	// Weight is the arm's configured weight, as given to Arm: the share of
	// visitors the SRM check expects in it.
	Weight float64
	// Counts are the arm's totals.
	Counts Counts
}

// Outcome is a machine-readable verdict.
type Outcome string

// Outcomes. A report's outcome is that of all its variants when they
// agree, OutcomeMixed otherwise; OutcomeSRM overrides every other.
const (
	// OutcomeNotEnoughData: the always-valid interval includes zero and
	// the visitors needed to detect the minimum detectable effect have not
	// all come yet (or nothing can be computed yet).
	OutcomeNotEnoughData Outcome = "not_enough_data"
	// OutcomeBetter: the always-valid interval of the conversion uplift is
	// above zero.
	OutcomeBetter Outcome = "better"
	// OutcomeWorse: the always-valid interval of the conversion uplift is
	// below zero.
	OutcomeWorse Outcome = "worse"
	// OutcomeNoDifference: the visitors needed for the minimum detectable
	// effect have come and the always-valid interval still includes zero.
	OutcomeNoDifference Outcome = "no_difference"
	// OutcomeSRM: the arms' visitor counts do not match their weights
	// (SRM p below Options.SRMAlpha): no other number can be trusted.
	OutcomeSRM Outcome = "sample_ratio_mismatch"
	// OutcomeMixed: the variants' outcomes differ; see each arm's.
	OutcomeMixed Outcome = "mixed"
)

// ArmReport is one arm of a Report. The uplift fields (from the embedded
// *Effect) compare the arm's conversion rate with the control's and are
// absent for the control and while there is not enough data; RevenueEffect
// does the same for revenue per visitor.
type ArmReport struct {
	// Name and Weight are the arm's, as given to Build.
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	// Visitors, Converters, Orders, Revenue, CartAdders and Clickers are
	// the arm's Counts.
	Visitors   int64   `json:"visitors"`
	Converters int64   `json:"converters"`
	Orders     int64   `json:"orders"`
	Revenue    float64 `json:"revenue"`
	CartAdders int64   `json:"cart_adders"`
	Clickers   int64   `json:"clickers"`
	// ConversionRate, RevenuePerVisitor, AOV, CartRate and ClickRate are
	// the Counts' methods of those names (fractions, currency units).
	ConversionRate    float64 `json:"conversion_rate"`
	RevenuePerVisitor float64 `json:"revenue_per_visitor"`
	AOV               float64 `json:"aov"`
	CartRate          float64 `json:"cart_rate"`
	ClickRate         float64 `json:"click_rate"`
	// Effect is the conversion rate's uplift over control, nil for the
	// control and when CompareConversion is not ok.
	*Effect
	// RevenueEffect is revenue per visitor's uplift over control, nil for
	// the control and when CompareRevenue is not ok.
	RevenueEffect *Effect `json:"revenue_per_visitor_effect,omitempty"`
	// Outcome and Verdict judge this variant against control; empty for
	// the control.
	Outcome Outcome `json:"outcome,omitempty"`
	Verdict string  `json:"verdict,omitempty"`
	// MoreVisitors is how many more visitors per arm the minimum
	// detectable effect needs, when Outcome is OutcomeNotEnoughData and it
	// can be estimated; 0 otherwise.
	MoreVisitors int64 `json:"more_visitors_per_arm,omitempty"`
}

// Report is one experiment's results. Build fills everything but Name,
// Action and Currency, which the caller sets.
type Report struct {
	// Name is the experiment's name.
	Name string `json:"name"`
	// Action names the action the experiment is on.
	Action string `json:"action"`
	// Currency is the revenue's ISO 4217 code, if known.
	Currency string `json:"currency,omitempty"`
	// Arms are the arms in the order given, the control first.
	Arms []ArmReport `json:"arms"`
	// SRMP is the sample-ratio-mismatch p-value (1 when there is nothing
	// to test).
	SRMP float64 `json:"srm_p"`
	// SRM is true when SRMP is below Options.SRMAlpha.
	SRM bool `json:"srm"`
	// Outcome and Verdict sum up the experiment (see Outcome).
	Outcome Outcome `json:"outcome"`
	Verdict string  `json:"verdict"`
}

// Build computes the report of one experiment from its arms, the first of
// which is the control every other arm is compared with. Statistics are
// per variant against control with no correction for several variants.
// Each variant's verdict, on its conversion rate:
//
//  1. the SRM check flags a mismatch: "sample ratio mismatch: do not
//     trust these numbers", whatever else holds;
//  2. the always-valid interval excludes zero: "variant better" or
//     "variant worse" (valid whenever it is looked at);
//  3. fewer visitors per arm than a fixed-horizon test needs to detect a
//     relative uplift of Options.MDE at the control's current rate: "not
//     enough data: N more visitors per arm";
//  4. otherwise "no difference detected".
//
// Verdicts never come from the fixed-horizon interval, which holds only for
// one look at a sample size fixed in advance; it and its p-value are in the
// report for whoever planned such a look.
func Build(arms []ArmCounts, opt Options) Report {
	opt = opt.withDefaults()
	r := Report{Arms: make([]ArmReport, len(arms)), SRMP: 1}
	if len(arms) == 0 {
		r.Outcome, r.Verdict = OutcomeNotEnoughData, "not enough data: no arms"
		return r
	}
	vs, ws := make([]int64, 0, len(arms)), make([]float64, 0, len(arms))
	for i, a := range arms {
		c := a.Counts
		r.Arms[i] = ArmReport{
			Name: a.Name, Weight: a.Weight,
			Visitors: c.Visitors, Converters: c.Converters, Orders: c.Orders,
			Revenue: ratio(c.Revenue, 1), CartAdders: c.CartAdders, Clickers: c.Clickers,
			ConversionRate: c.ConversionRate(), RevenuePerVisitor: c.RevenuePerVisitor(),
			AOV: c.AOV(), CartRate: c.CartRate(), ClickRate: c.ClickRate(),
		}
		vs = append(vs, c.Visitors)
		ws = append(ws, a.Weight)
	}
	r.SRMP, _ = SRM(vs, ws)
	r.SRM = r.SRMP < opt.SRMAlpha
	control := arms[0].Counts
	for i := 1; i < len(arms); i++ {
		ar := &r.Arms[i]
		v := arms[i].Counts
		if e, ok := CompareConversion(control, v, opt); ok {
			ar.Effect = &e
		}
		if e, ok := CompareRevenue(control, v, opt); ok {
			ar.RevenueEffect = &e
		}
		ar.Outcome, ar.MoreVisitors = judge(control, v, ar.Effect, opt)
		ar.Verdict = sentence(ar.Outcome, ar.MoreVisitors)
		if r.SRM {
			ar.Outcome, ar.Verdict, ar.MoreVisitors = OutcomeSRM, sentence(OutcomeSRM, 0), 0
		}
	}
	r.Outcome, r.Verdict = summarize(r.Arms[1:], r.SRM)
	return r
}

// judge is a variant's outcome (steps 2 to 4 of Build) and, when data is
// lacking, the visitors per arm still needed (0 when unknown).
func judge(control, variant Counts, e *Effect, opt Options) (Outcome, int64) {
	if e != nil && e.SeqLow > 0 {
		return OutcomeBetter, 0
	}
	if e != nil && e.SeqHigh < 0 {
		return OutcomeWorse, 0
	}
	// The visitors the always-valid interval needs, as the verdict comes
	// from it (the fixed-horizon size would leave most real effects of
	// MDE undetected there).
	need, ok := SampleSizeSequential(control.ConversionRate(), opt.MDE, opt.Alpha, opt.Power, SeqRho(opt.SeqTuning, opt.Alpha))
	if !ok {
		return OutcomeNotEnoughData, 0
	}
	if have := min(control.Visitors, variant.Visitors); have < need {
		return OutcomeNotEnoughData, need - have
	}
	if e == nil {
		return OutcomeNotEnoughData, 0
	}
	return OutcomeNoDifference, 0
}

// sentence is an outcome as a merchandiser reads it.
func sentence(o Outcome, more int64) string {
	switch o {
	case OutcomeBetter:
		return "variant better"
	case OutcomeWorse:
		return "variant worse"
	case OutcomeNoDifference:
		return "no difference detected"
	case OutcomeSRM:
		return "sample ratio mismatch: do not trust these numbers"
	case OutcomeNotEnoughData:
		if more > 0 {
			return "not enough data: " + thousands(more) + " more visitors per arm"
		}
		return "not enough data: too few conversions yet"
	}
	return string(o)
}

// summarize is the report's outcome and verdict from its variants'.
func summarize(variants []ArmReport, srm bool) (Outcome, string) {
	if srm {
		return OutcomeSRM, sentence(OutcomeSRM, 0)
	}
	if len(variants) == 0 {
		return OutcomeNotEnoughData, "not enough data: no variant to compare"
	}
	same := true
	var more int64
	for _, a := range variants {
		same = same && a.Outcome == variants[0].Outcome
		more = max(more, a.MoreVisitors)
	}
	if same && (len(variants) == 1 || variants[0].Outcome == OutcomeNotEnoughData || variants[0].Outcome == OutcomeNoDifference) {
		return variants[0].Outcome, sentence(variants[0].Outcome, more)
	}
	parts := make([]string, len(variants))
	for i, a := range variants {
		parts[i] = a.Name + ": " + a.Verdict
	}
	o := OutcomeMixed
	if same {
		o = variants[0].Outcome
	}
	return o, strings.Join(parts, "; ")
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
