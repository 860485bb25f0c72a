package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"shopedge/rules"
)

// upstream is the one shop the proxy talks to. Requests go to its address
// whatever they ask for: the proxy is never an open proxy.
//
// What reaches the shop, and how often:
//   - Every request has one deadline (upstream.timeout), retries included;
//     a request that timed out is never sent again.
//   - A request is sent again only after a failure on a connection reused
//     from the pool, never on a fresh one (the shop may have acted on it):
//     any method when none of its bytes left (the shop had closed the idle
//     connection, found before writing), GET and HEAD without a body once
//     when the shop closed the connection without a byte of an answer.
//   - Pool exhausted is 503, a timeout 504, anything else 502.
type upstream struct {
	client   *fasthttp.HostClient
	scheme   string // http or https
	host     string // host[:port] as in the URL, for the Host header
	keepHost bool
	timeout  time.Duration

	// dial opens the TCP connection to the shop (tests and benchmarks
	// replace it); dialTimeout bounds it, TLS handshake included.
	dial        func(addr string, timeout time.Duration) (net.Conn, error)
	dialTimeout time.Duration
	tls         *tls.Config // nil for http

	// resent counts the requests sent again, by attemptKind
	// (attemptNotSent, attemptUnanswered): shopedge_upstream_resent_total.
	resent *[attemptKinds]atomic.Int64
}

// newUpstream builds the client for the configured shop; resent counts
// the requests it sends again.
func newUpstream(u rules.Upstream, resent *[attemptKinds]atomic.Int64) (*upstream, error) {
	url, err := rules.ParseUpstreamURL(u.URL)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	addr := url.Host
	if url.Port() == "" {
		if url.Scheme == "https" {
			addr = net.JoinHostPort(url.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(url.Hostname(), "80")
		}
	}
	up := &upstream{
		scheme:      url.Scheme,
		host:        url.Host,
		keepHost:    u.HostHeader == "keep",
		timeout:     u.Timeout.D(),
		dial:        fasthttp.DialTimeout,
		dialTimeout: u.DialTimeout.D(),
		resent:      resent,
	}
	if url.Scheme == "https" {
		up.tls = &tls.Config{
			ServerName:         url.Hostname(),
			InsecureSkipVerify: u.InsecureSkipVerify,
			MinVersion:         tls.VersionTLS12,
			// Idle connections are closed early (max_idle_conn_duration):
			// resume sessions to make the next handshake cheap.
			ClientSessionCache: tls.NewLRUClientSessionCache(64),
		}
	}
	up.client = &fasthttp.HostClient{
		Addr:                     addr,
		IsTLS:                    up.tls != nil,
		MaxConns:                 u.MaxConns,
		MaxConnWaitTimeout:       u.MaxConnWait.D(),
		MaxIdleConnDuration:      u.MaxIdleConnDuration.D(),
		StreamResponseBody:       true,
		DisablePathNormalizing:   true,
		NoDefaultUserAgentHeader: true,
		// The largest response header a shop may send (a larger one is
		// a 502): 32 KiB is twice HAProxy's buffer and 4-8 times nginx's
		// proxy_buffer_size, room for large Set-Cookie and CSP headers.
		// With StreamResponseBody the reader stays taken until the body
		// is read, so a slow visitor of a streamed page holds it.
		ReadBufferSize: 32 << 10,
		// Held only while a request is written; a larger request is
		// written in several pieces.
		WriteBufferSize: 8 << 10,
		// fasthttp's parse errors quote the bytes they failed on, which
		// may hold visitors' cookies: not in logs.
		SecureErrorLogMessage: true,
		// TLS is done by dialConn, under the connection's tracking; the
		// connection it returns has a Handshake method, so fasthttp does
		// not wrap it again.
		DialTimeout: up.dialConn,
		Transport:   attemptTransport{},
		RetryIfErr:  up.retryIfErr,
		// Every pooled connection may be dead (the shop restarted): each
		// costs a non-blocking check, and the last attempt is on a fresh
		// connection. retryIfErr bounds what is actually re-sent.
		MaxIdemponentCallAttempts: u.MaxConns + 1,
	}
	return up, nil
}

// dialConn connects to the shop, TLS included, within the dial timeout
// (and the time left for the request), and tracks the connection.
func (u *upstream) dialConn(addr string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 || timeout > u.dialTimeout {
		timeout = u.dialTimeout
	}
	start := time.Now()
	raw, err := u.dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	c := newTrackedConn(raw)
	if u.tls == nil {
		return c, nil
	}
	tc := tls.Client(raw, u.tls)
	if err := tc.SetDeadline(start.Add(timeout)); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("upstream: tls: %w", err)
	}
	if err := tc.Handshake(); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("upstream: tls handshake: %w", err)
	}
	if err := tc.SetDeadline(time.Time{}); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("upstream: tls: %w", err)
	}
	c.Conn = tc
	return c, nil
}

