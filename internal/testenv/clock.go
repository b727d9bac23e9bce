package testenv

import (
	"sync"
	"time"
)

// Clock is a clock a test moves instead of sleeping, after River's
// rivershared TimeStub. Give its Now to the gateway (app.Options.Now,
// apitest.WithClock); then Advance past an expiry, a cache's TTL or a pause,
// and the gateway decides as if that time had passed.
//
// Unlike River's stub, which freezes time once set, a Clock keeps ticking
// with the wall clock from wherever it was moved to: rows written one after
// the other still get increasing times, durations measured across it stay
// real, and a request signed a moment ago is still a moment old. Advance
// only ever moves it forward.
//
// A Clock is safe for concurrent use. The zero value reads the wall clock.
type Clock struct {
	mu     sync.RWMutex
	offset time.Duration
}

// NewClock returns a clock that reads the wall clock until it is advanced.
func NewClock() *Clock { return &Clock{} }

// Now returns the wall clock plus everything the clock was advanced by.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d (a negative d is refused: time the
// gateway has seen does not run back) and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	if d < 0 {
		panic("testenv: a Clock only moves forward")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return time.Now().Add(c.offset)
}

// AdvanceTo moves the clock forward to t, if it is not there yet, and
// returns the new time: at least t.
func (c *Clock) AdvanceTo(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if d := t.Sub(now.Add(c.offset)); d > 0 {
		c.offset += d
	}
	return now.Add(c.offset)
}
