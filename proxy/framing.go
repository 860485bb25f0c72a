package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/valyala/fasthttp"
)

// Serve serves srv (from Server) on ln, over TLS when the configuration
// says so, with what fasthttp's own reading lacks: a request whose header
// block ends in a bare LF is answered at once with 400 (see guardConn).
func (p *Proxy) Serve(srv *fasthttp.Server, ln net.Listener) error {
	if t := p.state.Load().cfg.Server.TLS; t != nil {
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
	g := guardConn{Conn: c, head: true}
	if tc, ok := c.(*tls.Conn); ok {
		// fasthttp tells TLS by these methods (RequestCtx.IsTLS).
		return &guardTLSConn{guardConn: g, tc: tc}, nil
	}
	return &g, nil
}

// errBareLF ends the reading of a request whose header block ended in a
// bare LF; fasthttp answers it through Server.ErrorHandler, with 400.
var errBareLF = errors.New("proxy: request header block ends in a bare LF")

// guardConn watches the bytes of a request's header block as fasthttp
// reads them. fasthttp accepts a header block ended by bare LFs only once a
// CRLFCRLF is in its buffer (so that a peer that only knows CRLFCRLF cannot
// frame the stream otherwise); without one it waits for more, until the
// read timeout. When the block has ended in a bare LF ("\n\n", or
// "\n\r\n" after a header line) and fasthttp asks for more before any
// CRLFCRLF, the read fails instead, and the client gets its 400 at once.
//
// A header block may be arriving from the connection's start, and after
// each response written (a 1xx is not one), until a CRLFCRLF is read. The
// scan costs a bytes.IndexByte per line of the header block, and nothing
// after it. fasthttp reads and writes a connection from one goroutine.
type guardConn struct {
	net.Conn
	head    bool    // a header block may be arriving
	content bool    // it has begun: a byte other than CR or LF came
	lines   int     // line ends since it began
	last    [3]byte // the last bytes read of it
	bare    bool    // it ended in a bare LF
}

func (c *guardConn) Read(b []byte) (int, error) {
	if c.bare {
		return 0, errBareLF
	}
	n, err := c.Conn.Read(b)
	if c.head && n > 0 {
		c.scan(b[:n])
	}
	return n, err
}

func (c *guardConn) Write(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 1")) {
		// A response: what comes next is a new request.
		c.head, c.content, c.lines, c.last, c.bare = true, false, 0, [3]byte{}, false
	}
	return c.Conn.Write(b)
}

// scan follows the header block through b, the next bytes read.
func (c *guardConn) scan(b []byte) {
	for c.head && len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		seg := b
		if i >= 0 {
			seg = b[:i]
		}
		if !c.content && len(bytes.Trim(seg, "\r")) > 0 {
			c.content = true
		}
		c.push(seg)
		if i < 0 {
			return
		}
		p3, p2, p1 := c.last[0], c.last[1], c.last[2] // the bytes before this LF
		switch {
		case p1 == '\r' && p2 == '\n' && p3 == '\r':
			// CRLFCRLF: fasthttp ends the block, whatever came before.
			c.head, c.bare = false, false
			return
		case !c.content:
			// Empty lines before the request line are skipped.
		case p1 == '\n':
			c.bare = true
		case p1 == '\r' && p2 == '\n' && p3 != '\r' && c.lines >= 2:
			// A CRLF blank line after a header line that ended in a bare
			// LF. (Right after the request line, fasthttp reads it as an
			// empty block.)
			c.bare = true
		}
		if c.content {
			c.lines++
		}
		c.push(b[i : i+1])
		b = b[i+1:]
	}
}

// push shifts b's last bytes into c.last.
func (c *guardConn) push(b []byte) {
	if len(b) >= len(c.last) {
		copy(c.last[:], b[len(b)-len(c.last):])
		return
	}
	copy(c.last[:], c.last[len(b):])
	copy(c.last[len(c.last)-len(b):], b)
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
}

// scanHeaders reads a request's raw header block (RequestHeader.RawHeaders:
// one field a line, the request line not included) in one pass, without
// allocating. A request not read from the wire has no raw block: then
// nothing is known, and forwarded is assumed, so that its forwarded headers
// are removed all the same.
func scanHeaders(raw []byte) (f headerFacts) {
	if len(raw) == 0 {
		f.forwarded = true
		return f
	}
	var seen uint16 // bit i: forwardedHeaders[i] seen
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
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
		case 't':
			if bytes.EqualFold(name, []byte("Transfer-Encoding")) {
				v := bytes.Trim(line[colon+1:], " \t\r")
				f.badTransferEncoding = f.badTransferEncoding || !bytes.EqualFold(v, []byte("chunked"))
			}
		}
	}
	return f
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
