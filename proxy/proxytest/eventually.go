package proxytest

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds or d has passed; then the test
// fails with what cond last said. For state another goroutine or process
// reaches in its own time (a flush, a store coming back), never as a
// sleep standing in for a wait.
func Eventually(t testing.TB, d time.Duration, cond func() (ok bool, why string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, why)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
