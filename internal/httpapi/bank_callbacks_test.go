package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// pendingLink is an account whose verification the bank has received but
// not answered: the test plays the bank's callbacks.
type pendingLink struct {
	h       *apitest.Harness
	citizen *apitest.Citizen
	bank    *apitest.Bank
	account linked
	vid     string
}

func setupPendingLink(t *testing.T) *pendingLink {
	t.Helper()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	c := idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, c)
	b := h.NewBank("SBX", acc)
	b.Sim.SetKnobs(banksim.Knobs{CallbackDelay: time.Hour})
	p := &pendingLink{h: h, citizen: c, bank: b, account: link(t, h, c, "link-1", "SBX", acc.Number)}
	testenv.Eventually(t, 45*time.Second, func() bool {
		return h.DB.Pool.QueryRow(context.Background(), `SELECT verification_id FROM linked_accounts
			WHERE id = $1 AND verification_sent_at IS NOT NULL`, p.account.ID).Scan(&p.vid) == nil
	}, "the verification to be sent")
	return p
}

func event(id, typ string, data map[string]any) map[string]any {
	return map[string]any{"event_id": id, "type": typ, "occurred_at": time.Now().UTC().Format(time.RFC3339), "data": data,
		"bank_extension": map[string]string{"note": "unknown fields are ignored"}}
}

func (p *pendingLink) verified(eventID, outcome string) map[string]any {
	data := map[string]any{"verification_id": p.vid}
	if outcome == "failed" {
		data["reason_code"] = "HOLDER_MISMATCH"
	}
	return event(eventID, "account_verification."+outcome, data)
}

func (p *pendingLink) status(t *testing.T) string {
	t.Helper()
	return accounts(t, p.h, p.citizen)[p.account.ID].Status
}

func expectResult(t *testing.T, r *apitest.Response, want string) {
	t.Helper()
	if r.Status != http.StatusOK || r.Map(t)["result"] != want {
		t.Fatalf("got %d %s, want 200 %s", r.Status, r.Body, want)
	}
}

func expectProblem(t *testing.T, r *apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code() != code {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
}

func TestCallbackAppliedOnce(t *testing.T) {
	t.Parallel()
	p := setupPendingLink(t)
	h, b := p.h, p.bank
	expectResult(t, h.Callback(b, "", time.Time{}, p.verified("evt_1", "succeeded")), "applied")
	if s := p.status(t); s != "active" {
		t.Fatalf("status %s", s)
	}
	// Redis answers the repeat...
	expectResult(t, h.Callback(b, "", time.Time{}, p.verified("evt_1", "succeeded")), "duplicate")
	// ...and so does PostgreSQL when Redis has lost the marker.
	marker := h.App.Store.Prefix() + "bankevt:{SBX:evt_1}"
	if v, err := h.App.Redis.Get(context.Background(), marker).Result(); err != nil || v != "applied" {
		t.Fatalf("marker %s = %q, %v", marker, v, err)
	}
	if err := h.App.Redis.Del(context.Background(), marker).Err(); err != nil {
		t.Fatal(err)
	}
	expectResult(t, h.Callback(b, "", time.Time{}, p.verified("evt_1", "succeeded")), "duplicate")
	// A second report of the same outcome under a new event id.
	expectResult(t, h.Callback(b, "", time.Time{}, p.verified("evt_2", "succeeded")), "duplicate")
	if n := h.Count(`SELECT count(*) FROM bank_events`); n != 2 {
		t.Fatalf("%d bank events", n)
	}
	var body string
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT body::text FROM bank_events WHERE event_id = 'evt_1'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"bank_extension"`) {
		t.Fatalf("the evidence is not the raw callback: %s", body)
	}

	// A contradiction: 409, an incident, nothing changes; its repeat gets the
	// same answer without a second incident.
	for range 2 {
		expectProblem(t, h.Callback(b, "", time.Time{}, p.verified("evt_3", "failed")), http.StatusConflict, "outcome_conflict")
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind = 'outcome_conflict' AND bank_code = 'SBX' AND object_id = $1`, p.vid); n != 1 {
		t.Fatalf("%d incidents", n)
	}
	if s := p.status(t); s != "active" {
		t.Fatalf("status %s after the contradiction", s)
	}
}

func TestCallbackConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	p := setupPendingLink(t)
	var wg sync.WaitGroup
	results := make(chan string, 10)
	for range 10 {
		wg.Go(func() {
			r := p.h.Callback(p.bank, "", time.Time{}, p.verified("evt_same", "succeeded"))
			if r.Status != http.StatusOK {
				results <- r.Code()
				return
			}
			results <- r.Map(t)["result"].(string)
		})
	}
	wg.Wait()
	close(results)
	count := map[string]int{}
	for r := range results {
		count[r]++
	}
	if count["applied"] != 1 || count["duplicate"] != 9 {
		t.Fatalf("results %v, want one applied and nine duplicates", count)
	}
	if s := p.status(t); s != "active" {
		t.Fatalf("status %s", s)
	}
}

