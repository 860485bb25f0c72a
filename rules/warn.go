package rules

import (
	"fmt"
	"slices"
	"time"
)

// warn finds what is valid but cannot do what it seems to: an overlay that
// a rule of higher priority always beats, a block, banner or content swap
// whose place another always takes first, one whose schedule has ended, a
// segment of no one. Warnings do not stop a configuration; shopedge check
// prints them. Actions switched off (enabled: false) are left alone: that
// they never apply is what the file says.
func (c *Compiled) warn(now time.Time, v *validator) {
	for _, b := range c.OverlayRules {
		path := fmt.Sprintf("overlays.rules[%d]", b.index)
		if !b.Action.Enabled {
			continue
		}
		if ended(&b.Action, now) {
			v.add(path+".ends", "warning: the schedule ended at %s: %s never shows", b.End.Format(time.RFC3339), b.ID)
			continue
		}
		for _, a := range c.OverlayRules {
			if a.index == b.index || a.Action.Priority <= b.Action.Priority || !c.covers(&a, &b) {
				continue
			}
			v.add(path, "warning: %s (priority %d) is for every visitor %s is for, on each of its pages, and always has something to show: %s shows only once %s is capped or dismissed for the visitor",
				a.ID, a.Action.Priority, b.ID, b.ID, a.ID)
			break
		}
	}
	for i := range c.Blocks {
		b := &c.Blocks[i]
		c.warnPlace(v, now, fmt.Sprintf("recommendations.blocks[%d]", i), b.ID, &b.Action, b.Pages, "shows", func(j int) (*Action, string, []PageType, bool) {
			if j >= len(c.Blocks) {
				return nil, "", nil, false
			}
			a := &c.Blocks[j]
			return &a.Action, a.ID, a.Pages, a.Selector.String() == b.Selector.String() && a.Position == b.Position
		}, "%[2]s shows only when %[1]s has fewer products than its min")
	}
	for i := range c.Banners {
		b := &c.Banners[i]
		c.warnPlace(v, now, fmt.Sprintf("overlays.banners[%d]", i), b.ID, &b.Action, b.Pages, "shows", func(j int) (*Action, string, []PageType, bool) {
			if j >= len(c.Banners) {
				return nil, "", nil, false
			}
			a := &c.Banners[j]
			return &a.Action, a.ID, a.Pages, a.Selector.String() == b.Selector.String() && a.Position == b.Position
		}, "%[2]s shows only when %[1]s has nothing true to say")
	}
	for i := range c.Swaps {
		b := &c.Swaps[i]
		c.warnPlace(v, now, fmt.Sprintf("content[%d]", i), b.ID, &b.Action, b.Pages, "applies", func(j int) (*Action, string, []PageType, bool) {
			if j >= len(c.Swaps) {
				return nil, "", nil, false
			}
			a := &c.Swaps[j]
			return &a.Action, a.ID, a.Pages, a.Selector.String() == b.Selector.String() && a.Attr == b.Attr
		}, "%[2]s never applies")
	}
	for i := len(Segments); i < len(c.Segments); i++ {
		s := &c.Segments[i]
		if p := s.Preds[0]; p.Op == OpShare && p.Max == 0 {
			v.add("segments."+s.Name, "warning: a share of 0%%: no visitor is ever in %s", s.Name)
		}
	}
	c.warnSegments(now, v)
}

// warnPlace warns of the block, banner or swap b (id, at path): its
// schedule has ended, or another in the same place (others(j) for each
// j: its action, id, pages and whether it is in b's place; ok false past
// the last) ranks first and is on wherever and for whomever b is (then
// the message says, with tail, what is left to b: tail formats the
// winner's id, then b's).
func (c *Compiled) warnPlace(v *validator, now time.Time, path, id string, b *Action, pages []PageType, verb string,
	others func(j int) (a *Action, id string, pages []PageType, same bool), tail string) {
	if !b.Enabled {
		return
	}
	if ended(b, now) {
		v.add(path+".ends", "warning: the schedule ended at %s: %s never %s", b.End.Format(time.RFC3339), id, verb)
		return
	}
	self := -1
	for j := 0; ; j++ {
		a, aid, apages, same := others(j)
		if a == nil {
			return
		}
		if a == b {
			self = j
			continue
		}
		first := a.Priority > b.Priority || a.Priority == b.Priority && self < 0
		if !same || !first || !a.Enabled || !c.wins(a, b, apages, pages) {
			continue
		}
		v.add(path, "warning: %s (priority %d) takes the same place, on each of %s's pages, for every visitor %s is for: %s",
			aid, a.Priority, id, id, fmt.Sprintf(tail, aid, id))
		return
	}
}

// ended reports whether an action's schedule ended before now.
func ended(a *Action, now time.Time) bool {
	return !a.End.IsZero() && !a.End.After(now)
}

// wins reports whether action a is on wherever (its pages hold bPages),
// whenever (its schedule holds b's) and for whomever b is.
func (c *Compiled) wins(a, b *Action, aPages, bPages []PageType) bool {
	for _, pg := range bPages {
		if !slices.Contains(aPages, pg) {
			return false
		}
	}
	if !a.Start.IsZero() && (b.Start.IsZero() || b.Start.Before(a.Start)) {
		return false
	}
	if !a.End.IsZero() && (b.End.IsZero() || b.End.After(a.End)) {
		return false
	}
	return c.reaches(a.Target, b.Target)
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
	if !a.Action.Enabled || !a.Start.IsZero() || !a.End.IsZero() {
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
	return c.reaches(a.Target, b.Target)
}

// reaches reports whether targeting a is for every visitor b is for: it
// excludes no more, and its segments hold b's.
func (c *Compiled) reaches(a, b Targeting) bool {
	for _, e := range a.Exclude {
		if !slices.Contains(b.Exclude, e) {
			return false
		}
	}
	if len(a.Segments) == 0 {
		return true
	}
	if len(b.Segments) == 0 {
		return false
	}
	for _, s := range b.Segments {
		if !c.implied(s, a.Segments) {
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
