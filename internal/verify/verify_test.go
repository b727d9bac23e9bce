package verify_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/verify"
)

func TestCleanDatabasePasses(t *testing.T) {
	t.Parallel()
	w := setup(t).clean()
	rep := w.check(verify.Options{KnownAccountNumbers: []string{testAccount}})
	wantExactly(t, rep)
	if len(rep.OpenIncidents) != 1 || rep.OpenIncidents[0].ID != "inc_1" || rep.OpenIncidents[0].Kind != "outcome_conflict" {
		t.Errorf("open incidents = %+v", rep.OpenIncidents)
	}
	scanned := rep.Invariants[verify.InvNoClearPII-1].Scanned
	if scanned["tables"] < 15 || scanned["rows"] < 40 {
		t.Errorf("scanned %v: the scan missed tables or rows", scanned)
	}
}

func TestEmptyDatabasePasses(t *testing.T) {
	t.Parallel()
	rep := setup(t).check(verify.Options{})
	wantExactly(t, rep)
	if rep.OpenIncidents == nil {
		t.Error("open_incidents is null, want []")
	}
}

func TestLedgerBalances(t *testing.T) {
	t.Parallel()
	t.Run("a posting written past the ledger's statement", func(t *testing.T) {
		t.Parallel()
		w := setup(t).clean()
		// The gateway's posting statement refuses an unbalanced transaction
		// (internal/postgres); a row written by hand is not checked by the
		// schema, and verify does not trust that nobody wrote one.
		w.exec(`INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency)
			SELECT id, 'bank_clearing:VCB', 'debit', 1, 'VND' FROM ledger_transactions WHERE cause = 'pa_paid'`)
		rep := w.check(verify.Options{})
		wantExactly(t, rep,
			finding{1, verify.CheckTransactionUnbalanced, "pa_paid"},
			finding{1, verify.CheckTotalsDiffer, "ledger"},
			finding{2, verify.CheckPostingMismatch, "pr_paid"}, // and it is no longer the payment's posting
		)
	})
	t.Run("a transaction without postings", func(t *testing.T) {
		t.Parallel()
		w := setup(t).clean()
		w.exec(`INSERT INTO ledger_transactions (cause, kind) VALUES ('pa_ghost', 'debit_succeeded')`)
		wantExactly(t, w.check(verify.Options{}),
			finding{1, verify.CheckTransactionUnbalanced, "pa_ghost"},
			finding{3, verify.CheckPostingUnpaid, "pa_ghost"},
		)
	})
}

func TestPaidRequestPostedOnce(t *testing.T) {
	t.Parallel()
	tests := []worldCase{
		{"paid without posting", func(w *world) {
			w.paid("pr_unposted", "pa_unposted", false)
		}, []finding{{2, verify.CheckPostingMissing, "pr_unposted"}}},
		{"posted for another amount", func(w *world) {
			w.paid("pr_short", "pa_short", false)
			w.post(mustTx(ledger.DebitSucceeded("pa_short", bankCode, portalID, decimal.NewFromInt(74000))))
		}, []finding{{2, verify.CheckPostingMismatch, "pr_short"}}},
		{"posted on another bank", func(w *world) {
			w.paid("pr_tcb", "pa_tcb", false)
			w.post(mustTx(ledger.DebitSucceeded("pa_tcb", "TCB", portalID, decimal.NewFromInt(75000))))
		}, []finding{{2, verify.CheckPostingMismatch, "pr_tcb"}}},
		{"posted as a refund", func(w *world) {
			w.paid("pr_kind", "pa_kind", false)
			// Only possible with the kind/cause CHECK out of the way.
			w.exec(`ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_check`)
			w.exec(`WITH t AS (INSERT INTO ledger_transactions (cause, kind) VALUES ('pa_kind', 'refund_succeeded') RETURNING id)
				INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency)
				SELECT id, 'bank_clearing:VCB', 'debit', 75000, 'VND' FROM t UNION ALL
				SELECT id, 'portal_payable:ptl_a', 'credit', 75000, 'VND' FROM t`)
		}, []finding{{2, verify.CheckPostingMismatch, "pr_kind"}, {5, verify.CheckRefundPostingUnfounded, "pa_kind"}}},
		{"paid with its attempt still pending", func(w *world) {
			w.request("pr_early", "processing")
			w.attempt("pa_early", "pr_early", "pending")
			w.exec(`UPDATE payment_requests SET status = 'paid', paid_attempt_id = 'pa_early', paid_bank_code = 'VCB' WHERE id = 'pr_early'`)
			w.event("payment_request.paid", "pr_early", "paid", "")
		}, []finding{{2, verify.CheckSucceededAttempts, "pr_early"}, {8, verify.CheckReceiptMissing, "pr_early"}}},
		{"paid by another attempt than the succeeded one", func(w *world) {
			w.paid("pr_other", "pa_other", true)
			w.attempt("pa_other_failed", "pr_other", "failed")
			w.event("payment_request.payment_failed", "pr_other", "pending", "")
			w.exec(`UPDATE payment_requests SET paid_attempt_id = 'pa_other_failed' WHERE id = 'pr_other'`)
		}, []finding{{2, verify.CheckPaymentMismatch, "pr_other"}}},
	}
	runWorldCases(t, tests)
}

