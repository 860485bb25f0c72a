package rules

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Experiments configure what is measured across actions: a global control
// group that sees the shop exactly as it is.
//
//	experiments:
//	  global_control: 5%
type Experiments struct {
	// GlobalControl is the share of all visitors who get no
	// personalization at all, and are counted all the same, so that the
	// report states what shopedge as a whole adds: "5%" or 5. Default: 0
	// (none).
	GlobalControl Percent `yaml:"global_control"`
	// Seed, changed, reshuffles who is in the global control. Default: "".
	Seed string `yaml:"seed"`
}

// Experiment puts an action under an experiment: a share of the visitors
// it would apply to (control) are held out and get the shop's own page
// there, and both arms are counted from their first exposure on.
//
//	experiment: {name: exit-offer-holdout, control: 10%}
type Experiment struct {
	// Name names the experiment in reports and in its assignment: a
	// visitor's arm is a hash of their id and the name (and Seed), the
	// same in every process and after every restart, independent of every
	// other experiment's. Lowercase letters, digits and dashes; unique in
	// the file. Required.
	Name string `yaml:"name"`
	// Control is the share held out, more than 0% and less than 100%.
	// A visitor keeps the arm of their first exposure when the share
	// changes. Required.
	Control Percent `yaml:"control"`
	// Seed, changed, reshuffles: visitors are assigned afresh, as if the
	// experiment were new (its counts start again under the new seed).
	// Default: "".
	Seed string `yaml:"seed"`
}

// Percent is a share, written "10%" or 10; it holds the number (10).
type Percent float64

// UnmarshalYAML takes a number, or a number and a '%'.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(n.Value), "%"))
	f, err := strconv.ParseFloat(s, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		return nodeError(n, "want a share like 10%% or 10, got %q", n.Value)
	}
	*p = Percent(f)
	return nil
}

// The arms of a holdout, in CompiledExperiment.Arms order.
const (
	ArmControl   = 0 // held out: the shop's own page where the action would be
	ArmTreatment = 1 // gets the action
)

// CompiledExperiment is an experiment ready to assign visitors.
type CompiledExperiment struct {
	// Name is the experiment's, Action the action it measures ("block:
	// popular", "overlay:exit-offer", "everything" for the global control).
	Name, Action string
	// Seed goes into the assignment hash with the name.
	Seed string
	// Arms name the arms (control, then treatment); Weights are their
	// shares, summing to 1.
	Arms    []string
	Weights []float64
	// Key is the experiment's short key in a visitor's profile: a hash of
	// its name and seed, so that a new seed starts afresh.
	Key uint32
}

// compileExperiments compiles each action's experiment and the global
// control, and sets the actions' Experiment. Names must be unique.
func (c *Compiled) compileExperiments(own *Config, v *validator) {
	seen := map[string]string{}
	add := func(path, action string, e *Experiment) int {
		if e == nil {
			return 0
		}
		switch {
		case !ValidID(e.Name):
			v.add(path+".experiment.name", "%q: use lowercase letters, digits and dashes (at most 40)", e.Name)
		case e.Name == GlobalExperiment:
			v.add(path+".experiment.name", "%q is the global control's name; choose another", e.Name)
		case seen[e.Name] != "":
			v.add(path+".experiment.name", "%q is the experiment of %s already: one action per experiment", e.Name, seen[e.Name])
		}
		seen[e.Name] = action
		if e.Control <= 0 || e.Control >= 100 {
			v.add(path+".experiment.control", "want a share above 0%% and below 100%%, got %v%%", float64(e.Control))
		}
		c.Experiments = append(c.Experiments, holdout(e.Name, action, e.Seed, float64(e.Control)))
		return len(c.Experiments)
	}
	if n := own.Navigation; n != nil {
		c.NavAction.Experiment = add("navigation", "menu", n.Experiment)
	}
	if s := own.Search; s != nil {
		c.SearchAction.Experiment = add("search", "search", s.Experiment)
	}
	for i := range c.Blocks {
		b := &c.Blocks[i]
		b.Action.Experiment = add(fmt.Sprintf("recommendations.blocks[%d]", i), "block:"+b.ID, b.Block.Experiment)
	}
	for i := range c.Banners {
		b := &c.Banners[i]
		b.Action.Experiment = add(fmt.Sprintf("overlays.banners[%d]", i), "banner:"+b.ID, b.Banner.Experiment)
	}
	for i := range c.OverlayRules {
		o := &c.OverlayRules[i]
		o.Action.Experiment = add(fmt.Sprintf("overlays.rules[%d]", o.index), "overlay:"+o.ID, o.Overlay.Experiment)
	}
	for i := range c.Swaps {
		s := &c.Swaps[i]
		s.Action.Experiment = add(fmt.Sprintf("content[%d]", i), "swap:"+s.ID, s.Swap.Experiment)
	}
	if g := own.Experiments.GlobalControl; g != 0 {
		if g < 0 || g >= 100 {
			v.add("experiments.global_control", "want a share from 0%% to below 100%%, got %v%%", float64(g))
		}
		c.Experiments = append(c.Experiments, holdout(GlobalExperiment, "everything", own.Experiments.Seed, float64(g)))
		c.GlobalControl = len(c.Experiments)
	}
}

// GlobalExperiment is the global control group's experiment name.
const GlobalExperiment = "global"

// holdout is a two-arm experiment holding out control percent.
func holdout(name, action, seed string, control float64) CompiledExperiment {
	return CompiledExperiment{Name: name, Action: action, Seed: seed,
		Arms: []string{"control", "treatment"}, Weights: []float64{control / 100, 1 - control/100},
		Key: experimentKey(name, seed)}
}

// experimentKey is a short, stable key of an experiment's name and seed
// (FNV-1a): a visitor's profile keeps their arm under it.
func experimentKey(name, seed string) uint32 {
	h := uint32(2166136261)
	for _, s := range []string{name, "\x00", seed} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint32(s[i])) * 16777619
		}
	}
	if h == 0 {
		h = 1 // 0 is an empty slot
	}
	return h
}
