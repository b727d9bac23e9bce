package delivery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/fault"
)

var (
	t0   = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	next = t0.Add(5 * time.Second)
)

func restore(t *testing.T, status delivery.Status, attempts int, held bool) delivery.Delivery {
	t.Helper()
	d, err := delivery.Restore("evt_1", 2, status, attempts, held)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRestoreRefusesWhatCannotBe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		id       string
		status   delivery.Status
		gen, n   int
		held     bool
		wantCode fault.Code
	}{
		{"pending", "evt_1", delivery.StatusPending, 0, 0, false, ""},
		{"held", "evt_1", delivery.StatusPending, 1, 3, true, ""},
		{"delivered", "evt_1", delivery.StatusDelivered, 0, 1, false, ""},
		{"failed", "evt_1", delivery.StatusFailed, 0, 10, false, ""},
		{"no event", "", delivery.StatusPending, 0, 0, false, fault.Internal},
		{"unknown state", "evt_1", "lost", 0, 0, false, fault.Internal},
		{"negative attempts", "evt_1", delivery.StatusPending, 0, -1, false, fault.Internal},
		{"negative generation", "evt_1", delivery.StatusPending, -1, 0, false, fault.Internal},
		{"held but delivered", "evt_1", delivery.StatusDelivered, 0, 1, true, fault.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := delivery.Restore(tc.id, tc.gen, tc.status, tc.n, tc.held)
			if fault.CodeOf(err) != tc.wantCode && !(tc.wantCode == "" && err == nil) {
				t.Fatalf("Restore: %v, want code %q", err, tc.wantCode)
			}
			if tc.wantCode == "" && (d.EventID() != tc.id || d.Status() != tc.status || d.Attempts() != tc.n ||
				d.Generation() != tc.gen || d.Held() != tc.held) {
				t.Errorf("restored %v", d)
			}
		})
	}
}

// schedule is a retry schedule of max attempts with a fixed wait, honouring
// Retry-After if that is later; it remembers what it was asked.
type schedule struct {
	max       int
	wait      time.Duration
	failures  int
	retryFrom time.Duration
}

func (s *schedule) Next(failures int, retryAfter time.Duration) (time.Duration, bool) {
	s.failures, s.retryFrom = failures, retryAfter
	if failures >= s.max {
		return 0, false
	}
	return max(s.wait, retryAfter), true
}

