package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestPayClearAndRefundThroughSandboxBank(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("2s")...)
	h := p.h

	var mine struct{ Data []map[string]any }
	h.AsCitizen(p.cit.Token, http.MethodGet, "/v1/me/payment-requests?status=pending", "", nil).JSON(t, &mine)
	if len(mine.Data) != 1 || mine.Data[0]["id"] != p.prID {
		t.Fatalf("the citizen's requests: %+v", mine.Data)
	}
	// The bank settles a moment later, so the second pay finds the first in progress.
	p.bank.Sim.SetKnobs(banksim.Knobs{CallbackDelay: 700 * time.Millisecond})
	r := p.pay(t, p.prID, "pay-1")
	if r.Status != http.StatusAccepted || r.Map(t)["status"] != "processing" {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	if again := p.pay(t, p.prID, "pay-2"); again.Status != http.StatusConflict || again.Code() != "payment_in_progress" {
		t.Fatalf("second pay: %d %s", again.Status, again.Body)
	}
	paid := p.waitStatus(t, p.prID, "paid")
	pay := paid["payment"].(map[string]any)
	if pay["bank_code"] != "SBX" || pay["bank_reference"] == "" || pay["attempt_id"] != p.attemptID(t, p.prID) {
		t.Fatalf("payment: %+v", pay)
	}
	if got := p.bank.Sim.Balance(p.account.Number); !got.Equal(decimal.NewFromInt(10_000_000 - 75_000)) {
		t.Fatalf("balance %s", got)
	}
	if n := h.Count(`SELECT count(*) FROM ledger_transactions WHERE kind = 'debit_succeeded'`); n != 1 {
		t.Fatalf("%d postings", n)
	}

	// Refunds: a partial one, then one past what is left, then the rest.
	rf := h.Post("/v1/payment-requests/"+p.prID+"/refunds", "refund-1", map[string]string{"amount": "25000", "reason": "đóng hồ sơ"})
	if rf.Status != http.StatusAccepted || rf.Map(t)["status"] != "pending" {
		t.Fatalf("refund: %d %s", rf.Status, rf.Body)
	}
	rfID := rf.Map(t)["id"].(string)
	if over := h.Post("/v1/payment-requests/"+p.prID+"/refunds", "refund-2", map[string]string{"amount": "50001"}); over.Code() != "refund_exceeds_refundable" {
		t.Fatalf("over-refund: %d %s", over.Status, over.Body)
	}
	part := p.waitStatus(t, p.prID, "partially_refunded")
	if part["amount_refunded"] != "25000" {
		t.Fatalf("amount_refunded %v", part["amount_refunded"])
	}
	if got := h.Get("/v1/refunds/" + rfID).Map(t); got["status"] != "succeeded" || got["amount"] != "25000" {
		t.Fatalf("refund: %+v", got)
	}
	if r := h.Post("/v1/payment-requests/"+p.prID+"/refunds", "refund-3", map[string]string{"amount": "50000"}); r.Status != http.StatusAccepted {
		t.Fatalf("the rest: %d %s", r.Status, r.Body)
	}
	done := p.waitStatus(t, p.prID, "refunded")
	if done["amount_refunded"] != "75000" {
		t.Fatalf("amount_refunded %v", done["amount_refunded"])
	}
	if got := p.bank.Sim.Balance(p.account.Number); !got.Equal(decimal.NewFromInt(10_000_000)) {
		t.Fatalf("balance after refunds %s", got)
	}
	// Another portal cannot see the refund.
	other := h.NewPortal("Other")
	if r := h.Do(apitest.Request{Method: "GET", Path: "/v1/refunds/" + rfID, Portal: other}); r.Status != 404 {
		t.Fatalf("other portal's view of the refund: %d", r.Status)
	}
	var types []string
	rows, _ := h.DB.Pool.Query(context.Background(), `SELECT type FROM events ORDER BY created_at, id`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		types = append(types, s)
	}
	want := map[string]int{service.EventRequestCreated: 1, service.EventRequestPaid: 1, service.EventRefundSucceeded: 2, service.EventRequestRefunded: 2}
	got := map[string]int{}
	for _, ty := range types {
		got[ty]++
	}
	for ty, n := range want {
		if got[ty] != n {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	verifyClean(t, h, p.account.Number)
}

func TestDuplicateAndContradictingDebitCallbacks(t *testing.T) {
	t.Parallel()
	// The bank accepts and is slow to call back; the status check is far off.
	p := newPayer(t, fastClearing("1h")...)
	h := p.h
	p.bank.Sim.SetKnobs(banksim.Knobs{NeverCallBack: true})
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	debitID := p.attemptID(t, p.prID)
	testenv.Eventually(t, 45*time.Second, func() bool { return p.bank.Sim.Stats().Received["debit"] >= 1 }, "the debit was never sent")
	success := func(eventID string) map[string]any {
		return map[string]any{"event_id": eventID, "type": "debit.succeeded", "occurred_at": time.Now().UTC().Format(time.RFC3339),
			"data": map[string]any{"debit_id": debitID, "amount": "75000", "currency": "VND", "bank_reference": "FT-1"}}
	}
	var wg sync.WaitGroup
	results := make([]*apitest.Response, 10)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = h.Callback(p.bank, "", time.Time{}, success("evt-1"))
		}(i)
	}
	wg.Wait()
	applied, dup := 0, 0
	for _, r := range results {
		switch {
		case r.Status == 200 && string(r.Body) == `{"result":"applied"}`:
			applied++
		case r.Status == 200 && string(r.Body) == `{"result":"duplicate"}`:
			dup++
		default:
			t.Fatalf("callback: %d %s", r.Status, r.Body)
		}
	}
	if applied != 1 || dup != 9 {
		t.Fatalf("%d applied, %d duplicate", applied, dup)
	}
	if n := h.Count(`SELECT count(*) FROM ledger_postings`); n != 2 {
		t.Fatalf("%d posting rows, want one balanced pair", n)
	}
	// A late report of the same outcome under another event id: duplicate.
	if r := h.Callback(p.bank, "", time.Time{}, success("evt-2")); r.Status != 200 || string(r.Body) != `{"result":"duplicate"}` {
		t.Fatalf("late duplicate: %d %s", r.Status, r.Body)
	}
	// A contradiction: 409 outcome_conflict, an incident, nothing changes.
	failed := map[string]any{"event_id": "evt-3", "type": "debit.failed", "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"debit_id": debitID, "reason_code": "INSUFFICIENT_FUNDS"}}
	if r := h.Callback(p.bank, "", time.Time{}, failed); r.Status != 409 || r.Code() != "outcome_conflict" {
		t.Fatalf("contradiction: %d %s", r.Status, r.Body)
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind = 'outcome_conflict' AND object_id = $1`, debitID); n != 1 {
		t.Fatalf("%d incidents", n)
	}
	// A different amount: 422 amount_differs, an incident.
	odd := success("evt-4")
	odd["data"].(map[string]any)["amount"] = "75001"
	if r := h.Callback(p.bank, "", time.Time{}, odd); r.Status != 422 || r.Code() != "amount_differs" {
		t.Fatalf("amount differs: %d %s", r.Status, r.Body)
	}
	// An id never sent to this bank: 404 and an incident.
	other := h.NewBank("OTHER")
	if r := h.Callback(other, "", time.Time{}, success("evt-5")); r.Status != 404 || r.Code() != "not_found" {
		t.Fatalf("wrong bank: %d %s", r.Status, r.Body)
	}
	if st := p.status(t, p.prID); st["status"] != "paid" || st["version"] != float64(3) {
		t.Fatalf("request after the storm: %v %v", st["status"], st["version"])
	}
	verifyClean(t, h, p.account.Number)
}

func TestCallbackBeforeTheSendIsRecorded(t *testing.T) {
	t.Parallel()
	// Workers run for the link, then stop: the debit job is never picked up.
	p := newPayer(t, fastClearing("1h")...)
	h := p.h
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.App.StopWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	debitID := p.attemptID(t, p.prID)
	if n := h.Count(`SELECT count(*) FROM payment_attempts WHERE id = $1 AND sent_at IS NULL`, debitID); n != 1 {
		t.Fatal("the send was recorded")
	}
	r := h.Callback(p.bank, "", time.Time{}, map[string]any{"event_id": "early", "type": "debit.succeeded", "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"debit_id": debitID, "amount": "75000", "currency": "VND", "bank_reference": "FT-EARLY"}})
	if r.Status != 200 || string(r.Body) != `{"result":"applied"}` {
		t.Fatalf("early callback: %d %s", r.Status, r.Body)
	}
	if st := p.status(t, p.prID); st["status"] != "paid" {
		t.Fatalf("status %v", st["status"])
	}
	verifyClean(t, h, p.account.Number)
}

func TestBankThatNeverCallsBack(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("300ms")...)
	p.bank.Sim.SetKnobs(banksim.Knobs{NeverCallBack: true})
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	paid := p.waitStatus(t, p.prID, "paid")
	if n := p.h.Count(`SELECT count(*) FROM bank_events WHERE type LIKE 'debit.%'`); n != 0 {
		t.Fatalf("%d debit callbacks arrived: the status query was not what found the outcome", n)
	}
	// The status query's success issued the receipt too.
	var got receiptAnswer
	p.h.Get("/v1/payment-requests/"+p.prID+"/receipt").JSON(t, &got)
	if rcID := paid["payment"].(map[string]any)["receipt_id"]; got.Receipt.ID == "" || got.Receipt.ID != rcID || got.Receipt.Amount != "75000" {
		t.Fatalf("receipt %+v, payment.receipt_id %v", got.Receipt, rcID)
	}
	verifyClean(t, p.h, p.account.Number)
}

func TestBankThatExecutesButTimesOutOrFails(t *testing.T) {
	t.Parallel()
	for _, knobs := range []banksim.Knobs{
		{Sync: true, Latency: 2 * time.Second},    // the answer comes after the client gave up
		{Sync: true, ExecuteThenFail: 1},          // 500 after executing
		{NeverCallBack: true, ExecuteThenFail: 1}, // accepted, then 500
	} {
		t.Run(fmt.Sprintf("%+v", knobs), func(t *testing.T) {
			t.Parallel()
			p := newPayer(t, fastClearing("500ms")...)
			h := p.h
			p.bank.Sim.SetKnobs(knobs)
			if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
				t.Fatalf("pay: %d %s", r.Status, r.Body)
			}
			debitID := p.attemptID(t, p.prID)
			testenv.Eventually(t, 45*time.Second, func() bool { return p.bank.Sim.Executed(debitID) == 1 || p.bank.Sim.Stats().Received["debit"] >= 2 }, "the bank never executed the debit")
			// As a River retry after a crash mid-send would: send it again.
			again, err := h.App.River.Insert(context.Background(), jobargs.SendDebit{AttemptID: debitID}, nil)
			if err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, 45*time.Second, func() bool { return worked(t, h, again.Job.ID) }, "the second send was never worked")
			if st := p.status(t, p.prID); st["status"] != "processing" && st["status"] != "paid" {
				t.Fatalf("while the outcome is unknown the request is %v", st["status"])
			}
			p.bank.Sim.SetKnobs(banksim.Knobs{Sync: knobs.Sync})
			p.waitStatus(t, p.prID, "paid")
			if n := p.bank.Sim.Executed(debitID); n != 1 {
				t.Fatalf("the bank executed the debit %d times", n)
			}
			if got := p.bank.Sim.Balance(p.account.Number); !got.Equal(decimal.NewFromInt(10_000_000 - 75_000)) {
				t.Fatalf("balance %s: charged twice?", got)
			}
			if n := h.Count(`SELECT count(*) FROM events WHERE type = 'payment_request.payment_failed'`); n != 0 {
				t.Fatal("an unknown outcome was reported as failed")
			}
			verifyClean(t, h, p.account.Number)
		})
	}
}

func TestConcurrentRefundsCannotPassThePaidAmount(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("2s")...)
	h := p.h
	p.bank.Sim.SetKnobs(banksim.Knobs{Sync: true})
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	p.waitStatus(t, p.prID, "paid")
	var wg sync.WaitGroup
	results := make([]*apitest.Response, 6)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = h.Post("/v1/payment-requests/"+p.prID+"/refunds", fmt.Sprint("rf-", i), map[string]string{"amount": "20000"})
		}(i)
	}
	wg.Wait()
	accepted, refused := 0, 0
	for _, r := range results {
		switch {
		case r.Status == http.StatusAccepted:
			accepted++
		case r.Status == 422 && r.Code() == "refund_exceeds_refundable":
			refused++
		default:
			t.Fatalf("refund: %d %s", r.Status, r.Body)
		}
	}
	if accepted != 3 || refused != 3 {
		t.Fatalf("%d accepted, %d refused; 75000 allows three of 20000", accepted, refused)
	}
	testenv.Eventually(t, 45*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM refunds WHERE status = 'succeeded'`) == 3
	}, "refunds never settled")
	if st := p.waitStatus(t, p.prID, "partially_refunded"); st["amount_refunded"] != "60000" {
		t.Fatalf("amount_refunded %v", st["amount_refunded"])
	}
	verifyClean(t, h, p.account.Number)
}

