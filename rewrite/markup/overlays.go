package markup

import (
	"bytes"
	"embed"
	"fmt"
	"hash/fnv"
	"html/template"
	textTemplate "text/template"
)

//go:embed templates/overlay.html templates/banner.html templates/assets.html
var overlayTemplates embed.FS

//go:embed assets/shopedge.js
var scriptSource string

// DismissCookiePrefix starts the name of the cookie the script sets when a
// visitor dismisses an overlay: the prefix, then the overlay's id. The
// script is rendered with it.
const DismissCookiePrefix = "se_dis_"

//go:embed assets/shopedge.css
var stylesheet string

var (
	overlayTmpl = template.Must(template.ParseFS(overlayTemplates, "templates/overlay.html"))
	bannerTmpl  = template.Must(template.ParseFS(overlayTemplates, "templates/banner.html"))
	assetsTmpl  = template.Must(template.ParseFS(overlayTemplates, "templates/assets.html"))
	// The stylesheet is CSS, filled with colours the configuration checked
	// to be hex colours: text/template, not html/template, which would
	// escape it as HTML.
	cssTmpl = textTemplate.Must(textTemplate.New("css").Parse(stylesheet))
	// The script is JavaScript with the names it shares with the server
	// filled in, once: text/template, for the same reason.
	script = renderScript()
)

func renderScript() []byte {
	var buf bytes.Buffer
	t := textTemplate.Must(textTemplate.New("js").Parse(scriptSource))
	if err := t.Execute(&buf, struct{ DismissCookiePrefix string }{DismissCookiePrefix}); err != nil {
		panic(err) // an embedded template and a constant: cannot fail
	}
	return buf.Bytes()
}

// OverlayData is what an overlay's template reads. A custom template
// renders the dialog's content only: the dialog element around it, with
// its trigger and close button, is always the built-in one.
type OverlayData struct {
	ID   string // the overlay's id
	Kind string // exit_intent, abandoned_cart, ...
	// Trigger is when the script opens it: load, timer, scroll or exit.
	Trigger string
	// Ms is the delay (timer) or the least dwell time (exit), in
	// milliseconds; Depth the scroll depth in percent.
	Ms    int64
	Depth int
	// DismissFor is how long, in seconds, a dismissal keeps it away.
	DismissFor int64

	Title, Text, Code string
	Button, Link      string
	// Ends says when the offer ends ("Ends in 3 hours"), from the rule's
	// schedule, or "".
	Ends  string
	Items []OverlayItem // cart lines or recommended products
}

// OverlayItem is a product an overlay lists.
type OverlayItem struct {
	Name, URL, Image, Price string
	Qty                     int // in the cart; 0 for a recommendation
}

// RenderOverlay appends the overlay's dialog to dst, its content from t
// (nil: the built-in one). Everything from data is escaped.
func RenderOverlay(dst []byte, t *template.Template, data OverlayData) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	err := overlayTmpl.ExecuteTemplate(buf, "open", data)
	if err == nil {
		if t != nil {
			err = t.Execute(buf, data)
		} else {
			err = overlayTmpl.ExecuteTemplate(buf, "content", data)
		}
	}
	if err == nil {
		err = overlayTmpl.ExecuteTemplate(buf, "close", data)
	}
	if err != nil {
		return dst, fmt.Errorf("render overlay %q: %w", data.ID, err)
	}
	return buf.Bytes(), nil
}

// The built-in dialog in parts, so that a caller may keep what does not
// change between visitors (the dialog's head and tail, per overlay and
// variant; each product's line) and assemble dialogs from them:
// AppendOverlayHead, AppendOverlayEnds when it has a deadline, then for
// items AppendOverlayItemsOpen, AppendOverlayItem for each and
// AppendOverlayItemsClose, then AppendOverlayTail give the same bytes as
// RenderOverlay with the built-in content.

// AppendOverlayHead appends the dialog's opening, its title, text and
// code (data's Ends, Items, Button and Link are not read).
func AppendOverlayHead(dst []byte, data OverlayData) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	err := overlayTmpl.ExecuteTemplate(buf, "open", data)
	if err == nil {
		err = overlayTmpl.ExecuteTemplate(buf, "content-head", data)
	}
	if err != nil {
		return dst, fmt.Errorf("render overlay %q: %w", data.ID, err)
	}
	return buf.Bytes(), nil
}

