package plan

import (
	"shopedge/proxy/experiment"
	"shopedge/rules"
)

// Exposure is a visitor reaching a page where an experiment's action
// applies for them: in the treatment arm they get it, in the control arm
// the shop's own bytes there. Both count, so the arms stay comparable.
type Exposure struct {
	Experiment int // index in Compiled.Experiments
	Arm        int // in CompiledExperiment.Arms
}

// heldOut reports whether the visitor is held out of the experiment of an
// action without variants (1 + index, 0: none) that applies for them, and
// records the exposure either way.
func (pl *Plan) heldOut(in *Input, exp int) bool {
	arm, _, held := pl.choose(in, exp)
	pl.expose(exp, arm)
	return held
}

// choose is the visitor's arm in the experiment of an action (1 + index,
// 0: none), the variant the arm shows (an index in the action's Variants,
// -1 for the action as written) and whether the arm is held out. Without
// an experiment arm is -1, and so it is in a preview, which counts
// nothing: there the experiment whose arm the preview forces
// (Request.PreviewArm) shows that arm's variant, or holds out for its
// control, and every other experiment shows its action as written.
func (pl *Plan) choose(in *Input, exp int) (arm, variant int, held bool) {
	if exp == 0 {
		return -1, -1, false
	}
	e := &in.Config.Experiments[exp-1]
	if in.Request.previewing() {
		if f := in.Request.PreviewArm; f.Experiment == exp {
			return -1, e.Variant[f.Arm], f.Arm == e.Held
		}
		return -1, -1, false
	}
	arm = Arm(in, e)
	return arm, e.Variant[arm], arm == e.Held
}

// expose records that the action of an experiment applied for the visitor
// here, in arm (none when arm is -1).
func (pl *Plan) expose(exp, arm int) {
	if arm >= 0 {
		pl.Exposures = append(pl.Exposures, Exposure{Experiment: exp - 1, Arm: arm})
	}
}

// Arm is the visitor's arm in an experiment: the one kept in their profile
// since their first exposure, or else the one their id hashes to.
func Arm(in *Input, e *rules.CompiledExperiment) int {
	if s, ok := in.Profile.Experiment(e.Key); ok && int(s.Arm) < len(e.Weights) {
		return int(s.Arm)
	}
	return ArmOf(in.Request.VisitorID, e)
}

// ArmOf is the arm a visitor id hashes to in an experiment
// (experiment.Bucket of the id, the name and the seed, then
// experiment.Arm by the weights): the same in every process and after
// every restart, independent between experiments.
func ArmOf(visitorID string, e *rules.CompiledExperiment) int {
	return max(experiment.Arm(experiment.Bucket(visitorID, e.Name, e.Seed), e.Weights), 0)
}
