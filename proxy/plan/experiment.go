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
	Arm        int // rules.ArmControl or rules.ArmTreatment
}

// heldOut reports whether the visitor is held out of the experiment of an
// action (1 + index, 0: none) that applies for them, and records the
// exposure either way.
func (pl *Plan) heldOut(in *Input, exp int) bool {
	if exp == 0 || in.Request.Preview != 0 {
		return false // a preview sees the action, and counts nothing
	}
	e := &in.Config.Experiments[exp-1]
	arm := Arm(in, e)
	pl.Exposures = append(pl.Exposures, Exposure{Experiment: exp - 1, Arm: arm})
	return arm == rules.ArmControl
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
