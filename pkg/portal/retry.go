package portal

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how a Client retries what is safe to retry: network
// errors, 429 and 503 (which the gateway answers before running anything),
// 409 idempotency_key_in_use, and other 5xx of a request that is idempotent
// (a GET) or carries an Idempotency-Key (every POST the Client sends).
// Waits grow exponentially from BaseDelay up to MaxDelay, with jitter; a
// Retry-After from the gateway is honoured when it is longer.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included;
	// 1 turns retries off.
	MaxAttempts int
	// BaseDelay is the wait before the first retry, before jitter.
	BaseDelay time.Duration
	// MaxDelay caps the exponential wait.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the Client waits for; a
	// longer one ends the call with the gateway's refusal. Zero waits for
	// any.
	MaxRetryAfter time.Duration
}

// DefaultRetry is the policy of a Client made without WithRetry.
var DefaultRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: 30 * time.Second}

// backoff is the wait before retry n (1 for the first retry): the capped
// exponential wait, jittered down by up to half so that clients refused at
// once do not come back at once.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// retryable reports whether an answer with status is worth another
// attempt, for a request that is safe to repeat when safe is true.
func retryable(status int, code string, safe bool) bool {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		return true
	case status == http.StatusConflict && code == CodeIdempotencyKeyInUse:
		return true
	case status >= 500:
		return safe
	}
	return false
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
