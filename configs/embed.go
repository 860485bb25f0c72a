// Package configs holds shopedge's shipped configurations: the commented
// reference (reference.yaml, every field with its default), the demo's
// configuration (demo.yaml), and starting points for common shop platforms.
// The files are embedded so the binary can run the demo from anywhere.
package configs

import _ "embed"

// Demo is configs/demo.yaml, the configuration `shopedge demo` runs.
//
//go:embed demo.yaml
var Demo []byte
