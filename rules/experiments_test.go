package rules

import (
	"slices"
	"strings"
	"testing"
)

// TestExperiments: what an experiment compiles to, and the mistakes check
// reports at their field.
func TestExperiments(t *testing.T) {
	t.Parallel()
	block := func(exp string) string {
		return upstreamOnly + "recommendations:\n  blocks:\n    - id: pop\n      pages: [home]\n      selector: main\n      strategy: popular\n      experiment: " + exp + "\n"
	}
	good := []struct {
		name, yaml string
		arms       []string
		weights    []float64
		held       int
	}{
		{"a holdout", block("{name: pop-holdout, control: 10%}"), []string{"control", "treatment"}, []float64{0.1, 0.9}, 0},
		{"a share as a number", block("{name: pop-holdout, control: 25}"), []string{"control", "treatment"}, []float64{0.25, 0.75}, 0},
		{"an A/B of strategies", block("{name: pop-ab, variants: [{name: trending, weight: 50%, strategy: trending}]}"), []string{"default", "trending"}, []float64{0.5, 0.5}, -1},
		{"variants and a holdout", block("{name: pop-ab, control: 10%, variants: [{name: trending, weight: 45%, strategy: trending}]}"), []string{"control", "default", "trending"}, []float64{0.1, 0.45, 0.45}, 0},
		{"the global control", upstreamOnly + "experiments:\n  global_control: 5%\n", []string{"control", "treatment"}, []float64{0.05, 0.95}, 0},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tt.yaml)
			if len(c.Experiments) != 1 {
				t.Fatalf("%d experiments, want 1", len(c.Experiments))
			}
			e := c.Experiments[0]
			if !slices.Equal(e.Arms, tt.arms) || e.Held != tt.held || len(e.Weights) != len(tt.weights) {
				t.Fatalf("arms %v (held %d), weights %v; want %v (held %d), %v", e.Arms, e.Held, e.Weights, tt.arms, tt.held, tt.weights)
			}
			for i, w := range tt.weights {
				if d := e.Weights[i] - w; d > 1e-9 || d < -1e-9 {
					t.Errorf("weight %d = %v, want %v", i, e.Weights[i], w)
				}
			}
		})
	}
	if c := mustParse(t, block("{name: pop-ab, variants: [{name: trending, weight: 50%, strategy: trending, title: Trending}]}")); len(c.Blocks[0].Variants) != 1 ||
		c.Blocks[0].Variants[0].Chain[0] != "trending" || c.Blocks[0].Action.Experiment != 1 {
		t.Errorf("the block's variants: %+v, experiment %d", c.Blocks[0].Variants, c.Blocks[0].Action.Experiment)
	}
	bad := []struct{ name, yaml, want string }{
		{"no share", block("{name: x}"), "control: want a share above 0% and below 100%, got 0%"},
		{"all held out", block("{name: x, control: 100%}"), "control: want a share above 0% and below 100%"},
		{"a bad name", block("{name: 'Big Test', control: 10%}"), `experiment.name: "Big Test": use lowercase`},
		{"not a share", block("{name: x, control: lots}"), "want a share like 10% or 10"},
		{"too much", block("{name: x, control: 50%, variants: [{name: t, weight: 60%, strategy: trending}]}"), "control and the variants take 110%"},
		{"an arm's name taken", block("{name: x, variants: [{name: default, weight: 10%}]}"), `"default" names another arm`},
		{"an unknown strategy", block("{name: x, variants: [{name: t, weight: 10%, strategy: magic}]}"), `unknown strategy "magic"`},
		{"overlay copy on a block", block("{name: x, variants: [{name: t, weight: 10%, code: X}]}"), "a block's variant changes strategy"},
		{"the global name", block("{name: global, control: 10%}"), `"global" is the global control's name`},
		{"one name, two actions", upstreamOnly + "recommendations:\n  blocks:\n" +
			"    - {id: a, pages: [home], selector: main, strategy: popular, experiment: {name: x, control: 10%}}\n" +
			"    - {id: b, pages: [home], selector: main, strategy: popular, experiment: {name: x, control: 10%}}\n", `"x" is the experiment of block:a already`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("config.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one holding %q", err, tt.want)
			}
		})
	}
}
