// Package experiment assigns visitors to the arms of an experiment and
// judges the arms' results: pure functions and plain values, no HTTP, no
// state, nothing else of shopedge. The proxy calls Bucket and Arm when a
// visitor is first exposed, keeps Counts per arm, and calls Build to get a
// Report for the admin endpoint and WriteText for `shopedge report`.
//
// # Assignment
//
// Bucket hashes (seed, experiment, visitor id) with XXH64 to a number in
// [0, 1); Arm cuts [0, 1) into consecutive intervals in proportion to the
// weights, in the order the arms are listed, and returns the arm whose
// interval holds the bucket. Assignment is deterministic, the same on
// every visit and after every restart, and independent between
// experiments, because the experiment's name is hashed with the id. This
// is the model of GrowthBook's hashing (a hash of the id and the
// experiment's seed giving a bucket, ranges of buckets giving variations)
// and of most feature-flag tools.
//
// When weights change, the intervals move: a visitor whose bucket now falls
// in another interval would switch arms if Arm were asked again. The
// intended model is that the caller does not ask again: it stores each
// visitor's arm at first exposure and keeps it, so visitors already
// assigned stay where they were and only new visitors follow the new
// weights. Because the intervals are cut in order, going from 50/50 to
// 20/80 would move only buckets in [0.2, 0.5), and only from the first arm
// to the second (TestWeightsChange). A weight set to zero closes an arm to
// new visitors without renumbering the others. To reshuffle everybody
// (a new phase of the experiment), give it a new seed: every visitor gets
// a new, independent bucket; the caller then forgets stored arms and
// starts the counts afresh.
//
// A weight change without a new seed leaves counts that mix two splits:
// the SRM check, which compares the arms' visitors with the current
// weights, will then rightly flag them, and arms whose visitors came in at
// different times are no longer comparable (traffic changes over a week).
// Change weights with a new seed, or read the report from before the
// change.
//
// # Counting
//
// Counts are per visitor, the unit that is randomized: distinct exposed
// visitors, converters, orders, the sum of revenue per visitor and the sum
// of its squares, visitors who added to cart, visitors who clicked. The
// caller counts a control visitor at the moment the action would have
// applied to them (counterfactual exposure) and counts conversions only
// after a visitor's first exposure.
//
// # Statistics
//
// For each variant against the control (the first arm), on conversion rate
// and on revenue per visitor:
//
//   - relative uplift mean_v/mean_c - 1 with a fixed-horizon 95 % interval
//     and a two-sided p-value from the delta method for a ratio of
//     independent means (Deng, Knoblich, Lu, "Applying the Delta Method in
//     Metric Analytics: A Practical Guide with Novel Ideas", KDD 2018;
//     Kohavi, Tang, Xu, "Trustworthy Online Controlled Experiments",
//     Cambridge University Press, 2020, ch. 17–18);
//   - an always-valid 95 % interval for the same uplift, safe to look at
//     every day: the asymptotic confidence sequence of Waudby-Smith,
//     Arbour, Sinha, Kennedy, Ramdas ("Time-uniform central limit theory
//     and asymptotic confidence sequences", Annals of Statistics, 2024,
//     arXiv:2103.06476) with the normal-mixture boundary of Howard,
//     Ramdas, McAuliffe, Sekhon ("Time-uniform, nonparametric,
//     nonasymptotic confidence sequences", Annals of Statistics 49(2),
//     2021), its mixing parameter tuned to be tightest at 5,000 visitors
//     (Options.SeqTuning), as GrowthBook's sequential testing does;
//   - a sample-ratio-mismatch check: Pearson's chi-square of the arms'
//     visitors against the weights, flagged below p = 0.001 (Fabijan et
//     al., "Diagnosing Sample Ratio Mismatch in Online Controlled
//     Experiments", KDD 2019);
//   - the visitors per arm a fixed-horizon two-sided test at α = 0.05
//     needs to detect a 5 % relative uplift in conversion with 80 % power
//     at the control's current rate.
//
// No interval is computed before each arm has 30 converters (100 for
// revenue per visitor): before that the normal approximations are too
// poor, and the always-valid interval excludes zero too often in A/A
// simulations. Normal and chi-square probabilities are computed here
// (erfc, Acklam's inverse normal with a Halley step, the regularized
// incomplete gamma function of Numerical Recipes §6.2): no statistics
// library.
//
// Verdicts (Build) come from the conversion rate's always-valid interval
// only, never from the fixed-horizon one, so looking often does not
// inflate false positives: sample ratio mismatch first, then "variant
// better"/"variant worse" when the always-valid interval excludes zero,
// then "not enough data: N more visitors per arm" until the sample size
// for the 5 % effect is reached, then "no difference detected". There is
// no correction for several variants.
//
// # Files
//
//   - assign.go: Bucket and Arm.
//   - counts.go: Counts, its per-visitor updates and its rates.
//   - stats.go: Options, Effect, CompareConversion and CompareRevenue (the
//     delta method), SeqRho and SeqMultiplier (the confidence sequence),
//     SampleSizeConversion and SampleSizeMean, SRM.
//   - dist.go: the normal distribution function and its inverse, the
//     chi-square upper tail by the regularized incomplete gamma function.
//   - report.go: ArmCounts, Report, ArmReport, Outcome, Build and its
//     verdicts.
//   - text.go: WriteText, the plain-text table of `shopedge report`.
//
// Tests: assign_test.go (uniformity, independence, stability, weight
// changes), counts_test.go, dist_test.go, stats_test.go (hand-computed
// cases, SRM, sample sizes), sim_test.go (A/A false positives and power by
// simulation), report_test.go (verdicts, JSON shape, the golden table in
// testdata/report.txt, the benchmark), example_test.go.
package experiment
