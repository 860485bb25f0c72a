// Package rules is shopedge's configuration and its life: Parse (decode
// the YAML with the position of every field, fill the defaults), then
// Compile: provision a Compiled (every value derived from the settings,
// computed once: the host set, trusted proxies, typed strategy chains,
// parsed templates, overlays in the order they are tried, the own assets'
// addresses) and validate it, reporting every problem at once as
// file:line:col: field: problem. It also classifies requests (page
// type, cart events), which needs the configuration alone; where a
// purchase page shows its order's total is configured here too
// (events.purchase), read by shopedge/proxy/page.
//
// Files:
//   - config.go: the model, one documented struct per section.
//   - overlays.go: the overlays section (overlay rules, banners, theme),
//     its defaults and its checks.
//   - content.go: the content section (content swaps), its templates
//     parsed and checked.
//   - experiments.go: experiments (the global control, each action's
//     holdout or variants), compiled to arms and weights.
//   - segments.go: the segments section and place: conditions compiled to
//     predicates (Pred, each with its path in the file), Targeting.
//   - types.go: durations, sizes, regular expressions, CSS selectors and page
//     types, checked as they are decoded.
//   - load.go: Load and Parse, positions of fields, Problem and Problems.
//   - compile.go: Compiled and Compile; provisioning, the only step that
//     reads files (templates); Action, the fields every action shares
//     (priority, enabled, schedule, targeting), compiled; ValidID.
//   - validate.go: defaults, and the checks made on a Compiled (reading no
//     file, changing nothing).
//   - keys.go: LoadKeys, the identity keys' secrets from the environment or
//     files.
//   - classify.go: which page type a request is, which event it carries.
//   - warn.go: the warnings of check: actions another always beats in
//     their place, schedules that have ended, shares of nobody.
//   - countries.go: the ISO 3166 country codes a country condition takes.
//   - currencies.go: the ISO 4217 currency codes (IsCurrency), for
//     events.purchase and the orders read from purchase pages.
//   - warn_segments.go: check's warnings of segments that never match,
//     and of actions whose segments all never do.
//
// rules knows nothing of HTTP servers. It imports, of shopedge, only what
// owns a name or a form the configuration must agree with:
// shopedge/rewrite for the positions a block or banner may take
// (rewrite.Positions), shopedge/rewrite/markup to check a shop's own
// templates against the data they render and to build the stylesheet and
// the assets' addresses, shopedge/proxy/recommend for the strategies
// (recommend.Strategies), shopedge/proxy/agent for the device classes a
// rule may target, shopedge/proxy/traffic for the traffic classes,
// shopedge/proxy/catalog for the IDs of categories and products, and
// shopedge/proxy/identity for the key type LoadKeys returns. None of them imports rules.
package rules
