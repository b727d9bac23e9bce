// Package admission decides, before any work is done, whether the gateway
// takes a request now or refuses it at once so that the caller retries
// later. Under a peak the gateway answers the excess quickly instead of
// queueing it until clients time out, and it keeps its capacity for the work
// that matters most: banks' callbacks and citizens' payments are admitted
// while reads and lists are shed.
//
// A Shedder bounds the requests in flight. Each class of request may only
// start while the in-flight count is under the class's share of the bound,
// so the lower classes run out of room first and the top of the bound stays
// free for the higher ones. A request that finds no room waits a short,
// bounded time for one, higher classes served first; then it is refused.
// A PoolWatch adds the database's view: when requests wait too long for a
// PostgreSQL connection, the lowest class is refused outright.
package admission

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Class is a request's priority. Higher classes outrank lower ones.
type Class int

// The classes, lowest first.
const (
	// Low is reads and lists: shed first.
	Low Class = iota
	// Normal is mutations other than payments: creating, cancelling,
	// refunding, linking.
	Normal
	// Critical is bank callbacks and payments: money that is moving.
	Critical

	numClasses = 3
)

// String names the class for metrics and logs.
func (c Class) String() string {
	switch c {
	case Low:
		return "low"
	case Normal:
		return "normal"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// Classes lists every class, lowest first.
func Classes() []Class { return []Class{Low, Normal, Critical} }

// Shares are the fractions of MaxInFlight each class may fill: a Low request
// starts only while fewer than half the slots are taken, a Normal one while
// fewer than four fifths are, a Critical one while any slot is free.
var Shares = [numClasses]float64{Low: 0.5, Normal: 0.8, Critical: 1}

// Reasons a request is refused.
var (
	// ErrBusy: no slot for the request's class came free within MaxWait.
	ErrBusy = errors.New("admission: too many requests in flight")
	// ErrDatabaseBusy: requests wait too long for a database connection,
	// and the request's class is shed while they do.
	ErrDatabaseBusy = errors.New("admission: database connections are scarce")
)

// Config configures a Shedder.
type Config struct {
	// MaxInFlight bounds the requests admitted and not yet finished. Zero or
	// less admits everything.
	MaxInFlight int
	// MaxWait is how long a request waits for a slot before it is refused.
	// Zero refuses at once.
	MaxWait time.Duration
	// Pressure, if set, reports whether the database is under pressure:
	// while it is, Low requests are refused at once.
	Pressure func() bool
}

// Shedder admits requests within a bound on those in flight, by class.
// It is safe for concurrent use.
type Shedder struct {
	max      int
	limits   [numClasses]int
	maxWait  time.Duration
	pressure func() bool

	mu       sync.Mutex
	inFlight int
	byClass  [numClasses]int
	queue    [numClasses][]*waiter
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// New returns a Shedder for cfg.
func New(cfg Config) *Shedder {
	s := &Shedder{max: cfg.MaxInFlight, maxWait: cfg.MaxWait, pressure: cfg.Pressure}
	for c, share := range Shares {
		s.limits[c] = max(1, int(float64(cfg.MaxInFlight)*share))
	}
	return s
}

// Release ends an admitted request. Call it exactly once.
type Release func()

// Acquire admits a request of class c, waiting up to MaxWait for room, and
// returns the function that ends it. It returns ErrBusy or ErrDatabaseBusy
// when the request is refused, or ctx's error if ctx ends first.
func (s *Shedder) Acquire(ctx context.Context, c Class) (Release, error) {
	if c < Low || c > Critical {
		c = Low
	}
	if s.max <= 0 {
		return func() {}, nil
	}
	if c == Low && s.pressure != nil && s.pressure() {
		return nil, ErrDatabaseBusy
	}
	s.mu.Lock()
	if s.roomFor(c) {
		s.take(c)
		s.mu.Unlock()
		return s.releaser(c), nil
	}
	if s.maxWait <= 0 {
		s.mu.Unlock()
		return nil, ErrBusy
	}
	w := &waiter{ready: make(chan struct{})}
	s.queue[c] = append(s.queue[c], w)
	s.mu.Unlock()

	timer := time.NewTimer(s.maxWait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return s.releaser(c), nil
	case <-timer.C:
		err = ErrBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.granted { // a slot was handed over as the wait ended: keep it
		return s.releaser(c), nil
	}
	q := s.queue[c]
	for i, x := range q {
		if x == w {
			s.queue[c] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	return nil, err
}

// roomFor reports whether a request of class c may start now: under its
// class's limit, and with no request of its class or a higher one waiting
// (those go first). s.mu is held.
func (s *Shedder) roomFor(c Class) bool {
	if s.inFlight >= s.limits[c] {
		return false
	}
	for k := c; k <= Critical; k++ {
		if len(s.queue[k]) > 0 {
			return false
		}
	}
	return true
}

func (s *Shedder) take(c Class) {
	s.inFlight++
	s.byClass[c]++
}

func (s *Shedder) releaser(c Class) Release {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.inFlight--
			s.byClass[c]--
			s.handOver()
		})
	}
}

// handOver gives free slots to waiting requests, highest class first, each
// class in arrival order. s.mu is held.
func (s *Shedder) handOver() {
	for c := Critical; c >= Low; c-- {
		for len(s.queue[c]) > 0 && s.inFlight < s.limits[c] {
			w := s.queue[c][0]
			s.queue[c] = s.queue[c][1:]
			w.granted = true
			s.take(c)
			close(w.ready)
		}
		if len(s.queue[c]) > 0 {
			return // lower classes must not pass a waiting higher one
		}
	}
}

// InFlight returns the requests of class c admitted and not yet released.
func (s *Shedder) InFlight(c Class) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c < Low || c > Critical {
		return 0
	}
	return s.byClass[c]
}

// Waiting returns the requests of class c waiting for a slot.
func (s *Shedder) Waiting(c Class) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c < Low || c > Critical {
		return 0
	}
	return len(s.queue[c])
}

// Limit returns how many requests in flight, of all classes, still let a
// request of class c start.
func (s *Shedder) Limit(c Class) int {
	if s.max <= 0 || c < Low || c > Critical {
		return 0
	}
	return s.limits[c]
}
