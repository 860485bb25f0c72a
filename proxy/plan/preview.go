package plan

import (
	"strconv"
	"strings"

	"shopedge/proxy/page"
	"shopedge/rules"
)

// Preview: an operator's browser treated as a member of one segment
// (Request.Preview), or as a visitor in one arm of an experiment
// (Request.PreviewArm), or both, and the compact explanation the proxy
// sends it.
//
// An arm previewed is the arm's version of its experiment's action: a
// variant's strategy, title or copy, or, for the control, the shop's own
// bytes there (the region says held out). Every other experiment's action
// shows as written, as it does in every preview: a preview shows the
// configuration, not the luck of a visitor id's hash. A preview is in no
// arm: it records no exposure (choose, experiment.go).
//
// What a preview forces, and nothing more:
//   - the previewed segment holds;
//   - what its definition implies holds too, read from the top of its
//     condition: every condition of an all:, the one of a not: (negated),
//     every one of a not: any:, each segment: reference (and, in turn,
//     what that segment implies), and the built-in lifecycle conditions
//     (new, returning, customer, prospect);
//   - a built-in segment implied true makes its complement false (new and
//     returning, customer and prospect), and the other way round;
//   - every other segment is evaluated as always, on the profile Preview
//     made agree with the implied built-ins (Preview): a segment defined
//     through segment: references sees the previewed one as true, and
//     not: {segment: it} as false.
//
// Conditions on the rest of the profile (visits counted, interests, the
// cart, the traffic source) read the visitor's profile as it is: a
// segment of "visits: at_least 5" previewed holds, while another segment
// of "visits: at_least 5" is true only for a visitor who has them.

// Builtin segment indexes: the built-in segments come first in
// Compiled.Segments, in rules.Segments order.
const (
	segNew, segReturning, segCustomer, segProspect = 0, 1, 2, 3
	builtins                                       = 4
)

// complement is the built-in segment that contradicts built-in i.
func complement(i int) int { return i ^ 1 }

// Preview makes in a preview of segment seg (an index in
// Compiled.Segments; out of range: no preview): it sets
// Request.Preview, and makes the visitor agree with the built-in
// lifecycle segments seg implies: in.Profile, which must be the caller's
// own copy, and Request.Returning.
func Preview(in *Input, seg int) {
	if seg < 0 || seg >= len(in.Config.Segments) {
		in.Request.Preview = 0
		return
	}
	in.Request.Preview = seg + 1
	yes, no := implied(in.Config, seg)
	d := in.Profile
	for _, i := range [...]int{segNew, segReturning, segCustomer, segProspect} {
		if yes&(1<<i) == 0 || no&(1<<i) != 0 {
			continue // not implied, or implied both ways: the profile decides
		}
		switch i {
		case segNew:
			d.Visits = min(d.Visits, 1)
			in.Request.Returning = false
		case segReturning:
			d.Visits = max(d.Visits, 2)
			in.Request.Returning = true
		case segCustomer:
			d.Customer = true
		case segProspect:
			d.Customer, d.Orders = false, 0
		}
	}
}

// ForcedArm is an experiment's arm a preview forces.
type ForcedArm struct {
	Experiment int // 1 + the index in Compiled.Experiments; 0: none
	Arm        int // an index in the experiment's Arms
}

// PreviewArm makes in a preview of arm arm of experiment exp (indexes in
// Compiled.Experiments and its Arms; out of range: no arm forced): it
// sets Request.PreviewArm.
func PreviewArm(in *Input, exp, arm int) {
	if exp < 0 || exp >= len(in.Config.Experiments) || arm < 0 || arm >= len(in.Config.Experiments[exp].Arms) {
		in.Request.PreviewArm = ForcedArm{}
		return
	}
	in.Request.PreviewArm = ForcedArm{Experiment: exp + 1, Arm: arm}
}

// previewing reports whether the request is in preview: a segment or an
// arm forced.
func (r *Request) previewing() bool { return r.Preview != 0 || r.PreviewArm.Experiment != 0 }

// forced reports whether the request's preview forces segment i, and to
// what. It is the first thing members.member asks.
func (r *Request) forced(cfg *rules.Compiled, i int) (held, ok bool) {
	f := r.Preview - 1
	if f < 0 || f >= len(cfg.Segments) {
		return false, false
	}
	if i == f {
		return true, true
	}
	if i >= 64 {
		return false, false
	}
	yes, no := implied(cfg, f)
	y, n := yes&(1<<i) != 0, no&(1<<i) != 0
	if y == n {
		return false, false // not implied, or contradictory: evaluated
	}
	return y, true
}

