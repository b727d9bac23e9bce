// Package payment is the domain of fees: payment requests, their states and
// the rules for moving between them (PROTOCOL.md §5, DOMAIN.md). It knows
// nothing of HTTP, SQL or Redis.
package payment

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
)

// Status is a payment request's state.
type Status string

// The states of a payment request.
const (
	StatusPending           Status = "pending"
	StatusProcessing        Status = "processing"
	StatusPaid              Status = "paid"
	StatusPartiallyRefunded Status = "partially_refunded"
	StatusRefunded          Status = "refunded"
	StatusCanceled          Status = "canceled"
	StatusExpired           Status = "expired"
)

// ValidStatus reports whether s names a state.
func ValidStatus(s string) bool {
	switch Status(s) {
	case StatusPending, StatusProcessing, StatusPaid, StatusPartiallyRefunded, StatusRefunded, StatusCanceled, StatusExpired:
		return true
	}
	return false
}

// Item is one line of a fee.
type Item struct {
	Code        string
	Description string
	Amount      decimal.Decimal
}

// Payment says how a request was paid.
type Payment struct {
	AttemptID     string
	BankCode      string
	BankReference string
	PaidAt        time.Time
}

// Request is a fee a portal asks a citizen to pay.
type Request struct {
	ID               string
	PortalID         string
	Status           Status
	Version          int
	CitizenPIDMasked string
	DossierCode      string
	ServiceCode      string
	Description      string
	Items            []Item
	Amount           decimal.Decimal
	Currency         string
	AmountRefunded   decimal.Decimal
	Metadata         map[string]string
	ExpiresAt        time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Payment          *Payment
}

// Live reports whether the request still holds its dossier (one live
// request per dossier).
func (r *Request) Live() bool {
	return r.Status == StatusPending || r.Status == StatusProcessing
}

func (r *Request) changed(now time.Time) {
	r.Version++
	r.UpdatedAt = now
}

func (r *Request) refuse(action string) error {
	return fault.New(fault.InvalidState, "cannot %s a payment request that is %s", action, r.Status)
}

// Cancel moves a pending request to canceled.
func (r *Request) Cancel(now time.Time) error {
	if r.Status != StatusPending {
		return r.refuse("cancel")
	}
	r.Status = StatusCanceled
	r.changed(now)
	return nil
}

// Expire moves a pending request whose time has passed to expired.
func (r *Request) Expire(now time.Time) error {
	if r.Status != StatusPending || now.Before(r.ExpiresAt) {
		return r.refuse("expire")
	}
	r.Status = StatusExpired
	r.changed(now)
	return nil
}

// StartPayment moves a pending request to processing.
func (r *Request) StartPayment(now time.Time) error {
	if r.Status != StatusPending {
		return r.refuse("pay")
	}
	if !now.Before(r.ExpiresAt) {
		return fault.New(fault.InvalidState, "this payment request has expired")
	}
	r.Status = StatusProcessing
	r.changed(now)
	return nil
}

// PaymentFailed returns a processing request to pending, or to expired when
// its time has passed.
func (r *Request) PaymentFailed(now time.Time) error {
	if r.Status != StatusProcessing {
		return r.refuse("fail the payment of")
	}
	if now.Before(r.ExpiresAt) {
		r.Status = StatusPending
	} else {
		r.Status = StatusExpired
	}
	r.changed(now)
	return nil
}

// Paid records the bank's success. Money that moved is never lost: a debit
// that succeeds after the request expired still makes it paid.
func (r *Request) Paid(p Payment, now time.Time) error {
	switch r.Status {
	case StatusProcessing, StatusPending, StatusExpired:
	default:
		return r.refuse("mark paid")
	}
	r.Status = StatusPaid
	r.Payment = &p
	r.changed(now)
	return nil
}

// Refundable is the amount that may still be refunded given the sum of
// refunds pending or succeeded.
func (r *Request) Refundable(reserved decimal.Decimal) decimal.Decimal {
	if r.Status != StatusPaid && r.Status != StatusPartiallyRefunded {
		return decimal.Zero
	}
	return r.Amount.Sub(reserved)
}

// CheckRefund refuses a refund of amount when reserved (refunds pending or
// succeeded) plus amount would pass the paid amount.
func (r *Request) CheckRefund(amount, reserved decimal.Decimal) error {
	if r.Status != StatusPaid && r.Status != StatusPartiallyRefunded {
		return r.refuse("refund")
	}
	if amount.GreaterThan(r.Refundable(reserved)) {
		return fault.New(fault.RefundExceedsRefundable, "at most %s can still be refunded", r.Refundable(reserved).StringFixed(0))
	}
	return nil
}

// Refunded applies a succeeded refund of amount.
func (r *Request) Refunded(amount decimal.Decimal, now time.Time) error {
	if r.Status != StatusPaid && r.Status != StatusPartiallyRefunded {
		return r.refuse("refund")
	}
	total := r.AmountRefunded.Add(amount)
	if total.GreaterThan(r.Amount) {
		return fault.New(fault.RefundExceedsRefundable, "refunds would pass the paid amount")
	}
	r.AmountRefunded = total
	if total.Equal(r.Amount) {
		r.Status = StatusRefunded
	} else {
		r.Status = StatusPartiallyRefunded
	}
	r.changed(now)
	return nil
}
