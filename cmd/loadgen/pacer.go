package main

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// pace calls fn at rate calls a second for d, open loop: every call starts
// at its scheduled time on a goroutine of its own, however slowly earlier
// ones are answered, so queueing in the gateway shows as latency instead of
// as a lower offered rate. It returns when every call has returned.
func pace(ctx context.Context, rate float64, d time.Duration, fn func(ctx context.Context, i int)) {
	if rate <= 0 || d <= 0 {
		return
	}
	interval := paceInterval(rate)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		offset := time.Duration(i) * interval
		if offset >= d || ctx.Err() != nil {
			break
		}
		if wait := time.Until(start.Add(offset)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		wg.Go(func() { fn(ctx, i) })
	}
	wg.Wait()
}

func paceInterval(rate float64) time.Duration { return time.Duration(float64(time.Second) / rate) }

// scheduled is how many calls pace makes at rate for d (when ctx lasts).
func scheduled(rate float64, d time.Duration) int {
	if rate <= 0 || d <= 0 {
		return 0
	}
	interval := paceInterval(rate)
	if interval <= 0 {
		interval = 1
	}
	return int((d + interval - 1) / interval)
}

// sample is one request as the load generator saw it.
type sample struct {
	at      time.Duration // when it was sent, since the phase started
	latency time.Duration
	outcome string // the HTTP status, or "timeout" / "error"
	ok      bool   // 2xx
}

// recorder collects the samples of one operation of a phase.
type recorder struct {
	op      string
	start   time.Time
	mu      sync.Mutex
	samples []sample
	counts  map[string]int // extra counters: replayed, retry_after, starved, …
}

func newRecorder(op string, start time.Time) *recorder {
	return &recorder{op: op, start: start, counts: map[string]int{}}
}

// record times call and keeps its outcome.
func (r *recorder) record(call func() result) result {
	sent := time.Now()
	res := call()
	r.add(sent, time.Since(sent), res)
	return res
}

func (r *recorder) add(sent time.Time, latency time.Duration, res result) {
	s := sample{at: sent.Sub(r.start), latency: latency}
	switch {
	case res.timedOut():
		s.outcome = "timeout"
	case res.Err != nil:
		s.outcome = "error"
	default:
		s.outcome = strconv.Itoa(res.Status)
		s.ok = res.Status/100 == 2
		if !s.ok && res.Header.Get("Retry-After") != "" {
			r.count("retry_after")
		}
	}
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// addDuration records a measured span that is not one HTTP exchange (a
// whole payment flow): ok, or outcome names what went wrong.
func (r *recorder) addDuration(sent time.Time, latency time.Duration, outcome string) {
	s := sample{at: sent.Sub(r.start), latency: latency, outcome: outcome, ok: outcome == "ok"}
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

func (r *recorder) count(name string) {
	r.mu.Lock()
	r.counts[name]++
	r.mu.Unlock()
}