// implied returns the segments (0–63) segment f implies true and false.
func implied(cfg *rules.Compiled, f int) (yes, no uint64) {
	var im implication
	im.cfg = cfg
	im.mark(f, true)
	im.walk(f, 0, true, 0)
	return im.yes, im.no
}

// implication collects what a segment's condition implies.
type implication struct {
	cfg     *rules.Compiled
	yes, no uint64
}

// maxImplied bounds how deep implied follows conditions and references
// (cycles are refused when the configuration loads; this is a guard).
const maxImplied = 16

func (im *implication) mark(i int, held bool) {
	if i < 0 || i >= 64 {
		return
	}
	if held {
		im.yes |= 1 << i
	} else {
		im.no |= 1 << i
	}
	if i < builtins {
		c := complement(i)
		if held {
			im.no |= 1 << c
		} else {
			im.yes |= 1 << c
		}
	}
}

// walk records what condition k of segment s implies when it holds
// (held) or does not.
func (im *implication) walk(s int, k int32, held bool, depth int) {
	if depth > maxImplied || s < 0 || s >= len(im.cfg.Segments) {
		return
	}
	seg := &im.cfg.Segments[s]
	if int(k) >= len(seg.Preds) {
		return
	}
	p := &seg.Preds[k]
	switch p.Op {
	case rules.OpAll:
		if held || len(p.Kids) == 1 {
			for _, c := range p.Kids {
				im.walk(s, c, held, depth+1)
			}
		}
	case rules.OpAny:
		if !held || len(p.Kids) == 1 {
			for _, c := range p.Kids {
				im.walk(s, c, held, depth+1)
			}
		}
	case rules.OpNot:
		if len(p.Kids) == 1 {
			im.walk(s, p.Kids[0], !held, depth+1)
		}
	case rules.OpSegment:
		im.mark(p.Ref, held)
		im.walk(p.Ref, 0, held, depth+1)
	case rules.OpNew:
		im.mark(segNew, held)
	case rules.OpReturning:
		im.mark(segReturning, held)
	case rules.OpCustomer:
		im.mark(segCustomer, held)
	case rules.OpProspect:
		im.mark(segProspect, held)
	}
}

// MaxExplain bounds the compact explanation AppendExplain writes.
const MaxExplain = 1024

// AppendExplain appends the compact form of a plan's explanation (from a
// Decide with Input.Explain) to dst, for the Shopedge-Explain response
// header: one line of printable ASCII, at most MaxExplain bytes, items
// separated by "; ":
//
//	overlay=ID                 the overlay chosen (overlay=none(REASON): none)
//	KIND[:ID]=OUTCOME          each region of the page but the head and
//	                           the body: KIND is menu, results, block,
//	                           banner or swap (ID: the block's, banner's or
//	                           swap's), OUTCOME is shown, reordered, or the
//	                           reason it kept the shop's bytes
//	overlay:ID=REASON[(DETAIL)] each overlay rule passed over, and why (but
//	                           those not for this page type)
//	overlays=REASON[(DETAIL)]  what held every overlay rule back: min_gap
//	                           (DETAIL: the time left) or not-tracked
//
// REASON is a short code: schedule, segment, device, dismissed,
// dismissed-for, cap, just-bought, condition, nothing-to-show,
// lower-priority, not-tracked, min_gap, csp, too-few,
// new-visitor, no-interest, nothing-true, no-overlay; a reason without a
// code is its text's first words, in lowercase and dashes. When the line
// would be longer than MaxExplain, it ends with "; +N more" for the N
// items left out.
//
//	overlay=exit-offer; block:also-viewed=shown; banner:viewers=nothing-true; overlay:cart-reminder=condition
func AppendExplain(dst []byte, pl *Plan, a *page.Analysis, cfg *rules.Compiled) []byte {
	w := explainWriter{dst: dst, start: len(dst)}
	var item [160]byte
	b := append(item[:0], "overlay="...)
	switch {
	case pl.Overlay != nil:
		b = appendSafe(b, pl.Overlay.ID)
	default:
		b = append(b, "none"...)
		for i, r := range a.Regions {
			if r.Kind == page.Body && i < len(pl.Regions) && pl.Regions[i].Why != "" {
				b = append(b, '(')
				b = appendWhy(b, pl.Regions[i].Why)
				b = append(b, ')')
			}
		}
	}
	w.add(b)
	for i := range a.Regions {
		r := &a.Regions[i]
		if r.Kind == page.Head || r.Kind == page.Body || i >= len(pl.Regions) {
			continue
		}
		d := &pl.Regions[i]
		idx := r.Index
		if len(r.Alts) > 0 {
			idx = d.Index // the one of the place's actions that took it
		}
		b = appendSafe(item[:0], r.Kind.String())
		switch r.Kind {
		case page.Block:
			if idx < len(cfg.Recommendations.Blocks) {
				b = append(b, ':')
				b = appendSafe(b, cfg.Recommendations.Blocks[idx].ID)
			}
		case page.Banner:
			if idx < len(cfg.Overlays.Banners) {
				b = append(b, ':')
				b = appendSafe(b, cfg.Overlays.Banners[idx].ID)
			}
		case page.Swap:
			if idx < len(cfg.Swaps) {
				b = append(b, ':')
				b = appendSafe(b, cfg.Swaps[idx].ID)
			}
		}
		b = append(b, '=')
		switch d.Action {
		case Keep:
			b = appendWhy(b, d.Why)
		case Reorder:
			b = append(b, "reordered"...)
		default:
			b = append(b, "shown"...)
		}
		w.add(b)
	}
	for _, ps := range pl.Passed {
		if ps.Why == WhyPage {
			continue // not for this page type: noise
		}
		if ps.ID != "" {
			b = append(item[:0], "overlay:"...)
			b = appendSafe(b, ps.ID)
		} else {
			b = append(item[:0], "overlays"...) // a reason that holds every rule back
		}
		b = append(b, '=')
		b = appendWhy(b, ps.Why)
		if ps.Detail != "" {
			b = append(b, '(')
			b = appendSafe(b, strings.TrimSuffix(ps.Detail, " left"))
			b = append(b, ')')
		}
		w.add(b)
	}
	return w.finish()
}

