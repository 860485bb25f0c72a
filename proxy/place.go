package proxy

import (
	"shopedge/proxy/plan"
	"shopedge/rules"
)

// place is where the request comes from, for segments' country and
// language conditions: the country from place.country_header, believed
// only when the edge sets it on every request (place.edge_sets_header) or
// the peer is one of server.trusted_proxies (a client may send the header
// itself), and the language from Accept-Language. A configuration with no
// segments of its own reads neither.
func (x *exchange) place() plan.Place {
	cfg := x.conf.cfg
	var pl plan.Place
	if len(cfg.Segments) <= len(rules.Segments) {
		return pl
	}
	h := &x.ctx.Request.Header
	if name := cfg.Place.CountryHeader; name != "" && (cfg.Place.EdgeSetsHeader || x.trustedPeer) {
		pl.Country = plan.ParseCountry(h.Peek(name))
	}
	pl.Language = plan.ParseLanguage(h.Peek("Accept-Language"))
	return pl
}
