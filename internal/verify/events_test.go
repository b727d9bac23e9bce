package verify_test

import (
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/verify"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	tests := []worldCase{
		{"a paid request without its .paid event", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'payment_request.paid' AND payload::text LIKE '%"pr_paid"%'`)
		}, []finding{{6, verify.CheckEventMissing, "pr_paid"}}},
		{"a request without its .created event", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'payment_request.created' AND payload::text LIKE '%"pr_pending"%'`)
		}, []finding{{6, verify.CheckEventMissing, "pr_pending"}}},
		{"a canceled request without its .canceled event", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'payment_request.canceled'`)
		}, []finding{{6, verify.CheckEventMissing, "pr_canceled"}}},
		{"an expired request without its .expired event", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'payment_request.expired'`)
		}, []finding{{6, verify.CheckEventMissing, "pr_expired"}}},
		{"a failed debit not told", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'payment_request.payment_failed' AND payload::text LIKE '%"pr_retry"%'`)
		}, []finding{{6, verify.CheckEventMissing, "pr_retry"}}},
		{"a succeeded refund without refund.succeeded", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'refund.succeeded' AND payload::text LIKE '%"rf_full"%'`)
		}, []finding{{6, verify.CheckEventMissing, "rf_full"}}},
		{"a succeeded refund without payment_request.refunded", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'payment_request.refunded' AND payload::text LIKE '%"pr_refunded"%'`)
		}, []finding{{6, verify.CheckEventMissing, "pr_refunded"}}},
		{"a failed refund without refund.failed", func(w *world) {
			w.exec(`DELETE FROM events WHERE type = 'refund.failed'`)
		}, []finding{{6, verify.CheckEventMissing, "rf_partial_failed"}}},
		{"paid told twice", func(w *world) {
			w.event("payment_request.paid", "pr_paid", "paid", "")
		}, []finding{{6, verify.CheckEventDuplicated, "pr_paid"}}},
		{"told paid but pending", func(w *world) {
			w.event("payment_request.paid", "pr_pending", "paid", "")
		}, []finding{{6, verify.CheckEventContradicts, "pr_pending"}}},
		{"a pending event older than the horizon", func(w *world) {
			w.request("pr_old", "pending")
			w.exec(`UPDATE events SET id = 'evt_old', delivery_status = 'pending', delivered_at = NULL, created_at = $1
				WHERE payload::text LIKE '%"pr_old"%'`, w.now.Add(-verify.DefaultRetryHorizon-time.Minute))
		}, []finding{{6, verify.CheckEventOverdue, "evt_old"}}},
		{"a pending event younger than the horizon", func(w *world) {
			w.exec(`UPDATE events SET delivery_status = 'pending', delivered_at = NULL, created_at = $1
				WHERE type = 'payment_request.created' AND payload::text LIKE '%"pr_pending"%'`, w.now.Add(-verify.DefaultRetryHorizon+time.Minute))
		}, nil},
		{"an old event requeued for redelivery within the horizon", func(w *world) {
			w.exec(`UPDATE events SET delivery_status = 'pending', delivered_at = NULL, created_at = $1, delivery_requeued_at = $2
				WHERE type = 'payment_request.created' AND payload::text LIKE '%"pr_pending"%'`, w.now.Add(-200*time.Hour), w.now.Add(-time.Hour))
		}, nil},
		{"an old event requeued longer ago than the horizon", func(w *world) {
			w.exec(`UPDATE events SET id = 'evt_requeued', delivery_status = 'pending', delivered_at = NULL, created_at = $1,
				delivery_requeued_at = $2 WHERE type = 'payment_request.created' AND payload::text LIKE '%"pr_pending"%'`,
				w.now.Add(-200*time.Hour), w.now.Add(-verify.DefaultRetryHorizon-time.Hour))
		}, []finding{{6, verify.CheckEventOverdue, "evt_requeued"}}},
		{"an old event marked failed", func(w *world) {
			w.exec(`UPDATE events SET delivery_status = 'failed', delivered_at = NULL, created_at = $1`, w.now.Add(-100*time.Hour))
		}, nil},
	}
	runWorldCases(t, tests)
}

func TestOldEventOfADisabledWebhookIsAWarning(t *testing.T) {
	t.Parallel()
	w := setup(t).clean()
	w.exec(`UPDATE events SET delivery_status = 'pending', delivered_at = NULL, created_at = $1
		WHERE type = 'payment_request.created' AND payload::text LIKE '%"pr_pending"%'`, w.now.Add(-100*time.Hour))
	w.exec(`UPDATE portals SET webhook_disabled_at = now()`)
	rep := w.check(verify.Options{})
	wantExactly(t, rep)
	ws := rep.Invariants[verify.InvEvents-1].Warnings
	if len(ws) != 1 || ws[0].Check != verify.WarnEventHeld {
		t.Errorf("warnings = %+v, want one %s", ws, verify.WarnEventHeld)
	}
	// A shorter horizon makes younger events overdue too.
	w.exec(`UPDATE portals SET webhook_disabled_at = NULL`)
	rep = w.check(verify.Options{RetryHorizon: time.Hour})
	if v := rep.Invariants[verify.InvEvents-1].Violations; len(v) != 1 || v[0].Check != verify.CheckEventOverdue {
		t.Errorf("violations = %+v", v)
	}
}
