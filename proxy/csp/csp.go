// Package csp reads a page's Content-Security-Policy (its headers and its
// <meta http-equiv> values) for what shopedge may add to the page: its
// same-origin stylesheet, script and beacons, and the nonce each tag must
// carry. It never loosens a policy: nothing is allowed by adding a source.
// One file, csp.go; it imports nothing of shopedge.
package csp

import (
	"slices"
	"strings"
)

// Verdict says whether a page's Content-Security-Policy lets the proxy's
// stylesheet and script load and its beacons go out, and with which nonce
// each tag must come. A page with no policy allows all (AllowAll).
type Verdict struct {
	Style       bool   `json:"style"`
	Script      bool   `json:"script"`
	Connect     bool   `json:"connect"`
	StyleNonce  string `json:"style_nonce,omitempty"`
	ScriptNonce string `json:"script_nonce,omitempty"`
}

// AllowAll is the verdict for a page without a policy.
var AllowAll = Verdict{Style: true, Script: true, Connect: true}

// Injects reports whether the verdict lets the proxy's script run and send
// its beacons: what an overlay needs, besides the stylesheet.
func (v Verdict) Injects() bool { return v.Style && v.Script && v.Connect }

// Check reads the enforced policies of a page (every
// Content-Security-Policy header value, and the page's <meta http-equiv>
// ones; report-only policies block nothing) for a same-origin stylesheet,
// script and beacon of host. A resource is allowed when every policy allows
// it: without a nonce where the policy has 'self', a matching host or
// scheme, or no directive for it; with the page's own nonce otherwise.
// 'strict-dynamic' makes a script policy ignore 'self' and hosts, so only
// the nonce will do. Nothing is ever allowed by adding a source.
func Check(policies []string, host string, https bool) Verdict {
	v := AllowAll
	for _, raw := range policies {
		// A header may carry several policies, comma-separated.
		for _, pol := range strings.Split(raw, ",") {
			d := parsePolicy(pol)
			if len(d) == 0 {
				continue
			}
			v.Style = allow(d, []string{"style-src-elem", "style-src", "default-src"}, host, https, false, &v.StyleNonce) && v.Style
			v.Script = allow(d, []string{"script-src-elem", "script-src", "default-src"}, host, https, true, &v.ScriptNonce) && v.Script
			v.Connect = allow(d, []string{"connect-src", "default-src"}, host, https, false, nil) && v.Connect
		}
	}
	return v
}

// parsePolicy splits a policy into directives: name (lowercase) to source
// list. The first of a repeated directive counts, as browsers do.
func parsePolicy(pol string) map[string][]string {
	d := map[string][]string{}
	for _, dir := range strings.Split(pol, ";") {
		f := strings.Fields(dir)
		if len(f) == 0 {
			continue
		}
		name := strings.ToLower(f[0])
		if _, dup := d[name]; !dup {
			d[name] = f[1:]
		}
	}
	return d
}

// allow says whether the first directive of names present in d lets a
// same-origin resource load. When the directive has nonces and no source
// that allows the resource without one, the nonce is needed: *nonce is set
// to it (or the resource is refused when another policy already asked for
// a different one, or nonce is nil, as for beacons, which carry none).
func allow(d map[string][]string, names []string, host string, https, script bool, nonce *string) bool {
	var srcs []string
	found := false
	for _, n := range names {
		if s, ok := d[n]; ok {
			srcs, found = s, true
			break
		}
	}
	if !found {
		return true
	}
	strict := false
	var nonces []string
	plain := false
	for _, s := range srcs {
		ls := strings.ToLower(s)
		switch {
		case ls == "'strict-dynamic'":
			strict = true
		case strings.HasPrefix(ls, "'nonce-") && strings.HasSuffix(s, "'") && len(s) > len("'nonce-'"):
			nonces = append(nonces, s[len("'nonce-"):len(s)-1])
		case ls == "'self'", ls == "*":
			plain = true
		case ls == "https:":
			plain = plain || https
		case ls == "http:":
			plain = true // http: also allows https
		case !strings.HasPrefix(ls, "'") && hostSourceMatches(ls, host, https):
			plain = true
		}
	}
	if script && strict {
		plain = false // 'strict-dynamic' drops 'self', hosts and schemes
	}
	// Where the page has a nonce, our tags carry it, as the page's own do,
	// even when 'self' would do.
	if nonce != nil && len(nonces) > 0 {
		if *nonce == "" {
			*nonce = nonces[0]
			return true
		}
		if slices.Contains(nonces, *nonce) {
			return true
		}
	}
	return plain
}

// hostSourceMatches reports whether a CSP host-source (lowercase) names
// host: "shop.example", "https://shop.example", "*.example", with an
// optional port ("*" for any; none means the scheme's default) and path.
func hostSourceMatches(src, host string, https bool) bool {
	if scheme, rest, ok := strings.Cut(src, "://"); ok {
		// Our resources come with the page's scheme; http: sources also
		// allow https.
		if scheme != "http" && (scheme != "https" || !https) {
			return false
		}
		src = rest
	}
	if i := strings.IndexByte(src, '/'); i >= 0 {
		src = src[:i]
	}
	srcHost, srcPort := splitPort(src)
	h, port := splitPort(strings.ToLower(host))
	def := "80"
	if https {
		def = "443"
	}
	if port == "" {
		port = def
	}
	switch srcPort {
	case "*":
	case "":
		if port != def {
			return false
		}
	default:
		if srcPort != port {
			return false
		}
	}
	if suffix, ok := strings.CutPrefix(srcHost, "*."); ok {
		return strings.HasSuffix(h, "."+suffix)
	}
	return srcHost == h
}

// splitPort splits "host:port" (the port may be missing; an IPv6 literal
// is in brackets).
func splitPort(s string) (host, port string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Contains(s[i:], "]") {
		return s, ""
	}
	return s[:i], s[i+1:]
}