// explainWriter writes items within MaxExplain, counting those left out.
type explainWriter struct {
	dst   []byte
	start int
	left  int // items that did not fit
}

// moreRoom is kept free for the "; +N more" that ends a line cut short.
const moreRoom = len("; +999 more")

func (w *explainWriter) add(item []byte) {
	sep := 0
	if len(w.dst) > w.start {
		sep = 2
	}
	if w.left > 0 || len(w.dst)-w.start+sep+len(item) > MaxExplain-moreRoom {
		w.left++
		return
	}
	if sep > 0 {
		w.dst = append(w.dst, "; "...)
	}
	w.dst = append(w.dst, item...)
}

func (w *explainWriter) finish() []byte {
	if w.left > 0 {
		w.dst = append(w.dst, "; +"...)
		w.dst = strconv.AppendInt(w.dst, int64(min(w.left, 999)), 10)
		w.dst = append(w.dst, " more"...)
	}
	return w.dst
}

// whyCodes are the short codes of the reasons.
var whyCodes = [...]struct{ why, code string }{
	{WhyNewVisitor, "new-visitor"}, {WhyNoInterest, "no-interest"}, {WhyTooFew, "too-few"},
	{WhyCSP, "csp"}, {WhyNothingTrue, "nothing-true"}, {WhyNoOverlay, "no-overlay"},
	{WhyNotTracked, "not-tracked"}, {WhyMinGap, "min_gap"}, {WhyPage, "page"},
	{WhySchedule, "schedule"}, {WhySegment, "segment"}, {WhyDevice, "device"},
	{WhyDismissed, "dismissed"}, {WhyDismissedFor, "dismissed-for"}, {WhyCap, "cap"},
	{WhyJustBought, "just-bought"}, {WhyCondition, "condition"}, {WhyNothingShow, "nothing-to-show"},
	{WhyLowerFirst, "lower-priority"}, {WhyDisabled, "disabled"}, {WhyShadowed, "shadowed"},
}

// appendWhy appends a reason's short code; for a reason without one, its
// first words, lowercase, joined by dashes.
func appendWhy(b []byte, why string) []byte {
	for _, c := range whyCodes {
		if c.why == why {
			return append(b, c.code...)
		}
	}
	if why == "" {
		return append(b, "kept"...)
	}
	n, words, dash := 0, 0, false
	for i := 0; i < len(why) && n < 32 && words < 4; i++ {
		c := why[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash {
				b = append(b, '-')
				n++
				dash = false
			}
			b = append(b, c)
			n++
		default:
			if n > 0 && !dash {
				dash = true
				words++
			}
		}
	}
	return b
}

// appendSafe appends s keeping only what the header's syntax leaves
// alone: printable ASCII but space and the separators ; = ( ), each
// other byte as '_'; at most 64 bytes of it.
func appendSafe(b []byte, s string) []byte {
	for i := 0; i < len(s) && i < 64; i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == '=' || c == '(' || c == ')' || c == ',' {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}
