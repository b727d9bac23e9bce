package admission

import (
	"sync"
	"time"
)

// PoolStat is the part of a connection pool's statistics a PoolWatch reads:
// cumulative counts since the pool opened.
type PoolStat struct {
	// Waits is how many acquisitions found no idle connection and waited.
	Waits int64
	// WaitTime is the total time those acquisitions waited.
	WaitTime time.Duration
}

// PoolWatch tells whether requests wait too long for a database connection:
// the average wait of the acquisitions that had to wait, over the last
// window, is above a bound. It samples the pool's statistics at most once a
// window, when asked, so it needs no goroutine of its own.
type PoolWatch struct {
	stat   func() PoolStat
	bound  time.Duration
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	last     PoolStat
	lastAt   time.Time
	pressure bool
}

// NewPoolWatch watches stat. bound is the average wait above which the pool
// is under pressure; window is how often the verdict is renewed. now may be
// nil for time.Now.
func NewPoolWatch(stat func() PoolStat, bound, window time.Duration, now func() time.Time) *PoolWatch {
	if now == nil {
		now = time.Now
	}
	return &PoolWatch{stat: stat, bound: bound, window: window, now: now, last: stat(), lastAt: now()}
}

// Pressure reports whether, over the last window, acquisitions that waited
// waited longer than the bound on average.
func (p *PoolWatch) Pressure() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.lastAt) < p.window {
		return p.pressure
	}
	cur := p.stat()
	waits := cur.Waits - p.last.Waits
	waited := cur.WaitTime - p.last.WaitTime
	p.pressure = waits > 0 && waited/time.Duration(waits) > p.bound
	p.last, p.lastAt = cur, now
	return p.pressure
}
