package payment

import (
	"errors"
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

func TestCanPay(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	tests := []struct {
		name    string
		from    Status
		expires time.Time
		code    fault.Code // "" when allowed
		message string
	}{
		{"pending in time", StatusPending, future, "", ""},
		{"pending at its expiry", StatusPending, now, fault.InvalidState, "this payment request has expired"},
		{"pending overdue", StatusPending, past, fault.InvalidState, "this payment request has expired"},
		{"processing", StatusProcessing, future, fault.PaymentInProgress, "a payment of this request is already in progress"},
		{"processing overdue", StatusProcessing, past, fault.PaymentInProgress, "a payment of this request is already in progress"},
		{"paid", StatusPaid, future, fault.InvalidState, "cannot pay a payment request that is paid"},
		{"partially refunded", StatusPartiallyRefunded, future, fault.InvalidState, "cannot pay a payment request that is partially_refunded"},
		{"refunded", StatusRefunded, future, fault.InvalidState, "cannot pay a payment request that is refunded"},
		{"canceled", StatusCanceled, future, fault.InvalidState, "cannot pay a payment request that is canceled"},
		{"expired", StatusExpired, past, fault.InvalidState, "cannot pay a payment request that is expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{ID: "pr_1", Status: tt.from, Version: 3, ExpiresAt: tt.expires}
			err := r.CanPay(now)
			if tt.code == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.code != "" && (fault.CodeOf(err) != tt.code || faultMessage(err) != tt.message) {
				t.Fatalf("got %v, want %s %q", err, tt.code, tt.message)
			}
			if r.Status != tt.from || r.Version != 3 {
				t.Fatalf("CanPay changed the request: %s v%d", r.Status, r.Version)
			}
		})
	}
}

func TestDebitFailed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	paid := &Payment{AttemptID: "pa_2", BankCode: "SBX", PaidAt: now}
	tests := []struct {
		name    string
		from    Status
		expires time.Time
		payment *Payment
		changed bool
		want    Status
	}{
		{"holds the request in time", StatusProcessing, future, nil, true, StatusPending},
		{"holds the request past its time", StatusProcessing, past, nil, true, StatusExpired},
		{"processing but paid by another attempt", StatusProcessing, future, paid, false, StatusProcessing},
		{"pending again", StatusPending, future, nil, false, StatusPending},
		{"paid", StatusPaid, future, paid, false, StatusPaid},
		{"expired", StatusExpired, past, nil, false, StatusExpired},
		{"canceled", StatusCanceled, future, nil, false, StatusCanceled},
		{"refunded", StatusRefunded, future, paid, false, StatusRefunded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{ID: "pr_1", Status: tt.from, Version: 3, ExpiresAt: tt.expires, Payment: tt.payment}
			if got := r.DebitFailed(now); got != tt.changed {
				t.Fatalf("DebitFailed = %v, want %v", got, tt.changed)
			}
			if r.Status != tt.want {
				t.Fatalf("status %s, want %s", r.Status, tt.want)
			}
			if wantVersion := map[bool]int{true: 4, false: 3}[tt.changed]; r.Version != wantVersion {
				t.Fatalf("version %d, want %d", r.Version, wantVersion)
			}
		})
	}
}

