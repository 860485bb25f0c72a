package plan

import (
	"fmt"
	"testing"

	"shopedge/proxy/catalog"
	"shopedge/proxy/page"
	"shopedge/proxy/profile"
	"shopedge/rules"
)

// TestHoldout: a visitor in an experiment's control arm gets the shop's
// bytes where the action would be (the exit offer gives way to the next
// overlay rule, as if it were not there), one in the treatment arm gets
// the action; both are exposed. A visitor keeps the arm their profile
// holds whatever the hash says, and a preview is never held out.
func TestHoldout(t *testing.T) {
	t.Parallel()
	cfg := demoWith(t, func(c *rules.Config) {
		for i := range c.Recommendations.Blocks {
			if b := &c.Recommendations.Blocks[i]; b.ID == "also-viewed" {
				b.Experiment = &rules.Experiment{Name: "av", Control: 50}
			}
		}
		for i := range c.Overlays.Rules {
			if o := &c.Overlays.Rules[i]; o.ID == "exit-offer" {
				o.Experiment = &rules.Experiment{Name: "exit", Control: 50}
			}
		}
	})
	av, exit := experimentNamed(t, cfg, "av"), experimentNamed(t, cfg, "exit")
	// Visitors of each arm of av, by their ids' hashes.
	var ids [2]string
	for i := 0; ids[0] == "" || ids[1] == ""; i++ {
		id := fmt.Sprintf("v%d", i)
		ids[ArmOf(id, &cfg.Experiments[av])] = id
	}
	a := regions(page.Region{Kind: page.Block, Index: blockAlsoViewed}, page.Region{Kind: page.Body})
	decide := func(id string, arm int, stored bool) *Plan {
		d := returningProspect()
		if stored {
			d.Expose(cfg.Experiments[av].Key, arm)
		}
		in := input(cfg, a, &d)
		in.Request.VisitorID = id
		in.Request.Dismissed = dismissals{}
		in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat, prodCap}}}
		in.Explain = true
		return Decide(in)
	}
	for _, tc := range []struct {
		name   string
		id     string
		arm    int
		stored bool
	}{
		{"control by the hash", ids[0], rules.ArmControl, false},
		{"treatment by the hash", ids[1], rules.ArmTreatment, false},
		{"treatment kept though the hash says control", ids[0], rules.ArmTreatment, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := decide(tc.id, tc.arm, tc.stored)
			r := pl.Regions[0]
			switch tc.arm {
			case rules.ArmControl:
				if r.Action != Keep || r.Why != WhyHeldOut {
					t.Errorf("block %v (%q), want kept, held out", r.Action, r.Why)
				}
			default:
				if r.Action != Block {
					t.Errorf("block %v (%q), want shown", r.Action, r.Why)
				}
			}
			found := false
			for _, e := range pl.Exposures {
				if e.Experiment == av {
					found = true
					if e.Arm != tc.arm {
						t.Errorf("exposed in arm %d, want %d", e.Arm, tc.arm)
					}
				}
			}
			if !found {
				t.Errorf("no exposure to av in %+v", pl.Exposures)
			}
		})
	}
	// The overlay: held out, the next rule that applies may show.
	for i := 0; ; i++ {
		id := fmt.Sprintf("w%d", i)
		if ArmOf(id, &cfg.Experiments[exit]) != rules.ArmControl {
			continue
		}
		pl := decide(id, 0, false)
		if pl.Overlay != nil && pl.Overlay.ID == "exit-offer" {
			t.Fatalf("a held-out visitor got the exit offer")
		}
		held := false
		for _, p := range pl.Passed {
			held = held || p.ID == "exit-offer" && p.Why == WhyHeldOut
		}
		if !held {
			t.Errorf("exit-offer passed over for %+v, want held out", pl.Passed)
		}
		break
	}
	// A preview is never held out, and counts no exposure.
	d := returningProspect()
	in := input(cfg, a, &d)
	in.Request.VisitorID, in.Request.Preview = ids[0], 1
	in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat, prodCap}}}
	if pl := Decide(in); pl.Regions[0].Action != Block || len(pl.Exposures) != 0 {
		t.Errorf("preview: block %v, exposures %+v; want shown, none", pl.Regions[0].Action, pl.Exposures)
	}
}

