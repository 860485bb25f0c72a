//go:build unix

package proxy

import "syscall"

const canReadFD = true

// readFD reads the non-blocking socket fd once, again if a signal
// interrupted it.
func readFD(fd uintptr, b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), b)
		if err != syscall.EINTR {
			return n, err
		}
	}
}
