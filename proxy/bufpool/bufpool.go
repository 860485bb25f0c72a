// Package bufpool lends the byte buffers a response's body is read,
// decoded, spliced and re-encoded in: one pool for every step, so that a
// buffer one step returns serves the next request's any step. A buffer
// starts at 64 KiB; one grown past 8 MiB is let go rather than kept.
package bufpool

import "sync"

var pool sync.Pool

// Get returns an empty buffer.
func Get() *[]byte {
	if b, ok := pool.Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// Put gives a buffer back; the caller keeps no reference to it.
func Put(b *[]byte) {
	if cap(*b) > 8<<20 {
		return // let huge buffers go
	}
	pool.Put(b)
}
