package profile

import "testing"

// TestExpose: a visitor's first exposure to an experiment keeps its arm;
// a second is not a first; beyond MaxExperiments nothing is kept.
func TestExpose(t *testing.T) {
	t.Parallel()
	var d Data
	if !d.Expose(7, 1) {
		t.Fatal("the first exposure is not a first")
	}
	if d.Expose(7, 0) {
		t.Error("a second exposure counted as a first")
	}
	if s, ok := d.Experiment(7); !ok || s.Arm != 1 {
		t.Errorf("slot %+v, %v; want arm 1 kept", s, ok)
	}
	for k := uint32(8); k < 8+MaxExperiments-1; k++ {
		if !d.Expose(k, 0) {
			t.Fatalf("experiment %d not kept with room left", k)
		}
	}
	if d.Expose(100, 0) {
		t.Errorf("a visitor in %d experiments was exposed to another", MaxExperiments)
	}
	if _, ok := d.Experiment(100); ok {
		t.Error("the experiment beyond the slots has a slot")
	}
	d.Experiments()[0].Flags |= Converted
	if s, _ := d.Experiment(7); s.Flags&Converted == 0 {
		t.Error("a change through Experiments did not stay")
	}
}

// TestDropExperiments: the slots of experiments no longer configured are
// freed, the others kept as they were.
func TestDropExperiments(t *testing.T) {
	t.Parallel()
	var d Data
	for k := uint32(1); k <= MaxExperiments; k++ {
		d.Expose(k, int(k%2))
	}
	d.DropExperiments(func(k uint32) bool { return k%2 == 1 })
	if n := len(d.Experiments()); n != (MaxExperiments+1)/2 {
		t.Fatalf("%d slots kept, want %d", n, (MaxExperiments+1)/2)
	}
	if s, ok := d.Experiment(3); !ok || s.Arm != 1 {
		t.Errorf("experiment 3: %+v, %v; want kept in arm 1", s, ok)
	}
	if _, ok := d.Experiment(2); ok {
		t.Error("experiment 2 kept")
	}
	if !d.Expose(100, 0) {
		t.Error("no room after freeing")
	}
}
