package markup

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
)

//go:embed templates/block.html
var templates embed.FS

// BlockData is what a recommendation block's template reads.
type BlockData struct {
	ID    string // the block's id, as its rule names it
	Title string
	Items []BlockItem
}

// BlockItem is one product in a block.
type BlockItem struct {
	Name   string
	URL    string // a link on the shop, carrying the attribution parameter
	Image  string
	Price  string // formatted with its currency, or ""
	Brand  string
	Rating Rating // the shop's own rating of the product; Count 0 when it has none
}

// Rating is a product's average rating as the shop states it: Value on a
// scale whose top is Best, from Count ratings (or reviews, when Reviews).
// A template shows it only when Count is above 0: {{if .Rating.Count}}.
type Rating struct {
	Value, Best float64
	Count       int
	Reviews     bool // Count counts written reviews, not ratings
}

// Score is the value as a card shows it, to one decimal without a
// trailing zero: "4.5", "5", "8.7".
func (r Rating) Score() string { return oneDecimal(r.Value) }

// Scale is the top of the scale, as Score writes numbers: "5", "10".
func (r Rating) Scale() string { return oneDecimal(r.Best) }

// Text is the rating in words, for those who cannot see the stars:
// "Rated 4.5 out of 5, 132 reviews".
func (r Rating) Text() string {
	noun := "rating"
	if r.Reviews {
		noun = "review"
	}
	if r.Count != 1 {
		noun += "s"
	}
	return "Rated " + r.Score() + " out of " + r.Scale() + ", " + strconv.Itoa(r.Count) + " " + noun
}

// StarsWidth is how much of the five stars' drawing (starsWidth units
// wide) is filled: the value's share of the scale, as a number for an
// SVG width attribute ("108" for 4.5 of 5). An attribute, not a style:
// pages whose policy forbids inline styles still show it.
func (r Rating) StarsWidth() string {
	if r.Best <= 0 {
		return "0"
	}
	share := min(max(r.Value/r.Best, 0), 1)
	return oneDecimal(share * starsWidth)
}

// starsWidth is the width of the five stars in the card's SVG: 24 units
// a star.
const starsWidth = 120

func oneDecimal(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// DefaultBlockTemplate is the built-in block: a titled grid of product
// cards, styled to sit quietly in most shop themes.
var DefaultBlockTemplate = template.Must(template.ParseFS(templates, "templates/block.html"))

// The built-in block in parts, so that a caller may render each product's
// card once and assemble blocks from cards: AppendBlockHead, then
// AppendBlockCard for each item, then AppendBlockFoot give the same bytes
// as RenderBlock with DefaultBlockTemplate.

// AppendBlockHead appends the built-in block's opening (data's items are
// not read).
func AppendBlockHead(dst []byte, data BlockData) ([]byte, error) {
	return execute(dst, "block-head", data)
}

// AppendBlockCard appends one product's card of the built-in block.
func AppendBlockCard(dst []byte, item BlockItem) ([]byte, error) {
	return execute(dst, "block-card", item)
}

// AppendBlockFoot appends the built-in block's end.
func AppendBlockFoot(dst []byte) []byte {
	out, err := execute(dst, "block-foot", nil)
	if err != nil {
		panic(err) // constant markup: cannot fail
	}
	return out
}

func execute(dst []byte, name string, data any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := DefaultBlockTemplate.ExecuteTemplate(buf, name, data); err != nil {
		return dst, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// RenderBlock appends a block rendered with t to dst. Everything from the
// data is escaped by html/template: a product named <script> shows as text,
// and a link that is not http(s) or relative becomes "#ZgotmplZ".
func RenderBlock(dst []byte, t *template.Template, data BlockData) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := t.Execute(buf, data); err != nil {
		return dst, fmt.Errorf("render block %q: %w", data.ID, err)
	}
	return buf.Bytes(), nil
}

// CheckBlockTemplate runs t on sample data, so that a template that
// refers to fields BlockData lacks fails when the configuration loads, not
// when a visitor asks.
func CheckBlockTemplate(t *template.Template) error {
	_, err := RenderBlock(nil, t, BlockData{ID: "check", Title: "Check", Items: []BlockItem{
		{Name: "A product", URL: "/p/a?se_rec=check", Image: "/a.jpg", Price: "€9.99", Brand: "Brand",
			Rating: Rating{Value: 4.5, Best: 5, Count: 12, Reviews: true}},
		{Name: "Another", URL: "/p/b?se_rec=check"},
	}})
	return err
}