// AppendOverlayEnds appends the line that says when the offer ends.
func AppendOverlayEnds(dst []byte, ends string) []byte {
	dst = append(dst, endsHead...)
	dst = appendEscaped(dst, ends)
	return append(dst, endsTail...)
}

// endsHead and endsTail are the deadline's line around its text.
var endsHead, endsTail = func() ([]byte, []byte) {
	var buf bytes.Buffer
	if err := overlayTmpl.ExecuteTemplate(&buf, "content-ends", marker); err != nil {
		panic(err) // an embedded template and a constant: cannot fail
	}
	head, tail, err := cutAtText(buf.Bytes())
	if err != nil {
		panic(err)
	}
	return head, tail
}()

// AppendOverlayItemsOpen appends the start of the list of products.
func AppendOverlayItemsOpen(dst []byte) []byte { return append(dst, itemsOpen...) }

// AppendOverlayItemsClose appends the end of the list of products.
func AppendOverlayItemsClose(dst []byte) []byte { return append(dst, itemsClose...) }

var itemsOpen, itemsClose = constant("items-open"), constant("items-close")

// constant renders a part of the dialog that reads no data.
func constant(name string) []byte {
	var buf bytes.Buffer
	if err := overlayTmpl.ExecuteTemplate(&buf, name, nil); err != nil {
		panic(err) // an embedded template without data: cannot fail
	}
	return buf.Bytes()
}

// AppendOverlayItem appends one product's line in the list.
func AppendOverlayItem(dst []byte, item OverlayItem) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := overlayTmpl.ExecuteTemplate(buf, "item", item); err != nil {
		return dst, fmt.Errorf("render overlay item: %w", err)
	}
	return buf.Bytes(), nil
}

// AppendOverlayTail appends the dialog's button and its end (data's
// Button and Link only are read).
func AppendOverlayTail(dst []byte, data OverlayData) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	err := overlayTmpl.ExecuteTemplate(buf, "content-tail", data)
	if err == nil {
		err = overlayTmpl.ExecuteTemplate(buf, "close", data)
	}
	if err != nil {
		return dst, fmt.Errorf("render overlay %q: %w", data.ID, err)
	}
	return buf.Bytes(), nil
}

// CheckOverlayTemplate runs t on sample data, so that a template that
// refers to fields OverlayData lacks fails when the configuration loads.
func CheckOverlayTemplate(t *template.Template) error {
	_, err := RenderOverlay(nil, t, OverlayData{ID: "check", Kind: "timed", Trigger: "timer", Title: "Check", Text: "Text",
		Code: "CODE", Button: "Go", Link: "/", Ends: "Ends in 1 hour",
		Items: []OverlayItem{{Name: "A product", URL: "/p/a", Image: "/a.jpg", Price: "€9.99", Qty: 1}}})
	return err
}

// BannerData is what a banner reads.
type BannerData struct {
	ID, Kind string
	Text     string // the message, its numbers filled in
	Reached  bool   // free shipping: the cart qualifies
}

// RenderBanner appends a banner to dst.
func RenderBanner(dst []byte, data BannerData) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := bannerTmpl.Execute(buf, data); err != nil {
		return dst, fmt.Errorf("render banner %q: %w", data.ID, err)
	}
	return buf.Bytes(), nil
}

// Banner is one banner's markup rendered once, cut where its text goes:
// Append gives RenderBanner's bytes for any text at the cost of copies
// (a banner's text carries the visitor's numbers, an amount or a count,
// so that few visitors share one). It is safe for concurrent use.
type Banner struct {
	head [2][]byte // before the text: not reached, reached
	tail []byte
}

// NewBanner renders the banner of that id and kind around its text.
func NewBanner(id, kind string) (*Banner, error) {
	b := &Banner{}
	for i, reached := range []bool{false, true} {
		out, err := RenderBanner(nil, BannerData{ID: id, Kind: kind, Text: marker, Reached: reached})
		if err != nil {
			return nil, err
		}
		head, tail, err := cutAtText(out)
		if err != nil {
			return nil, fmt.Errorf("banner %q: %w", id, err)
		}
		if i > 0 && !bytes.Equal(tail, b.tail) {
			return nil, fmt.Errorf("banner %q: its end differs when reached", id)
		}
		b.head[i], b.tail = head, tail
	}
	return b, nil
}

