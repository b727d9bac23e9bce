package httpapi_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestIdempotencyKeyRules(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	body := createBody("K-1")
	first := h.Post("/v1/payment-requests", "key-1", body)
	if first.Status != 201 {
		t.Fatalf("create: %d", first.Status)
	}
	// The same body with other key order and white space: a replay.
	reordered := `{ "currency":"VND", "amount":"75000", "metadata":{"office":"Q1"},
		"items":[{"amount":"50000","description":"Lệ phí","code":"LE_PHI"},{"description":"Phí thẩm định","code":"PHI","amount":"25000"}],
		"description":"Lệ phí cấp giấy phép xây dựng", "service_code":"1.001234", "dossier_code":"K-1", "citizen_pid":"079203001234" }`
	replay := h.Post("/v1/payment-requests", "key-1", reordered)
	if replay.Status != 201 || !bytes.Equal(replay.Body, first.Body) || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", replay.Status, replay.Body)
	}
	// The same key with another body: 422, nothing runs.
	other := createBody("K-2")
	if r := h.Post("/v1/payment-requests", "key-1", other); r.Status != 422 || r.Code() != "idempotency_key_reused" {
		t.Fatalf("reused key: %d %s", r.Status, r.Body)
	}
	// The key is checked before the body's values: the same key with a
	// body that would be refused on its own (invalid_amount, and several
	// field problems) is still idempotency_key_reused, and nothing runs.
	invalid := createBody("K-1")
	invalid["amount"] = "-1"
	if r := h.Post("/v1/payment-requests", "key-invalid", invalid); r.Status != 422 || r.Code() != "invalid_amount" {
		t.Fatalf("the invalid body under a new key: %d %s", r.Status, r.Body)
	}
	manyWrong := `{"citizen_pid":"1","dossier_code":"K-1","service_code":"1.001234","description":"x",
		"items":[{"code":"LE_PHI","description":"Lệ phí","amount":"0"}],"amount":"075000","currency":"USD"}`
	for _, b := range []any{invalid, manyWrong} {
		if r := h.Post("/v1/payment-requests", "key-1", b); r.Status != 422 || r.Code() != "idempotency_key_reused" {
			t.Fatalf("reused key, invalid body: %d %s", r.Status, r.Body)
		}
	}
	// The same key on another path is another request too.
	prID := first.Map(t)["id"].(string)
	if r := h.Post("/v1/payment-requests/"+prID+"/cancel", "key-1", nil); r.Status != 422 || r.Code() != "idempotency_key_reused" {
		t.Fatalf("reused key on another path: %d %s", r.Status, r.Body)
	}
	// A refund too: its refusal on state is stored, and the same key with
	// an invalid amount is the reused key, not invalid_amount.
	if r := h.Post("/v1/payment-requests/"+prID+"/refunds", "refund-1", map[string]any{"amount": "1000"}); r.Status != 409 || r.Code() != "invalid_state" {
		t.Fatalf("refund of a pending request: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests/"+prID+"/refunds", "refund-1", map[string]any{"amount": "-1"}); r.Status != 422 || r.Code() != "idempotency_key_reused" {
		t.Fatalf("reused refund key, invalid amount: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests/"+prID+"/refunds", "refund-2", map[string]any{"amount": "-1"}); r.Status != 422 || r.Code() != "invalid_amount" {
		t.Fatalf("invalid refund amount under a new key: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests", "", other); r.Status != 400 || r.Code() != "idempotency_key_missing" {
		t.Fatalf("missing key: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests", strings.Repeat("k", 256), other); r.Status != 400 || r.Code() != "idempotency_key_invalid" {
		t.Fatalf("long key: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests", "tab\tkey", other); r.Status != 400 || r.Code() != "idempotency_key_invalid" {
		t.Fatalf("control character in key: %d %s", r.Status, r.Body)
	}
	// Keys are scoped to the portal: another portal may use key-1 for its own request.
	p2 := h.NewPortal("Second")
	r := h.Do(apitest.Request{Method: "POST", Path: "/v1/payment-requests", Body: apitest.Marshal(t, body), IdempotencyKey: "key-1", Portal: p2})
	if r.Status != 201 || r.Map(t)["id"] == prID {
		t.Fatalf("other portal's key-1: %d %s", r.Status, r.Body)
	}
	if n := h.Count("SELECT count(*) FROM payment_requests"); n != 2 {
		t.Fatalf("%d payment requests, want 2", n)
	}
}

func TestReplayAfterTheExpiryPassed(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	h := apitest.New(t, apitest.WithClock(clock))
	b := createBody("LATE-1")
	b["expires_at"] = h.Now().Add(time.Minute).Format(time.RFC3339Nano)
	first := h.Post("/v1/payment-requests", "late", b)
	if first.Status != 201 {
		t.Fatalf("create: %d %s", first.Status, first.Body)
	}
	clock.AdvanceTo(mustTime(t, b["expires_at"].(string)).Add(100 * time.Millisecond))
	// The body would now be refused (expires_at in the past), but it ran:
	// the same key replays it.
	again := h.Post("/v1/payment-requests", "late", b)
	if again.Status != 201 || !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("late replay: %d %s", again.Status, again.Body)
	}
	if r := h.Post("/v1/payment-requests", "late-new", b); r.Status != 422 || r.Code() != "invalid_expiry" {
		t.Fatalf("the same body under a new key: %d %s", r.Status, r.Body)
	}
}
