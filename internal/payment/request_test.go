package payment

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
)

func TestTransitions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	d := decimal.RequireFromString
	paid := &Payment{AttemptID: "pa_1", BankCode: "SBX", BankReference: "FT1", PaidAt: now}
	tests := []struct {
		name    string
		from    Status
		expires time.Time
		do      func(r *Request) error
		want    Status
		code    fault.Code // "" when allowed
	}{
		{"cancel pending", StatusPending, future, func(r *Request) error { return r.Cancel(now) }, StatusCanceled, ""},
		{"cancel processing", StatusProcessing, future, func(r *Request) error { return r.Cancel(now) }, StatusProcessing, fault.InvalidState},
		{"cancel paid", StatusPaid, future, func(r *Request) error { return r.Cancel(now) }, StatusPaid, fault.InvalidState},
		{"cancel canceled", StatusCanceled, future, func(r *Request) error { return r.Cancel(now) }, StatusCanceled, fault.InvalidState},
		{"expire overdue pending", StatusPending, past, func(r *Request) error { return r.Expire(now) }, StatusExpired, ""},
		{"expire pending not yet due", StatusPending, future, func(r *Request) error { return r.Expire(now) }, StatusPending, fault.InvalidState},
		{"expire processing", StatusProcessing, past, func(r *Request) error { return r.Expire(now) }, StatusProcessing, fault.InvalidState},
		{"pay pending", StatusPending, future, func(r *Request) error { return r.StartPayment(now) }, StatusProcessing, ""},
		{"pay overdue pending", StatusPending, past, func(r *Request) error { return r.StartPayment(now) }, StatusPending, fault.InvalidState},
		{"pay processing", StatusProcessing, future, func(r *Request) error { return r.StartPayment(now) }, StatusProcessing, fault.InvalidState},
		{"pay canceled", StatusCanceled, future, func(r *Request) error { return r.StartPayment(now) }, StatusCanceled, fault.InvalidState},
		{"debit fails in time", StatusProcessing, future, func(r *Request) error { return r.PaymentFailed(now) }, StatusPending, ""},
		{"debit fails late", StatusProcessing, past, func(r *Request) error { return r.PaymentFailed(now) }, StatusExpired, ""},
		{"debit fails on pending", StatusPending, future, func(r *Request) error { return r.PaymentFailed(now) }, StatusPending, fault.InvalidState},
		{"paid from processing", StatusProcessing, future, func(r *Request) error { return r.Paid(*paid, now) }, StatusPaid, ""},
		{"paid after expiry", StatusExpired, past, func(r *Request) error { return r.Paid(*paid, now) }, StatusPaid, ""},
		{"paid twice", StatusPaid, future, func(r *Request) error { return r.Paid(*paid, now) }, StatusPaid, fault.InvalidState},
		{"paid when canceled", StatusCanceled, future, func(r *Request) error { return r.Paid(*paid, now) }, StatusCanceled, fault.InvalidState},
		{"partial refund", StatusPaid, future, func(r *Request) error { return r.Refunded(d("25000"), now) }, StatusPartiallyRefunded, ""},
		{"full refund", StatusPaid, future, func(r *Request) error { return r.Refunded(d("75000"), now) }, StatusRefunded, ""},
		{"refund past the amount", StatusPaid, future, func(r *Request) error { return r.Refunded(d("75001"), now) }, StatusPaid, fault.RefundExceedsRefundable},
		{"refund pending", StatusPending, future, func(r *Request) error { return r.Refunded(d("1"), now) }, StatusPending, fault.InvalidState},
		{"refund check over reserved", StatusPaid, future, func(r *Request) error { return r.CheckRefund(d("50001"), d("25000")) }, StatusPaid, fault.RefundExceedsRefundable},
		{"refund check within", StatusPartiallyRefunded, future, func(r *Request) error { return r.CheckRefund(d("50000"), d("25000")) }, StatusPartiallyRefunded, ""},
		{"refund check refunded", StatusRefunded, future, func(r *Request) error { return r.CheckRefund(d("1"), d("0")) }, StatusRefunded, fault.InvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{ID: "pr_1", Status: tt.from, Version: 3, Amount: d("75000"), AmountRefunded: decimal.Zero, ExpiresAt: tt.expires}
			err := tt.do(r)
			if tt.code == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.code != "" && fault.CodeOf(err) != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
			if r.Status != tt.want {
				t.Fatalf("status %s, want %s", r.Status, tt.want)
			}
			changed := tt.code == "" && tt.from != tt.want
			if changed != (r.Version == 4) && tt.code == "" && tt.name[:12] != "refund check" {
				t.Fatalf("version %d after %s", r.Version, tt.name)
			}
			if tt.code != "" && r.Version != 3 {
				t.Fatalf("a refused change moved the version to %d", r.Version)
			}
		})
	}
}

func TestAttemptOutcomes(t *testing.T) {
	t.Parallel()
	now := time.Now()
	d := decimal.RequireFromString
	ok := BankOutcome{Succeeded: true, Amount: d("75000"), Currency: "VND", BankReference: "FT1"}
	failed := BankOutcome{ReasonCode: "INSUFFICIENT_FUNDS"}
	a := &Attempt{Amount: d("75000"), Currency: "VND", Status: OutcomePending}
	if err := a.Apply(BankOutcome{Succeeded: true, Amount: d("75001"), Currency: "VND"}, now); fault.CodeOf(err) != fault.AmountDiffers || a.Status != OutcomePending {
		t.Fatalf("amount differs: %v %s", err, a.Status)
	}
	if err := a.Apply(ok, now); err != nil || a.Status != OutcomeSucceeded || a.BankReference != "FT1" {
		t.Fatalf("success: %v", err)
	}
	if err := a.Apply(ok, now); err != ErrAlreadyApplied {
		t.Fatalf("repeat: %v", err)
	}
	if err := a.Apply(failed, now); fault.CodeOf(err) != fault.OutcomeConflict || err == ErrAlreadyApplied {
		t.Fatalf("contradiction: %v", err)
	}
	b := &Attempt{Amount: d("1"), Currency: "VND", Status: OutcomePending}
	if err := b.Apply(failed, now); err != nil || b.Status != OutcomeFailed || b.FailureCode != "INSUFFICIENT_FUNDS" {
		t.Fatalf("failure: %v", err)
	}
}