// Append appends the banner saying text (reached: a free-shipping
// threshold the cart reached), the same bytes as RenderBanner.
func (b *Banner) Append(dst []byte, text string, reached bool) []byte {
	h := b.head[0]
	if reached {
		h = b.head[1]
	}
	dst = append(dst, h...)
	dst = appendEscaped(dst, text)
	return append(dst, b.tail...)
}

// Assets are the addresses of the stylesheet and script, and the page's
// CSP nonce ("" for none), for the tags that load them.
type Assets struct {
	CSS, JS, Beacon string
	Nonce           string
}

// AppendStylesheet appends the tag that loads the stylesheet (for the end
// of the head).
func AppendStylesheet(dst []byte, a Assets) []byte {
	buf := bytes.NewBuffer(dst)
	if err := assetsTmpl.ExecuteTemplate(buf, "css", a); err != nil {
		panic(err) // fixed template and string fields: cannot fail
	}
	return buf.Bytes()
}

// AppendScript appends the tag that loads the script (for the end of the
// body).
func AppendScript(dst []byte, a Assets) []byte {
	buf := bytes.NewBuffer(dst)
	if err := assetsTmpl.ExecuteTemplate(buf, "js", a); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Tags are the tags that load the stylesheet and the script from fixed
// addresses, rendered once without a nonce and once cut where a nonce
// goes: a page whose policy wants one (a fresh one on every response)
// gets its tags at the cost of copies, the same bytes as
// AppendStylesheet and AppendScript. It is safe for concurrent use.
type Tags struct {
	css, js           []byte    // without a nonce
	cssNonce, jsNonce [2][]byte // around a nonce: before it, after it
}

// NewTags renders the tags of a's addresses (a.Nonce is not read).
func NewTags(a Assets) (*Tags, error) {
	a.Nonce = ""
	t := &Tags{css: AppendStylesheet(nil, a), js: AppendScript(nil, a)}
	a.Nonce = marker
	var err error
	if t.cssNonce[0], t.cssNonce[1], err = cutAtText(AppendStylesheet(nil, a)); err != nil {
		return nil, fmt.Errorf("stylesheet tag: %w", err)
	}
	if t.jsNonce[0], t.jsNonce[1], err = cutAtText(AppendScript(nil, a)); err != nil {
		return nil, fmt.Errorf("script tag: %w", err)
	}
	return t, nil
}

// AppendStylesheet appends the tag that loads the stylesheet, with nonce
// ("" for none).
func (t *Tags) AppendStylesheet(dst []byte, nonce string) []byte {
	if nonce == "" {
		return append(dst, t.css...)
	}
	return withNonce(dst, t.cssNonce, nonce)
}

// AppendScript appends the tag that loads the script, with nonce ("" for
// none).
func (t *Tags) AppendScript(dst []byte, nonce string) []byte {
	if nonce == "" {
		return append(dst, t.js...)
	}
	return withNonce(dst, t.jsNonce, nonce)
}

func withNonce(dst []byte, around [2][]byte, nonce string) []byte {
	dst = append(dst, around[0]...)
	dst = appendEscaped(dst, nonce) // an attribute's value, not a URL: escaped as text is
	return append(dst, around[1]...)
}

// Script returns the overlay script, the same bytes on every call.
func Script() []byte { return script }

// Theme are the colours of the stylesheet: CSS hex colours, checked by the
// caller.
type Theme struct {
	Accent, AccentText, Background, Text string
}

// Stylesheet returns the stylesheet with the theme's colours.
func Stylesheet(th Theme) ([]byte, error) {
	var buf bytes.Buffer
	if err := cssTmpl.Execute(&buf, th); err != nil {
		return nil, fmt.Errorf("render stylesheet: %w", err)
	}
	return buf.Bytes(), nil
}

// Version returns a short hash of b, for asset URLs that change when
// their content does.
func Version(b []byte) string {
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum64())[:10]
}
