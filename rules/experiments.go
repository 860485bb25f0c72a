package rules

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"shopedge/proxy/recommend"
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
	// Control is the share held out, more than 0% and less than 100%
	// (with variants, 0% holds no one out). A visitor keeps the arm of
	// their first exposure when the share changes. Required without
	// variants.
	Control Percent `yaml:"control"`
	// Seed, changed, reshuffles: visitors are assigned afresh, as if the
	// experiment were new (its counts start again under the new seed).
	// Default: "".
	Seed string `yaml:"seed"`
	// Variants are other versions of the action, each for a share of the
	// visitors: a block with another strategy or title, an overlay with
	// other copy. The action as written is the arm "default", for the
	// share neither control nor the variants take; with no control, it is
	// what the variants are compared with. Default: none (a holdout).
	Variants []Variant `yaml:"variants"`
}

// Variant is one version of an action under an experiment: what differs
// from the action as written.
type Variant struct {
	// Name names the arm in reports. Lowercase letters, digits and dashes;
	// not control or default. Required.
	Name string `yaml:"name"`
	// Weight is the arm's share. Required.
	Weight Percent `yaml:"weight"`
	// Strategy and Fallback are a block's in this arm. Default: the
	// block's.
	Strategy string   `yaml:"strategy"`
	Fallback []string `yaml:"fallback"`
	// Title is a block's heading or an overlay's title in this arm.
	// Default: the action's.
	Title string `yaml:"title"`
	// Text and Code are an overlay's in this arm. Default: the overlay's.
	Text string `yaml:"text"`
	Code string `yaml:"code"`
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

// The arms' names that are not variants'.
const (
	ArmNameControl = "control" // held out
	ArmNameDefault = "default" // the action as written
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
	// its name, seed and (for variants) its arms' names, so that a new
	// seed or another list of arms starts afresh; a new weight does not.
	Key uint32
	// Held is the arm held out (control), or -1 when none is: an A/B of
	// variants compares them with the default.
	Held int
	// Variant is, for each arm, the index of its variant in the action's
	// Variants, or -1 for the control and the default.
	Variant []int
}

// CompiledVariant is a variant of a block or an overlay, compiled: what
// its arm changes (a zero field changes nothing).
type CompiledVariant struct {
	*Variant
	// Chain is a block's strategy and fallbacks in this arm; nil: the
	// block's.
	Chain []recommend.Strategy
}

// compileExperiments compiles each action's experiment and the global
// control, and sets the actions' Experiment. Names must be unique.
func (c *Compiled) compileExperiments(own *Config, v *validator) {
	seen := map[string]string{}
	add := func(path, action string, e *Experiment) int {
		if e == nil {
			return 0
		}
		checkExperimentName(path+".experiment.name", action, e.Name, seen, v)
		if len(e.Variants) > 0 {
			return c.addVariants(path, action, e, v)
		}
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
		b.Variants = variants(b.Block.Experiment, b.Strategy, b.Fallback)
	}
	for i := range c.Banners {
		b := &c.Banners[i]
		b.Action.Experiment = add(fmt.Sprintf("overlays.banners[%d]", i), "banner:"+b.ID, b.Banner.Experiment)
	}
	for i := range c.OverlayRules {
		o := &c.OverlayRules[i]
		o.Action.Experiment = add(fmt.Sprintf("overlays.rules[%d]", o.index), "overlay:"+o.ID, o.Overlay.Experiment)
		o.Variants = variants(o.Overlay.Experiment, o.Strategy, o.Fallback)
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
		Arms: []string{ArmNameControl, "treatment"}, Weights: []float64{control / 100, 1 - control/100},
		Key: experimentKey(name, seed), Held: ArmControl, Variant: []int{-1, -1}}
}

// addVariants compiles an experiment of variants: the arms control (when
// it holds visitors out), default (the action as written, the rest of the
// share) and each variant. Only blocks and overlays have variants.
func (c *Compiled) addVariants(path, action string, e *Experiment, v *validator) int {
	path += ".experiment"
	block, overlay := strings.HasPrefix(action, "block:"), strings.HasPrefix(action, "overlay:")
	if !block && !overlay {
		v.add(path+".variants", "only blocks and overlays have variants; give the others a control share")
	}
	x := CompiledExperiment{Name: e.Name, Action: action, Seed: e.Seed, Key: experimentKey(e.Name, e.Seed), Held: -1}
	if e.Control < 0 || e.Control >= 100 {
		v.add(path+".control", "want a share from 0%% to below 100%%, got %v%%", float64(e.Control))
	}
	if e.Control > 0 {
		x.Held = len(x.Arms)
		x.Arms, x.Weights, x.Variant = append(x.Arms, ArmNameControl), append(x.Weights, float64(e.Control)/100), append(x.Variant, -1)
	}
	rest := 100 - float64(e.Control)
	names := map[string]bool{ArmNameControl: true, ArmNameDefault: true}
	def := len(x.Arms)
	x.Arms, x.Weights, x.Variant = append(x.Arms, ArmNameDefault), append(x.Weights, 0), append(x.Variant, -1)
	for i := range e.Variants {
		vr := &e.Variants[i]
		vp := fmt.Sprintf("%s.variants[%d]", path, i)
		switch {
		case !ValidID(vr.Name):
			v.add(vp+".name", "%q: use lowercase letters, digits and dashes (at most 40)", vr.Name)
		case names[vr.Name]:
			v.add(vp+".name", "%q names another arm (control and default are taken)", vr.Name)
		}
		names[vr.Name] = true
		if vr.Weight <= 0 || vr.Weight >= 100 {
			v.add(vp+".weight", "want a share above 0%% and below 100%%, got %v%%", float64(vr.Weight))
		}
		if block && (vr.Text != "" || vr.Code != "") {
			v.add(vp, "a block's variant changes strategy, fallback and title, not text or code")
		}
		if overlay && (vr.Strategy != "" || len(vr.Fallback) > 0) {
			v.add(vp, "an overlay's variant changes title, text and code, not strategy or fallback")
		}
		for _, s := range append([]string{vr.Strategy}, vr.Fallback...) {
			if s != "" && !recommend.Strategy(s).Valid() {
				v.add(vp+".strategy", "unknown strategy %q", s)
			}
		}
		rest -= float64(vr.Weight)
		x.Arms, x.Weights, x.Variant = append(x.Arms, vr.Name), append(x.Weights, float64(vr.Weight)/100), append(x.Variant, i)
	}
	if rest < -1e-9 {
		v.add(path+".variants", "control and the variants take %v%%, more than 100%%", 100-rest)
	}
	x.Weights[def] = max(rest, 0) / 100
	// A visitor's arm is kept by its place in Arms: another list of arms
	// (control on or off, a variant added, removed or renamed) is another
	// experiment, started afresh, as a new seed is.
	x.Key = experimentKey(e.Name, e.Seed+"\x00"+strings.Join(x.Arms, "\x00"))
	c.Experiments = append(c.Experiments, x)
	return len(c.Experiments)
}

// variants compiles an action's variants (blocks and overlays): their
// strategy chains, from the block's when a variant names none.
func variants(e *Experiment, strategy string, fallback []string) []CompiledVariant {
	if e == nil {
		return nil
	}
	out := make([]CompiledVariant, len(e.Variants))
	for i := range e.Variants {
		vr := &e.Variants[i]
		out[i].Variant = vr
		if vr.Strategy != "" || len(vr.Fallback) > 0 {
			s, f := strategy, fallback
			if vr.Strategy != "" {
				s = vr.Strategy
			}
			if len(vr.Fallback) > 0 {
				f = vr.Fallback
			}
			out[i].Chain = chain(s, f)
		}
	}
	return out
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

// checkExperimentName checks an experiment's name at path: of the form
// ValidID accepts, not the global control's, not another action's
// experiment's (seen maps names to their actions).
func checkExperimentName(path, action, name string, seen map[string]string, v *validator) {
	switch {
	case !ValidID(name):
		v.add(path, "%q: use lowercase letters, digits and dashes (at most 40)", name)
	case name == GlobalExperiment:
		v.add(path, "%q is the global control's name; choose another", name)
	case seen[name] != "":
		v.add(path, "%q is the experiment of %s already: one action per experiment", name, seen[name])
	}
	seen[name] = action
}
