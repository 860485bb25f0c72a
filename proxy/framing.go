package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"shopedge/proxy/console"

	"github.com/valyala/fasthttp"
)

// Serve serves srv (from Server) on ln, over TLS when the configuration
// says so, with what fasthttp's own reading lacks: a request whose header
// block ends in a bare LF is answered at once with 400, behind others on a
// kept-alive connection too, until the connection sends a chunked body
// (see guardConn).
func (p *Proxy) Serve(srv *fasthttp.Server, ln net.Listener) error {
	if t := p.conf.Load().cfg.Server.TLS; t != nil {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return fmt.Errorf("proxy: tls: %w", err)
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if srv.TLSConfig != nil {
			cfg = srv.TLSConfig.Clone()
		}
		cfg.Certificates = append(cfg.Certificates, cert)
		ln = tls.NewListener(ln, cfg)
	}
	return srv.Serve(guardListener{ln})
}

// guardListener hands out guarded connections.
type guardListener struct{ net.Listener }

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	g := guardConn{Conn: c, wake: newWakeReader(c), more: newMoreWriter(c)}
	if tc, ok := c.(*tls.Conn); ok {
		// fasthttp tells TLS by these methods (RequestCtx.IsTLS).
		return &guardTLSConn{guardConn: g, tc: tc}, nil
	}
	return &g, nil
}

// errBareLF ends the reading of a request whose header block ended in a
// bare LF; fasthttp answers it through Server.ErrorHandler, with 400.
var errBareLF = errors.New("proxy: request header block ends in a bare LF")

// guardConn follows the requests of a connection through the bytes fasthttp
// reads, to answer at once a request whose header block ends in a bare LF.
//
// fasthttp ends a header block at its first blank line, but takes a bare-LF
// one ("\n\n", or "\n\r\n" after a header line) for the end only when a
// CRLFCRLF is also in its buffer (so that a peer that only knows CRLFCRLF
// cannot frame the stream otherwise); without one it asks for more, until
// the read timeout. The guard sees such a block end, and when no CRLFCRLF
// follows it in the same read, fails the next read instead: the client gets
// its 400 at once. When one does follow, fasthttp took the bare end, and so
// does the guard.
//
// To find where the next request begins, it frames the stream as fasthttp
// does: empty lines before a request line are skipped; a header block ends
// at its blank line, or at once with a CRLF right after the request line;
// a body of Content-Length bytes follows. A block it cannot frame so (any
// Transfer-Encoding, so chunked bodies; a Content-Length that is not one
// plain number, or two; an obs-fold line) turns the guard off for the rest
// of the connection: a later bare-LF request on it waits for the read
// timeout, as without the guard. fasthttp refuses most of these and closes
// the connection anyway; browsers send none of them but chunked uploads,
// and browsers never end a line in a bare LF.
//
// Header bytes are scanned a line at a time (a bytes.IndexByte, a look at
// the line's first byte), body bytes only counted, nothing allocated.
// fasthttp reads a connection from one goroutine.
type guardConn struct {
	net.Conn
	wake     *wakeReader // nil: reads go to Conn as they are (TLS, not TCP)
	more     *moreWriter // nil: writes go to Conn as they are (TLS, not TCP, not Linux)
	holding  bool        // more of the response being written follows: see hold
	state    uint8
	bare     bool  // a block ended in a bare LF: the next read fails
	lines    int   // header lines of the block so far
	crlf     bool  // the last header line ended in CRLF
	length   int64 // the block's Content-Length; -1: none yet
	unframed bool  // the block has what the guard cannot frame
	body     int64 // body bytes still to come
	// The start of a header line that began in an earlier read.
	partN  int // its length so far (may exceed len(part))
	partCR bool
	part   [48]byte
}

// Where the stream is.
const (
	guardLead  uint8 = iota // before a request line: empty lines are skipped
	guardFirst              // in a request line
	guardHead               // in a header block, at the start of a line or in one
	guardBody               // in a body of known length
	guardOff                // somewhere it cannot tell: the guard is off
)

