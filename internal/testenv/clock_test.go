package testenv_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/testenv"
)

func TestClockAdvancesAndKeepsTicking(t *testing.T) {
	t.Parallel()
	c := testenv.NewClock()
	before := time.Now()
	if got := c.Now(); got.Before(before) || got.Sub(before) > time.Minute {
		t.Fatalf("a new clock reads %s, the wall clock %s", got, before)
	}
	moved := c.Advance(time.Hour)
	if d := time.Until(moved); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("advanced by an hour, the clock is %s ahead", d)
	}
	a := c.Now()
	b := c.Now()
	for !b.After(a) { // it ticks on from where it was moved
		b = c.Now()
	}
	if b.Sub(a) > time.Minute {
		t.Fatalf("the clock jumped %s by itself", b.Sub(a))
	}
}

func TestClockAdvanceToNeverGoesBack(t *testing.T) {
	t.Parallel()
	c := testenv.NewClock()
	target := time.Now().Add(10 * time.Second)
	if got := c.AdvanceTo(target); got.Before(target) {
		t.Fatalf("AdvanceTo(%s) = %s", target, got)
	}
	ahead := c.Now()
	if got := c.AdvanceTo(target.Add(-time.Hour)); got.Before(ahead) {
		t.Fatalf("AdvanceTo a past time moved the clock back to %s from %s", got, ahead)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Advance by a negative duration was accepted")
		}
	}()
	c.Advance(-time.Second)
}

// fatalTB records the failure of an Eventually that gave up.
type fatalTB struct {
	testing.TB
	failed atomic.Value // string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.failed.Store(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func TestEventually(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	testenv.Eventually(t, 5*time.Second, func() bool { return n.Add(1) >= 3 }, "three checks")
	if n.Load() != 3 {
		t.Fatalf("%d checks for a condition true at the third", n.Load())
	}

	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testenv.Eventually(f, 30*time.Millisecond, func() bool { return false }, "never true")
	}()
	<-done
	if got, _ := f.failed.Load().(string); got != "after 30ms: never true" {
		t.Fatalf("a condition never true failed with %q", got)
	}
}
