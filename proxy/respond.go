package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/proxy/bufpool"
	"shopedge/proxy/codec"
)

// upstreamBody streams an upstream response's body to the visitor and
// releases the upstream response (and its connection) when done.
type upstreamBody struct {
	r    io.Reader
	resp *fasthttp.Response
	buf  *[]byte // returned to the pool on Close
	// p and ctx say, when the shop's body fails after its headers went
	// out (the visitor's connection is then closed: a cut body is never
	// made a short 200), what failed: a log line and a metric. ctx is
	// alive while fasthttp writes the body.
	p   *Proxy
	ctx *fasthttp.RequestCtx
}

func (b *upstreamBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// WriteTo copies the body to the visitor through a pooled buffer. Without
// it, fasthttp hands the stream to the socket's ReadFrom, which allocates a
// 32 KiB buffer for each response and holds it for as long as the visitor
// takes to read.
func (b *upstreamBody) WriteTo(w io.Writer) (int64, error) {
	buf := copyBufs.Get().(*[copyBufSize]byte)
	defer copyBufs.Put(buf)
	var n int64
	for {
		nr, rerr := b.r.Read(buf[:])
		if nr > 0 {
			nw, werr := w.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
			if nw != nr {
				return n, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			b.p.metrics.upstreamError("body_cut")
			b.p.log.Warn("upstream body failed after its headers were sent; the visitor's connection was closed",
				"method", string(b.ctx.Method()), "path", string(b.ctx.Path()), "sent", n, "err", rerr)
			return n, rerr
		}
	}
}

// SupportsBodyWriteTo tells fasthttp to use WriteTo.
func (b *upstreamBody) SupportsBodyWriteTo() bool { return true }

// copyBufSize is the buffer a streamed body is copied through: the
// server's write buffer's size, so that each copy is one write.
const copyBufSize = 32 << 10

var copyBufs = sync.Pool{New: func() any { return new([copyBufSize]byte) }}

func (b *upstreamBody) Close() error {
	err := b.resp.CloseBodyStream()
	fasthttp.ReleaseResponse(b.resp)
	if b.buf != nil {
		bufpool.Put(b.buf)
	}
	return err
}

// passThrough sends the upstream response as it came, streaming its body:
// status, headers (but hop-by-hop ones) and bytes are the shop's. prefix,
// when set, is the start of the body, already read from the stream into
// that buffer. It releases resp.
func (p *Proxy) passThrough(x *exchange, resp *fasthttp.Response, prefix *[]byte) {
	status := resp.StatusCode()
	if x.ctx.IsHead() || status < 200 || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified {
		if prefix != nil {
			bufpool.Put(prefix)
		}
		p.respond(x, resp, nil, 0, false)
		return
	}
	size := resp.Header.ContentLength()
	if size < 0 {
		size = -1 // unknown length: chunked to the visitor
	}
	switch {
	case resp.IsBodyStream() && prefix == nil && size >= 0 && size <= smallBody:
		// A small body of known length is read whole and written in one go:
		// streaming it costs more in writes than the copy.
		b := bufpool.Get()
		var err error
		t0 := time.Now()
		*b, err = codec.ReadAtMost((*b)[:0], resp.BodyStream(), size)
		x.waited += time.Since(t0)
		if err != nil || len(*b) != size {
			_ = resp.CloseBodyStream()
			fasthttp.ReleaseResponse(resp)
			bufpool.Put(b)
			if err == nil {
				err = io.ErrUnexpectedEOF // the shop closed short of its Content-Length
			}
			// %w: a timeout stays one (504, not 502) for upstreamFailure.
			p.upstreamError(x.ctx, fmt.Errorf("read upstream body: %d of %d bytes: %w", len(*b), size, err))
			return
		}
		p.respond(x, resp, newPooledBody(b), size, false)
	case resp.IsBodyStream():
		var r io.Reader = resp.BodyStream()
		if prefix != nil && len(*prefix) > 0 {
			r = io.MultiReader(bytes.NewReader(*prefix), r)
		}
		p.respond(x, resp, &upstreamBody{r: r, resp: resp, buf: prefix, p: p, ctx: x.ctx}, size, false)
	default:
		b := bufpool.Get()
		*b = append(*b, resp.Body()...)
		if prefix != nil {
			bufpool.Put(prefix)
		}
		p.respond(x, resp, newPooledBody(b), len(*b), false)
	}
}

// respond sends the visitor the shop's response, with body (nil: none)
// of size bytes (-1: unknown, chunked): the shop's status and headers but
// the hop-by-hop ones, made private when the body was personalized or the
// response carries the visitor's cookie (exchange.setCookie). It is the
// one way every response from the shop goes out: streamed from the shop
// (upstreamBody, which releases resp when the visitor has it), from a
// buffer the proxy holds (pooledBody), or in pieces (splicedBody); each
// returns its buffers when the server has written it. Otherwise respond
// releases resp.
func (p *Proxy) respond(x *exchange, resp *fasthttp.Response, body io.ReadCloser, size int, personalized bool) {
	ctx := x.ctx
	resp.Header.CopyTo(&ctx.Response.Header)
	// CopyTo copies the client's "add a default Content-Type" too, which
	// the server had turned off: a response the shop sent without one
	// goes out without one (the browser sniffs it), not as text/plain.
	ctx.Response.Header.SetNoDefaultContentType(true)
	stripHop(&ctx.Response.Header, presentNames(&ctx.Response.Header, hopHeaders[:]))
	if personalized || x.setCookie {
		makePrivate(ctx)
	}
	if x.setCookie {
		p.setVisitorCookie(x)
	}
	if ctx.IsHead() {
		// Keep the shop's Content-Length: it describes the GET.
		ctx.Response.SkipBody = true
		ctx.Response.Header.SetContentLength(resp.Header.ContentLength())
	}
	if _, holds := body.(*upstreamBody); !holds {
		if resp.IsBodyStream() {
			_ = resp.CloseBodyStream()
		}
		fasthttp.ReleaseResponse(resp)
	}
	switch {
	case body == nil:
	case ctx.IsHead():
		_ = body.Close()
	default:
		// Written from the proxy's buffers or the shop's stream, which go
		// back once the visitor has them: no copy into a body buffer of
		// the connection's own. A body held whole is written with the
		// connection told that more follows, but for its end (writeHeld).
		switch b := body.(type) {
		case *splicedBody:
			b.conn = heldConn(ctx)
		case *pooledBody:
			b.conn = heldConn(ctx)
		}
		ctx.Response.SetBodyStream(body, size)
	}
}

// splicedBody reads a page as pieces of raw and of scratch. It comes from
// a pool (newSplicedBody) and goes back to it on Close, with its buffers.
type splicedBody struct {
	raw, scratch *[]byte
	pieces       [][]byte
	conn         *guardConn // see writeHeld; set by respond
	// store holds pieces when they are few, as most pages' are: two a
	// region changed, and one.
	store [33][]byte
}

var splicedBodies = sync.Pool{New: func() any { return new(splicedBody) }}

// newSplicedBody returns a splicedBody of raw and scratch, with room for
// n pieces.
func newSplicedBody(raw, scratch *[]byte, n int) *splicedBody {
	b := splicedBodies.Get().(*splicedBody)
	b.raw, b.scratch = raw, scratch
	b.pieces = b.store[:0]
	if n > len(b.store) {
		b.pieces = make([][]byte, 0, n)
	}
	return b
}

func (b *splicedBody) Read(p []byte) (int, error) {
	for len(b.pieces) > 0 {
		if len(b.pieces[0]) == 0 {
			b.pieces = b.pieces[1:]
			continue
		}
		n := copy(p, b.pieces[0])
		b.pieces[0] = b.pieces[0][n:]
		return n, nil
	}
	return 0, io.EOF
}

// WriteTo writes the pieces in turn (fasthttp writes a body that has it
// so): a piece longer than the write buffer's room goes to the socket from
// where it is, past the buffer, where Read would copy it through the
// buffer a buffer's length at a time, one write call each (a ~400 KB page
// cut in a few pieces: three write calls, not thirteen). See writeHeld.
func (b *splicedBody) WriteTo(w io.Writer) (int64, error) {
	n, k, err := writeHeld(w, b.conn, b.pieces)
	b.pieces = b.pieces[k:]
	return n, err
}

// heldConn returns ctx's connection when it can be told that more of a
// response follows (guardConn.hold), else nil: over TLS, off Linux, or
// with server.max_conns_per_ip set (fasthttp then wraps the connection in
// its own type, which hides guardConn's methods).
func heldConn(ctx *fasthttp.RequestCtx) *guardConn {
	if c, ok := ctx.Conn().(*guardConn); ok && c.more != nil {
		return c
	}
	return nil
}

// writeHeld writes pieces to w, the server's writer for conn's response.
// When conn is not nil it is held (guardConn.hold) while all but the last
// moreTail bytes are written, so that a body larger than the server's
// write buffer leaves with its head in one segment train (moreWriter);
// its last bytes are written unheld, and with them, in the server's last
// flush, the rest. It returns the bytes written and how many pieces were
// written whole; a piece written in part is trimmed to what is left.
//
// A body larger than maxHeld is written unheld: it leaves in several
// segments anyway, and held it cost more, not less (see maxHeld).
func writeHeld(w io.Writer, conn *guardConn, pieces [][]byte) (n int64, whole int, err error) {
	var held int64
	if conn != nil {
		for _, p := range pieces {
			held += int64(len(p))
		}
		if held > maxHeld {
			conn = nil
		}
	}
	if conn != nil {
		held = max(held-moreTail, 0)
		defer conn.hold(false)
	}
	for whole < len(pieces) {
		p := pieces[whole]
		if n < held {
			p = p[:min(int64(len(p)), held-n)]
		}
		if conn != nil {
			conn.hold(n < held)
		}
		k, err := w.Write(p)
		n += int64(k)
		pieces[whole] = pieces[whole][k:]
		if err == nil && k < len(p) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return n, whole, err
		}
		if len(pieces[whole]) == 0 {
			whole++
		}
	}
	return n, whole, nil
}

// maxHeld is the largest body writeHeld holds the connection for: what
// fits, with its head, in one segment train on loopback (a segment of up
// to 64 KiB). Held, the load harness's ~400 KB pages cost 195 µs of
// server CPU a request instead of 142, and their client's CPU rose as much
// (2026-12-03): the kernel sends the held tail of each write only when an
// acknowledgement comes, a wake-up more on each side.
const maxHeld = 60 << 10

// moreTail is how many of a body's last bytes writeHeld writes with the
// connection no longer held. One is enough, and more would lose the one
// push for bodies whose end falls just past a multiple of the buffer:
// fasthttp's body writer flushes its buffer as soon as a write fills it
// (held, then), so the last byte always lands in a buffer with room, and
// leaves in the server's last flush, unheld, with all that was held.
const moreTail = 1

func (b *splicedBody) Close() error {
	bufpool.Put(b.raw)
	bufpool.Put(b.scratch)
	*b = splicedBody{} // nothing of the page stays reachable from the pool
	splicedBodies.Put(b)
	return nil
}

// smallBody is the largest body of known length passThrough reads whole
// rather than streams.
const smallBody = 256 << 10

// pooledBody is a response body read from a pooled buffer.
type pooledBody struct {
	bytes.Reader
	buf  *[]byte
	conn *guardConn // see writeHeld; set by respond
}

func (b *pooledBody) WriteTo(w io.Writer) (int64, error) {
	if b.conn == nil {
		return b.Reader.WriteTo(w)
	}
	rest := [1][]byte{(*b.buf)[b.Size()-int64(b.Len()):]}
	n, _, err := writeHeld(w, b.conn, rest[:])
	_, _ = b.Seek(n, io.SeekCurrent) // from where it was: never out of range
	return n, err
}

// newPooledBody reads buf, and returns it to the pool on Close: one
// allocation.
func newPooledBody(buf *[]byte) *pooledBody {
	b := &pooledBody{buf: buf}
	b.Reset(*buf)
	return b
}

func (b *pooledBody) Close() error {
	bufpool.Put(b.buf)
	return nil
}

// makePrivate marks a response as meant for one visitor: no shared cache
// may keep it, and validators of the shop's version no longer apply.
func makePrivate(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	have := presentNames(h, sharedHeaders[:])
	// Del first: Set replaces only the first of several Cache-Control
	// lines, and caches read them as one list (RFC 9110 section 5.3), so
	// a second "public, max-age=60" would stand beside "private, no-store".
	h.Del("Cache-Control")
	h.Set("Cache-Control", "private, no-store")
	for i, k := range sharedHeaders {
		if have&(1<<i) != 0 {
			h.Del(k)
		}
	}
	addVary(h, "Cookie")
	if len(h.ContentEncoding()) > 0 {
		addVary(h, "Accept-Encoding")
	}
}

// sharedHeaders describe the shop's version of a page, for caches:
// makePrivate removes them.
var sharedHeaders = [...]string{"CDN-Cache-Control", "Surrogate-Control", "Cloudflare-CDN-Cache-Control", "ETag", "Last-Modified", "Expires", "Age", "Accept-Ranges"}

// addVary adds a field name to the Vary header unless it is there.
func addVary(h *fasthttp.ResponseHeader, name string) {
	cur := h.Peek("Vary")
	if bytes.Equal(bytes.TrimSpace(cur), []byte("*")) || hasToken(cur, name) {
		return
	}
	if len(cur) == 0 {
		h.Set("Vary", name)
		return
	}
	var buf [128]byte
	h.SetBytesV("Vary", append(append(append(buf[:0], cur...), ", "...), name...))
}

// readBody reads the upstream body into *buf, up to limit bytes. complete
// is false when more remains in the stream.
func readBody(resp *fasthttp.Response, limit int, buf *[]byte) (complete bool, err error) {
	if !resp.IsBodyStream() {
		b := resp.Body()
		*buf = append((*buf)[:0], b...)
		return len(b) <= limit, nil
	}
	*buf, err = codec.ReadAtMost((*buf)[:0], resp.BodyStream(), limit)
	switch {
	case errors.Is(err, codec.ErrTooLarge):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read upstream body: %w", err)
	}
	return true, nil
}

// errorPages are the small pages the proxy answers itself; they never show
// the cause, which goes to the log.
var errorPages = map[int]string{
	fasthttp.StatusBadRequest:                  "The request could not be understood.",
	fasthttp.StatusRequestTimeout:              "The request took too long to arrive.",
	fasthttp.StatusRequestEntityTooLarge:       "The request is too large.",
	fasthttp.StatusMisdirectedRequest:          "This site is not served here.",
	fasthttp.StatusRequestHeaderFieldsTooLarge: "The request headers are too large. Clearing this site's cookies may help.",
	fasthttp.StatusBadGateway:                  "The shop is not answering right now. Please try again in a moment.",
	fasthttp.StatusServiceUnavailable:          "The shop is very busy right now. Please try again in a moment.",
	fasthttp.StatusGatewayTimeout:              "The shop took too long to answer. Please try again in a moment.",
}

func writeErrorPage(ctx *fasthttp.RequestCtx, status int) {
	msg, ok := errorPages[status]
	if !ok {
		msg = "Something went wrong."
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.Response.Header.Set("Content-Type", "text/html; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBodyString(fmt.Sprintf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%d %s</title>"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>"+
		"<body style=\"font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em\">"+
		"<h1>%s</h1><p>%s</p></body></html>\n", status, fasthttp.StatusMessage(status), fasthttp.StatusMessage(status), msg))
}

// upstreamError answers a failed upstream exchange with 502, 503 or 504.
func (p *Proxy) upstreamError(ctx *fasthttp.RequestCtx, err error) {
	status, kind := upstreamFailure(err)
	p.metrics.upstreamError(kind)
	p.log.Warn("upstream failed", "kind", kind, "status", status, "method", string(ctx.Method()), "path", string(ctx.Path()), "err", err)
	writeErrorPage(ctx, status)
}
