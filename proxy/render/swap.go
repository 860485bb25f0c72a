package render

import (
	"shopedge/proxy/page"
	"shopedge/proxy/plan"
	"shopedge/rewrite"
	"shopedge/rewrite/markup"
	"shopedge/rules"
)

// swap appends what a content swap puts at its region: the element's new
// content, or the attribute (name="value", after a space when it is
// added). A template that reads nothing of the visit was rendered once,
// when the configuration loaded; others are rendered for the visit,
// every value escaped for where it goes (as a URL, and then only http(s)
// or relative, in a URL attribute). ok is false when the template fails
// or its output is refused (logged): the shop's bytes stay.
func (r *Renderer) swap(dst []byte, s *rules.CompiledSwap, reg *page.Region, v *plan.Visit) (_ []byte, ok bool) {
	if s.Parsed == nil {
		return dst, false
	}
	data := markup.SwapData(*v)
	if s.Attr == "" {
		if s.Static != nil {
			return append(dst, s.Static...), true
		}
		out, err := markup.RenderSwapHTML(dst, s.Parsed, data)
		if err != nil {
			r.log.Error("swap not rendered", "swap", s.ID, "err", err)
			return dst, false
		}
		return out, true
	}
	site := rewrite.AttrSite{Range: reg.Span}
	value := s.Static
	if value == nil {
		var err error
		if value, err = markup.RenderSwapAttr(nil, s.Parsed, s.Attr, data); err != nil {
			r.log.Error("swap not rendered", "swap", s.ID, "err", err)
			return dst, false
		}
	}
	return site.AppendAttr(dst, s.Attr, value), true
}