// errIdleClosed is the write error of a request on a pooled connection the
// shop had closed: nothing of the request was written.
var errIdleClosed = errors.New("upstream: the shop had closed the idle connection; nothing was sent")

// trackedConn is a connection to the shop that knows, for the exchange in
// progress, whether the connection is reused, whether any of the request
// was written and whether any of the response arrived. It is used by one
// exchange at a time (fasthttp's pool hands it to one request), so its
// state needs no lock.
//
// An exchange begins with the first write after reads: HTTP/1.1 without
// pipelining writes a whole request, then reads its response. Before the
// first write on a reused connection it checks, without blocking, that the
// shop has not closed it (or sent bytes nobody asked for, which also
// means it is unusable): otherwise the write fails with errIdleClosed
// before a byte goes out, and the request can go on a fresh connection.
//
// Over TLS it wraps the tls.Conn, so that it counts the bytes of HTTP
// messages (not of TLS records: a close_notify alert is not an answer),
// and peeks at the TCP socket under it: a pending alert, end of file or
// reset there all mean the shop closed.
type trackedConn struct {
	net.Conn                 // what fasthttp reads and writes: TCP, or TLS over it
	raw      syscall.RawConn // the TCP socket, to peek at; nil if none
	peekFn   func(fd uintptr) bool
	local    connAddr

	exchanges int   // exchanges begun on this connection
	reading   bool  // the last operation was a read
	sent      bool  // a byte of this exchange's request was written
	got       int64 // bytes of this exchange's response read
	refused   bool  // this exchange's write was refused: the shop had closed
	closed    bool  // result of the last peek
	peekBuf   [1]byte
}

// connAddr is a trackedConn's local address. fasthttp hands it to the
// Response of each attempt (Response.ParseNetConn), which is how
// attemptTransport finds the connection an attempt used.
type connAddr struct {
	net.Addr
	c *trackedConn
}

func newTrackedConn(raw net.Conn) *trackedConn {
	c := &trackedConn{Conn: raw, reading: true}
	c.local = connAddr{Addr: raw.LocalAddr(), c: c}
	if sc, ok := raw.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.raw = rc
			c.peekFn = c.peek
		}
	}
	return c
}

func (c *trackedConn) LocalAddr() net.Addr { return &c.local }

// Handshake tells fasthttp that TLS, if any, is done.
func (c *trackedConn) Handshake() error {
	if h, ok := c.Conn.(interface{ Handshake() error }); ok {
		return h.Handshake()
	}
	return nil
}

func (c *trackedConn) Write(p []byte) (int, error) {
	if c.reading {
		c.reading = false
		c.exchanges++
		c.sent, c.got, c.refused = false, 0, false
		if c.exchanges > 1 && c.shopClosed() {
			c.refused = true
			return 0, errIdleClosed
		}
	}
	if c.refused {
		return 0, errIdleClosed
	}
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.sent = true
	}
	return n, err
}

func (c *trackedConn) Read(p []byte) (int, error) {
	c.reading = true
	n, err := c.Conn.Read(p)
	c.got += int64(n)
	return n, err
}

