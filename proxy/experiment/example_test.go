package experiment_test

import (
	"fmt"
	"os"

	"shopedge/proxy/experiment"
)

// A visitor's arm in a 10 % holdout: the same on every visit, and
// independent of their arm in any other experiment.
func ExampleArm() {
	weights := []float64{10, 90} // control, treated
	for _, id := range []string{"visitor-5", "visitor-6", "visitor-7", "visitor-8"} {
		b := experiment.Bucket(id, "exit-offer", "")
		fmt.Printf("%s %.4f arm %d\n", id, b, experiment.Arm(b, weights))
	}
	// Output:
	// visitor-5 0.6802 arm 1
	// visitor-6 0.0666 arm 0
	// visitor-7 0.6284 arm 1
	// visitor-8 0.0344 arm 0
}

// Counting a visitor's orders, then reporting: the caller keeps each
// visitor's arm, orders and revenue so far.
func ExampleBuild() {
	var control, variant experiment.Counts
	for range 10_000 {
		control.AddVisitor()
		variant.AddVisitor()
	}
	for i := range 500 {
		control.AddOrder(0, 0, 40)
		if i < 100 { // a second order by the same visitor
			control.AddOrder(1, 40, 20)
		}
	}
	for range 600 {
		variant.AddOrder(0, 0, 40)
	}
	r := experiment.Build([]experiment.ArmCounts{
		{Name: "control", Weight: 1, Counts: control},
		{Name: "bestsellers", Weight: 1, Counts: variant},
	}, experiment.Options{})
	r.Name, r.Action = "home-blocks", "block:home-recs"
	if err := experiment.WriteText(os.Stdout, r); err != nil {
		fmt.Println(err)
	}
	// Output:
	// experiment home-blocks (action block:home-recs)
	// arm          visitors  conv. rate  revenue/visitor  conv. uplift [95% CI]   always valid     rev./visitor uplift [95% CI]  verdict
	// control        10,000       5.00%             2.20  control
	// bestsellers    10,000       6.00%             2.40  +20.0% [+6.2%, +33.8%]  [-2.1%, +42.1%]  +9.1% [-3.6%, +21.8%]         not enough data: 311,795 more visitors per arm
	// sample ratio: p = 1 (ok)
	// verdict: not enough data: 311,795 more visitors per arm
}
