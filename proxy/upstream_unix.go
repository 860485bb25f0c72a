//go:build unix

package proxy

import "syscall"

// peek looks at the socket without taking a byte and without waiting (Go's
// sockets are non-blocking): EAGAIN means open and quiet; end of file, a
// reset or a pending byte (nothing is due on an idle connection) means the
// connection cannot carry a request. For syscall.RawConn.Read: it always
// returns true, never waits.
func (c *trackedConn) peek(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), c.peekBuf[:], syscall.MSG_PEEK)
	c.closed = n > 0 || (err != syscall.EAGAIN && err != syscall.EWOULDBLOCK)
	return true
}
