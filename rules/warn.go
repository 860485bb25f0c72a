package rules

import (
	"fmt"
	"slices"
	"time"
)

// warn finds what is valid but cannot do what it seems to: an overlay that
// a rule of higher priority always beats, one whose schedule has ended, a
// segment of no one. Warnings do not stop a configuration; shopedge check
// prints them.
func (c *Compiled) warn(now time.Time, v *validator) {
	byFile := make([]*CompiledOverlay, len(c.OverlayRules))
	for k := range c.OverlayRules {
		byFile[c.OverlayRules[k].index] = &c.OverlayRules[k]
	}
	for _, b := range c.OverlayRules {
		path := fmt.Sprintf("overlays.rules[%d]", b.index)
		if !b.End.IsZero() && !b.End.After(now) {
			v.add(path+".ends", "warning: the schedule ended at %s: %s never shows", b.End.Format(time.RFC3339), b.ID)
			continue
		}
		for _, a := range c.OverlayRules {
			if a.index == b.index || a.Priority <= b.Priority || !c.covers(&a, &b) {
				continue
			}
			v.add(path, "warning: %s (priority %d) is for every visitor %s is for, on each of its pages, and always has something to show: %s shows only once %s is capped or dismissed for the visitor",
				a.ID, a.Priority, b.ID, b.ID, a.ID)
			break
		}
	}
	for i := len(Segments); i < len(c.Segments); i++ {
		s := &c.Segments[i]
		if p := s.Preds[0]; p.Op == OpShare && p.Max == 0 {
			v.add("segments."+s.Name, "warning: a share of 0%%: no visitor is ever in %s", s.Name)
		}
	}
	c.warnSegments(now, v)
}

// covers reports whether overlay a applies wherever and to whomever b
// does, and always has something to show, so that b shows only when a is
// capped or dismissed.
func (c *Compiled) covers(a, b *CompiledOverlay) bool {
	switch a.Kind {
	case OverlayExitIntent, OverlayTimed, OverlayScrollDepth:
	default:
		return false // its condition (a cart, an add) may not hold
	}
	if !a.Start.IsZero() || !a.End.IsZero() {
		return false
	}
	for _, pg := range b.Pages {
		if !slices.Contains(a.Pages, pg) {
			return false
		}
	}
	if len(a.Devices) > 0 && (len(b.Devices) == 0 || !subset(b.Devices, a.Devices)) {
		return false
	}
	for _, e := range a.Target.Exclude {
		if !slices.Contains(b.Target.Exclude, e) {
			return false
		}
	}
	if len(a.Target.Segments) == 0 {
		return true
	}
	if len(b.Target.Segments) == 0 {
		return false
	}
	for _, s := range b.Target.Segments {
		if !c.implied(s, a.Target.Segments) {
			return false
		}
	}
	return true
}

// implied reports whether every member of segment s is in one of segs: it
// is one of them, or it is new and they hold prospect (a first visit has
// not bought, unless the shop's customer cookie says so).
func (c *Compiled) implied(s int, segs []int) bool {
	if slices.Contains(segs, s) {
		return true
	}
	// The built-in segments come first in Compiled.Segments, in Segments
	// order.
	newSeg, prospect := slices.Index(Segments, SegmentNew), slices.Index(Segments, SegmentProspect)
	return s == newSeg && c.Identity.CustomerCookie == "" && slices.Contains(segs, prospect)
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
