//go:build !unix

package proxy

import "errors"

// canReadFD: here a socket is read through net.Conn only, and the wait for
// a request costs its second read call.
const canReadFD = false

func readFD(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
