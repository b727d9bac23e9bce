package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/redisstore"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/testenv"
)

type callbackBundle struct {
	db        *testenv.DB
	callbacks *service.Callbacks
}

func setupCallbacks(t *testing.T) *callbackBundle {
	t.Helper()
	db := testenv.NewDB(t)
	client, prefix := testenv.NewRedis(t)
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO banks (code, name, base_url, secret_sealed)
		VALUES ('SBX', 'Sandbox', 'https://bank.example', '\x00')`); err != nil {
		t.Fatal(err)
	}
	return &callbackBundle{db: db, callbacks: &service.Callbacks{DB: db.Store, Dedupe: redisstore.New(client, prefix, nil).Dedupe()}}
}

func debitCallback(eventID, typ string) service.Callback {
	body := []byte(`{"event_id":"` + eventID + `","type":"` + typ + `","occurred_at":"2026-03-01T08:00:00Z","data":{"debit_id":"pa_1","amount":"75000","currency":"VND"}}`)
	return service.Callback{BankCode: "SBX", EventID: eventID, Type: typ, OccurredAt: time.Now(),
		Data: []byte(`{"debit_id":"pa_1","amount":"75000","currency":"VND"}`), Body: body}
}

func (b *callbackBundle) count(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCallbackHandlersPlugIn registers a handler for debit callbacks, as the
// clearing flow does, and checks the dispatcher's promises to it.
func TestCallbackHandlersPlugIn(t *testing.T) {
	t.Parallel()
	b := setupCallbacks(t)
	ctx := context.Background()
	calls := 0
	var next func(tx *postgres.Tx) (service.Applied, error)
	b.callbacks.Handle("debit", func(ctx context.Context, tx *postgres.Tx, cb service.Callback) (service.Applied, error) {
		calls++
		if cb.Type != "debit.succeeded" && cb.Type != "debit.failed" {
			t.Errorf("handler got %s", cb.Type)
		}
		return next(tx)
	})

	// An internal error rolls everything back: nothing recorded, the bank's
	// retry runs anew.
	next = func(*postgres.Tx) (service.Applied, error) { return "", errors.New("database hiccup") }
	if _, err := b.callbacks.Apply(ctx, debitCallback("evt_1", "debit.succeeded")); err == nil || fault.CodeOf(err) != fault.Internal {
		t.Fatalf("internal error: %v", err)
	}
	if n := b.count(t, `SELECT count(*) FROM bank_events`); n != 0 {
		t.Fatalf("%d bank events after an internal error", n)
	}
	next = func(tx *postgres.Tx) (service.Applied, error) {
		_, err := tx.Driver().Exec(ctx, `UPDATE banks SET name = 'applied' WHERE code = 'SBX'`)
		return service.ResultApplied, err
	}
	if res, err := b.callbacks.Apply(ctx, debitCallback("evt_1", "debit.succeeded")); res != service.ResultApplied || err != nil {
		t.Fatalf("retry: %v, %v", res, err)
	}
	if res, err := b.callbacks.Apply(ctx, debitCallback("evt_1", "debit.succeeded")); res != service.ResultDuplicate || err != nil {
		t.Fatalf("repeat: %v, %v", res, err)
	}
	if calls != 2 {
		t.Fatalf("the handler ran %d times, want 2 (the repeat must not reach it)", calls)
	}

	// A refusal: the handler's changes are undone, the incident is kept.
	next = func(tx *postgres.Tx) (service.Applied, error) {
		if _, err := tx.Driver().Exec(ctx, `UPDATE banks SET name = 'changed' WHERE code = 'SBX'`); err != nil {
			return "", err
		}
		return "", fault.New(fault.AmountDiffers, "the bank reports 70000 VND for a debit of 75000 VND")
	}
	_, err := b.callbacks.Apply(ctx, debitCallback("evt_2", "debit.succeeded"))
	if fault.CodeOf(err) != fault.AmountDiffers {
		t.Fatalf("refusal: %v", err)
	}
	if n := b.count(t, `SELECT count(*) FROM banks WHERE name = 'applied'`); n != 1 {
		t.Fatal("the refused handler's change was kept")
	}
	if n := b.count(t, `SELECT count(*) FROM incidents WHERE kind = 'amount_differs' AND object_id = 'pa_1'
		AND evidence->'callback'->>'event_id' = 'evt_2'`); n != 1 {
		t.Fatalf("%d incidents with the callback as evidence", n)
	}
	if _, err := b.callbacks.Apply(ctx, debitCallback("evt_2", "debit.succeeded")); fault.CodeOf(err) != fault.AmountDiffers {
		t.Fatalf("the refusal's repeat: %v", err)
	}
	if n := b.count(t, `SELECT count(*) FROM incidents`); n != 1 || calls != 3 {
		t.Fatalf("%d incidents, %d calls after the repeat", n, calls)
	}

	// Types without a handler, and types the protocol does not have.
	if _, err := b.callbacks.Apply(ctx, service.Callback{BankCode: "SBX", EventID: "evt_3", Type: "refund.succeeded",
		Data: []byte(`{"refund_id":"rf_1"}`), Body: []byte(`{"event_id":"evt_3"}`)}); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("no refund handler: %v", err)
	}
	if _, err := b.callbacks.Apply(ctx, service.Callback{BankCode: "SBX", EventID: "evt_4", Type: "debit.reversed",
		Data: []byte(`{}`), Body: []byte(`{"event_id":"evt_4"}`)}); fault.CodeOf(err) != fault.UnknownEventType {
		t.Fatalf("unknown type: %v", err)
	}
	if n := b.count(t, `SELECT count(*) FROM bank_events`); n != 4 {
		t.Fatalf("%d bank events", n)
	}
}
