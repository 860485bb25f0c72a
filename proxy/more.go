package proxy

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// moreWriter writes to a socket with "more follows" (MSG_MORE), for the
// parts of a response that are not its end.
//
// A personalized page larger than the server's write buffer (32 KiB; the
// demo's product pages are 34–38 KB once personalized) leaves the server in
// two or more writes: the buffer, full, in the middle of the body, and the
// rest when the response ends. Each write would go out at once as its own
// segment, and each wakes the visitor's side: on loopback the sender pays
// for the receiver's wake-up, 3% of the server's time on the load
// harness's demo pages (2026-12-03, perf). A write marked MSG_MORE is only
// queued (the kernel still sends every full-sized segment of it); the
// write that ends the response sends the rest, so a response of up to a
// segment goes out once. Only writes that more of the same response
// follows are so marked (splicedBody.WriteTo holds back its last bytes for
// an unmarked write), so that nothing is ever left queued: the server
// writes those last bytes to the socket when the response ends, as it
// flushes after every response (with Server.ReduceMemoryUsage it does so
// even when the next pipelined request is already read; without it, a
// pipelined response's held head would wait in the kernel for the next
// response's flush, as its unheld tail waits in the server's buffer).
//
// It serves the writes of one goroutine (fasthttp's, for the connection).
type moreWriter struct {
	raw     syscall.RawConn
	writeFn func(fd uintptr) bool // w.writeFD, made once per connection

	// The write under way, and its outcome.
	b   []byte
	n   int
	err error
}

// newMoreWriter returns a moreWriter for c, or nil where writes cannot be
// so marked (not TCP, or not on Linux).
func newMoreWriter(c net.Conn) *moreWriter {
	tc, ok := c.(*net.TCPConn)
	if !ok || !canSendMore {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &moreWriter{raw: raw}
	w.writeFn = w.writeFD
	return w
}

// write writes all of b, marked MSG_MORE, under c's write deadline.
func (w *moreWriter) write(c net.Conn, b []byte) (int, error) {
	w.b, w.n, w.err = b, 0, nil
	err := w.raw.Write(w.writeFn)
	n := w.n
	w.b = nil
	if err == nil && w.err != nil {
		err = os.NewSyscallError("sendmsg", w.err)
	}
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err // "raw-write": said once, as a write
		}
		return n, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	return n, nil
}

// writeFD is the write under syscall.RawConn.Write: false (wait until the
// socket takes more, then call again) while what is left does not fit.
func (w *moreWriter) writeFD(fd uintptr) bool {
	for w.n < len(w.b) {
		k, err := sendMore(fd, w.b[w.n:])
		switch err {
		case nil:
			w.n += k
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			w.err = err
			return true
		}
	}
	return true
}
