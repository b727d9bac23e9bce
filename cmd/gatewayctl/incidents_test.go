package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestIncidentApplyPaid: the bank reports a debit with the wrong amount (an
// incident, nothing applied); the operator, having checked with the bank,
// applies it as paid. Five operators doing so at once make one posting and
// one payment_request.paid event, and the incident is resolved once.
func TestIncidentApplyPaid(t *testing.T) {
	t.Parallel()
	// The bank accepts the debit and keeps it pending: only the operator settles it.
	s := newClearing(t, banksim.Knobs{CallbackDelay: time.Hour})
	h, url := s.h, s.h.DB.URL
	incID := s.callback(t, "evt-wrong-amount", "debit.succeeded", "70000", http.StatusUnprocessableEntity)
	if st := s.status(t); st != "processing" {
		t.Fatalf("after amount_differs the request is %s", st)
	}

	var list []incidentJSON
	if err := ctlInto(t, url, &list, "incidents", "list"); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != incID || list[0].Kind != string(incident.KindAmountDiffers) || list[0].Status != "open" ||
		list[0].ObjectID != s.paID || list[0].BankCode != "SBX" || list[0].Resolution != nil || list[0].Evidence != nil {
		t.Fatalf("list: %+v", list)
	}
	var shown incidentJSON
	if err := ctlInto(t, url, &shown, "incidents", "show", "--id", incID); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		EventID  string `json:"event_id"`
		Callback struct {
			Data struct{ Amount string } `json:"data"`
		} `json:"callback"`
	}
	if err := json.Unmarshal(shown.Evidence, &ev); err != nil || ev.EventID != "evt-wrong-amount" || ev.Callback.Data.Amount != "70000" {
		t.Fatalf("show: evidence %s (%v)", shown.Evidence, err)
	}

	// Refused before anything runs: the incident stays open.
	for _, args := range [][]string{
		{"--action", "apply-paid", "--note", "checked"},                                          // no bank reference
		{"--action", "apply-paid", "--bank-reference", "R1"},                                     // no note
		{"--action", "note", "--bank-reference", "R1", "--note", "checked"},                      // reference without apply-paid
		{"--action", "cancel", "--note", "checked"},                                              // no such action
		{"--action", "apply-paid", "--bank-reference", "R1", "--note", strings.Repeat("x", 501)}, // note too long
	} {
		if err := ctlInto(t, url, nil, append([]string{"incidents", "resolve", "--by", "tester", "--id", incID}, args...)...); err == nil {
			t.Errorf("resolve %v was accepted", args)
		}
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE status = 'open'`); n != 1 {
		t.Fatalf("%d open incidents after refused resolutions", n)
	}

	const workers = 5
	var wg sync.WaitGroup
	outs := make([]resolved, workers)
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			errs[i] = ctlInto(t, url, &outs[i], "incidents", "resolve", "--by", "tester", "--id", incID, "--action", "apply-paid",
				"--bank-reference", "SBX-20260301-0001", "--note", "the bank confirmed 75000 by phone")
		})
	}
	wg.Wait()
	var won *resolved
	for i, err := range errs {
		switch {
		case err == nil && won == nil:
			won = &outs[i]
		case err == nil:
			t.Fatalf("two resolutions succeeded: %+v and %+v", *won, outs[i])
		case !strings.Contains(err.Error(), "already resolved"):
			t.Errorf("a racing resolution failed with %v, want already resolved", err)
		}
	}
	if won == nil {
		t.Fatalf("no resolution succeeded: %v", errs)
	}
	if won.Incident.Status != "resolved" || won.Incident.ResolvedAt == nil || won.Incident.Resolution == nil ||
		!strings.Contains(*won.Incident.Resolution, "SBX-20260301-0001") || !strings.Contains(*won.Incident.Resolution, "by phone") ||
		won.Result != "applied" || won.PaymentRequest == nil || won.PaymentRequest.Status != "paid" ||
		won.PaymentRequest.Payment == nil || won.PaymentRequest.Payment.AttemptID != s.paID ||
		won.PaymentRequest.Payment.BankReference != "SBX-20260301-0001" ||
		won.PaymentRequest.Payment.ReceiptID == nil || !strings.HasPrefix(*won.PaymentRequest.Payment.ReceiptID, "rc_") {
		t.Fatalf("resolve: %+v", *won)
	}
	if st := s.status(t); st != "paid" {
		t.Fatalf("the request is %s", st)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM ledger_transactions WHERE cause = '` + s.paID + `'`: 1,
		`SELECT count(*) FROM ledger_transactions`:                                1,
		`SELECT count(*) FROM events WHERE type = 'payment_request.paid'`:         1,
		`SELECT count(*) FROM events WHERE type = 'receipt.issued'`:               1,
		`SELECT count(*) FROM receipts WHERE payment_request_id = (SELECT payment_request_id FROM payment_attempts WHERE id = '` + s.paID + `') AND seq = 1`: 1,
		`SELECT count(*) FROM payment_attempts WHERE status = 'succeeded' AND bank_reference = 'SBX-20260301-0001'`:                                          1,
		`SELECT count(*) FROM incidents WHERE status = 'resolved' AND resolved_at IS NOT NULL AND resolution <> ''`:                                          1,
		`SELECT count(*) FROM events WHERE type = 'payment_request.paid' AND (next_attempt_at IS NOT NULL OR delivery_attempts > 0)`:                         1,
	} {
		if n := h.Count(q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}

	// Once more, after the fact: refused, and nothing changes.
	err := ctlInto(t, url, nil, "incidents", "resolve", "--by", "tester", "--id", incID, "--action", "note", "--note", "again")
	if err == nil || !strings.Contains(err.Error(), "already resolved") {
		t.Fatalf("second resolve: %v", err)
	}
	var after incidentJSON
	if err := ctlInto(t, url, &after, "incidents", "show", "--id", incID); err != nil {
		t.Fatal(err)
	}
	if after.Resolution == nil || *after.Resolution != *won.Incident.Resolution {
		t.Fatalf("the resolution changed: %+v", after)
	}
	if err := ctlInto(t, url, &list, "incidents", "list"); err != nil || len(list) != 0 {
		t.Fatalf("open incidents: %+v %v", list, err)
	}
	if err := ctlInto(t, url, &list, "incidents", "list", "--status", "resolved"); err != nil || len(list) != 1 {
		t.Fatalf("resolved incidents: %+v %v", list, err)
	}
	// The bank's own word arriving later is a duplicate, not a second payment.
	if r := h.Callback(s.bank, "", time.Time{}, map[string]any{"event_id": "evt-late", "type": "debit.succeeded",
		"occurred_at": time.Now().UTC().Format(time.RFC3339),
		"data":        map[string]any{"debit_id": s.paID, "amount": "75000", "currency": "VND", "bank_reference": "SBX-20260301-0001"}}); r.Status != http.StatusOK || r.Map(t)["result"] != "duplicate" {
		t.Fatalf("late callback: %d %s", r.Status, r.Body)
	}
	verifyClean(t, url)
}

// TestIncidentRefund: the bank contradicts a debit it already cleared; the
// operator refunds the fee, which goes to the bank like a portal's refund.
func TestIncidentRefund(t *testing.T) {
	t.Parallel()
	s := newClearing(t, banksim.Knobs{})
	h, url := s.h, s.h.DB.URL
	testenv.Eventually(t, 20*time.Second, func() bool { return s.status(t) == "paid" }, "the request was never paid")
	incID := s.callback(t, "evt-contradiction", "debit.failed", "", http.StatusConflict)

	var out resolved
	if err := ctlInto(t, url, &out, "incidents", "resolve", "--by", "tester", "--id", incID, "--action", "refund",
		"--note", "the citizen disputes the fee"); err != nil {
		t.Fatal(err)
	}
	if out.Refund == nil || out.Refund.Amount != "75000" || out.Refund.Status != "pending" || out.Refund.PaymentRequestID != s.prID ||
		out.Refund.Reason == nil || *out.Refund.Reason != "Refunded by the gateway operator" ||
		out.Incident.Status != "resolved" || !strings.Contains(*out.Incident.Resolution, out.Refund.ID) ||
		!strings.Contains(*out.Incident.Resolution, "the citizen disputes the fee") {
		t.Fatalf("resolve: %+v", out)
	}
	// The portal sees the fixed reason; the operator's note stays with the incident.
	if rf := h.Get("/v1/refunds/" + out.Refund.ID).Map(t); rf["reason"] != "Refunded by the gateway operator" {
		t.Fatalf("the portal's refund: %v", rf)
	}
	if n := h.Count(`SELECT count(*) FROM events WHERE payload::text LIKE '%disputes%'`); n != 0 {
		t.Fatalf("%d events carry the operator's note", n)
	}
	testenv.Eventually(t, 20*time.Second, func() bool { return s.status(t) == "refunded" }, "the request was never refunded")
	if got := s.bank.Sim.Balance(s.account.Number); !got.Equal(decimal.NewFromInt(10_000_000)) {
		t.Fatalf("balance after the refund: %s", got)
	}
	if err := ctlInto(t, url, nil, "incidents", "resolve", "--by", "tester", "--id", incID, "--action", "refund", "--note", "again"); err == nil ||
		!strings.Contains(err.Error(), "already resolved") {
		t.Fatalf("second resolve: %v", err)
	}
	if n := h.Count(`SELECT count(*) FROM refunds`); n != 1 {
		t.Fatalf("%d refunds", n)
	}
	verifyClean(t, url)
}

// TestIncidentResolveRefusals covers what each action refuses, on
// incidents that name the wrong kind of object or none. A refused
// resolution changes nothing and leaves the incident open.
func TestIncidentResolveRefusals(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := context.Background()
	insert := func(kind incident.Kind, objectID string) string {
		t.Helper()
		if err := postgres.InsertIncident(ctx, db.Store, kind, "", objectID, "test "+string(kind), map[string]any{"n": 1}); err != nil {
			t.Fatal(err)
		}
		var incID string
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM incidents ORDER BY created_at DESC, id DESC LIMIT 1`).Scan(&incID); err != nil {
			t.Fatal(err)
		}
		return incID
	}
	tests := []struct {
		name     string
		kind     incident.Kind
		objectID string
		args     []string
		wantErr  string // "" for success
	}{
		{"note closes anything", incident.KindUnknownEventType, "", []string{"--action", "note", "--note", "bank told"}, ""},
		{"apply-paid needs a debit", incident.KindOutcomeConflict, "rf_01abc", []string{"--action", "apply-paid", "--bank-reference", "R", "--note", "n"}, "names no debit"},
		{"apply-paid of an unknown debit", incident.KindUnknownObject, "pa_01nosuchdebit", []string{"--action", "apply-paid", "--bank-reference", "R", "--note", "n"}, "not_found"},
		{"refund needs an object", incident.KindUnknownEventType, "", []string{"--action", "refund", "--note", "n"}, "names no payment request"},
		{"refund of an unknown request", incident.KindReconciliation, "pr_01nosuchrequest", []string{"--action", "refund", "--note", "n"}, "not_found"},
	}
	for _, tc := range tests {
		incID := insert(tc.kind, tc.objectID)
		var out resolved
		err := ctlInto(t, db.URL, &out, append([]string{"incidents", "resolve", "--by", "tester", "--id", incID}, tc.args...)...)
		var status string
		if qerr := db.Pool.QueryRow(ctx, `SELECT status FROM incidents WHERE id = $1`, incID).Scan(&status); qerr != nil {
			t.Fatal(qerr)
		}
		switch {
		case tc.wantErr == "" && (err != nil || status != "resolved" || out.Incident.Resolution == nil || *out.Incident.Resolution != "note: bank told — by tester"):
			t.Errorf("%s: %v, status %s, %+v", tc.name, err, status, out.Incident)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || status != "open"):
			t.Errorf("%s: %v (want %q), status %s", tc.name, err, tc.wantErr, status)
		}
	}
	if err := ctlInto(t, db.URL, nil, "incidents", "show", "--id", "inc_01nosuchincident"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("show unknown: %v", err)
	}
	if err := ctlInto(t, db.URL, nil, "incidents", "list", "--status", "closed"); err == nil {
		t.Error("list --status closed was accepted")
	}
	var all []incidentJSON
	if err := ctlInto(t, db.URL, &all, "incidents", "list", "--status", "all"); err != nil || len(all) != len(tests) {
		t.Fatalf("list all: %d %v", len(all), err)
	}
	if all[0].CreatedAt.Before(all[len(all)-1].CreatedAt) {
		t.Error("list is not newest first")
	}
}

// TestIncidentRefundRefusedAcrossBanks: a second bank posts a callback naming
// SBX's paid debit (an unknown_object incident raised by that other bank),
// and the bank that was paid reports an amount that differs for it. A refund
// remedies neither: the first came from a bank that was not paid, the
// second is not a kind a refund remedies. Both are refused, nothing changes,
// and both incidents stay open.
func TestIncidentRefundRefusedAcrossBanks(t *testing.T) {
	t.Parallel()
	s := newClearing(t, banksim.Knobs{})
	h, url := s.h, s.h.DB.URL
	testenv.Eventually(t, 20*time.Second, func() bool { return s.status(t) == "paid" }, "the request was never paid")
	other := h.NewBank("EVL")
	r := h.Callback(other, "", time.Time{}, map[string]any{"event_id": "evt-other-bank", "type": "debit.failed",
		"occurred_at": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{"debit_id": s.paID, "reason_code": "X"}})
	if r.Status != http.StatusNotFound {
		t.Fatalf("another bank's callback: %d %s", r.Status, r.Body)
	}
	var crossID string
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT id FROM incidents WHERE bank_code = 'EVL'
		AND kind = 'unknown_object' AND object_id = $1`, s.paID).Scan(&crossID); err != nil {
		t.Fatalf("no incident from the other bank: %v", err)
	}
	differsID := s.callback(t, "evt-differs-after-paid", "debit.succeeded", "70000", http.StatusUnprocessableEntity)

	for _, tc := range []struct {
		name, incID, wantErr string
	}{
		{"raised by another bank", crossID, "bank"},
		{"not a refund's remedy", differsID, "amount_differs"},
	} {
		err := ctlInto(t, url, nil, "incidents", "resolve", "--by", "tester", "--id", tc.incID, "--action", "refund", "--note", "refund it")
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.wantErr)
		}
		var shown incidentJSON
		if err := ctlInto(t, url, &shown, "incidents", "show", "--id", tc.incID); err != nil {
			t.Fatal(err)
		}
		if shown.Status != "open" || shown.Resolution != nil || shown.ResolvedAt != nil {
			t.Errorf("%s: the incident changed: %+v", tc.name, shown)
		}
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM refunds`:                                    0,
		`SELECT count(*) FROM events WHERE type LIKE 'refund.%'`:          0,
		`SELECT count(*) FROM ledger_transactions`:                        1,
		`SELECT count(*) FROM incidents WHERE status = 'open'`:            2,
		`SELECT count(*) FROM payment_requests WHERE status = 'paid'`:     1,
		`SELECT count(*) FROM payment_requests WHERE amount_refunded > 0`: 0,
	} {
		if n := h.Count(q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	if got := s.bank.Sim.Balance(s.account.Number); !got.Equal(decimal.NewFromInt(10_000_000 - 75_000)) {
		t.Fatalf("balance: %s", got)
	}
	// The note closes either, and the request stays paid.
	for _, incID := range []string{crossID, differsID} {
		if err := ctlInto(t, url, nil, "incidents", "resolve", "--by", "tester", "--id", incID, "--action", "note", "--note", "told the bank"); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.status(t); st != "paid" {
		t.Fatalf("the request is %s", st)
	}
	verifyClean(t, url)
}
