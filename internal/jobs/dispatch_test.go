package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/citizenpay/gateway/internal/apitest"
	dlv "github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/jobs"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
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

func TestDeliveryEndpointDownThenUp(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, fastRetries()...)
	const downFor = 3
	ep := newEndpoint(t, []string{h.Portal.WebhookSecret}, func(_ string, n int) (int, http.Header) {
		if n <= downFor {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	var ids []string
	for _, dossier := range []string{"HCM-1", "HCM-2", "HCM-3"} {
		ids = append(ids, createRequest(t, h, dossier))
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM events WHERE delivery_status = 'delivered'`) == len(ids)
	}, "every event delivered")
	for _, id := range ids {
		d := delivery(t, h, id)
		if d.Attempts != downFor+1 || d.DeliveredAt == nil || d.LastError != "" || d.LastAttemptAt == nil || !d.LastAttemptAt.Equal(*d.DeliveredAt) {
			t.Errorf("%s: attempts %d, delivered_at %v, last_error %q; want %d attempts, delivered, no error",
				id, d.Attempts, d.DeliveredAt, d.LastError, downFor+1)
		}
		got := ep.attempts(id)
		if len(got) != downFor+1 {
			t.Fatalf("%s: %d attempts received, want %d", id, len(got), downFor+1)
		}
		succeeded := 0
		for i, a := range got {
			if a.status/100 == 2 {
				succeeded++
			}
			if string(a.body) != string(d.Payload) {
				t.Errorf("%s attempt %d: body differs from the stored event", id, i+1)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s attempt %d: Content-Type %q", id, i+1, ct)
			}
			if err := a.verified[h.Portal.WebhookSecret]; err != nil {
				t.Errorf("%s attempt %d: standardwebhooks refuses: %v", id, i+1, err)
			}
		}
		if succeeded != 1 {
			t.Errorf("%s: %d attempts answered 2xx, want 1", id, succeeded)
		}
		// Each attempt is signed at its own time: the last comes ≥ 1.9 s
		// (5 ms + 300 ms + 1.8 s, jittered) after the first.
		first, _ := strconv.ParseInt(got[0].timestamp, 10, 64)
		last, _ := strconv.ParseInt(got[len(got)-1].timestamp, 10, 64)
		if last <= first {
			t.Errorf("%s: webhook-timestamp %d on the last attempt, %d on the first: not signed anew", id, last, first)
		}
	}
	if n := deliveries(t, h, jobs.OutcomeDelivered); n != float64(len(ids)) {
		t.Errorf("delivered metric %v, want %d", n, len(ids))
	}
	if n := deliveries(t, h, jobs.OutcomeRetry); n != float64(len(ids)*downFor) {
		t.Errorf("retry metric %v, want %d", n, len(ids)*downFor)
	}
	// Deliveries come from the events table: no job per event, and a
	// delivered event is due no more.
	if n := h.Count(`SELECT count(*) FROM river_job WHERE args::text LIKE '%evt\_%'`); n != 0 {
		t.Errorf("%d River jobs for webhook deliveries, want none", n)
	}
	if n := h.Count(`SELECT count(*) FROM events WHERE next_attempt_at IS NOT NULL`); n != 0 {
		t.Errorf("%d delivered events still due", n)
	}
}

func TestDeliveryDualSigningDuringRotation(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	h := apitest.New(t, append(fastRetries(), apitest.WithClock(clock))...)
	oldSecret := h.Portal.WebhookSecret
	newSecret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.App.Portals.RotateWebhookSecret(ctx, h.Portal.ID, newSecret, h.Now().Add(portal.RotationGrace)); err != nil {
		t.Fatal(err)
	}
	ep := newEndpoint(t, []string{oldSecret, newSecret}, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")

	during := createRequest(t, h, "HCM-ROT-1")
	testenv.Eventually(t, 30*time.Second, func() bool { return len(ep.attempts(during)) == 1 }, "the delivery during the grace")
	a := ep.attempts(during)[0]
	if n := len(strings.Fields(a.header.Get(webhook.HeaderSignature))); n != 2 {
		t.Errorf("during the grace: %d signatures, want 2", n)
	}
	for name, s := range map[string]string{"old": oldSecret, "new": newSecret} {
		if err := a.verified[s]; err != nil {
			t.Errorf("during the grace, a portal holding the %s secret refuses: %v", name, err)
		}
	}

	// The grace is over: the old secret signs no more. (Ended here by hand,
	// and the clock moved on past PortalTTL: the dispatcher sees a portal's
	// row as it was at most PortalTTL ago.)
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE portals SET previous_webhook_secret_expires_at = $2 WHERE id = $1`,
		h.Portal.ID, h.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(jobs.PortalTTL + 100*time.Millisecond)
	after := createRequest(t, h, "HCM-ROT-2")
	testenv.Eventually(t, 30*time.Second, func() bool { return len(ep.attempts(after)) == 1 }, "the delivery after the grace")
	a = ep.attempts(after)[0]
	if n := len(strings.Fields(a.header.Get(webhook.HeaderSignature))); n != 1 {
		t.Errorf("after the grace: %d signatures, want 1", n)
	}
	if err := a.verified[newSecret]; err != nil {
		t.Errorf("after the grace, the new secret: %v", err)
	}
	if err := a.verified[oldSecret]; !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("after the grace, the old secret: %v, want ErrNoMatchingSignature", err)
	}
}

func TestDelivery410DisablesEndpointUntilEnabled(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, fastRetries()...)
	ep := newEndpoint(t, nil, func(string, int) (int, http.Header) { return http.StatusGone, nil })
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	ctx := context.Background()

	first := createRequest(t, h, "HCM-GONE-1")
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM portals WHERE id = $1 AND webhook_disabled_at IS NOT NULL`, h.Portal.ID) == 1
	}, "the endpoint disabled")
	testenv.Eventually(t, 30*time.Second, func() bool { return delivery(t, h, first).Attempts == 1 }, "the 410 recorded")
	d := delivery(t, h, first)
	if d.Status != dlv.StatusPending || d.Attempts != 1 || !strings.Contains(d.LastError, "410") || nextAttempt(t, h, first) != nil {
		t.Errorf("after 410: %s, %d attempts, %q, due %v; want pending, 1 attempt, 410, held", d.Status, d.Attempts, d.LastError, nextAttempt(t, h, first))
	}
	// An event written while the endpoint is disabled is held, not sent.
	second := createRequest(t, h, "HCM-GONE-2")
	testenv.Eventually(t, 30*time.Second, func() bool { return nextAttempt(t, h, second) == nil }, "the second event held")
	if n := len(ep.attempts(second)); n != 0 {
		t.Errorf("%d attempts to a disabled endpoint", n)
	}
	if n := len(ep.attempts(first)); n != 1 {
		t.Errorf("%d attempts after 410, want 1", n)
	}
	if d := delivery(t, h, second); d.Status != dlv.StatusPending || d.Attempts != 0 {
		t.Errorf("held event: %s, %d attempts; want pending, 0", d.Status, d.Attempts)
	}
	if deliveries(t, h, jobs.OutcomeDisabled) != 1 || deliveries(t, h, jobs.OutcomeHeld) != 1 {
		t.Errorf("metrics: disabled %v, held %v; want 1, 1", deliveries(t, h, jobs.OutcomeDisabled), deliveries(t, h, jobs.OutcomeHeld))
	}

	// The operator enables it again: both events are delivered.
	ep.setAnswer(ok)
	r, wasDisabled, err := jobs.EnableWebhook(ctx, h.DB.Pool, h.Portal.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if !wasDisabled || r.PortalID != h.Portal.ID || len(r.Events) != 2 {
		t.Errorf("enable: %+v, was disabled %v; want both events queued", r, wasDisabled)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM events WHERE delivery_status = 'delivered'`) == 2
	}, "both events delivered")
	if d := delivery(t, h, first); d.Attempts != 1 {
		t.Errorf("after enabling: %d attempts, want 1 (a fresh schedule)", d.Attempts)
	}
}

func TestDeliveryRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, fastRetries()...)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	ep := newEndpoint(t, nil, func(string, int) (int, http.Header) {
		return http.StatusMovedPermanently, http.Header{"Location": {other.URL + "/webhooks"}}
	})
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	id := createRequest(t, h, "HCM-REDIRECT")
	testenv.Eventually(t, 30*time.Second, func() bool { return len(ep.attempts(id)) >= 2 }, "two attempts")
	d := delivery(t, h, id)
	if d.Status != dlv.StatusPending || d.Attempts < 1 || !strings.Contains(d.LastError, "HTTP 301 (redirects are not followed)") {
		t.Errorf("after a redirect: %s, %d attempts, %q", d.Status, d.Attempts, d.LastError)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestDeliveryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter func(now time.Time) string
		want       time.Duration
	}{
		{name: "seconds", retryAfter: func(time.Time) string { return "3600" }, want: time.Hour},
		{name: "HTTP date", retryAfter: func(now time.Time) string { return now.Add(2 * time.Hour).UTC().Format(http.TimeFormat) }, want: 2 * time.Hour},
		{name: "capped at 24 h", retryAfter: func(time.Time) string { return "604800" }, want: 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := apitest.New(t, fastRetries()...)
			ep := newEndpoint(t, nil, func(_ string, n int) (int, http.Header) {
				if n == 1 {
					return http.StatusServiceUnavailable, http.Header{"Retry-After": {tt.retryAfter(time.Now())}}
				}
				return http.StatusOK, nil
			})
			pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
			id := createRequest(t, h, "HCM-RA")
			testenv.Eventually(t, 30*time.Second, func() bool { return delivery(t, h, id).Attempts == 1 }, "the first attempt recorded")
			next := nextAttempt(t, h, id)
			d := delivery(t, h, id)
			if d.Attempts != 1 || d.LastAttemptAt == nil || next == nil {
				t.Fatalf("%d attempts, next %v; want 1, due again", d.Attempts, next)
			}
			// The schedule alone would retry in 5 ms; an HTTP date has
			// whole seconds, hence the one-second slack below the wait.
			if wait := next.Sub(*d.LastAttemptAt); wait < tt.want-time.Second || wait > tt.want+time.Minute {
				t.Errorf("next attempt %v after the failed one, want %v", wait, tt.want)
			}

			// A redelivery does not wait: the event is made due now.
			r, err := jobs.Redeliver(context.Background(), h.DB.Pool, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Events) != 1 || r.Events[0].Generation != 1 {
				t.Errorf("redeliver: %+v, want generation 1", r)
			}
			testenv.Eventually(t, 30*time.Second, func() bool { return delivery(t, h, id).Status == dlv.StatusDelivered }, "the redelivery")
			if n := len(ep.attempts(id)); n != 2 {
				t.Errorf("%d attempts, want 2", n)
			}
		})
	}
}