// shopClosed reports whether the shop closed the connection (or sent
// bytes unasked) while it was idle. It does not block.
func (c *trackedConn) shopClosed() bool {
	if c.raw == nil {
		return false
	}
	c.closed = false
	if err := c.raw.Read(c.peekFn); err != nil {
		return true // the socket is gone
	}
	return c.closed
}

// outcome says what a failed exchange on this connection allows.
func (c *trackedConn) outcome() attemptKind {
	switch {
	case c.exchanges <= 1:
		return attemptFresh
	case c.refused || !c.sent:
		return attemptNotSent
	case c.got == 0:
		return attemptUnanswered
	}
	return attemptAnswered
}

// attemptKind is what is known of a failed attempt's connection.
type attemptKind uint8

const (
	// attemptFresh: the connection was new. Never re-sent: the shop may
	// have acted on the request, and a shop that fails fresh connections
	// would be hammered.
	attemptFresh attemptKind = iota
	// attemptNotSent: a reused connection, and no byte of the request was
	// written. Any method may go again.
	attemptNotSent
	// attemptUnanswered: a reused connection, the request written, no byte
	// of a response arrived: the shop may have closed it as it was sent.
	// Only a GET or HEAD may go again.
	attemptUnanswered
	// attemptAnswered: part of a response arrived. Never re-sent.
	attemptAnswered

	attemptKinds = iota
)

var attemptKindNames = [...]string{"fresh connection", "nothing sent", "reused connection, no answer", "partial answer"}

func (k attemptKind) String() string { return attemptKindNames[k] }

// attemptError is the error of one attempt, with what its connection
// knows.
type attemptError struct {
	err  error
	kind attemptKind
}

func (e *attemptError) Error() string {
	if e.err == io.EOF {
		return "the shop closed the connection before answering (" + e.kind.String() + ")"
	}
	return e.err.Error() + " (" + e.kind.String() + ")"
}
func (e *attemptError) Unwrap() error { return e.err }

// attemptTransport is fasthttp's transport, with each failure labelled by
// its connection's attemptKind for retryIfErr.
type attemptTransport struct{}

func (attemptTransport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	retry, err := fasthttp.DefaultTransport.RoundTrip(hc, req, resp)
	if err == nil {
		return retry, nil
	}
	// Every failure after a connection was acquired closes it, so its
	// state is this attempt's and nobody else's.
	if a, ok := resp.LocalAddr().(*connAddr); ok {
		return retry, &attemptError{err: err, kind: a.c.outcome()}
	}
	return retry, err
}

// retryIfErr is retryIfErr, counting what it sends again.
func (u *upstream) retryIfErr(req *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
	resetTimeout, retry = retryIfErr(req, attempts, err)
	var a *attemptError
	if retry && u.resent != nil && errors.As(err, &a) {
		u.resent[a.kind].Add(1)
	}
	return resetTimeout, retry
}

// retryIfErr decides whether a failed attempt is sent again (within the
// request's one deadline, which is never extended). See upstream.
func retryIfErr(req *fasthttp.Request, attempts int, err error) (resetTimeout, retry bool) {
	var a *attemptError
	if !errors.As(err, &a) || isTimeout(err) || errors.Is(err, fasthttp.ErrTimeout) {
		return false, false
	}
	switch a.kind {
	case attemptNotSent:
		return false, true
	case attemptUnanswered:
		// Once: a GET reaches the shop at most twice.
		return false, attempts == 1 && (req.Header.IsGet() || req.Header.IsHead()) && len(req.Body()) == 0
	}
	return false, false
}

// upstreamFailure classifies an upstream error into the status the visitor
// gets and a metric label.
func upstreamFailure(err error) (status int, kind string) {
	switch {
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return fasthttp.StatusServiceUnavailable, "pool_exhausted"
	case isTimeout(err), errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout), errors.Is(err, fasthttp.ErrTLSHandshakeTimeout):
		return fasthttp.StatusGatewayTimeout, "timeout"
	}
	return fasthttp.StatusBadGateway, "unreachable"
}