// experimentNamed is the index of the experiment of a name.
func experimentNamed(t *testing.T, c *rules.Compiled, name string) int {
	t.Helper()
	for i := range c.Experiments {
		if c.Experiments[i].Name == name {
			return i
		}
	}
	t.Fatalf("no experiment %q", name)
	return -1
}

// TestVariants: a visitor in a block's variant gets the variant's
// strategy (and the region says which variant); one in the default arm
// the block as written; an overlay's variant arm its copy.
func TestVariants(t *testing.T) {
	t.Parallel()
	cfg := demoWith(t, func(c *rules.Config) {
		for i := range c.Recommendations.Blocks {
			if b := &c.Recommendations.Blocks[i]; b.ID == "also-viewed" {
				b.Experiment = &rules.Experiment{Name: "av-ab", Variants: []rules.Variant{{Name: "pop", Weight: 50, Strategy: "popular", Title: "Popular"}}}
			}
		}
		for i := range c.Overlays.Rules {
			if o := &c.Overlays.Rules[i]; o.ID == "exit-offer" {
				o.Experiment = &rules.Experiment{Name: "exit-copy", Variants: []rules.Variant{{Name: "fifteen", Weight: 50, Title: "Wait!", Code: "WELCOME15"}}}
			}
		}
	})
	av, exit := experimentNamed(t, cfg, "av-ab"), experimentNamed(t, cfg, "exit-copy")
	a := regions(page.Region{Kind: page.Block, Index: blockAlsoViewed}, page.Region{Kind: page.Body})
	seenBlock, seenOverlay := map[int]bool{}, map[int]bool{}
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("v%d", i)
		d := returningProspect()
		in := input(cfg, a, &d)
		in.Request.VisitorID = id
		in.Request.Dismissed = dismissals{}
		in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat, prodCap}, "popular,session,popular": {prodBag, prodBoots}}} // a variant keeps the fallback it does not name
		pl := Decide(in)
		r := pl.Regions[0]
		arm := ArmOf(id, &cfg.Experiments[av])
		wantVariant, wantFirst := 0, prodHat
		if cfg.Experiments[av].Variant[arm] == 0 {
			wantVariant, wantFirst = 1, prodBag
		}
		if r.Action != Block || r.Variant != wantVariant || r.Products[0] != wantFirst {
			t.Errorf("%s in arm %s: block %v, variant %d, products %v; want variant %d from %d", id, cfg.Experiments[av].Arms[arm], r.Action, r.Variant, r.Products, wantVariant, wantFirst)
		}
		seenBlock[arm] = true
		oarm := ArmOf(id, &cfg.Experiments[exit])
		if pl.Overlay == nil || pl.Overlay.ID != "exit-offer" || (pl.Overlay.Variant == 1) != (cfg.Experiments[exit].Variant[oarm] == 0) {
			t.Errorf("%s: overlay %+v in arm %d, want exit-offer in its arm's copy", id, pl.Overlay, oarm)
		}
		seenOverlay[oarm] = true
		if len(pl.Exposures) != 2 {
			t.Errorf("%s: exposures %+v, want the block's and the overlay's", id, pl.Exposures)
		}
	}
	if len(seenBlock) != 2 || len(seenOverlay) != 2 {
		t.Errorf("arms seen: block %v, overlay %v; want both of each", seenBlock, seenOverlay)
	}
}

// TestArmKeptOrReshuffled: a visitor keeps the arm of their first
// exposure when the weights change; a new seed assigns them afresh.
func TestArmKeptOrReshuffled(t *testing.T) {
	t.Parallel()
	with := func(control rules.Percent, seed string) *rules.CompiledExperiment {
		c := demoWith(t, func(c *rules.Config) {
			c.Recommendations.Blocks[blockAlsoViewed].Experiment = &rules.Experiment{Name: "av", Control: control, Seed: seed}
		})
		return &c.Experiments[0]
	}
	before, wider, reseeded := with(10, ""), with(90, ""), with(10, "2")
	if before.Key != wider.Key || before.Key == reseeded.Key {
		t.Fatalf("keys %x %x %x: want a new key for a new seed only", before.Key, wider.Key, reseeded.Key)
	}
	moved, reshuffled := 0, 0
	for i := range 1000 {
		id := fmt.Sprintf("v%d", i)
		var d profile.Data
		d.Expose(before.Key, ArmOf(id, before)) // exposed under the old weights
		in := &Input{Profile: &d, Request: Request{VisitorID: id}}
		if Arm(in, wider) != ArmOf(id, before) {
			moved++
		}
		if Arm(in, reseeded) != ArmOf(id, reseeded) {
			reshuffled++ // a new seed must read the hash, not the old slot
		}
	}
	if moved != 0 || reshuffled != 0 {
		t.Errorf("%d visitors moved when the control share grew, %d kept an old seed's arm; want 0 and 0", moved, reshuffled)
	}
}

