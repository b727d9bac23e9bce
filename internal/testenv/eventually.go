package testenv

import (
	"testing"
	"time"
)

// Eventually checks cond until it holds, and fails t with msg if it still
// does not after timeout. It checks at once, then at growing intervals up to
// 20 ms, so a condition that is nearly true costs no wait and a slow one
// costs little load. Use it for a condition the test can observe (a row, a
// status, a counter); to get past a timer of the gateway, move its Clock.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}