func TestUnpaidRequestUnposted(t *testing.T) {
	t.Parallel()
	tests := []worldCase{
		{"a posting for a failed attempt of a pending request", func(w *world) {
			w.post(mustTx(ledger.DebitSucceeded("pa_retry_failed", bankCode, portalID, decimal.NewFromInt(75000))))
		}, []finding{{3, verify.CheckPostingUnpaid, "pr_retry"}}},
		{"a posting for a pending attempt of a processing request", func(w *world) {
			w.post(mustTx(ledger.DebitSucceeded("pa_processing", bankCode, portalID, decimal.NewFromInt(75000))))
		}, []finding{{3, verify.CheckPostingUnpaid, "pr_processing"}}},
		{"a succeeded attempt on a canceled request", func(w *world) {
			w.attempt("pa_canceled", "pr_canceled", "succeeded")
		}, []finding{{3, verify.CheckSucceededUnpaid, "pr_canceled"}}},
		{"a succeeded, posted attempt on a processing request", func(w *world) {
			w.exec(`UPDATE payment_attempts SET status = 'succeeded' WHERE id = 'pa_processing'`)
			w.post(mustTx(ledger.DebitSucceeded("pa_processing", bankCode, portalID, decimal.NewFromInt(75000))))
		}, []finding{{3, verify.CheckSucceededUnpaid, "pr_processing"}, {3, verify.CheckPostingUnpaid, "pr_processing"}}},
		{"a posting caused by no attempt", func(w *world) {
			w.post(mustTx(ledger.DebitSucceeded("pa_nowhere", bankCode, portalID, decimal.NewFromInt(1))))
		}, []finding{{3, verify.CheckPostingUnpaid, "pa_nowhere"}}},
	}
	runWorldCases(t, tests)
}

func TestOneLiveAttemptOneAppliedOutcome(t *testing.T) {
	t.Parallel()
	t.Run("two live attempts", func(t *testing.T) {
		t.Parallel()
		w := setup(t).clean()
		_, err := w.pool.Exec(w.ctx, `INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency, status)
			VALUES ('pa_second', 'pr_processing', 'acc_1', 'VCB', 75000, 'VND', 'pending')`)
		if err == nil || !strings.Contains(err.Error(), "payment_attempts_live") {
			t.Fatalf("second live attempt: %v, want the unique index's refusal", err)
		}
		w.exec(`DROP INDEX payment_attempts_live`)
		w.attempt("pa_second", "pr_processing", "pending")
		wantExactly(t, w.check(verify.Options{}), finding{4, verify.CheckLiveAttempts, "pr_processing"})
	})
	t.Run("a debit's success applied from two bank events", func(t *testing.T) {
		t.Parallel()
		w := setup(t).clean()
		const second = `INSERT INTO bank_events (bank_code, event_id, type, object_id, result, body)
			VALUES ('VCB', 'be_again', 'debit.succeeded', 'pa_paid', 'applied', '{}')`
		_, err := w.pool.Exec(w.ctx, second)
		if err == nil || !strings.Contains(err.Error(), "bank_events_applied_once") {
			t.Fatalf("second applied event: %v, want the unique index's refusal", err)
		}
		w.exec(`DROP INDEX bank_events_applied_once`)
		w.exec(second)
		wantExactly(t, w.check(verify.Options{}), finding{4, verify.CheckAppliedTwice, "pa_paid"})
	})
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	tests := []worldCase{
		{"pending refunds past the amount", func(w *world) {
			w.refund("rf_too_much", "pr_partial", "pa_partial", 45000, "pending", false)
		}, []finding{{5, verify.CheckRefundsExceed, "pr_partial"}}},
		{"amount_refunded not the sum of succeeded refunds", func(w *world) {
			w.exec(`UPDATE payment_requests SET amount_refunded = 30000 WHERE id = 'pr_partial'`)
		}, []finding{{5, verify.CheckAmountRefunded, "pr_partial"}}},
		{"refunded in full but still paid", func(w *world) {
			w.exec(`UPDATE payment_requests SET status = 'paid' WHERE id = 'pr_refunded'`)
			w.exec(`UPDATE events SET payload = replace(payload::text, '"refunded"', '"paid"')::json WHERE payload::text LIKE '%pr_refunded%'`)
		}, []finding{{5, verify.CheckRefundState, "pr_refunded"}}},
		{"a succeeded refund without posting", func(w *world) {
			w.paid("pr_r", "pa_r", true)
			w.refund("rf_unposted", "pr_r", "pa_r", 1000, "succeeded", false)
		}, []finding{{5, verify.CheckRefundPostingMissing, "rf_unposted"}}},
		{"a succeeded refund posted for another amount", func(w *world) {
			w.paid("pr_r", "pa_r", true)
			w.refund("rf_short", "pr_r", "pa_r", 1000, "succeeded", false)
			w.post(mustTx(ledger.RefundSucceeded("rf_short", bankCode, portalID, decimal.NewFromInt(999))))
		}, []finding{{5, verify.CheckRefundPostingMismatch, "rf_short"}}},
		{"a failed refund posted", func(w *world) {
			w.post(mustTx(ledger.RefundSucceeded("rf_partial_failed", bankCode, portalID, decimal.NewFromInt(5000))))
		}, []finding{{5, verify.CheckRefundPostingUnfounded, "rf_partial_failed"}}},
		{"a pending refund posted", func(w *world) {
			w.post(mustTx(ledger.RefundSucceeded("rf_partial_pending", bankCode, portalID, decimal.NewFromInt(10000))))
		}, []finding{{5, verify.CheckRefundPostingUnfounded, "rf_partial_pending"}}},
		{"a refund posting caused by no refund", func(w *world) {
			w.post(mustTx(ledger.RefundSucceeded("rf_nowhere", bankCode, portalID, decimal.NewFromInt(1))))
		}, []finding{{5, verify.CheckRefundPostingUnfounded, "rf_nowhere"}}},
		{"a refund against another attempt", func(w *world) {
			w.refund("rf_elsewhere", "pr_partial", "pa_paid", 1000, "pending", false)
		}, []finding{{5, verify.CheckRefundAttempt, "rf_elsewhere"}}},
	}
	runWorldCases(t, tests)
}
