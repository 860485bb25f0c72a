package console

import (
	"context"
	"errors"
	"time"
)

// ErrBadID is wrapped by Source's errors for input that names no visitor:
// the console answers 400 to it, 503 to any other error.
var ErrBadID = errors.New("not a visitor id")

// Source is what the console shows, read when a page is asked for.
type Source interface {
	// Overview is the proxy's figures now.
	Overview(now time.Time) Overview
	// Actions are the blocks' and the overlays' figures, by id.
	Actions(now time.Time) (blocks, overlays []Action)
	// Profile is what the proxy holds of a visitor, as sections of rows;
	// ok is false when it holds nothing. It records nothing.
	Profile(id string) (sections []Section, ok bool, err error)
	// Explain is what the visitor gets on the page at path and why.
	Explain(id, path string) ([]Section, error)
	// VisitorID is the visitor id that v names (a visitor id, or a visitor
	// cookie shopedge signed); an error wrapping ErrBadID when it names none.
	VisitorID(v string) (string, error)
	// Erase forgets the visitor, as DELETE /profiles/{id} does; an error
	// wrapping ErrBadID when id is no visitor id, another when the
	// erasure failed.
	Erase(id string) error
	// Catalog is up to limit products matching q, and how many match.
	Catalog(q string, limit int) (total int, products []Product)
	// Experiments are every experiment's report.
	Experiments(ctx context.Context) ([]Experiment, error)
	// PreviewChoices are what a preview link may show, from the running
	// configuration.
	PreviewChoices() PreviewChoices
	// PreviewLink signs a preview link, as POST /preview does; an unknown
	// name or a bad lifetime is an error saying so.
	PreviewLink(req PreviewRequest) (PreviewLink, error)
}

// PreviewChoices are the segments and the experiments' arms a preview may
// force, where its link points when not told, and the lifetimes offered.
type PreviewChoices struct {
	Segments    []string
	Experiments []PreviewExperiment
	Base        string   // the shop as visitors reach it through the proxy
	Lifetimes   []string // durations, "1h"
	Lifetime    string   // the default, one of Lifetimes
}

// PreviewExperiment is an experiment a preview may force an arm of.
type PreviewExperiment struct {
	Name, Action string
	Arms         []string
}

// PreviewRequest is what the Preview page's form asks for: a segment, an
// experiment's arm, or both ("" none), a lifetime ("" the default) and a
// base ("" the default).
type PreviewRequest struct {
	Segment, Experiment, Arm string
	Lifetime, Base           string
}

// PreviewLink is a signed preview link and what it previews.
type PreviewLink struct {
	Link                     string
	Segment, Experiment, Arm string
	Expires                  time.Time
}

// Overview is the front page's figures.
type Overview struct {
	At                      time.Time
	Requests, Rewrites      int64
	ClientErrors, Events    int64
	Passed                  []Count // pass-through responses by reason
	Upstream                []Count // failed exchanges with the shop, by kind
	Added                   []Count // histogram of the time added, by bucket
	P50, P99                time.Duration
	ProfilesHeld            int64
	ProfileBytes, MaxMemory int64
	Reloads                 []Reload // newest first
}

// Count is a label and a number.
type Count struct {
	Label string
	N     int64
}

// Reload is one reload of the configuration and its outcome.
type Reload struct {
	At             time.Time
	Result, Detail string
}

// Action is what a block or an overlay did.
type Action struct {
	ID                             string
	Shown, Seen, Clicks, Dismissed int64
	Conversions                    int64
	Revenue                        float64
	CTR                            float64
}

// Section is a titled table.
type Section struct {
	Title string
	Head  []string
	Rows  [][]string
}

// Product is a learned product.
type Product struct {
	ID, Key, Name, URL, Price, Brand, SKU, Availability string
	OutOfStock                                          bool
	Fields                                              []Field
}

// Field is what was extracted of a product, and from where.
type Field struct {
	Name, Value, Source string
}

// Experiment is one experiment's report.
type Experiment struct {
	Name, Action     string
	SRM              bool
	SRMP             float64
	Outcome, Verdict string
	Arms             []Arm
	// Previewable is true when a preview may force one of its arms (the
	// Preview page links each arm).
	Previewable bool
}

// Arm is one arm; Effect is false for the control and when the uplift
// cannot be computed yet.
type Arm struct {
	Name                 string
	Visitors, Converters int64
	Rate                 float64
	Effect               bool
	Uplift, Low, High    float64 // the always-valid interval
	Verdict              string
	MoreVisitors         int64
}
