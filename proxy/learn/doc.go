// Package learn is the step that learns from traffic: a product page's
// product into the catalog (from the page's analysis), and each view, cart
// add and purchase into the visitor's profile, the recommendation engine
// and the live counts social proof reads. It reads a Facts (what the
// request says, as plain values) and changes only the stores a Recorder
// holds. One file, learn.go; it knows no HTTP.
package learn