func TestRedeliverFailedEvents(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, fastRetries()...)
	ep := newEndpoint(t, []string{h.Portal.WebhookSecret}, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	ctx := context.Background()
	a, b := createRequest(t, h, "HCM-RD-1"), createRequest(t, h, "HCM-RD-2")
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM events WHERE delivery_status = 'delivered'`) == 2
	}, "both delivered")
	// As if the portal had been down past the last attempt.
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE events SET delivery_status = 'failed', delivered_at = NULL,
		delivery_attempts = 10, last_error = 'HTTP 500'`); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.Redeliver(ctx, h.DB.Pool, a)
	if err != nil {
		t.Fatal(err)
	}
	if r.PortalID != h.Portal.ID || len(r.Events) != 1 || r.Events[0].Generation != 1 || r.Events[0].EventID != a {
		t.Errorf("redeliver %s: %+v", a, r)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return delivery(t, h, a).Status == dlv.StatusDelivered }, a+" delivered again")
	if d := delivery(t, h, a); d.Attempts != 1 {
		t.Errorf("%s: %d attempts, want 1 in the new series", a, d.Attempts)
	}
	if d := delivery(t, h, b); d.Status != dlv.StatusFailed {
		t.Errorf("%s: %s, want failed still", b, d.Status)
	}
	// The retry horizon starts again at a redelivery.
	requeued := `SELECT count(*) FROM events WHERE id = $1 AND delivery_requeued_at > now() - interval '1 minute'`
	if h.Count(requeued, a) != 1 || h.Count(requeued, b) != 0 {
		t.Errorf("delivery_requeued_at: set on %s %d, on %s %d; want 1, 0", a, h.Count(requeued, a), b, h.Count(requeued, b))
	}
	r, err = jobs.RedeliverAll(ctx, h.DB.Pool, h.Portal.ID, dlv.StatusFailed)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 1 || r.Events[0].EventID != b {
		t.Errorf("redeliver failed: %+v, want %s only", r, b)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return delivery(t, h, b).Status == dlv.StatusDelivered }, b+" delivered again")
	for _, id := range []string{a, b} {
		got := ep.attempts(id)
		if len(got) != 2 {
			t.Errorf("%s received %d times, want 2", id, len(got))
		}
		for _, g := range got {
			if g.verified[h.Portal.WebhookSecret] != nil {
				t.Errorf("%s: %v", id, g.verified[h.Portal.WebhookSecret])
			}
		}
	}
	if _, err := jobs.Redeliver(ctx, h.DB.Pool, "evt_unknown"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("unknown event: %v", err)
	}
}

