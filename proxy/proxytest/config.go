package proxytest

import (
	"slices"
	"testing"

	"shopedge/configs"
	"shopedge/proxy/identity"
	"shopedge/rules"
)

// Config is the configuration a proxy is built from: the settings, which
// a test may change before the Build function compiles them
// (rules.Compile). DemoConfig is the only place that parses.
type Config = rules.Config

// secret signs the visitor tokens of every proxy the tests build.
const secret = "test-secret-test-secret-test-secret-0123456789"

// Keys returns the signing keys for a test proxy: one key, id "t1". Each
// call returns a fresh slice.
func Keys() []identity.Key {
	return []identity.Key{{ID: "t1", Secret: []byte(secret)}}
}

// DemoConfig is configs/demo.yaml pointed at upstream, listening on
// 127.0.0.1:0 with the operations listener off, without its experiments
// (whose arms, by the hash of a random visitor id, would make what a
// test's visitor gets a matter of chance: a test of experiments puts its
// own in), then changed by mutate (nil: unchanged). It fails the test when
// the demo configuration does not parse.
func DemoConfig(t testing.TB, upstream string, mutate func(*rules.Config)) *Config {
	t.Helper()
	c, err := rules.Parse("configs/demo.yaml", configs.Demo)
	if err != nil {
		t.Fatalf("proxytest: parse the demo configuration: %v", err)
	}
	cfg := new(Config)
	*cfg = *c.Config // the settings, to change; Build compiles them
	cfg.Upstream.URL = upstream
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = ""
	WithoutExperiments(cfg)
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

// WithoutExperiments takes every experiment out of a configuration: the
// global control and each action's.
func WithoutExperiments(c *Config) {
	c.Experiments = rules.Experiments{}
	if c.Navigation != nil {
		nav := *c.Navigation
		nav.Experiment, c.Navigation = nil, &nav
	}
	if c.Search != nil {
		s := *c.Search
		s.Experiment, c.Search = nil, &s
	}
	c.Recommendations.Blocks = slices.Clone(c.Recommendations.Blocks)
	for i := range c.Recommendations.Blocks {
		c.Recommendations.Blocks[i].Experiment = nil
	}
	c.Overlays.Rules = slices.Clone(c.Overlays.Rules)
	for i := range c.Overlays.Rules {
		c.Overlays.Rules[i].Experiment = nil
	}
	c.Overlays.Banners = slices.Clone(c.Overlays.Banners)
	for i := range c.Overlays.Banners {
		c.Overlays.Banners[i].Experiment = nil
	}
	c.Content = slices.Clone(c.Content)
	for i := range c.Content {
		c.Content[i].Experiment = nil
	}
}
