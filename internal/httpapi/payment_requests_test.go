package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/testenv"
)

func createBody(dossier string) map[string]any {
	return map[string]any{
		"citizen_pid":  "079203001234",
		"dossier_code": dossier,
		"service_code": "1.001234",
		"description":  "Lệ phí cấp giấy phép xây dựng",
		"items": []map[string]any{
			{"code": "LE_PHI", "description": "Lệ phí", "amount": "50000"},
			{"code": "PHI", "description": "Phí thẩm định", "amount": "25000"},
		},
		"amount":   "75000",
		"currency": "VND",
		"metadata": map[string]string{"office": "Q1"},
	}
}

func TestCreateGetListCancel(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	res := h.Post("/v1/payment-requests", "create-1", createBody("HCM-1"))
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	pr := res.Map(t)
	checks := map[string]any{
		"status": "pending", "version": float64(1), "citizen_pid_masked": "079******234", "dossier_code": "HCM-1",
		"amount": "75000", "currency": "VND", "amount_refunded": "0", "payment": nil, "object": "payment_request",
	}
	for k, want := range checks {
		if pr[k] != want {
			t.Errorf("%s = %v, want %v", k, pr[k], want)
		}
	}
	if strings.Contains(string(res.Body), "079203001234") {
		t.Fatal("the clear pid is in the response")
	}
	exp, err := time.Parse(time.RFC3339, pr["expires_at"].(string))
	if err != nil || time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
		t.Errorf("default expiry %v", pr["expires_at"])
	}
	if !strings.HasSuffix(pr["created_at"].(string), "Z") {
		t.Errorf("created_at not in UTC: %v", pr["created_at"])
	}
	prID := pr["id"].(string)

	got := h.Get("/v1/payment-requests/" + prID)
	if got.Status != 200 || !bytes.Equal(got.Body, res.Body) {
		t.Fatalf("get: %d %s\nwant %s", got.Status, got.Body, res.Body)
	}

	// A second live request for the dossier is refused, and that refusal is replayed.
	dup := h.Post("/v1/payment-requests", "create-2", createBody("HCM-1"))
	if dup.Status != 409 || dup.Code() != "duplicate_dossier" {
		t.Fatalf("duplicate dossier: %d %s", dup.Status, dup.Body)
	}
	again := h.Post("/v1/payment-requests", "create-2", createBody("HCM-1"))
	if again.Status != 409 || !bytes.Equal(again.Body, dup.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("stored refusal not replayed: %d %s", again.Status, again.Body)
	}

	for i := 2; i <= 4; i++ {
		if r := h.Post("/v1/payment-requests", fmt.Sprintf("c-%d", i), createBody(fmt.Sprintf("HCM-%d", i))); r.Status != 201 {
			t.Fatalf("create %d: %d", i, r.Status)
		}
	}
	var page struct {
		Data       []map[string]any `json:"data"`
		NextCursor *string          `json:"next_cursor"`
	}
	h.Get("/v1/payment-requests?limit=3").JSON(t, &page)
	if len(page.Data) != 3 || page.NextCursor == nil || page.Data[0]["dossier_code"] != "HCM-4" {
		t.Fatalf("first page: %+v", page)
	}
	cursor := *page.NextCursor
	page.NextCursor = nil
	h.Get("/v1/payment-requests?limit=3&cursor="+cursor).JSON(t, &page)
	if len(page.Data) != 1 || page.NextCursor != nil || page.Data[0]["id"] != prID {
		t.Fatalf("second page: %+v", page)
	}
	h.Get("/v1/payment-requests?dossier_code=HCM-2").JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0]["dossier_code"] != "HCM-2" {
		t.Fatalf("dossier filter: %+v", page)
	}

	canceled := h.Post("/v1/payment-requests/"+prID+"/cancel", "cancel-1", nil)
	if canceled.Status != 200 {
		t.Fatalf("cancel: %d %s", canceled.Status, canceled.Body)
	}
	cm := canceled.Map(t)
	if cm["status"] != "canceled" || cm["version"] != float64(2) {
		t.Fatalf("cancel result: %v", cm)
	}
	h.Get("/v1/payment-requests?status=canceled").JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0]["id"] != prID {
		t.Fatalf("status filter: %+v", page)
	}
	// Canceling again with a new key: invalid_state.
	if r := h.Post("/v1/payment-requests/"+prID+"/cancel", "cancel-2", nil); r.Status != 409 || r.Code() != "invalid_state" {
		t.Fatalf("second cancel: %d %s", r.Status, r.Body)
	}
	// The dossier is free again once its request is canceled.
	if r := h.Post("/v1/payment-requests", "create-again", createBody("HCM-1")); r.Status != 201 {
		t.Fatalf("dossier not freed: %d %s", r.Status, r.Body)
	}
}

