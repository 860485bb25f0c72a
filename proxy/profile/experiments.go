package profile

// MaxExperiments is how many experiments a visitor takes part in at once.
// A visitor first exposed to another while all slots are taken is not
// counted in it (and gets its treatment arm by the hash as anyone else):
// the arms stay comparable, as who is left out does not depend on the arm.
const MaxExperiments = 5

// ExperimentSlot is a visitor's part in one experiment, from their first
// exposure: the arm they were assigned, and what was counted of them
// since, so that each visitor counts once per experiment (a converter
// once, their revenue as one sum).
type ExperimentSlot struct {
	Key     uint32  // the experiment's (rules.CompiledExperiment.Key); 0: empty
	Revenue float32 // the orders' value since the first exposure
	Arm     uint8
	Flags   uint8  // Converted, CartAdded, Clicked
	Order   uint16 // a hash of the last order's number, so a reloaded confirmation counts once
}

// The flags of an ExperimentSlot.
const (
	Converted uint8 = 1 << iota // bought since the first exposure
	CartAdded                   // added to the cart since
	Clicked                     // clicked the action's block or overlay since
)

// Experiment returns the visitor's slot in the experiment of key, if they
// were exposed to it.
func (d *Data) Experiment(key uint32) (ExperimentSlot, bool) {
	for _, s := range d.exps[:d.nExps] {
		if s.Key == key {
			return s, true
		}
	}
	return ExperimentSlot{}, false
}

// Expose records the visitor's first exposure to the experiment of key,
// in arm: first is true when this is it (and there was room), false when
// the visitor was exposed before or takes part in MaxExperiments already.
func (d *Data) Expose(key uint32, arm int) (first bool) {
	if _, ok := d.Experiment(key); ok || int(d.nExps) >= MaxExperiments {
		return false
	}
	d.exps[d.nExps] = ExperimentSlot{Key: key, Arm: uint8(arm)}
	d.nExps++
	return true
}

// Experiments returns the visitor's slots, to read or change under the
// profile's lock (Profile.Update).
func (d *Data) Experiments() []ExperimentSlot { return d.exps[:d.nExps] }

// DropExperiments frees the slots of experiments keep says no: those no
// longer configured (removed, or under an old seed), so that a visitor
// can take part in new ones.
func (d *Data) DropExperiments(keep func(key uint32) bool) {
	n := 0
	for _, s := range d.exps[:d.nExps] {
		if keep(s.Key) {
			d.exps[n] = s
			n++
		}
	}
	clear(d.exps[n:d.nExps])
	d.nExps = uint8(n)
}
