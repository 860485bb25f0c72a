package plan

import (
	"github.com/cespare/xxhash/v2"

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

// ArmOf is the arm a visitor id hashes to in an experiment: a bucket in
// [0, 1) from the id, the name and the seed, then the arm whose share of
// the cumulated weights holds it. The same in every process and after
// every restart; independent between experiments (the name is in the
// hash).
func ArmOf(visitorID string, e *rules.CompiledExperiment) int {
	var buf [128]byte
	b := append(append(append(append(append(buf[:0], visitorID...), 0), e.Name...), 0), e.Seed...)
	h := xxhash.Sum64(b)
	bucket := float64(h>>11) / (1 << 53)
	acc := 0.0
	for i, w := range e.Weights {
		acc += w
		if bucket < acc {
			return i
		}
	}
	return len(e.Weights) - 1
}
