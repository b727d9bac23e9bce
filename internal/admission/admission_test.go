package admission_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/admission"
	"github.com/citizenpay/gateway/internal/testenv"
)

// fill admits n requests of class c and returns their releases.
func fill(t *testing.T, s *admission.Shedder, c admission.Class, n int) []admission.Release {
	t.Helper()
	var out []admission.Release
	for range n {
		r, err := s.Acquire(context.Background(), c)
		if err != nil {
			t.Fatalf("admit %s #%d: %v", c, len(out)+1, err)
		}
		out = append(out, r)
	}
	return out
}

func TestSharesShedLowClassesFirst(t *testing.T) {
	t.Parallel()
	// 10 slots: Low starts under 5 in flight, Normal under 8, Critical under 10.
	s := admission.New(admission.Config{MaxInFlight: 10})
	tests := []struct {
		inFlight int
		admitted map[admission.Class]bool
	}{
		{4, map[admission.Class]bool{admission.Low: true, admission.Normal: true, admission.Critical: true}},
		{5, map[admission.Class]bool{admission.Low: false, admission.Normal: true, admission.Critical: true}},
		{8, map[admission.Class]bool{admission.Low: false, admission.Normal: false, admission.Critical: true}},
		{10, map[admission.Class]bool{admission.Low: false, admission.Normal: false, admission.Critical: false}},
	}
	for _, tt := range tests {
		held := fill(t, s, admission.Critical, tt.inFlight)
		for _, c := range admission.Classes() {
			r, err := s.Acquire(context.Background(), c)
			if got := err == nil; got != tt.admitted[c] {
				t.Errorf("%d in flight, %s: admitted %v (%v), want %v", tt.inFlight, c, got, err, tt.admitted[c])
			}
			if err == nil {
				r()
			} else if !errors.Is(err, admission.ErrBusy) {
				t.Errorf("%d in flight, %s: %v, want ErrBusy", tt.inFlight, c, err)
			}
		}
		for _, r := range held {
			r()
		}
		if n := s.InFlight(admission.Critical); n != 0 {
			t.Fatalf("after release: %d in flight", n)
		}
	}
}

func TestReleaseIsIdempotent(t *testing.T) {
	t.Parallel()
	s := admission.New(admission.Config{MaxInFlight: 2})
	r := fill(t, s, admission.Normal, 1)[0]
	r()
	r()
	if n := s.InFlight(admission.Normal); n != 0 {
		t.Fatalf("in flight %d after a double release", n)
	}
}

func TestUnboundedAdmitsEverything(t *testing.T) {
	t.Parallel()
	s := admission.New(admission.Config{})
	fill(t, s, admission.Low, 1000)
}

func TestWaitersAreServedHighestClassFirst(t *testing.T) {
	t.Parallel()
	s := admission.New(admission.Config{MaxInFlight: 2, MaxWait: time.Hour})
	held := fill(t, s, admission.Critical, 2)
	order := make(chan admission.Class, 2)
	var wg sync.WaitGroup
	start := func(c admission.Class) {
		wg.Go(func() {
			r, err := s.Acquire(context.Background(), c)
			if err != nil {
				t.Errorf("%s: %v", c, err)
				return
			}
			order <- c
			r()
		})
	}
	// The Normal request queues first, then the Critical one.
	start(admission.Normal)
	testenv.Eventually(t, 10*time.Second, func() bool { return s.Waiting(admission.Normal) == 1 }, "the normal request waits")
	start(admission.Critical)
	testenv.Eventually(t, 10*time.Second, func() bool { return s.Waiting(admission.Critical) == 1 }, "the critical request waits")
	// A new Low request must not pass them: it waits too, and is refused
	// when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	lowDone := make(chan error, 1)
	go func() {
		_, err := s.Acquire(ctx, admission.Low)
		lowDone <- err
	}()
	testenv.Eventually(t, 10*time.Second, func() bool { return s.Waiting(admission.Low) == 1 }, "the low request waits")
	held[0]() // one slot: the Critical waiter gets it
	if got := <-order; got != admission.Critical {
		t.Fatalf("first served %s, want critical", got)
	}
	held[1]()
	if got := <-order; got != admission.Normal {
		t.Fatalf("second served %s, want normal", got)
	}
	wg.Wait()
	cancel()
	if err := <-lowDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("low: %v", err)
	}
	if n := s.Waiting(admission.Low); n != 0 {
		t.Fatalf("a refused waiter is still queued: %d", n)
	}
}