func TestPayRefusals(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	p := newPayer(t, append(fastClearing("1h"), apitest.WithClock(clock))...)
	h := p.h
	// Not addressed to this citizen: 404.
	b := createBody("SOMEONE-ELSE")
	r := h.Post("/v1/payment-requests", "other-fee", b)
	otherID := r.Map(t)["id"].(string)
	if r := p.pay(t, otherID, "pay-other"); r.Status != 404 {
		t.Fatalf("someone else's fee: %d %s", r.Status, r.Body)
	}
	// Canceled: invalid_state.
	if r := h.Post("/v1/payment-requests/"+p.prID+"/cancel", "cancel", nil); r.Status != 200 {
		t.Fatalf("cancel: %d", r.Status)
	}
	if r := p.pay(t, p.prID, "pay-canceled"); r.Status != 409 || r.Code() != "invalid_state" {
		t.Fatalf("pay a canceled fee: %d %s", r.Status, r.Body)
	}
	// Past its expiry (swept or not yet): invalid_state, whatever the account.
	late := createBody("FEE-LATE")
	late["citizen_pid"] = p.cit.PID
	late["expires_at"] = h.Now().Add(time.Minute).Format(time.RFC3339Nano)
	lateID := h.Post("/v1/payment-requests", "create-late", late).Map(t)["id"].(string)
	clock.AdvanceTo(mustTime(t, late["expires_at"].(string)).Add(50 * time.Millisecond))
	r = h.AsCitizen(p.cit.Token, http.MethodPost, "/v1/me/payment-requests/"+lateID+"/pay", "pay-late", map[string]string{"account_id": "acc_nope"})
	if r.Status != 409 || r.Code() != "invalid_state" {
		t.Fatalf("pay an overdue fee: %d %s", r.Status, r.Body)
	}
	fresh := p.newRequest(t, "FEE-2")
	// An account that is not the citizen's: account_not_active.
	r = h.AsCitizen(p.cit.Token, http.MethodPost, "/v1/me/payment-requests/"+fresh+"/pay", "pay-bad-acc", map[string]string{"account_id": "acc_nope"})
	if r.Status != 422 || r.Code() != "account_not_active" {
		t.Fatalf("unknown account: %d %s", r.Status, r.Body)
	}
	// loa 1 may read but not pay.
	weak, err := p.idp.Issuer.Mint(devissuer.Claims{PID: p.cit.PID, Name: p.cit.Name, Birthdate: p.cit.Birthdate, LOA: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r := h.AsCitizen(weak, http.MethodGet, "/v1/me/payment-requests", "", nil); r.Status != 200 {
		t.Fatalf("loa 1 read: %d %s", r.Status, r.Body)
	}
	if r := h.AsCitizen(weak, http.MethodPost, "/v1/me/payment-requests/"+fresh+"/pay", "pay-weak", nil); r.Status != 403 || r.Code() != "insufficient_assurance" {
		t.Fatalf("loa 1 pay: %d %s", r.Status, r.Body)
	}
	if n := h.Count(`SELECT count(*) FROM payment_attempts`); n != 0 {
		t.Fatalf("refused payments made %d attempts", n)
	}
	// With no account_id, the default pays.
	r = h.AsCitizen(p.cit.Token, http.MethodPost, "/v1/me/payment-requests/"+fresh+"/pay", "pay-default", nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("pay with the default: %d %s", r.Status, r.Body)
	}
	p.waitStatus(t, fresh, "paid")
	verifyClean(t, h, p.account.Number)
}