func (c *guardConn) Read(b []byte) (int, error) {
	if c.bare {
		return 0, errBareLF
	}
	n, err := c.read(b)
	if c.state != guardOff && n > 0 {
		c.scan(b[:n])
	}
	return n, err
}

// Write writes b to the connection, marked "more follows" while the
// connection is told so (hold).
func (c *guardConn) Write(b []byte) (int, error) {
	if c.holding && c.more != nil {
		return c.more.write(c.Conn, b)
	}
	return c.Conn.Write(b)
}

// hold tells the connection whether more of the response being written
// follows the next writes (see moreWriter). It is called from the
// goroutine that writes, between writes; whoever sets it must clear it
// before the response's last bytes are written.
func (c *guardConn) hold(on bool) { c.holding = on }

// read is the connection's read, through its wakeReader where it has one.
func (c *guardConn) read(b []byte) (int, error) {
	switch {
	case c.wake.pending():
		return c.wake.take(b), nil
	case c.wake != nil && len(b) > 0 && len(b) <= wakeMax:
		return c.wake.wait(c.Conn, b)
	}
	return c.Conn.Read(b)
}

// scan follows the stream through b, the next bytes read.
func (c *guardConn) scan(b []byte) {
	for len(b) > 0 && !c.bare {
		switch c.state {
		case guardOff:
			return
		case guardBody:
			n := min(int64(len(b)), c.body)
			c.body -= n
			b = b[n:]
			if c.body == 0 {
				c.state = guardLead
			}
		case guardLead:
			i := 0
			for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
				i++
			}
			b = b[i:]
			if len(b) > 0 {
				c.state = guardFirst
			}
		case guardFirst:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return
			}
			b = b[i+1:]
			c.state, c.lines, c.crlf, c.length, c.unframed, c.partN = guardHead, 0, false, -1, false, 0
		case guardHead:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.keep(b)
				return
			}
			line, n, cr := b[:i], i, i > 0 && b[i-1] == '\r'
			if c.partN > 0 {
				c.keep(line)
				n, cr = c.partN, c.partCR
				line = c.part[:min(n, len(c.part))]
				c.partN = 0
			}
			b = b[i+1:]
			c.line(line, n, cr, b)
		}
	}
}

// keep keeps the start of a header line that goes on in the next read.
func (c *guardConn) keep(b []byte) {
	if len(b) == 0 {
		return
	}
	if c.partN < len(c.part) {
		copy(c.part[c.partN:], b)
	}
	c.partN += len(b)
	c.partCR = b[len(b)-1] == '\r'
}

// line takes a line of the header block: its first bytes (all of them when
// len(line) == n), its length n without the LF, whether it ended in CRLF,
// and rest, what follows it in this read.
func (c *guardConn) line(line []byte, n int, cr bool, rest []byte) {
	if n == 0 || n == 1 && cr {
		// A blank line: the block ends, if fasthttp agrees.
		if cr && (c.lines == 0 || c.crlf) || bytes.Contains(rest, crlfcrlf) {
			c.endBlock()
		} else {
			c.bare = true
		}
		return
	}
	c.lines++
	c.crlf = cr
	if line[0] == ' ' || line[0] == '\t' {
		// obs-fold: fasthttp joins the lines, the guard does not follow.
		c.state = guardOff
		return
	}
	switch line[0] | 0x20 {
	case 'c':
		if hasPrefixFold(line, "content-length:") {
			v := bytes.Trim(line[len("content-length:"):], " \t\r")
			c.unframed = c.unframed || c.length >= 0 || n > len(c.part) || len(v) == 0 || len(v) > 18
			c.length = 0
			for _, d := range v {
				if d < '0' || d > '9' {
					c.unframed = true
					break
				}
				c.length = c.length*10 + int64(d-'0')
			}
		}
	case 't':
		if hasPrefixFold(line, "transfer-encoding:") {
			c.unframed = true
		}
	}
}