func TestRefundable(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	paid := &Payment{AttemptID: "pa_1", BankCode: "SBX"}
	tests := []struct {
		name     string
		from     Status
		payment  *Payment
		reserved string
		want     string     // RefundableAmount
		code     fault.Code // RefundableAmount's refusal
		rest     string     // RefundRest
		restCode fault.Code // RefundRest's refusal
		restMsg  string
	}{
		{"paid, nothing reserved", StatusPaid, paid, "0", "75000", "", "75000", "", ""},
		{"paid, some reserved", StatusPaid, paid, "25000", "50000", "", "50000", "", ""},
		{"partially refunded", StatusPartiallyRefunded, paid, "70000", "5000", "", "5000", "", ""},
		{"all reserved", StatusPartiallyRefunded, paid, "75000", "0", "", "0", fault.InvalidState,
			"request pr_1 has nothing left to refund (refunds pending or done cover it)"},
		{"paid without its payment", StatusPaid, nil, "0", "75000", "", "0", fault.InvalidState,
			"request pr_1 is paid: only a paid request can be refunded"},
		{"refunded", StatusRefunded, paid, "75000", "0", fault.InvalidState, "0", fault.InvalidState,
			"request pr_1 is refunded: only a paid request can be refunded"},
		{"pending", StatusPending, nil, "0", "0", fault.InvalidState, "0", fault.InvalidState,
			"request pr_1 is pending: only a paid request can be refunded"},
		{"processing", StatusProcessing, nil, "0", "0", fault.InvalidState, "0", fault.InvalidState,
			"request pr_1 is processing: only a paid request can be refunded"},
		{"canceled", StatusCanceled, nil, "0", "0", fault.InvalidState, "0", fault.InvalidState,
			"request pr_1 is canceled: only a paid request can be refunded"},
		{"expired", StatusExpired, nil, "0", "0", fault.InvalidState, "0", fault.InvalidState,
			"request pr_1 is expired: only a paid request can be refunded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{ID: "pr_1", Status: tt.from, Version: 3, Amount: d("75000"), Payment: tt.payment}
			got, err := r.RefundableAmount(d(tt.reserved))
			if fault.CodeOf(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("RefundableAmount: %v, want %q", err, tt.code)
			}
			if tt.code != "" && faultMessage(err) != "cannot refund a payment request that is "+string(tt.from) {
				t.Fatalf("RefundableAmount message %q", faultMessage(err))
			}
			if !got.Equal(d(tt.want)) {
				t.Fatalf("RefundableAmount = %s, want %s", got, tt.want)
			}
			rest, err := r.RefundRest(d(tt.reserved))
			if tt.restCode == "" && err != nil {
				t.Fatalf("RefundRest refused: %v", err)
			}
			if tt.restCode != "" && (fault.CodeOf(err) != tt.restCode || faultMessage(err) != tt.restMsg) {
				t.Fatalf("RefundRest: %v, want %s %q", err, tt.restCode, tt.restMsg)
			}
			if !rest.Equal(d(tt.rest)) {
				t.Fatalf("RefundRest = %s, want %s", rest, tt.rest)
			}
			if r.Status != tt.from || r.Version != 3 {
				t.Fatalf("a check changed the request: %s v%d", r.Status, r.Version)
			}
		})
	}
}

func TestCheckRefund(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	tests := []struct {
		name     string
		from     Status
		amount   string
		reserved string
		code     fault.Code // "" when allowed
		message  string
	}{
		{"all of a paid request", StatusPaid, "75000", "0", "", ""},
		{"the rest of a partially refunded one", StatusPartiallyRefunded, "50000", "25000", "", ""},
		{"one past the rest", StatusPartiallyRefunded, "50001", "25000", fault.RefundExceedsRefundable, "at most 50000 can still be refunded"},
		{"anything when all is reserved", StatusPaid, "1", "75000", fault.RefundExceedsRefundable, "at most 0 can still be refunded"},
		{"refunded", StatusRefunded, "1", "0", fault.InvalidState, "cannot refund a payment request that is refunded"},
		{"pending", StatusPending, "1", "0", fault.InvalidState, "cannot refund a payment request that is pending"},
		{"processing", StatusProcessing, "1", "0", fault.InvalidState, "cannot refund a payment request that is processing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{ID: "pr_1", Status: tt.from, Amount: d("75000")}
			err := r.CheckRefund(d(tt.amount), d(tt.reserved))
			if tt.code == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.code != "" && (fault.CodeOf(err) != tt.code || faultMessage(err) != tt.message) {
				t.Fatalf("got %v, want %s %q", err, tt.code, tt.message)
			}
		})
	}
}

// faultMessage is the message a domain error carries to the API.
func faultMessage(err error) string {
	var e *fault.Error
	if !errors.As(err, &e) {
		return ""
	}
	return e.Message
}
