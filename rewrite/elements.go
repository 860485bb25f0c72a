package rewrite

import "golang.org/x/net/html/atom"

// kind is a set of properties the tree builder needs about an element.
type kind uint32

const (
	kVoid         kind = 1 << iota // never has content or an end tag
	kOptionalEnd                   // its end tag may be omitted without changing the tree
	kClosesP                       // its start tag closes an open p
	kSpecial                       // the HTML "special" category
	kFormatting                    // a, b, i, ...: reconstructed when left open
	kScope                         // bounds "has an element in scope"
	kHeadContent                   // may live in head
	kRawText                       // content is raw text (script, style, ...)
	kOpaque                        // content is not indexed (svg, math, template)
	kTableSection                  // tbody, thead, tfoot
	kFosterOK                      // may appear directly inside table, tbody or tr
	kBreakout                      // ends foreign (svg, math) content
	kMarker                        // clears the active formatting elements when closed
	kHeading
)

func kindOf(a atom.Atom) kind {
	switch a {
	case atom.Area, atom.Base, atom.Basefont, atom.Bgsound, atom.Br, atom.Col, atom.Embed,
		atom.Frame, atom.Hr, atom.Img, atom.Input, atom.Keygen, atom.Link, atom.Meta,
		atom.Param, atom.Source, atom.Track, atom.Wbr:
		k := kVoid | kSpecial
		switch a {
		case atom.Hr:
			k |= kClosesP | kBreakout
		case atom.Base, atom.Basefont, atom.Bgsound, atom.Link, atom.Meta:
			k |= kHeadContent
			if a == atom.Meta {
				k |= kBreakout
			}
		case atom.Br, atom.Embed, atom.Img:
			k |= kBreakout
		case atom.Input, atom.Col:
			k |= kFosterOK
		}
		return k
	case atom.Html:
		return kOptionalEnd | kSpecial | kScope
	case atom.Head:
		return kOptionalEnd | kSpecial | kBreakout
	case atom.Body:
		return kOptionalEnd | kSpecial | kBreakout
	case atom.Li:
		return kOptionalEnd | kSpecial | kClosesP | kBreakout
	case atom.Dd, atom.Dt:
		return kOptionalEnd | kSpecial | kClosesP | kBreakout
	case atom.P:
		return kOptionalEnd | kSpecial | kClosesP | kBreakout
	case atom.Rb, atom.Rp, atom.Rt, atom.Rtc, atom.Optgroup, atom.Option:
		return kOptionalEnd
	case atom.Tbody, atom.Thead, atom.Tfoot:
		return kOptionalEnd | kSpecial | kTableSection | kFosterOK
	case atom.Tr:
		return kOptionalEnd | kSpecial | kFosterOK
	case atom.Td, atom.Th:
		return kOptionalEnd | kSpecial | kScope | kFosterOK | kMarker
	case atom.Caption:
		return kOptionalEnd | kSpecial | kScope | kFosterOK | kMarker
	case atom.Colgroup:
		return kOptionalEnd | kSpecial | kFosterOK
	case atom.Table:
		return kSpecial | kScope | kClosesP | kBreakout
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details,
		atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Footer, atom.Header, atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol,
		atom.Section, atom.Summary, atom.Ul, atom.Search, atom.Form:
		k := kSpecial | kClosesP
		switch a {
		case atom.Blockquote, atom.Center, atom.Div, atom.Dl, atom.Menu, atom.Ol, atom.Ul:
			k |= kBreakout
		case atom.Form:
			k |= kFosterOK
		}
		return k
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return kSpecial | kClosesP | kHeading | kBreakout
	case atom.Pre, atom.Listing:
		return kSpecial | kClosesP | kBreakout
	case atom.Applet, atom.Marquee, atom.Object:
		return kSpecial | kScope | kMarker
	case atom.Button, atom.Frameset, atom.Iframe, atom.Noembed, atom.Noframes, atom.Select, atom.Xmp, atom.Plaintext:
		k := kSpecial
		switch a {
		case atom.Iframe, atom.Noembed, atom.Xmp, atom.Plaintext:
			k |= kRawText
		case atom.Noframes:
			k |= kRawText | kHeadContent
		}
		if a == atom.Xmp || a == atom.Plaintext {
			k |= kClosesP
		}
		return k
	case atom.Script, atom.Style:
		return kSpecial | kRawText | kHeadContent | kFosterOK
	case atom.Noscript:
		return kSpecial | kRawText | kHeadContent
	case atom.Title:
		return kSpecial | kRawText | kHeadContent
	case atom.Textarea:
		return kSpecial | kRawText
	case atom.Template:
		return kSpecial | kScope | kHeadContent | kOpaque | kFosterOK | kMarker
	case atom.Svg, atom.Math:
		return kOpaque
	case atom.A, atom.B, atom.Big, atom.Code, atom.Em, atom.Font, atom.I, atom.Nobr, atom.S,
		atom.Small, atom.Strike, atom.Strong, atom.Tt, atom.U:
		k := kFormatting
		if a != atom.A && a != atom.Font {
			k |= kBreakout
		}
		return k
	case atom.Ruby, atom.Span, atom.Sub, atom.Sup, atom.Var:
		return kBreakout
	}
	return 0
}

// rawTextNames holds, for each raw text element, the lowercase name that
// ends it.
var rawTextNames = func() map[atom.Atom][]byte {
	m := map[atom.Atom][]byte{atom.Script: nameScript, atom.Plaintext: namePlaintext}
	for _, a := range []atom.Atom{atom.Style, atom.Xmp, atom.Iframe, atom.Noembed,
		atom.Noframes, atom.Noscript, atom.Textarea, atom.Title} {
		m[a] = []byte(a.String())
	}
	return m
}()
