package proxy

import (
	"bytes"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/identity"
)

// identify reads the visitor's token. A missing or invalid one (tampered,
// expired, foreign) makes a new visitor; nothing is answered differently.
// Under preview, the token is read and nothing issued.
func (p *Proxy) identify(x *exchange) {
	if x.preview != nil {
		p.identifyPreview(x) // read only (preview.go)
		return
	}
	raw := requestCookie(&x.ctx.Request.Header, x.conf.cfg.CookieName)
	if len(raw) > 0 && len(raw) <= identity.MaxTokenLen {
		if who, ok := p.ids.VerifyBytes(raw); ok {
			x.visitorID, x.returning = who.ID, true
			x.refresh = p.ids.NeedsRefresh(who)
			p.readThrough(who.ID) // another instance may have seen them last
			return
		}
		p.metrics.badTokens.Add(1)
	}
	x.visitorID, x.refresh = identity.NewVisitorID(), true
	p.metrics.newVisitors.Add(1)
}

// setVisitorCookie puts the visitor's token on the response.
func (p *Proxy) setVisitorCookie(x *exchange) {
	if x.token == "" {
		tok, err := p.ids.Issue(x.visitorID)
		if err != nil {
			p.log.Error("issue visitor token", "err", err)
			return
		}
		x.token = tok
	}
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(x.conf.cfg.CookieName)
	c.SetValue(x.token)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	c.SetSecure(x.https || x.conf.cfg.Identity.HTTPSOnly)
	c.SetMaxAge(int(p.ids.TTL() / time.Second))
	x.ctx.Response.Header.SetCookie(c)
}

// requestCookie returns the value of the request's cookie name (nil if
// none; empty, not nil, for "name="), read from its Cookie header lines
// as they came. fasthttp's own Cookie parses the jar into the header, and
// the header then goes to the shop rebuilt from it: quotes dropped,
// values holding '"', ';' or '\' left out (Django's "messages" cookie,
// Python's quoted values). Read here, the header stays as the browser
// sent it. The first cookie of the name wins (browsers send the most
// specific first), and a value in double quotes comes without them. The
// value aliases the request.
func requestCookie[N string | []byte](h *fasthttp.RequestHeader, name N) []byte {
	for _, line := range h.PeekAll(fasthttp.HeaderCookie) {
		for len(line) > 0 {
			var pair []byte
			pair, line, _ = bytes.Cut(line, []byte{';'})
			if k, v, ok := cookiePair(pair); ok && string(k) == string(name) {
				if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				return v
			}
		}
	}
	return nil
}

// dropCookie takes the cookie name out of the request's Cookie header
// lines and leaves the rest of each as it came (a line left with nothing
// goes), where fasthttp's DelCookie would rebuild the whole jar (see
// requestCookie).
func dropCookie(h *fasthttp.RequestHeader, name string) {
	if requestCookie(h, name) == nil {
		return // as it came, and nothing allocated
	}
	var kept [][]byte // copies: Del and Add reuse the header's buffers
	for _, line := range h.PeekAll(fasthttp.HeaderCookie) {
		var b []byte
		for len(line) > 0 {
			var pair []byte
			pair, line, _ = bytes.Cut(line, []byte{';'})
			if k, _, ok := cookiePair(pair); ok && string(k) == name {
				continue
			}
			if b != nil {
				b = append(b, ';')
			}
			b = append(b, pair...)
		}
		if b = bytes.TrimLeft(b, " \t"); len(b) > 0 {
			kept = append(kept, b)
		}
	}
	h.Del(fasthttp.HeaderCookie)
	// Added as plain lines: as the special header, Cookie would be parsed
	// into the jar again.
	special := !h.DisableSpecialHeader()
	for _, b := range kept {
		h.AddBytesV(fasthttp.HeaderCookie, b)
	}
	if special {
		h.EnableSpecialHeader()
	}
}

// cookiePair splits a pair of a Cookie line into its name and value,
// each without the spaces and tabs around it (RFC 6265's optional
// whitespace); ok is false for a pair without '=', a value with an empty
// name (RFC 6265bis), which names no cookie here. The value is not nil
// when ok, even if empty.
func cookiePair(pair []byte) (name, value []byte, ok bool) {
	name, value, ok = bytes.Cut(pair, []byte{'='})
	return trimOWS(name), trimOWS(value), ok
}

// trimOWS trims spaces and tabs, keeping an empty result non-nil.
func trimOWS(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t') {
		j--
	}
	return b[i:j]
}