// send posts body to the bank's callback URL, signed over signed.
func send(t *testing.T, h *apitest.Harness, code, secret string, signed, body []byte, ts time.Time) *apitest.Response {
	t.Helper()
	req, err := banksim.SignedCallbackRequest(context.Background(), h.Server.URL+"/v1/bank-callbacks/"+code, secret, signed, ts)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	return h.Send(req, body)
}

func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	p := setupPendingLink(t)
	h, b := p.h, p.bank
	other := h.NewBank("OTHER")
	good := apitest.Marshal(t, p.verified("evt_x", "succeeded"))
	tampered := bytes.Replace(good, []byte("succeeded"), []byte("failed"), 1)

	// The window's exact edge (300 s) is pinned with fixed times in
	// internal/signature; here the gateway reads a running clock, so the
	// stale and future signatures sit 30 s beyond the edge, a margin no
	// loaded machine eats between signing and checking.
	unauthorized := []struct {
		name string
		r    *apitest.Response
	}{
		{"forged", h.Callback(b, bank.NewSecret(), time.Time{}, good)},
		{"tampered", send(t, h, "SBX", b.Secret, good, tampered, time.Now())},
		{"replayed after the window", h.Callback(b, "", h.Now().Add(-330*time.Second), good)},
		{"from the future", h.Callback(b, "", h.Now().Add(330*time.Second), good)},
		{"unsigned", h.Send(mustRequest(t, h.Server.URL+"/v1/bank-callbacks/SBX", good), good)},
		{"another bank's secret", send(t, h, "OTHER", b.Secret, good, good, time.Now())},
		{"unknown bank", send(t, h, "NOPE", b.Secret, good, good, time.Now())},
		{"malformed bank code", send(t, h, "sbx", b.Secret, good, good, time.Now())},
	}
	for _, u := range unauthorized {
		if u.r.Status != http.StatusUnauthorized || u.r.Code() != "invalid_signature" {
			t.Errorf("%s: %d %s", u.name, u.r.Status, u.r.Body)
		}
	}
	if n := h.Count(`SELECT count(*) FROM bank_events`) + h.Count(`SELECT count(*) FROM incidents`); n != 0 {
		t.Fatalf("refused callbacks left %d rows", n)
	}

	// Signed, but wrong: final refusals, each an incident.
	expectProblem(t, h.Callback(other, "", time.Time{}, p.verified("evt_wrong_bank", "succeeded")), http.StatusNotFound, "not_found")
	expectProblem(t, h.Callback(b, "", time.Time{}, event("evt_never", "account_verification.succeeded",
		map[string]any{"verification_id": "av_never_sent"})), http.StatusNotFound, "not_found")
	expectProblem(t, h.Callback(b, "", time.Time{}, event("evt_debit", "debit.succeeded",
		map[string]any{"debit_id": "pa_never_sent", "amount": "75000", "currency": "VND", "bank_reference": "FT1"})), http.StatusNotFound, "not_found")
	expectProblem(t, h.Callback(b, "", time.Time{}, event("evt_new", "account_verification.revoked",
		map[string]any{"verification_id": p.vid})), http.StatusUnprocessableEntity, "unknown_event_type")
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind IN ('unknown_object', 'unknown_event_type')`); n != 4 {
		t.Fatalf("%d incidents, want 4", n)
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE bank_code = 'OTHER' AND object_id = $1`, p.vid); n != 1 {
		t.Fatal("the wrong bank's callback is not an incident naming the verification")
	}

	// Malformed: refused, nothing recorded.
	expectProblem(t, h.Callback(b, "", time.Time{}, map[string]any{"type": "account_verification.succeeded",
		"occurred_at": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{"verification_id": p.vid}}),
		http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, h.Callback(b, "", time.Time{}, []byte(`{"event_id":`)), http.StatusBadRequest, "invalid_request")
	big := apitest.Marshal(t, event("evt_big", "account_verification.succeeded", map[string]any{"verification_id": p.vid,
		"padding": strings.Repeat("x", 70<<10)}))
	expectProblem(t, h.Callback(b, "", time.Time{}, big), http.StatusRequestEntityTooLarge, "payload_too_large")

	if s := p.status(t); s != "pending_verification" {
		t.Fatalf("refused callbacks changed the account: %s", s)
	}
	// The genuine callback still applies.
	expectResult(t, h.Callback(b, "", time.Time{}, good), "applied")
}

func mustRequest(t *testing.T, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

// TestCallbackAfterSecretRotation: for 24 h after a rotation, callbacks
// signed with the old secret are accepted as well as the new.
func TestCallbackAfterSecretRotation(t *testing.T) {
	t.Parallel()
	p := setupPendingLink(t)
	h, b := p.h, p.bank
	rotated, err := h.App.Banks.RotateSecret(context.Background(), "SBX")
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == b.Secret || rotated.PreviousSecret != b.Secret {
		t.Fatal("rotation")
	}
	expectResult(t, h.Callback(b, b.Secret, time.Time{}, p.verified("evt_old", "succeeded")), "applied")
	expectResult(t, h.Callback(b, rotated.Secret, time.Time{}, p.verified("evt_new", "succeeded")), "duplicate")
	expectProblem(t, h.Callback(b, bank.NewSecret(), time.Time{}, p.verified("evt_forged", "succeeded")), http.StatusUnauthorized, "invalid_signature")
}
