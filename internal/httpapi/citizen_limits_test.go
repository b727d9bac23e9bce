package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestBankRefusalsLookAlike: a number held by someone else and a number the
// bank does not know are refused alike for the citizen (not_verified), so
// that linking cannot probe a bank's account numbers; the bank's own codes
// stay stored for the operator.
func TestBankRefusalsLookAlike(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	owner, prober := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	held := apitest.AccountOf(t, owner)
	b := h.NewBank("SBX", held)
	unknown := "9999" + held.Number[4:] // not an account of the bank

	mismatch := settled(t, h, prober, link(t, h, prober, "probe-held", "SBX", held.Number).ID)
	notFound := settled(t, h, prober, link(t, h, prober, "probe-unknown", "SBX", unknown).ID)
	for _, got := range []linked{mismatch, notFound} {
		if got.Status != "rejected" || got.RejectionReason == nil || *got.RejectionReason != "not_verified" {
			t.Fatalf("a refusal by the bank, as the citizen sees it: %+v (reason %v)", got, deref(got.RejectionReason))
		}
	}
	if received := b.Sim.Stats().Received["account_verification"]; received != 2 {
		t.Fatalf("the bank got %d verifications, want 2", received)
	}
	// The bank's own code is kept for the operator, and shown to nobody else.
	for id, want := range map[string]string{mismatch.ID: banksim.ReasonHolderMismatch, notFound.ID: banksim.ReasonAccountNotFound} {
		if n := h.Count(`SELECT count(*) FROM linked_accounts WHERE id = $1 AND bank_reason_code = $2 AND rejection_reason = 'not_verified'`,
			id, want); n != 1 {
			t.Errorf("account %s does not keep the bank's code %s", id, want)
		}
	}
	for _, r := range []*apitest.Response{
		h.AsCitizen(prober.Token, http.MethodGet, "/v1/me/accounts", "", nil),
		h.AsCitizen(prober.Token, http.MethodGet, "/v1/me/accounts?status=rejected", "", nil),
	} {
		for _, code := range []string{banksim.ReasonHolderMismatch, banksim.ReasonAccountNotFound} {
			if strings.Contains(string(r.Body), code) {
				t.Fatalf("the citizen sees the bank's code %s: %s", code, r.Body)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestCitizenRateLimit: a citizen's mutations beyond their burst are refused
// 429 with Retry-After before anything runs: nothing is stored, no bank is
// asked. Reads and other citizens are not affected.
func TestCitizenRateLimit(t *testing.T) {
	t.Parallel()
	// One mutation per 1000 s with bursts of 3: only the burst passes during the test.
	h, idp := apitest.NewWithIdentity(t, withWorkers(),
		apitest.WithEnv("RATE_LIMIT_CITIZEN_RPS", "0.001"), apitest.WithEnv("RATE_LIMIT_CITIZEN_BURST", "3"))
	prober, other := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	held := apitest.AccountOf(t, other)
	b := h.NewBank("SBX", held)
	number := func(i int) string { return fmt.Sprintf("99990000%05d", i) }

	var ids []string
	for i := range 3 {
		ids = append(ids, link(t, h, prober, fmt.Sprintf("probe-%d", i), "SBX", number(i)).ID)
	}
	for _, id := range ids {
		settled(t, h, prober, id)
	}
	sent := b.Sim.Stats().Received["account_verification"]
	if sent != 3 {
		t.Fatalf("the bank got %d verifications for the burst, want 3", sent)
	}

	for _, req := range []struct{ method, path, key string }{
		{http.MethodPost, "/v1/me/accounts", "probe-over"},
		{http.MethodPost, "/v1/me/payment-requests/pr_unknown/pay", "pay-over"},
		{http.MethodPost, "/v1/me/accounts/" + ids[0] + "/default", "default-over"},
		{http.MethodDelete, "/v1/me/accounts/" + ids[0], "unlink-over"},
	} {
		var body any
		if req.key == "probe-over" {
			body = linkBody("SBX", number(3))
		}
		r := h.AsCitizen(prober.Token, req.method, req.path, req.key, body)
		if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" {
			t.Fatalf("%s %s over the limit: %d %s", req.method, req.path, r.Status, r.Body)
		}
		if n := retryAfter(t, r); n < 900 || n > 1000 {
			t.Fatalf("Retry-After %d, want about the 1000 s to the next allowance", n)
		}
		if n := h.Count(`SELECT count(*) FROM idempotency_records WHERE key = $1`, req.key); n != 0 {
			t.Fatalf("a rate-limited %s %s stored %d idempotency records", req.method, req.path, n)
		}
	}
	if n := h.Count(`SELECT count(*) FROM linked_accounts`); n != 3 {
		t.Fatalf("%d accounts, want the burst's 3", n)
	}
	// Reads are not limited.
	for range 5 {
		if r := h.AsCitizen(prober.Token, http.MethodGet, "/v1/me/accounts", "", nil); r.Status != http.StatusOK {
			t.Fatalf("a read over the mutation limit: %d %s", r.Status, r.Body)
		}
	}
	// Another citizen has their own allowance.
	if a := settled(t, h, other, link(t, h, other, "mine", "SBX", held.Number).ID); a.Status != "active" {
		t.Fatalf("another citizen's link: %+v", a)
	}
	// The refused link never reached the bank.
	if got := b.Sim.Stats().Received["account_verification"]; got != sent+1 {
		t.Fatalf("the bank got %d verifications, want %d (the burst and the other citizen's)", got, sent+1)
	}
	metrics := h.Metrics()
	if !strings.Contains(metrics, "gateway_citizen_rate_limited_total 4") {
		t.Errorf("/metrics does not count the four refusals:\n%s", grepLines(metrics, "rate_limit"))
	}
}

// TestCitizenRateLimitedKeyWorksLater: a mutation refused by the rate limit
// stored nothing, so the same Idempotency-Key runs once the allowance is
// back.
func TestCitizenRateLimitedKeyWorksLater(t *testing.T) {
	t.Parallel()
	// One mutation every 2 s, no burst.
	h, idp := apitest.NewWithIdentity(t,
		apitest.WithEnv("RATE_LIMIT_CITIZEN_RPS", "0.5"), apitest.WithEnv("RATE_LIMIT_CITIZEN_BURST", "1"))
	cit := idp.NewCitizen(t, 2)
	h.NewBank("SBX")
	link(t, h, cit, "first", "SBX", "9999000000001")
	r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "second", linkBody("SBX", "9999000000002"))
	if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" {
		t.Fatalf("straight after: %d %s", r.Status, r.Body)
	}
	if n := retryAfter(t, r); n > 2 {
		t.Fatalf("Retry-After %d, want at most the 2 s to the next allowance", n)
	}
	testenv.Eventually(t, 15*time.Second, func() bool {
		r = h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "second", linkBody("SBX", "9999000000002"))
		return r.Status != http.StatusTooManyRequests
	}, "the same key once the allowance is back")
	if r.Status != http.StatusAccepted || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the same key later: %d %v %s", r.Status, r.Header, r.Body)
	}
}

