// Package rules is shopedge's configuration: the YAML model, loading with
// positions, validation that reports every problem as file:line:col: field:
// problem, and the decisions the configuration drives (page classification,
// the navigation order).
//
// Files:
//   - config.go: the model, one documented struct per section.
//   - types.go: durations, sizes, regular expressions, CSS selectors and page
//     types, checked as they are decoded.
//   - load.go: Load and Parse, positions of fields, Problem and Problems.
//   - validate.go: defaults and the checks decoding cannot make.
//   - classify.go: which page type a request is, which event it carries.
//   - nav.go: the order of a menu's entries given the visitor's interests.
//
// rules knows nothing of HTTP servers or of HTML rewriting.
package rules