func TestOtherPortalSeesNotFound(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	res := h.Post("/v1/payment-requests", "k", createBody("D-1"))
	prID := res.Map(t)["id"].(string)
	other := h.NewPortal("Other portal")
	for _, r := range []apitest.Request{
		{Method: "GET", Path: "/v1/payment-requests/" + prID, Portal: other},
		{Method: "POST", Path: "/v1/payment-requests/" + prID + "/cancel", Portal: other, IdempotencyKey: "x"},
		{Method: "GET", Path: "/v1/payment-requests/pr_nonexistent"},
	} {
		got := h.Do(r)
		if got.Status != 404 || got.Code() != "not_found" {
			t.Errorf("%s %s: %d %s", r.Method, r.Path, got.Status, got.Body)
		}
	}
	var page struct{ Data []any }
	h.Do(apitest.Request{Method: "GET", Path: "/v1/payment-requests", Portal: other}).JSON(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("other portal lists %d requests", len(page.Data))
	}
	if h.Count("SELECT count(*) FROM payment_requests WHERE status = 'pending'") != 1 {
		t.Fatal("the other portal changed the request")
	}
}

func TestSignatureRefusals(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	body := apitest.Marshal(t, createBody("S-1"))
	cases := []struct {
		name string
		req  apitest.Request
	}{
		{"wrong secret", apitest.Request{Method: "POST", Path: "/v1/payment-requests", Body: body, IdempotencyKey: "s", Secret: "psk_wrong"}},
		{"old timestamp", apitest.Request{Method: "POST", Path: "/v1/payment-requests", Body: body, IdempotencyKey: "s", Timestamp: time.Now().Add(-301 * time.Second)}},
		{"future timestamp", apitest.Request{Method: "POST", Path: "/v1/payment-requests", Body: body, IdempotencyKey: "s", Timestamp: time.Now().Add(301 * time.Second)}},
		{"unsigned", apitest.Request{Method: "GET", Path: "/v1/payment-requests", Unsigned: true}},
		{"unknown key id", apitest.Request{Method: "GET", Path: "/v1/payment-requests", Unsigned: true,
			Header: http.Header{"X-Portal-Key": {"pk_unknown"}, "X-Timestamp": {fmt.Sprint(time.Now().Unix())}, "X-Signature": {"v1=00"}}}},
	}
	for _, c := range cases {
		res := h.Do(c.req)
		if res.Status != 401 || res.Code() != "invalid_signature" {
			t.Errorf("%s: %d %s", c.name, res.Status, res.Body)
		}
	}
	// Tampering after signing: the body, the query, the idempotency key.
	tamper := func(name string, mutate func(r *http.Request) []byte) {
		req := signedRequest(t, h, "POST", "/v1/payment-requests?x=1", body, "s")
		b := mutate(req)
		if res := h.Send(req, b); res.Status != 401 {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
	}
	tamper("body", func(r *http.Request) []byte {
		b := bytes.Replace(body, []byte("75000"), []byte("75001"), 1)
		r.Body, r.ContentLength = ioNop(b), int64(len(b))
		return b
	})
	tamper("query", func(r *http.Request) []byte { r.URL.RawQuery = "x=2"; return body })
	tamper("idempotency key", func(r *http.Request) []byte { r.Header.Set("Idempotency-Key", "t"); return body })
	if n := h.Count("SELECT count(*) FROM payment_requests") + h.Count("SELECT count(*) FROM idempotency_records"); n != 0 {
		t.Fatalf("refused requests wrote %d rows", n)
	}
	// A rotated secret: the new one works as soon as the gateway hears of
	// the change (the bad signatures above just spent this key's forced
	// reload, so only the announcement can make it), the old one too for 24 h.
	old := h.Portal.Secret
	if err := h.App.Portals.RotateSecret(t.Context(), h.Portal.ID, "psk_rotated", time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, heardWithin, func() bool {
		return h.Do(apitest.Request{Method: "GET", Path: "/v1/payment-requests", Secret: "psk_rotated"}).Status == 200
	}, "secret psk_rota not accepted after rotation")
	if res := h.Do(apitest.Request{Method: "GET", Path: "/v1/payment-requests", Secret: old}); res.Status != 200 {
		t.Errorf("secret %s after rotation: %d", old[:8], res.Status)
	}
}

func TestRequestIDEchoed(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	res := h.Do(apitest.Request{Method: "GET", Path: "/v1/payment-requests/pr_x", Header: http.Header{"X-Request-Id": {"my-req-1"}}})
	if res.Header.Get("X-Request-Id") != "my-req-1" {
		t.Fatalf("X-Request-Id %q", res.Header.Get("X-Request-Id"))
	}
	var p map[string]any
	_ = json.Unmarshal(res.Body, &p)
	if p["request_id"] != "my-req-1" {
		t.Fatalf("problem request_id %v", p["request_id"])
	}
	if h.Get("/v1/payment-requests").Header.Get("X-Request-Id") == "" {
		t.Fatal("no generated request id")
	}
	if !strings.Contains(h.Logs.String(), `"request_id":"my-req-1"`) {
		t.Fatal("the request's log line lacks its id")
	}
}

// Lists keep each request's JSON by id and version: a request listed,
// then changed, is listed changed, exactly as a GET shows it.
func TestListShowsEachChange(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	res := h.Post("/v1/payment-requests", "create-views", createBody("HCM-VIEWS"))
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	prID := res.Map(t)["id"].(string)
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	for _, step := range []string{"listed", "listed again"} {
		h.Get("/v1/payment-requests?limit=5").JSON(t, &page)
		if len(page.Data) != 1 || !strings.Contains(string(page.Data[0]), `"status":"pending"`) {
			t.Fatalf("%s: %s", step, page.Data)
		}
	}
	if r := h.Post("/v1/payment-requests/"+prID+"/cancel", "cancel-views", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	h.Get("/v1/payment-requests?limit=5").JSON(t, &page)
	got := h.Get("/v1/payment-requests/" + prID)
	if len(page.Data) != 1 || !strings.Contains(string(page.Data[0]), `"status":"canceled","version":2`) {
		t.Fatalf("after the cancel, the list shows %s", page.Data)
	}
	if string(page.Data[0]) != strings.TrimSpace(string(got.Body)) {
		t.Errorf("listed %s\nGET     %s", page.Data[0], got.Body)
	}
}

// A client that hangs up is not the gateway's failure: its request is
// logged 499, never as a 500 error.
func TestClientGoneIsNotAnError(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	req := httptest.NewRequest(http.MethodGet, "/v1/payment-requests?limit=5", nil)
	req.Header.Set(signature.HeaderPortalKey, h.Portal.KeyID)
	signature.SignRequest(req, h.Portal.Secret, nil, time.Now())
	ctx, cancel := context.WithCancel(req.Context())
	cancel() // gone before the answer
	rec := httptest.NewRecorder()
	h.App.Handler.ServeHTTP(rec, req.WithContext(ctx))
	if rec.Code != 499 {
		t.Fatalf("status %d %s, want 499", rec.Code, rec.Body)
	}
	logs := h.Logs.String()
	if !strings.Contains(logs, `"status":499`) || strings.Contains(logs, `"status":500`) || strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("logs: %s", logs)
	}
}