func TestWaitEndsInRefusal(t *testing.T) {
	t.Parallel()
	s := admission.New(admission.Config{MaxInFlight: 1, MaxWait: time.Millisecond})
	fill(t, s, admission.Critical, 1)
	if _, err := s.Acquire(context.Background(), admission.Critical); !errors.Is(err, admission.ErrBusy) {
		t.Fatalf("acquire on a full shedder: %v, want ErrBusy", err)
	}
	if n := s.Waiting(admission.Critical); n != 0 {
		t.Fatalf("a refused waiter is still queued: %d", n)
	}
}

func TestConcurrentAcquireNeverExceedsTheBound(t *testing.T) {
	t.Parallel()
	const bound = 8
	s := admission.New(admission.Config{MaxInFlight: bound, MaxWait: time.Second})
	var mu sync.Mutex
	cur, peak := 0, 0
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			r, err := s.Acquire(context.Background(), admission.Classes()[i%3])
			if err != nil {
				return
			}
			mu.Lock()
			cur++
			peak = max(peak, cur)
			mu.Unlock()
			time.Sleep(100 * time.Microsecond)
			mu.Lock()
			cur--
			mu.Unlock()
			r()
		})
	}
	wg.Wait()
	if peak > bound {
		t.Fatalf("peak in flight %d over the bound %d", peak, bound)
	}
	for _, c := range admission.Classes() {
		if s.InFlight(c) != 0 || s.Waiting(c) != 0 {
			t.Fatalf("%s: %d in flight, %d waiting after all ended", c, s.InFlight(c), s.Waiting(c))
		}
	}
}

func TestPressureShedsLowOnly(t *testing.T) {
	t.Parallel()
	pressure := true
	s := admission.New(admission.Config{MaxInFlight: 10, Pressure: func() bool { return pressure }})
	if _, err := s.Acquire(context.Background(), admission.Low); !errors.Is(err, admission.ErrDatabaseBusy) {
		t.Fatalf("low under pressure: %v", err)
	}
	for _, c := range []admission.Class{admission.Normal, admission.Critical} {
		r, err := s.Acquire(context.Background(), c)
		if err != nil {
			t.Fatalf("%s under pressure: %v", c, err)
		}
		r()
	}
	pressure = false
	r, err := s.Acquire(context.Background(), admission.Low)
	if err != nil {
		t.Fatalf("low without pressure: %v", err)
	}
	r()
}

func TestPoolWatch(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	stat := admission.PoolStat{}
	w := admission.NewPoolWatch(func() admission.PoolStat { return stat }, 50*time.Millisecond, time.Second,
		func() time.Time { return now })
	steps := []struct {
		name     string
		advance  time.Duration
		waits    int64
		waited   time.Duration
		pressure bool
	}{
		{"no waits", time.Second, 0, 0, false},
		{"short waits", time.Second, 10, 100 * time.Millisecond, false},
		{"long waits", time.Second, 2, time.Second, true},
		{"within the window the verdict stands", 10 * time.Millisecond, 0, 0, true},
		{"waits stopped", time.Second, 0, 0, false},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		stat.Waits += st.waits
		stat.WaitTime += st.waited
		if got := w.Pressure(); got != st.pressure {
			t.Errorf("%s: pressure %v, want %v", st.name, got, st.pressure)
		}
	}
}