func TestCitizenRateLimitFailsOpenWithoutRedis(t *testing.T) {
	t.Parallel()
	redis := testenv.StartRedisServer(t)
	h, idp := apitest.NewWithIdentity(t, apitest.WithEnv("REDIS_URL", redis.URL()),
		apitest.WithEnv("RATE_LIMIT_CITIZEN_RPS", "0.001"), apitest.WithEnv("RATE_LIMIT_CITIZEN_BURST", "1"))
	cit := idp.NewCitizen(t, 2)
	setDefault := func(key string) *apitest.Response {
		return h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts/acc_unknown/default", key, nil)
	}
	if r := setDefault("d-1"); r.Status != http.StatusNotFound {
		t.Fatalf("first mutation: %d %s", r.Status, r.Body)
	}
	if r := setDefault("d-2"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("over the limit with Redis: %d %s", r.Status, r.Body)
	}
	redis.Stop()
	for i := range 3 {
		if r := setDefault(fmt.Sprintf("d-%d", 3+i)); r.Status != http.StatusNotFound {
			t.Fatalf("mutation %d without Redis: %d %s", i+1, r.Status, r.Body)
		}
	}
	metrics := h.Metrics()
	if !strings.Contains(metrics, "gateway_citizen_rate_limit_fail_open_total 3") {
		t.Errorf("/metrics does not count the three admissions without Redis:\n%s", grepLines(metrics, "rate_limit"))
	}
}

// TestRefusedLinksPause: a citizen whose links the bank refused
// MaxBankRefusals times within the hour may not link again until the oldest
// of them is an hour old; the bank is not asked, nothing is stored, and
// another citizen links as usual.
func TestRefusedLinksPause(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	prober, other := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	held := apitest.AccountOf(t, other)
	b := h.NewBank("SBX", held)
	for i := range account.MaxBankRefusals {
		a := link(t, h, prober, fmt.Sprintf("probe-%d", i), "SBX", fmt.Sprintf("99990000%05d", i))
		if got := settled(t, h, prober, a.ID); got.Status != "rejected" {
			t.Fatalf("probe %d: %+v", i, got)
		}
	}
	sent := b.Sim.Stats().Received["account_verification"]
	r := h.AsCitizen(prober.Token, http.MethodPost, "/v1/me/accounts", "probe-next", linkBody("SBX", held.Number))
	if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" {
		t.Fatalf("a link after %d refusals: %d %s", account.MaxBankRefusals, r.Status, r.Body)
	}
	if n := retryAfter(t, r); n < 3500 || n > 3600 {
		t.Fatalf("Retry-After %d, want about the hour until the oldest refusal leaves the window", n)
	}
	if n := h.Count(`SELECT count(*) FROM idempotency_records WHERE key = 'probe-next'`); n != 0 {
		t.Fatalf("the paused link stored %d idempotency records", n)
	}
	if n := h.Count(`SELECT count(*) FROM linked_accounts`); n != account.MaxBankRefusals {
		t.Fatalf("%d accounts, want %d", n, account.MaxBankRefusals)
	}
	// Other mutations of the paused citizen still run.
	if r := h.AsCitizen(prober.Token, http.MethodPost, "/v1/me/payment-requests/pr_unknown/pay", "pay", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a payment while links pause: %d %s", r.Status, r.Body)
	}
	if a := settled(t, h, other, link(t, h, other, "mine", "SBX", held.Number).ID); a.Status != "active" {
		t.Fatalf("another citizen's link: %+v", a)
	}
	if got := b.Sim.Stats().Received["account_verification"]; got != sent+1 {
		t.Fatalf("the bank got %d verifications, want %d: the paused link reached it", got, sent+1)
	}
}
