package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/admission"
	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
)

// retryAfter checks that r carries a Retry-After of at least one whole
// second and returns it.
func retryAfter(t *testing.T, r *apitest.Response) int {
	t.Helper()
	v := r.Header.Get("Retry-After")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q, want whole seconds ≥ 1", v)
	}
	return n
}

func TestPortalRateLimit(t *testing.T) {
	t.Parallel()
	// One request per 1000 s with bursts of 2: only the burst passes during the test.
	h := apitest.New(t, apitest.WithEnv("RATE_LIMIT_PORTAL_RPS", "0.001"), apitest.WithEnv("RATE_LIMIT_PORTAL_BURST", "2"))
	for i := range 2 {
		if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := h.Get("/v1/payment-requests")
	if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	if n := retryAfter(t, r); n < 900 || n > 1000 {
		t.Fatalf("Retry-After %d, want about the 1000 s to the next allowance", n)
	}
	// A mutation over the limit is refused before it runs: nothing is stored,
	// so the same key may be used again once the portal is under its limit.
	r = h.Post("/v1/payment-requests", "rl-create", createBody("HCM-RL-1"))
	if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" {
		t.Fatalf("create over the limit: %d %s", r.Status, r.Body)
	}
	retryAfter(t, r)
	if n := h.Count(`SELECT count(*) FROM idempotency_records WHERE key = 'rl-create'`); n != 0 {
		t.Fatalf("a rate-limited create stored %d idempotency records", n)
	}
	// Each portal has its own allowance.
	other := h.NewPortal("Other portal")
	if r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Portal: other}); r.Status != http.StatusOK {
		t.Fatalf("another portal: %d %s", r.Status, r.Body)
	}
	// Bad signatures are refused as such, not counted against the portal.
	if r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Secret: "psk_wrong"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}
	metrics := h.Metrics()
	if !strings.Contains(metrics, "gateway_rate_limited_total 2") {
		t.Errorf("/metrics does not count the two refusals:\n%s", grepLines(metrics, "gateway_rate_limit"))
	}
}

func TestPortalRateLimitFailsOpenWithoutRedis(t *testing.T) {
	t.Parallel()
	redis := testenv.StartRedisServer(t)
	h := apitest.New(t, apitest.WithEnv("REDIS_URL", redis.URL()),
		apitest.WithEnv("RATE_LIMIT_PORTAL_RPS", "0.001"), apitest.WithEnv("RATE_LIMIT_PORTAL_BURST", "1"))
	if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
		t.Fatalf("first request: %d %s", r.Status, r.Body)
	}
	if r := h.Get("/v1/payment-requests"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("over the limit with Redis: %d %s", r.Status, r.Body)
	}
	redis.Stop()
	for i := range 3 {
		if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
			t.Fatalf("request %d without Redis: %d %s", i+1, r.Status, r.Body)
		}
	}
	metrics := h.Metrics()
	if !strings.Contains(metrics, "gateway_rate_limit_fail_open_total 3") {
		t.Errorf("/metrics does not count the three admissions without Redis:\n%s", grepLines(metrics, "gateway_rate_limit"))
	}
}

// TestSheddingKeepsPriorityTraffic fills the gateway with mutations that
// block on a table lock, then checks that reads are shed, more mutations are
// shed, and a bank callback and a payment are still admitted; once the lock
// goes, everything is served again.
func TestSheddingKeepsPriorityTraffic(t *testing.T) {
	t.Parallel()
	// 4 slots: reads start under 2 in flight, other mutations under 3,
	// callbacks and payments under 4. No waiting for room.
	h, idp := apitest.NewWithIdentity(t, apitest.WithEnv("ADMISSION_MAX_IN_FLIGHT", "4"),
		apitest.WithEnv("ADMISSION_MAX_WAIT", "0s"), apitest.WithEnv("ADMISSION_DB_WAIT", "0s"))
	bank := h.NewBank("SBX")
	cit := idp.NewCitizen(t, 2)
	// The citizen is known before the lock, so that paying needs no insert.
	if r := h.AsCitizen(cit.Token, http.MethodGet, "/v1/me", "", nil); r.Status != http.StatusOK {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}

	ctx := context.Background()
	lock, err := h.DB.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck
	if _, err := lock.Exec(ctx, `LOCK TABLE payment_requests IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	created := make(chan *apitest.Response, 3)
	for i := range 3 {
		wg.Go(func() {
			created <- h.Post("/v1/payment-requests", fmt.Sprintf("shed-%d", i), createBody(fmt.Sprintf("HCM-SHED-%d", i)))
		})
	}
	testenv.Eventually(t, 45*time.Second, func() bool {
		return h.App.Shedder.InFlight(admission.Normal) == 3
	}, "three creates in flight")

	// Reads are shed.
	for _, r := range []*apitest.Response{
		h.Get("/v1/payment-requests"),
		h.AsCitizen(cit.Token, http.MethodGet, "/v1/me/payment-requests", "", nil),
	} {
		if r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" {
			t.Fatalf("read while full: %d %s", r.Status, r.Body)
		}
		retryAfter(t, r)
	}
	// So is another ordinary mutation, and it stores nothing.
	r := h.Post("/v1/payment-requests", "shed-more", createBody("HCM-SHED-MORE"))
	if r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" {
		t.Fatalf("create while full: %d %s", r.Status, r.Body)
	}
	retryAfter(t, r)
	// A bank's callback and a citizen's payment are admitted: they get their
	// own answers (no such debit; no such request), not 503.
	cb := h.Callback(bank, "", time.Time{}, map[string]any{
		"event_id": "evt-shed-1", "type": "debit.succeeded", "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"debit_id": "pa_unknown", "amount": "75000", "currency": "VND", "bank_reference": "REF1"},
	})
	if cb.Status != http.StatusNotFound {
		t.Fatalf("callback while full: %d %s", cb.Status, cb.Body)
	}
	pay := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/payment-requests/pr_unknown/pay", "pay-shed", map[string]any{})
	if pay.Status != http.StatusNotFound || pay.Code() != "not_found" {
		t.Fatalf("pay while full: %d %s", pay.Status, pay.Body)
	}

	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(created)
	for r := range created {
		if r.Status != http.StatusCreated {
			t.Fatalf("a create admitted before the peak: %d %s", r.Status, r.Body)
		}
	}
	if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
		t.Fatalf("read after the peak: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests", "shed-more", createBody("HCM-SHED-MORE")); r.Status != http.StatusCreated {
		t.Fatalf("the shed create, retried with its key: %d %s", r.Status, r.Body)
	}
	metrics := h.Metrics()
	for _, want := range []string{
		`gateway_admission_shed_total{class="low",reason="busy"} 2`,
		`gateway_admission_shed_total{class="normal",reason="busy"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "gateway_admission"))
		}
	}
	if strings.Contains(metrics, `class="critical",reason=`) {
		t.Errorf("critical requests were shed:\n%s", grepLines(metrics, "gateway_admission"))
	}
}

// grepLines returns the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
