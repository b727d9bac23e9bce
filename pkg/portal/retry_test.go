package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a gateway that answers each attempt from a script, and
// records what each attempt carried.
type scripted struct {
	mu       sync.Mutex
	answers  []func(w http.ResponseWriter)
	keys     []string
	stamps   []string
	attempts atomic.Int32
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.attempts.Add(1)) - 1
	s.mu.Lock()
	s.keys = append(s.keys, r.Header.Get(HeaderIdempotencyKey))
	s.stamps = append(s.stamps, r.Header.Get(HeaderSignature))
	s.mu.Unlock()
	if n >= len(s.answers) {
		n = len(s.answers) - 1
	}
	s.answers[n](w)
}

func problem(status int, code, retryAfter string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"type":"https://docs.citizenpay.dev/errors/%s","title":"t","status":%d,"detail":"d","code":"%s","request_id":"req_1"}`,
			code, status, code)
	}
}

func ok(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":"pr_1","status":"pending"}`))
}

// testClient is a client of srv whose waits are recorded, not slept.
func testClient(t *testing.T, srv *httptest.Server, p RetryPolicy) (*Client, *[]time.Duration) {
	t.Helper()
	c, err := New(srv.URL, "pk_test", "psk_test", WithRetry(p))
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return c, &waits
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	s := &scripted{answers: []func(http.ResponseWriter){problem(429, "rate_limited", "3"), problem(503, "unavailable", "1"), ok}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, waits := testClient(t, srv, RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxRetryAfter: time.Minute})
	pr, err := c.CreatePaymentRequest(context.Background(), CreatePaymentRequestParams{DossierCode: "D-1"})
	if err != nil || pr.ID != "pr_1" {
		t.Fatalf("create: %v %+v", err, pr)
	}
	if got := *waits; len(got) != 2 || got[0] != 3*time.Second || got[1] != time.Second {
		t.Fatalf("waits %v, want the Retry-After of each refusal: [3s 1s]", got)
	}
	// Every attempt carried the same key and was signed anew.
	if len(s.keys) != 3 || s.keys[0] == "" || s.keys[0] != s.keys[1] || s.keys[1] != s.keys[2] {
		t.Fatalf("keys %q: one generated key for all attempts", s.keys)
	}
}

func TestRetryBackoffIsCappedAndJittered(t *testing.T) {
	t.Parallel()
	s := &scripted{answers: []func(http.ResponseWriter){problem(500, "internal", "")}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	p := RetryPolicy{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond}
	c, waits := testClient(t, srv, p)
	_, err := c.GetPaymentRequest(context.Background(), "pr_1")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 500 || e.Code != "internal" || e.RequestID != "req_1" {
		t.Fatalf("err %v, want the last 500 as *Error", err)
	}
	if s.attempts.Load() != 6 {
		t.Fatalf("%d attempts, want 6", s.attempts.Load())
	}
	caps := []time.Duration{100, 200, 400, 400, 400}
	for i, w := range *waits {
		hi := caps[i] * time.Millisecond
		if w < hi/2 || w > hi {
			t.Fatalf("wait %d = %v, want in [%v, %v]", i+1, w, hi/2, hi)
		}
	}
}

func TestRetryOnlyWhatIsSafe(t *testing.T) {
	t.Parallel()
	policy := RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxRetryAfter: 10 * time.Second}
	for _, tc := range []struct {
		name     string
		answer   func(http.ResponseWriter)
		attempts int32
	}{
		{"422 is final", problem(422, "validation_failed", ""), 1},
		{"409 invalid_state is final", problem(409, "invalid_state", ""), 1},
		{"409 idempotency_key_in_use waits", problem(409, "idempotency_key_in_use", "1"), 3},
		{"502 of a keyed POST is retried", problem(502, "internal", ""), 3},
		{"Retry-After beyond the bound ends the call", problem(503, "unavailable", "120"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &scripted{answers: []func(http.ResponseWriter){tc.answer}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c, _ := testClient(t, srv, policy)
			_, err := c.CancelPaymentRequest(context.Background(), "pr_1")
			if err == nil || s.attempts.Load() != tc.attempts {
				t.Fatalf("err %v after %d attempts, want an error after %d", err, s.attempts.Load(), tc.attempts)
			}
		})
	}
}

func TestRetryNetworkErrors(t *testing.T) {
	t.Parallel()
	// A server that drops the first connection, then answers.
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		ok(w)
	}))
	defer srv.Close()
	c, waits := testClient(t, srv, RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
	if _, err := c.GetPaymentRequest(context.Background(), "pr_1"); err != nil {
		t.Fatalf("get after a dropped connection: %v", err)
	}
	if n.Load() != 2 || len(*waits) != 1 {
		t.Fatalf("%d attempts, %d waits", n.Load(), len(*waits))
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"5": 5 * time.Second, "0": 0, now.Add(7 * time.Second).Format(http.TimeFormat): 7 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat): 0,
	} {
		if got, ok := parseRetryAfter(in, now); !ok || got != want {
			t.Errorf("parseRetryAfter(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "-1"} {
		if _, ok := parseRetryAfter(in, now); ok {
			t.Errorf("parseRetryAfter(%q) accepted", in)
		}
	}
}