func TestDeliveryRefusedInProduction(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, append(fastRetries(), apitest.WithEnv("GATEWAY_ENV", "production"))...)
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	id := createRequest(t, h, "HCM-PROD")
	testenv.Eventually(t, 30*time.Second, func() bool { return delivery(t, h, id).Attempts >= 1 }, "an attempt")
	if d := delivery(t, h, id); d.Status != dlv.StatusPending || !strings.Contains(d.LastError, "https://") {
		t.Errorf("%s, %q; want pending, refused for http://", d.Status, d.LastError)
	}
	tlsEP := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a private address was reached") }))
	t.Cleanup(tlsEP.Close)
	pointPortal(t, h, h.Portal, tlsEP.URL+"/webhooks")
	testenv.Eventually(t, 30*time.Second, func() bool {
		return strings.Contains(delivery(t, h, id).LastError, "private address")
	}, "a refusal for the private address")
	if n := len(ep.attempts(id)); n != 0 {
		t.Errorf("%d requests reached the http:// endpoint", n)
	}
}

// dispatcher returns a dispatcher run by hand, step by step, on h's
// database, with the retry schedule unjittered.
func dispatcher(h *apitest.Harness, development bool) *jobs.Dispatcher {
	return &jobs.Dispatcher{
		Pool: h.DB.Pool, Portals: h.App.Portals, Sender: webhook.NewSender(development),
		Retry: webhook.RetryPolicy{Rand: func() float64 { return 0.5 }},
		Log:   slog.New(slog.DiscardHandler),
	}
}

