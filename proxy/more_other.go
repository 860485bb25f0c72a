//go:build !linux

package proxy

import "errors"

// canSendMore: MSG_MORE is Linux's; elsewhere every write goes out as it
// comes.
const canSendMore = false

func sendMore(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
