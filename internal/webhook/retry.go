package webhook

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxAttempts is how many times one event is sent before it is marked
// failed: the first attempt and one retry per step of the schedule.
const MaxAttempts = 10

// MaxRetryAfter caps how long a portal's Retry-After may hold back the next
// attempt.
const MaxRetryAfter = 24 * time.Hour

// scheduleStep returns the wait after the n-th failed attempt in a row
// (PROTOCOL.md §8), for n from 1 to MaxAttempts-1.
func scheduleStep(n int) time.Duration {
	steps := [MaxAttempts - 1]time.Duration{
		5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
	}
	return steps[n-1]
}

// RetryPolicy says when a failed delivery is tried again.
type RetryPolicy struct {
	// Factor scales the schedule (WEBHOOK_RETRY_FACTOR): 1 in production,
	// small in tests so that a day of retries takes seconds. Zero means 1.
	// It does not scale a portal's Retry-After.
	Factor float64
	// Rand returns a number in [0, 1) for the jitter; nil uses math/rand/v2.
	Rand func() float64
}

// Next returns the wait before the next attempt after the failures-th failed
// attempt in a row, given the Retry-After of the last answer (0 if none): the
// schedule's step, scaled and jittered by ±10 %, or Retry-After (capped at
// MaxRetryAfter) if that is later. ok is false when the attempts are used up
// and the event is to be marked failed.
func (p RetryPolicy) Next(failures int, retryAfter time.Duration) (wait time.Duration, ok bool) {
	if failures >= MaxAttempts {
		return 0, false
	}
	failures = max(failures, 1)
	factor := p.Factor
	if factor <= 0 {
		factor = 1
	}
	random := p.Rand
	if random == nil {
		random = rand.Float64
	}
	jitter := 0.9 + 0.2*random()
	wait = time.Duration(float64(scheduleStep(failures)) * factor * jitter)
	retryAfter = min(max(retryAfter, 0), MaxRetryAfter)
	return max(wait, retryAfter), true
}

// ParseRetryAfter reads a Retry-After header (RFC 9110 §10.2.3): a number of
// seconds, or an HTTP date, taken relative to now, at most MaxRetryAfter. It
// returns 0 for an empty, malformed or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			if strings.Trim(v, "0123456789") == "" {
				return MaxRetryAfter // all digits, too large for int64
			}
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(at.Sub(now), 0), MaxRetryAfter)
}