// attemptNow makes eventID due now and runs one dispatch step; it returns
// how long the event then waits for its next attempt (0 when it is not due
// again).
func attemptNow(t *testing.T, h *apitest.Harness, d *jobs.Dispatcher, eventID string) time.Duration {
	t.Helper()
	ctx := context.Background()
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE events SET next_attempt_at = now() WHERE id = $1 AND next_attempt_at IS NOT NULL`, eventID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DispatchDue(ctx, 10); err != nil {
		t.Fatal(err)
	}
	next, last := nextAttempt(t, h, eventID), delivery(t, h, eventID).LastAttemptAt
	if next == nil || last == nil {
		return 0
	}
	return next.Sub(*last)
}

func TestDispatcherSchedule(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatcher itself
	ep := newEndpoint(t, nil, func(string, int) (int, http.Header) { return http.StatusInternalServerError, nil })
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	d := dispatcher(h, true)
	id := createRequest(t, h, "HCM-SCHED")
	if next := nextAttempt(t, h, id); next == nil || time.Since(*next) < 0 {
		t.Fatalf("a new event is due at %v, want now", next)
	}

	if wait := attemptNow(t, h, d, id); wait != 5*time.Second {
		t.Fatalf("first failure: next in %v, want 5 s", wait)
	}
	if wait := attemptNow(t, h, d, id); wait != 5*time.Minute {
		t.Fatalf("second failure: next in %v, want 5 min", wait)
	}
	// The ninth failure waits 24 h; the tenth is the last.
	if _, err := h.DB.Pool.Exec(context.Background(), `UPDATE events SET delivery_attempts = 8 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if wait := attemptNow(t, h, d, id); wait != 24*time.Hour {
		t.Fatalf("ninth failure: next in %v, want 24 h", wait)
	}
	if wait := attemptNow(t, h, d, id); wait != 0 {
		t.Fatalf("tenth failure: next in %v, want none", wait)
	}
	got := delivery(t, h, id)
	if got.Status != dlv.StatusFailed || got.Attempts != webhook.MaxAttempts || !strings.HasPrefix(got.LastError, "HTTP 500") {
		t.Errorf("after the last attempt: %s, %d attempts, %q; want failed, %d, HTTP 500", got.Status, got.Attempts, got.LastError, webhook.MaxAttempts)
	}
	// A failed event is not sent again until it is redelivered.
	before := len(ep.attempts(id))
	if n, err := d.DispatchDue(context.Background(), 10); err != nil || n != 0 || len(ep.attempts(id)) != before {
		t.Errorf("a failed event: dispatched %d (%v), sent again %v", n, err, len(ep.attempts(id)) != before)
	}
	// An attempt of the previous generation, recorded after a redelivery,
	// does not touch the new series.
	if _, _, err := postgres.ResetDelivery(context.Background(), h.DB.Pool, id); err != nil {
		t.Fatal(err)
	}
	stale := postgres.Attempt{EventID: id, Generation: 0, Outcome: dlv.Failed(time.Now(), "HTTP 500")}
	if n, err := postgres.RecordAttempts(context.Background(), h.DB.Pool, []postgres.Attempt{stale}); err != nil || n != 0 {
		t.Errorf("a stale attempt: recorded %d (%v), want 0", n, err)
	}
	if got := delivery(t, h, id); got.Status != dlv.StatusPending || got.Attempts != 0 || got.Generation != 1 || nextAttempt(t, h, id) == nil {
		t.Errorf("after reset: %s, %d attempts, generation %d, due %v", got.Status, got.Attempts, got.Generation, nextAttempt(t, h, id))
	}
}

