package proxy

import (
	"bytes"

	"shopedge/proxy/profile"
)

// A click on a recommended product carries the attribution parameter
// (recommendations.attribution_param) naming its block: counted, kept in
// the visitor's profile as their last click (the orders after it are the
// block's conversions: conversions.go), and taken out of the query before
// it reaches the shop.

// takeAttribution finds the attribution parameter in the request's query:
// it counts a click for the block it names (when the configuration has
// that block; for the visitor too: their last click, and in the
// experiment on the block), and returns the query without it, for the
// shop. found is false when the query has no such parameter.
func (p *Proxy) takeAttribution(conf *config, query []byte, count bool, visitorID string) (rest []byte, found bool) {
	cfg := conf.cfg
	name := cfg.Recommendations.AttributionParam
	if len(cfg.Recommendations.Blocks) == 0 || !bytes.Contains(query, []byte(name)) {
		return query, false
	}
	rest, value, found := stripParam(query, name)
	if found && count {
		for i := range cfg.Recommendations.Blocks {
			if id := cfg.Recommendations.Blocks[i].ID; string(value) == id {
				p.metrics.block(id).clicks.Add(1)
				if visitorID == "" {
					break
				}
				// The visitor's profile, if one is held: a click comes
				// from a page the proxy sent them, after which it is.
				if prof, ok := p.profiles.Get(visitorID); ok {
					key, now := profile.ClickKey(profile.ClickBlock, id), p.now()
					prof.Update(func(d *profile.Data) { d.Clicked(key, now) })
					if cfg.Blocks[i].Action.Experiment > 0 {
						p.experiments.click(cfg, prof, "block:"+id) // the experiment on the block
					}
				}
				break
			}
		}
	}
	return rest, found
}

// stripParam removes every name=value pair with the given name from a raw
// query string, leaving the other pairs byte for byte. It returns the
// first value removed.
func stripParam(query []byte, name string) (rest, value []byte, found bool) {
	rest = make([]byte, 0, len(query))
	for q := query; len(q) > 0; {
		var pair []byte
		pair, q, _ = bytes.Cut(q, []byte{'&'})
		key, val, _ := bytes.Cut(pair, []byte{'='})
		if string(key) == name {
			if !found {
				value, found = val, true
			}
			continue
		}
		if len(rest) > 0 {
			rest = append(rest, '&')
		}
		rest = append(rest, pair...)
	}
	return rest, value, found
}
