package webhook

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryScheduleIsTheProtocols(t *testing.T) {
	t.Parallel()
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour}
	noJitter := RetryPolicy{Rand: func() float64 { return 0.5 }}
	for i, w := range want {
		got, ok := noJitter.Next(i+1, 0)
		if !ok || got != w {
			t.Errorf("after failure %d: %v, %v; want %v, true", i+1, got, ok, w)
		}
	}
	if got, ok := noJitter.Next(len(want)+1, 0); ok {
		t.Errorf("after failure %d: %v, true; want no attempt left", len(want)+1, got)
	}
	if MaxAttempts != len(want)+1 {
		t.Errorf("MaxAttempts = %d, want %d", MaxAttempts, len(want)+1)
	}
}

func TestRetryPolicyNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		factor     float64
		rand       float64
		failures   int
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{name: "first failure", rand: 0.5, failures: 1, want: 5 * time.Second, ok: true},
		{name: "jitter low end", rand: 0, failures: 1, want: 4500 * time.Millisecond, ok: true},
		{name: "jitter high end", rand: 0.999999, failures: 2, want: 330 * time.Second, ok: true},
		{name: "factor scales the schedule", factor: 0.001, rand: 0.5, failures: 1, want: 5 * time.Millisecond, ok: true},
		{name: "zero failures is the first", rand: 0.5, failures: 0, want: 5 * time.Second, ok: true},
		{name: "Retry-After later than the schedule", rand: 0.5, failures: 1, retryAfter: time.Hour, want: time.Hour, ok: true},
		{name: "schedule later than Retry-After", rand: 0.5, failures: 5, retryAfter: time.Hour, want: 5 * time.Hour, ok: true},
		{name: "Retry-After capped at 24 h", rand: 0.5, failures: 1, retryAfter: 72 * time.Hour, want: 24 * time.Hour, ok: true},
		{name: "factor does not scale Retry-After", factor: 0.001, rand: 0.5, failures: 1, retryAfter: 10 * time.Second, want: 10 * time.Second, ok: true},
		{name: "negative Retry-After ignored", rand: 0.5, failures: 1, retryAfter: -time.Hour, want: 5 * time.Second, ok: true},
		{name: "last retry", rand: 0.5, failures: 9, want: 24 * time.Hour, ok: true},
		{name: "no attempt left", rand: 0.5, failures: 10, retryAfter: time.Minute, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := RetryPolicy{Factor: tt.factor, Rand: func() float64 { return tt.rand }}
			got, ok := p.Next(tt.failures, tt.retryAfter)
			if ok != tt.ok || (ok && (got-tt.want).Abs() > time.Millisecond) {
				t.Errorf("Next(%d, %v) = %v, %v; want %v, %v", tt.failures, tt.retryAfter, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRetryPolicyJitterStaysWithinTenPercent(t *testing.T) {
	t.Parallel()
	var p RetryPolicy // the real random source
	seen := map[time.Duration]bool{}
	for range 200 {
		got, ok := p.Next(3, 0)
		if !ok || got < 27*time.Minute || got > 33*time.Minute {
			t.Fatalf("Next(3) = %v, %v; want 30 min ± 10 %%", got, ok)
		}
		seen[got] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct waits in 200: not jittered", len(seen))
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"172800", 24 * time.Hour},
		{"99999999999999999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"Sunday, 01-Mar-26 10:05:00 GMT", 5 * time.Minute}, // RFC 850, which HTTP dates also allow
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