// endBlock follows the stream past the end of a header block.
func (c *guardConn) endBlock() {
	switch {
	case c.unframed:
		c.state = guardOff
	case c.length > 0:
		c.state, c.body = guardBody, c.length
	default:
		c.state = guardLead
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// hasPrefixFold reports whether b begins with prefix, ignoring case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}

// guardTLSConn is a guardConn over TLS.
type guardTLSConn struct {
	guardConn
	tc *tls.Conn
}

func (c *guardTLSConn) Handshake() error                     { return c.tc.Handshake() }
func (c *guardTLSConn) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }

// headerFacts is what one pass over a request's header block, as it came on
// the wire, found. fasthttp has parsed the block by then; what it accepts
// but the shop must not see, or see only in one reading, is found here.
type headerFacts struct {
	// badName: a field name that is not an RFC 9110 token (fasthttp
	// accepts a space inside one).
	badName bool
	// underscore: a field name with '_', which CGI-style shops cannot tell
	// apart from the same name with '-' (both become HTTP_X_FOO).
	underscore bool
	// forwarded: a header in forwardedHeaders, another X-Forwarded-*, or
	// one of them spelled with '_' for '-'.
	forwarded bool
	// forwardedTwice: one of forwardedHeaders came more than once.
	forwardedTwice bool
	// badTransferEncoding: a Transfer-Encoding other than chunked (fasthttp
	// lets "identity" through, and then frames the body by Content-Length).
	badTransferEncoding bool
	// consoleCookie: a Cookie header may carry the operations console's
	// session cookie (console.CookieName), which the shop must never get.
	consoleCookie bool
}

// scanHeaders reads a request's raw header block (RequestHeader.RawHeaders:
// one field a line, the request line not included) in one pass, without
// allocating. A request not read from the wire has no raw block: then
// nothing is known, and forwarded is assumed, so that its forwarded headers
// are removed all the same.
func scanHeaders(raw []byte) (f headerFacts) {
	if len(raw) == 0 {
		f.forwarded = true
		f.consoleCookie = true
		return f
	}
	var seen uint16 // bit i: forwardedHeaders[i] seen
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' || line[0] == '\r' {
			continue // the blank line ending the block, or a folded continuation
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			f.badName = true
			continue
		}
		name := line[:colon]
		under := false
		for _, c := range name {
			if !tchar[c] {
				f.badName = true
			}
			under = under || c == '_'
		}
		f.underscore = f.underscore || under
		switch name[0] | 0x20 {
		case 'x', 'f':
			if i := forwardedIndex(name); i >= 0 {
				f.forwarded = true
				if i < len(forwardedHeaders) && !under {
					if seen&(1<<i) != 0 {
						f.forwardedTwice = true
					}
					seen |= 1 << i
				}
			}
		case 'c':
			if bytes.EqualFold(name, []byte("Cookie")) && bytes.Contains(line[colon+1:], []byte(console.CookieName+"=")) {
				f.consoleCookie = true
			}
		case 't':
			if bytes.EqualFold(name, []byte("Transfer-Encoding")) {
				v := bytes.Trim(line[colon+1:], " \t\r")
				f.badTransferEncoding = f.badTransferEncoding || !bytes.EqualFold(v, []byte("chunked"))
			}
		}
	}
	return f
}

// nextLine returns the first line of a raw header block, without its LF,
// and the rest.
func nextLine(raw []byte) (line, rest []byte) {
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[:i], raw[i+1:]
	}
	return raw, nil
}

// forwardedIndex reports whether name is a forwarded header, reading '_' as
// '-': its index in forwardedHeaders, len(forwardedHeaders) for another
// X-Forwarded-* name, or -1.
func forwardedIndex(name []byte) int {
	for i, k := range forwardedHeaders {
		if nameEqual(name, k) {
			return i
		}
	}
	const prefix = "x-forwarded-"
	if len(name) > len(prefix) && nameEqual(name[:len(prefix)], prefix) {
		return len(forwardedHeaders)
	}
	return -1
}

// nameEqual compares a field name with k, ignoring case and reading '_' in
// name as '-'.
func nameEqual(name []byte, k string) bool {
	if len(name) != len(k) {
		return false
	}
	for i := range len(name) {
		a, b := name[i], k[i]
		if a == '_' {
			a = '-'
		}
		if a != b && (a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z') {
			return false
		}
	}
	return true
}

// tchar holds the bytes of an RFC 9110 token (section 5.6.2), what a field
// name is made of.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()
