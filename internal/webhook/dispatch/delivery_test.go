package dispatch_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/citizenpay/gateway/internal/apitest"
	dlv "github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/webhook"
	"github.com/citizenpay/gateway/internal/webhook/dispatch"
)

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
	if n := deliveries(t, h, dispatch.OutcomeDelivered); n != float64(len(ids)) {
		t.Errorf("delivered metric %v, want %d", n, len(ids))
	}
	if n := deliveries(t, h, dispatch.OutcomeRetry); n != float64(len(ids)*downFor) {
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
	clock.Advance(dispatch.PortalTTL + 100*time.Millisecond)
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
	if deliveries(t, h, dispatch.OutcomeDisabled) != 1 || deliveries(t, h, dispatch.OutcomeHeld) != 1 {
		t.Errorf("metrics: disabled %v, held %v; want 1, 1", deliveries(t, h, dispatch.OutcomeDisabled), deliveries(t, h, dispatch.OutcomeHeld))
	}

	// The operator enables it again: both events are delivered.
	ep.setAnswer(ok)
	r, wasDisabled, err := dispatch.EnableWebhook(ctx, h.DB.Store, h.Portal.KeyID)
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
			r, err := dispatch.Redeliver(context.Background(), h.DB.Store, id)
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
	r, err := dispatch.Redeliver(ctx, h.DB.Store, a)
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
	r, err = dispatch.RedeliverAll(ctx, h.DB.Store, h.Portal.ID, dlv.StatusFailed)
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
	if _, err := dispatch.Redeliver(ctx, h.DB.Store, "evt_unknown"); err == nil || !strings.Contains(err.Error(), "not_found") {
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
