package proxy

import "syscall"

const canSendMore = true

// sendMore writes b to the non-blocking socket fd, marked MSG_MORE.
func sendMore(fd uintptr, b []byte) (int, error) {
	return syscall.SendmsgN(int(fd), b, nil, nil, syscall.MSG_MORE)
}
