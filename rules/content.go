package rules

import (
	"fmt"
	"html/template"

	"shopedge/rewrite/markup"
)

// Swap is a content swap: the inner HTML of the first element a selector
// finds, or one of its attributes, replaced from a template for the
// visitors it targets (a campaign's headline on the home page's hero).
//
//	content:
//	  - id: newsletter-hero
//	    pages: [home]
//	    selector: '.hero h1'
//	    segments: [newsletter]
//	    html: 'Welcome back, reader: <em>10% off</em> this week'
type Swap struct {
	// ID names the swap in metrics and explanations (of the form ValidID
	// accepts). Required.
	ID string `yaml:"id"`
	// Segments are who the swap is for: members of any of these segments
	// (named under segments:, or new, returning, customer, prospect).
	// Default: every visitor.
	Segments []string `yaml:"segments"`
	// Exclude are segments whose members never get it.
	Exclude []string `yaml:"exclude"`
	// Priority ranks the swap against others that want the same place
	// (the same element's content, or the same attribute of it): the
	// highest that applies wins, then the first in the file. Default: 0.
	Priority int `yaml:"priority"`
	// Enabled false keeps the swap in the file, off: it never applies and
	// costs nothing. Default: true.
	Enabled *bool `yaml:"enabled"`
	// Starts and Ends bound when the swap runs (RFC 3339). Default: always.
	Starts string `yaml:"starts"`
	Ends   string `yaml:"ends"`
	// Experiment holds a share of the visitors it would apply to out, and
	// counts both arms (experiments in configs/reference.yaml). Default:
	// none.
	Experiment *Experiment `yaml:"experiment"`

	// Pages are the page types the swap applies on. Required.
	Pages []PageType `yaml:"pages"`
	// Selector finds the element (CSS; the first match). Required.
	Selector Selector `yaml:"selector"`
	// HTML is an html/template that replaces the element's content,
	// reading SwapData (markup.SwapData: .UTMSource, .UTMMedium,
	// .UTMCampaign, .Device, .Visits, .Returning, .Customer), each
	// escaped. One of HTML and Attribute is required.
	HTML string `yaml:"html"`
	// Attribute sets (or replaces) one attribute of the element instead.
	Attribute *SwapAttribute `yaml:"attribute"`
}

// SwapAttribute is the attribute a swap sets.
type SwapAttribute struct {
	// Name is the attribute's name, lowercase. Attributes that run code
	// or styles (on*, style, srcdoc, formaction...) are refused. Required.
	Name string `yaml:"name"`
	// Value is an html/template reading SwapData, escaped for the
	// attribute: as a URL for URL attributes (href, src, srcset,
	// action, poster...), which must then be http(s) or relative, and
	// start with its path or address when the visit completes it (the
	// visit fills in the path or query, never the host). Default: ""
	// (an empty attribute).
	Value string `yaml:"value"`
}

// CompiledSwap is a content swap with what is derived from it.
type CompiledSwap struct {
	*Swap
	// Action is the swap's common fields, compiled.
	Action
	// Attr is the attribute it sets; "" when it replaces the content.
	Attr string
	// Parsed is the template: the content's, or the attribute value's
	// (as markup.ParseSwapAttr parses it). Nil when it did not parse.
	Parsed *template.Template
	// Content is what the content's template puts in the element
	// (markup.SwapContent: text, phrasing elements, other elements, which
	// need a place where a block could go, and list items or headings at
	// its top level, which need one where they close nothing).
	Content markup.SwapContent
	// Static is what the template renders, once, when it reads nothing of
	// the visit; nil when it does (it is rendered for each visitor).
	Static []byte
}

// compileSwaps compiles the content section, parsing each template and
// checking what it may put in the page: problems go to v, at their field.
func compileSwaps(swaps []Swap, index map[string]int, v *validator) []CompiledSwap {
	out := make([]CompiledSwap, 0, len(swaps))
	for i := range swaps {
		s := &swaps[i]
		path := fmt.Sprintf("content[%d]", i)
		cs := CompiledSwap{Swap: s, Action: compileAction(path, s.Segments, s.Exclude, s.Priority, s.Enabled, s.Starts, s.Ends, index, v)}
		var err error
		switch a := s.Attribute; {
		case a != nil && s.HTML != "":
			v.add(path+".attribute", "give html or attribute, not both")
		case a != nil:
			cs.Attr = a.Name
			if a.Name == "" {
				v.add(path+".attribute.name", "required: the attribute to set, like href or class")
				break
			}
			if err = markup.CheckAttrName(a.Name); err != nil {
				v.add(path+".attribute.name", "%v", err)
				break
			}
			if cs.Parsed, err = markup.ParseSwapAttr(path+".attribute.value", a.Name, a.Value); err != nil {
				v.add(path+".attribute.value", "%v", err)
			}
		case s.HTML != "":
			if cs.Parsed, cs.Content, err = markup.ParseSwapHTML(path+".html", s.HTML); err != nil {
				v.add(path+".html", "%v", err)
			}
		default:
			v.add(path, "give html (the element's new content) or attribute (one attribute to set)")
		}
		if err != nil {
			cs.Parsed = nil
		}
		if cs.Parsed != nil && markup.Static(cs.Parsed) {
			if cs.Attr != "" {
				cs.Static, err = markup.RenderSwapAttr(nil, cs.Parsed, cs.Attr, markup.SwapData{})
			} else {
				cs.Static, err = markup.RenderSwapHTML(nil, cs.Parsed, markup.SwapData{})
			}
			if err != nil {
				cs.Static = nil
			}
		}
		out = append(out, cs)
	}
	return out
}

// validateSwaps checks the content section's ids, pages and selectors
// (their templates were checked when compiled).
func (c *Compiled) validateSwaps(v *validator) {
	ids := map[string]bool{}
	for i := range c.Swaps {
		s := &c.Swaps[i]
		path := fmt.Sprintf("content[%d]", i)
		checkID(v, ids, path, s.ID, "swap %q is defined twice")
		if len(s.Pages) == 0 {
			v.add(path+".pages", "required: the page types the swap applies on, like [home]")
		}
		if s.Selector.IsZero() {
			v.add(path+".selector", "required: a CSS selector for the element whose content or attribute is swapped")
		}
		checkSchedule(v, path, &s.Action)
	}
}