func TestDecide(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		attempts     int
		answer       delivery.Answer
		want         delivery.Kind
		wantStatus   delivery.Status
		wantNext     time.Time // zero: none
		wantProblem  string
		wantFailures int // what the schedule was asked; 0: not asked
	}{
		{"200", 0, delivery.Answer{Status: 200}, delivery.KindDelivered, delivery.StatusDelivered, time.Time{}, "", 0},
		{"204 after failures", 5, delivery.Answer{Status: 204}, delivery.KindDelivered, delivery.StatusDelivered, time.Time{}, "", 0},
		{"299", 0, delivery.Answer{Status: 299}, delivery.KindDelivered, delivery.StatusDelivered, time.Time{}, "", 0},
		{"410 disables", 0, delivery.Answer{Status: 410, Problem: "HTTP 410"}, delivery.KindDisabled, delivery.StatusPending, time.Time{}, "HTTP 410: endpoint disabled", 0},
		{"410 on the last attempt", 9, delivery.Answer{Status: 410, Problem: "HTTP 410"}, delivery.KindDisabled, delivery.StatusPending, time.Time{}, "HTTP 410: endpoint disabled", 0},
		{"500 retries", 0, delivery.Answer{Status: 500, Problem: "HTTP 500"}, delivery.KindRetry, delivery.StatusPending, next, "HTTP 500", 1},
		{"301 retries", 2, delivery.Answer{Status: 301, Problem: "HTTP 301 (redirects are not followed)"}, delivery.KindRetry, delivery.StatusPending, next, "HTTP 301 (redirects are not followed)", 3},
		{"timeout retries", 0, delivery.Answer{Problem: "timeout"}, delivery.KindRetry, delivery.StatusPending, next, "timeout", 1},
		{"Retry-After later than the step", 1, delivery.Answer{Status: 503, RetryAfter: time.Hour, Problem: "HTTP 503"}, delivery.KindRetry, delivery.StatusPending, t0.Add(time.Hour), "HTTP 503", 2},
		{"the last attempt fails", 9, delivery.Answer{Status: 500, Problem: "HTTP 500"}, delivery.KindFailed, delivery.StatusFailed, time.Time{}, "HTTP 500", 10},
		{"a timeout on the last attempt fails", 9, delivery.Answer{Problem: "timeout"}, delivery.KindFailed, delivery.StatusFailed, time.Time{}, "timeout", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &schedule{max: 10, wait: 5 * time.Second}
			o := restore(t, delivery.StatusPending, tc.attempts, false).Decide(t0, tc.answer, s)
			n, hasNext := o.Next()
			if o.Kind() != tc.want || o.Status() != tc.wantStatus || o.Problem() != tc.wantProblem || !o.At().Equal(t0) ||
				hasNext != !tc.wantNext.IsZero() || (hasNext && !n.Equal(tc.wantNext)) {
				t.Errorf("Decide: %s %s at %v, next %v (%v), %q; want %s %s, next %v, %q",
					o.Kind(), o.Status(), o.At(), n, hasNext, o.Problem(), tc.want, tc.wantStatus, tc.wantNext, tc.wantProblem)
			}
			if s.failures != tc.wantFailures || (tc.wantFailures > 0 && s.retryFrom != tc.answer.RetryAfter) {
				t.Errorf("schedule asked for failure %d with Retry-After %v, want %d with %v", s.failures, s.retryFrom, tc.wantFailures, tc.answer.RetryAfter)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     delivery.Status
		held       bool
		outcome    delivery.Outcome
		wantStatus delivery.Status
		wantHeld   bool
		wantCode   fault.Code // "" when recorded
		wantErr    string
	}{
		{"pending → delivered", delivery.StatusPending, false, delivery.Delivered(t0), delivery.StatusDelivered, false, "", ""},
		{"pending → retry", delivery.StatusPending, false, delivery.Retry(t0, next, "HTTP 500"), delivery.StatusPending, false, "", ""},
		{"pending → failed", delivery.StatusPending, false, delivery.Failed(t0, "HTTP 500"), delivery.StatusFailed, false, "", ""},
		{"pending → held by a 410", delivery.StatusPending, false, delivery.Disabled(t0, "HTTP 410: endpoint disabled"), delivery.StatusPending, true, "", ""},
		{"a delivered delivery is not retried", delivery.StatusDelivered, false, delivery.Retry(t0, next, "HTTP 500"), delivery.StatusDelivered, false, fault.InvalidState, "already delivered"},
		{"a delivered delivery is not delivered again", delivery.StatusDelivered, false, delivery.Delivered(t0), delivery.StatusDelivered, false, fault.InvalidState, "already delivered"},
		{"a failed delivery is not delivered", delivery.StatusFailed, false, delivery.Delivered(t0), delivery.StatusFailed, false, fault.InvalidState, "already failed"},
		{"a failed delivery is not disabled", delivery.StatusFailed, false, delivery.Disabled(t0, "HTTP 410"), delivery.StatusFailed, false, fault.InvalidState, "already failed"},
		{"a held delivery is not attempted", delivery.StatusPending, true, delivery.Delivered(t0), delivery.StatusPending, true, fault.InvalidState, "is held"},
		{"no outcome", delivery.StatusPending, false, delivery.Outcome{}, delivery.StatusPending, false, fault.Internal, "without an outcome"},
		{"a retry before its attempt", delivery.StatusPending, false, delivery.Retry(t0, t0.Add(-time.Second), "HTTP 500"), delivery.StatusPending, false, fault.Internal, "before the attempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := restore(t, tc.status, 3, tc.held)
			err := d.Record(tc.outcome)
			wantAttempts := 4
			if tc.wantCode != "" {
				wantAttempts = 3
				if fault.CodeOf(err) != tc.wantCode || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Record: %v, want %s %q", err, tc.wantCode, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if d.Status() != tc.wantStatus || d.Held() != tc.wantHeld || d.Attempts() != wantAttempts || d.Generation() != 2 {
				t.Errorf("after Record: %v; want %s, held %v, %d attempts", d, tc.wantStatus, tc.wantHeld, wantAttempts)
			}
		})
	}
}

func TestHold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		status   delivery.Status
		held     bool
		wantHeld bool
		wantCode fault.Code
	}{
		{"pending", delivery.StatusPending, false, true, ""},
		{"held again", delivery.StatusPending, true, true, ""},
		{"delivered", delivery.StatusDelivered, false, false, fault.InvalidState},
		{"failed", delivery.StatusFailed, false, false, fault.InvalidState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := restore(t, tc.status, 1, tc.held)
			if err := d.Hold(); fault.CodeOf(err) != tc.wantCode && !(tc.wantCode == "" && err == nil) {
				t.Fatalf("Hold: %v, want %q", err, tc.wantCode)
			}
			if d.Held() != tc.wantHeld || d.Status() != tc.status || d.Attempts() != 1 {
				t.Errorf("after Hold: %v", d)
			}
		})
	}
}

func TestRedeliverStartsANewSeriesFromAnyState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status delivery.Status
		held   bool
	}{{delivery.StatusPending, false}, {delivery.StatusPending, true}, {delivery.StatusDelivered, false}, {delivery.StatusFailed, false}} {
		d := restore(t, tc.status, 7, tc.held)
		d.Redeliver()
		if d.Status() != delivery.StatusPending || d.Attempts() != 0 || d.Generation() != 3 || d.Held() {
			t.Errorf("%s (held %v) redelivered: %v; want pending, generation 3, no attempts", tc.status, tc.held, d)
		}
		if err := d.Record(delivery.Delivered(t0)); err != nil {
			t.Errorf("%s redelivered, then delivered: %v", tc.status, err)
		}
	}
}