// Two dispatchers on one database share the due events: each is attempted
// once, by one of them.
func TestDispatchersShareEvents(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatchers
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	var ids []string
	for i := range 40 {
		ids = append(ids, createRequest(t, h, "HCM-SHARE-"+strconv.Itoa(i)))
	}
	a, b := dispatcher(h, true), dispatcher(h, true)
	var wg sync.WaitGroup
	var total atomic.Int64
	for _, d := range []*jobs.Dispatcher{a, b, a, b} {
		wg.Go(func() {
			for {
				n, err := d.DispatchDue(context.Background(), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
				total.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if total.Load() != int64(len(ids)) {
		t.Errorf("%d attempts dispatched, want %d", total.Load(), len(ids))
	}
	for _, id := range ids {
		if n := len(ep.attempts(id)); n != 1 {
			t.Errorf("%s received %d times, want once", id, n)
		}
		if d := delivery(t, h, id); d.Status != dlv.StatusDelivered || d.Attempts != 1 {
			t.Errorf("%s: %s after %d attempts", id, d.Status, d.Attempts)
		}
	}
}

// leaseInTests is the lease of the tests that watch one end: long enough
// that a loaded machine does not reach its end before the test looks
// within it, short enough to wait out.
const leaseInTests = 3 * time.Second

// A dispatcher that dies after claiming leaves its events due again when
// the lease ends; meanwhile no other dispatcher takes them.
func TestClaimLeaseOutlivesADeadDispatcher(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers
	id := createRequest(t, h, "HCM-LEASE")
	ctx := context.Background()
	got, err := postgres.ClaimDue(ctx, h.DB.Pool, postgres.Claim{Limit: 10, Lease: leaseInTests})
	if err != nil || len(got) != 1 || got[0].EventID != id {
		t.Fatalf("claim: %+v, %v; want %s", got, err, id)
	}
	// The claimer is gone without a word.
	if again, err := postgres.ClaimDue(ctx, h.DB.Pool, postgres.Claim{Limit: 10, Lease: time.Minute}); err != nil || len(again) != 0 {
		t.Fatalf("claimed twice within the lease: %+v, %v", again, err)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		again, err := postgres.ClaimDue(ctx, h.DB.Pool, postgres.Claim{Limit: 10, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return len(again) == 1 && again[0].EventID == id
	}, "the lease to end")
}

// An event handed to its process's dispatcher is written due only after
// the lease: if that process dies before the attempt, any dispatcher
// delivers it once the lease ends.
func TestHandedOffEventOutlivesItsProcess(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatcher
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	var handed atomic.Int32
	// The process takes the event and dies before sending it.
	h.App.Service.Handoff = func(postgres.Due) bool { handed.Add(1); return true }
	h.App.Service.HandoffLease = leaseInTests
	id := createRequest(t, h, "HCM-HANDOFF")
	if handed.Load() != 1 {
		t.Fatalf("%d events handed off, want 1", handed.Load())
	}
	d := dispatcher(h, true)
	if n, err := d.DispatchDue(context.Background(), 10); err != nil || n != 0 {
		t.Fatalf("within the lease: dispatched %d (%v), want 0", n, err)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		n, err := d.DispatchDue(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}, "the event claimed after the lease")
	if got := delivery(t, h, id); got.Status != dlv.StatusDelivered || len(ep.attempts(id)) != 1 {
		t.Errorf("after the lease: %s, %d attempts received", got.Status, len(ep.attempts(id)))
	}
}

// A portal whose endpoint hangs holds at most PerPortal of the workers: the
// other portals' events are delivered meanwhile.
func TestHangingPortalHoldsFewWorkers(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatcher
	release := make(chan struct{})
	var hung atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		hung.Add(1)
		<-release
	}))
	t.Cleanup(slow.Close)
	pointPortal(t, h, h.Portal, slow.URL+"/webhooks")
	other := h.NewPortal("Other portal")
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, other, ep.srv.URL+"/webhooks")

	for i := range 12 {
		createRequest(t, h, "HCM-HANG-"+strconv.Itoa(i))
	}
	var theirs []string
	for i := range 3 {
		body, _ := json.Marshal(createBody("HCM-OTHER-" + strconv.Itoa(i)))
		r := h.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/payment-requests", Body: body,
			IdempotencyKey: "other-" + strconv.Itoa(i), Portal: other})
		if r.Status != http.StatusCreated {
			t.Fatalf("create for the other portal: %d %s", r.Status, r.Body)
		}
		theirs = append(theirs, r.Map(t)["id"].(string))
	}

	d := dispatcher(h, true)
	d.Workers, d.PerPortal, d.Poll = 6, 2, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	t.Cleanup(func() { close(release) }) // runs first: the hung attempts end

	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM events WHERE portal_id = $1 AND delivery_status = 'delivered'`, other.ID) == len(theirs)
	}, "the other portal's events delivered")
	if n := hung.Load(); n < 1 || n > 2 {
		t.Errorf("%d attempts reached the hanging endpoint at once, want 1 or 2 (PerPortal)", n)
	}
}
