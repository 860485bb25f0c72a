package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// wakeReader takes, in one read, the request that wakes an idle
// connection.
//
// Between requests fasthttp keeps no read buffer for a connection
// (Server.ReduceMemoryUsage): it waits for the next request with a read of
// one byte, then reads the rest into a buffer it takes from a pool. That is
// two read calls for a request that arrived whole, one more than a server
// that keeps its buffer: on the load harness's demo pages, 3% of the
// server's time (2026-12-03). The wakeReader answers the one-byte read by
// waiting for the socket to be readable and reading what came, up to
// wakeSize bytes, into a buffer taken from a pool only then; the reads
// that follow are served from it until it is empty, and it goes back. An
// idle connection holds no buffer, as before; a request that came whole
// costs one read call.
//
// It serves the reads of one goroutine (fasthttp's, for the connection);
// a Close from another only makes its wait fail.
type wakeReader struct {
	raw      syscall.RawConn
	readFn   func(fd uintptr) bool // w.readFD, made once per connection
	buf      *[wakeSize]byte       // what the last wake read, from wakeBufs; nil when served
	off, end int

	// The last readFD's outcome.
	n   int
	err error
}

// wakeSize bounds one wake's read: a browser's request head, cookies
// included, fits; the rest of a larger one stays in the socket for the
// reads that follow.
const wakeSize = 4 << 10

// wakeMax is the longest read the wakeReader answers: fasthttp's wait is
// one byte; a read into a real buffer (fasthttp's are Server.
// ReadBufferSize, 4 KiB at least) goes to the socket as it is. Any read
// this short is served so, whoever makes it: the bytes come out the same.
const wakeMax = 16

var wakeBufs = sync.Pool{New: func() any { return new([wakeSize]byte) }}

// newWakeReader returns a wakeReader for c, or nil where the socket cannot
// be read directly (not TCP, or not on a system with readFD).
func newWakeReader(c net.Conn) *wakeReader {
	tc, ok := c.(*net.TCPConn)
	if !ok || !canReadFD {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &wakeReader{raw: raw}
	w.readFn = w.readFD
	return w
}

// pending reports whether bytes of the last wake are still to be served.
func (w *wakeReader) pending() bool { return w != nil && w.buf != nil }

// take serves b from what the last wake read.
func (w *wakeReader) take(b []byte) int {
	n := copy(b, w.buf[w.off:w.end])
	w.off += n
	if w.off == w.end {
		wakeBufs.Put(w.buf)
		w.buf = nil
	}
	return n
}

// wait waits for c to be readable (under its read deadline) and reads what
// came; b gets the first of it.
func (w *wakeReader) wait(c net.Conn, b []byte) (int, error) {
	w.n, w.err = 0, nil
	if err := w.raw.Read(w.readFn); err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err // "raw-read": said once, as a read
		}
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if w.err != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError("read", w.err)}
	}
	if w.n == 0 {
		return 0, io.EOF
	}
	w.off, w.end = 0, w.n
	return w.take(b), nil
}

// readFD is the read under syscall.RawConn.Read: false (wait, then call
// again) while nothing came. The buffer is taken only once something did.
func (w *wakeReader) readFD(fd uintptr) bool {
	buf := wakeBufs.Get().(*[wakeSize]byte)
	n, err := readFD(fd, buf[:])
	if err == syscall.EAGAIN {
		wakeBufs.Put(buf)
		return false
	}
	if err != nil || n <= 0 {
		wakeBufs.Put(buf)
		w.n, w.err = 0, err
		return true
	}
	w.buf, w.n = buf, n
	return true
}