// TestPreviewArm: a preview of an arm shows that arm's version of its
// experiment's action to every visitor id (the control holds the block
// out, the default is the block as written, a variant its strategy),
// while the other experiment's action shows as written; a preview records
// no exposure. An arm out of range forces nothing.
func TestPreviewArm(t *testing.T) {
	t.Parallel()
	cfg := demoWith(t, func(c *rules.Config) {
		for i := range c.Recommendations.Blocks {
			if b := &c.Recommendations.Blocks[i]; b.ID == "also-viewed" {
				b.Experiment = &rules.Experiment{Name: "av-ab", Control: 20, Variants: []rules.Variant{{Name: "pop", Weight: 40, Strategy: "popular", Title: "Popular"}}}
			}
		}
		for i := range c.Overlays.Rules {
			if o := &c.Overlays.Rules[i]; o.ID == "exit-offer" {
				o.Experiment = &rules.Experiment{Name: "exit-copy", Variants: []rules.Variant{{Name: "fifteen", Weight: 50, Title: "Wait!", Code: "WELCOME15"}}}
			}
		}
	})
	av, exit := experimentNamed(t, cfg, "av-ab"), experimentNamed(t, cfg, "exit-copy")
	if got := cfg.Experiments[av].Arms; fmt.Sprint(got) != "[control default pop]" {
		t.Fatalf("arms of av-ab: %v", got)
	}
	a := regions(page.Region{Kind: page.Block, Index: blockAlsoViewed}, page.Region{Kind: page.Body})
	decide := func(id string, exp, arm int) *Plan {
		d := returningProspect()
		in := input(cfg, a, &d)
		in.Request.VisitorID = id
		in.Request.Dismissed = dismissals{}
		in.Engine = &fakeEngine{by: map[string][]catalog.ID{"also_viewed,session,popular": {prodHat, prodCap}, "popular,session,popular": {prodBag, prodBoots}}}
		in.Explain = true
		PreviewArm(in, exp, arm)
		return Decide(in)
	}
	for _, tc := range []struct {
		name     string
		exp, arm int
		action   Action
		variant  int // Region.Variant: 0 as written, 1 + the variant's index
		first    catalog.ID
		overlayV int // the overlay's Variant
	}{
		{"control", av, 0, Keep, 0, 0, 0},
		{"default", av, 1, Block, 0, prodHat, 0},
		{"variant", av, 2, Block, 1, prodBag, 0},
		{"the overlay's variant", exit, 1, Block, 0, prodHat, 1},
		{"the overlay's default", exit, 0, Block, 0, prodHat, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 20 { // whatever the ids hash to
				id := fmt.Sprintf("v%d", i)
				pl := decide(id, tc.exp, tc.arm)
				r := pl.Regions[0]
				if r.Action != tc.action || r.Variant != tc.variant || tc.action == Block && r.Products[0] != tc.first {
					t.Fatalf("%s: block %v (%q), variant %d, products %v; want %v, variant %d from %d", id, r.Action, r.Why, r.Variant, r.Products, tc.action, tc.variant, tc.first)
				}
				if tc.action == Keep && r.Why != WhyHeldOut {
					t.Errorf("%s: kept for %q, want held out", id, r.Why)
				}
				if pl.Overlay == nil || pl.Overlay.ID != "exit-offer" || pl.Overlay.Variant != tc.overlayV {
					t.Fatalf("%s: overlay %+v, want exit-offer in variant %d", id, pl.Overlay, tc.overlayV)
				}
				if len(pl.Exposures) != 0 {
					t.Fatalf("%s: exposures %+v under preview", id, pl.Exposures)
				}
			}
		})
	}
	d := returningProspect()
	in := input(cfg, a, &d)
	PreviewArm(in, av, 3)
	if in.Request.PreviewArm != (ForcedArm{}) {
		t.Errorf("an arm out of range forced %+v", in.Request.PreviewArm)
	}
}
