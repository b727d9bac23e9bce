package testenv

import (
	"testing"
	"time"
)

// Eventually checks cond until it holds, and fails t with msg if it still
// does not after timeout. Use it for a condition the test can observe (a
// row, a status, a counter); to get past a timer of the gateway, move its
// Clock.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("after %s: %s", timeout, msg)
	}
}

// Poll checks cond until it holds or timeout passes, and reports whether it
// held; for a caller that fails with what it saw last, or that treats the
// timeout as an answer. It checks at once, then at growing intervals up to
// 20 ms, so a condition that is nearly true costs no wait and a slow one
// costs little load.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
	return true
}
