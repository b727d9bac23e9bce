package dispatch_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/citizenpay/gateway/internal/apitest"
	dlv "github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/webhook"
)

// fastRetries runs the workers with the retry schedule shrunk a thousandfold
// (5 s becomes 5 ms).
func fastRetries() []apitest.Option {
	return []apitest.Option{apitest.WithEnv("GATEWAY_WORKERS", "true"), apitest.WithEnv("WEBHOOK_RETRY_FACTOR", "0.001")}
}

// received is one delivery attempt as the portal saw it.
type received struct {
	id, timestamp string
	header        http.Header
	body          []byte
	status        int
	verified      map[string]error // by secret, checked on receipt by the official library
}

// endpoint is a portal's webhook endpoint. answer decides each attempt's
// status and headers from the event id and its attempt number (from 1).
type endpoint struct {
	srv     *httptest.Server
	secrets []string
	answer  atomic.Pointer[func(id string, n int) (int, http.Header)]
	mu      sync.Mutex
	got     []received
}

func newEndpoint(t *testing.T, secrets []string, answer func(id string, n int) (int, http.Header)) *endpoint {
	t.Helper()
	e := &endpoint{secrets: secrets}
	e.setAnswer(answer)
	mux := http.NewServeMux()
	mux.HandleFunc("/webhooks", e.serve)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) setAnswer(f func(id string, n int) (int, http.Header)) { e.answer.Store(&f) }

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{id: r.Header.Get(webhook.HeaderID), timestamp: r.Header.Get(webhook.HeaderTimestamp),
		header: r.Header.Clone(), body: body, verified: map[string]error{}}
	for _, s := range e.secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		rec.verified[s] = err
	}
	e.mu.Lock()
	n := 1
	for _, g := range e.got {
		if g.id == rec.id {
			n++
		}
	}
	status, header := (*e.answer.Load())(rec.id, n)
	rec.status = status
	e.got = append(e.got, rec)
	e.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
}

// attempts returns the attempts received for event id.
func (e *endpoint) attempts(id string) []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []received
	for _, g := range e.got {
		if g.id == id {
			out = append(out, g)
		}
	}
	return out
}

func ok(string, int) (int, http.Header) { return http.StatusOK, nil }

// pointPortal sends the portal's webhooks to url.
func pointPortal(t *testing.T, h *apitest.Harness, p *portal.Portal, url string) {
	t.Helper()
	if _, err := h.DB.Pool.Exec(context.Background(), `UPDATE portals SET webhook_url = $2 WHERE id = $1`, p.ID, url); err != nil {
		t.Fatal(err)
	}
}

func createBody(dossier string) map[string]any {
	return map[string]any{
		"citizen_pid": "079203001234", "dossier_code": dossier, "service_code": "1.001234",
		"description": "Lệ phí cấp giấy phép xây dựng",
		"items":       []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "75000"}},
		"amount":      "75000", "currency": "VND",
	}
}

// createRequest creates a payment request, which writes one event, and
// returns that event's id.
func createRequest(t *testing.T, h *apitest.Harness, dossier string) string {
	t.Helper()
	res := h.Post("/v1/payment-requests", "create-"+dossier, createBody(dossier))
	if res.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", dossier, res.Status, res.Body)
	}
	var evID string
	err := h.DB.Pool.QueryRow(context.Background(), `SELECT id FROM events
		WHERE payload::jsonb #>> '{data,payment_request,id}' = $1 AND type = 'payment_request.created'`, res.Map(t)["id"]).Scan(&evID)
	if err != nil {
		t.Fatal(err)
	}
	return evID
}

// deliveryState is an event's delivery as its row has it.
type deliveryState struct {
	Payload       []byte
	Status        dlv.Status
	Attempts      int
	Generation    int
	LastAttemptAt *time.Time
	LastError     string
	DeliveredAt   *time.Time
}

func delivery(t *testing.T, h *apitest.Harness, eventID string) *deliveryState {
	t.Helper()
	var d deliveryState
	err := h.DB.Pool.QueryRow(context.Background(), `SELECT payload, delivery_status, delivery_attempts,
		delivery_generation, last_attempt_at, coalesce(last_error, ''), delivered_at FROM events WHERE id = $1`, eventID).Scan(
		&d.Payload, &d.Status, &d.Attempts, &d.Generation, &d.LastAttemptAt, &d.LastError, &d.DeliveredAt)
	if err != nil {
		t.Fatal(err)
	}
	return &d
}

// deliveries returns the deliveries metric for outcome.
func deliveries(t *testing.T, h *apitest.Harness, outcome string) float64 {
	t.Helper()
	mfs, err := h.App.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gateway_webhook_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// nextAttempt returns when eventID is next due for delivery; nil when it is
// not due at all (delivered, failed, or held).
func nextAttempt(t *testing.T, h *apitest.Harness, eventID string) *time.Time {
	t.Helper()
	var at *time.Time
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT next_attempt_at FROM events WHERE id = $1`, eventID).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at
}
