package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestCallbackTextIsStripped: a bank's callback whose text holds control
// characters is still the bank's word about money: it applies with the
// characters stripped, and a refused one is recorded, never a 500.
func TestCallbackTextIsStripped(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("1h")...)
	h := p.h
	p.bank.Sim.SetKnobs(banksim.Knobs{NeverCallBack: true})
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	debitID := p.attemptID(t, p.prID)
	testenv.Eventually(t, 45*time.Second, func() bool { return p.bank.Sim.Stats().Received["debit"] >= 1 }, "the debit was never sent")
	at := time.Now().UTC().Format(time.RFC3339)
	r := h.Callback(p.bank, "", time.Time{}, map[string]any{"event_id": "evt-\x00-1", "type": "debit.succeeded", "occurred_at": at,
		"data": map[string]any{"debit_id": debitID, "amount": "75000", "currency": "VND", "bank_reference": "FT\x00-1\u202e\x1b",
			"note\x00": []any{"\x00", map[string]any{"x": "\u0085"}}}})
	expectResult(t, r, "applied")
	st := p.status(t, p.prID)
	pay, _ := st["payment"].(map[string]any)
	if st["status"] != "paid" || pay["bank_reference"] != "FT-1" {
		t.Fatalf("request after the callback: %v %v", st["status"], st["payment"])
	}
	if n := h.Count(`SELECT count(*) FROM bank_events WHERE event_id = 'evt--1' AND result = 'applied'`); n != 1 {
		t.Fatal("the event is not recorded under its stripped id")
	}
	// The bank retries with the same event id: a duplicate.
	expectResult(t, h.Callback(p.bank, "", time.Time{}, map[string]any{"event_id": "evt-\x00-1", "type": "debit.succeeded", "occurred_at": at,
		"data": map[string]any{"debit_id": debitID, "amount": "75000", "currency": "VND", "bank_reference": "FT\x00-1"}}), "duplicate")

	// Refused callbacks keep their body as evidence, NUL escapes and
	// unpaired surrogates included.
	never := []byte(`{"event_id":"evt-2","type":"debit.failed","occurred_at":"` + at + `","data":{"debit_id":"pa_never\u0000sent",` +
		`"reason_code":"X\u0000","reason_message":"S\u1ed1 d\u01b0 \ud800 kh\u00f4ng \ud83d\ude00 \\u0000 \u0000"}}`)
	expectProblem(t, h.Callback(p.bank, "", time.Time{}, never), http.StatusNotFound, "not_found")
	odd := []byte(`{"event_id":"evt-3","type":"debit.revok\u0000ed","occurred_at":"` + at + `","data":{"debit_id":"` + debitID + `","x":"\udc00"}}`)
	expectProblem(t, h.Callback(p.bank, "", time.Time{}, odd), http.StatusUnprocessableEntity, "unknown_event_type")
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind = 'unknown_object' AND object_id = 'pa_neversent'
		AND evidence->'callback'->'data'->>'reason_message' = 'Số dư \ud800 không 😀 \u0000 \u0000'`); n != 1 {
		t.Fatal("the refused callback's evidence is not kept")
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind = 'unknown_event_type' AND evidence->>'type' = 'debit.revoked'`); n != 1 {
		t.Fatal("the callback of an unknown type is not recorded")
	}
	if st := p.status(t, p.prID); st["status"] != "paid" || st["version"] != float64(3) {
		t.Fatalf("refused callbacks changed the request: %v %v", st["status"], st["version"])
	}
	verifyClean(t, h, p.account.Number)
}
