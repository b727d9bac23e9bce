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
	// ReceiptID is the receipt issued in the transaction that made the
	// request paid (PROTOCOL.md §11); "" only for a request paid before
	// receipts existed.
	ReceiptID string
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
	ReturnURL        string // where the hosted checkout sends the citizen back; "" for none
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

// CanPay says whether a citizen may start paying the request at now,
// before an account is chosen: payment_in_progress while a debit holds it,
// invalid_state when it is not pending or its time has passed. It changes
// nothing; StartPayment makes the move.
func (r *Request) CanPay(now time.Time) error {
	if r.Status == StatusProcessing {
		return fault.New(fault.PaymentInProgress, "a payment of this request is already in progress")
	}
	return r.payable(now)
}

// payable refuses paying a request that is not pending or whose time has
// passed.
func (r *Request) payable(now time.Time) error {
	if r.Status != StatusPending {
		return r.refuse("pay")
	}
	if !now.Before(r.ExpiresAt) {
		return fault.New(fault.InvalidState, "this payment request has expired")
	}
	return nil
}

// StartPayment moves a pending request to processing.
func (r *Request) StartPayment(now time.Time) error {
	if err := r.payable(now); err != nil {
		return err
	}
	r.Status = StatusProcessing
	r.changed(now)
	return nil
}

// DebitFailed applies a failed debit to the request it was sent for and
// reports whether the request changed. Only a debit that still holds the
// request (processing, not paid by another attempt) releases it: back to
// pending, or to expired when its time has passed. A failure arriving
// after the request moved on changes nothing.
func (r *Request) DebitFailed(now time.Time) bool {
	if r.Status != StatusProcessing || r.Payment != nil {
		return false
	}
	return r.PaymentFailed(now) == nil
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

// refundable reports whether the request is in a state that may be refunded.
func (r *Request) refundable() bool {
	return r.Status == StatusPaid || r.Status == StatusPartiallyRefunded
}

// RefundableAmount returns what may still be refunded of a paid request
// given reserved, the sum of its refunds pending or succeeded; invalid_state
// when the request is not paid or partially refunded.
func (r *Request) RefundableAmount(reserved decimal.Decimal) (decimal.Decimal, error) {
	if !r.refundable() {
		return decimal.Zero, r.refuse("refund")
	}
	return r.Amount.Sub(reserved), nil
}

// CheckRefund refuses a refund of amount when reserved (refunds pending or
// succeeded) plus amount would pass the paid amount
// (refund_exceeds_refundable), or when the request cannot be refunded at
// all (invalid_state).
func (r *Request) CheckRefund(amount, reserved decimal.Decimal) error {
	refundable, err := r.RefundableAmount(reserved)
	if err != nil {
		return err
	}
	if amount.GreaterThan(refundable) {
		return fault.New(fault.RefundExceedsRefundable, "at most %s can still be refunded", refundable.StringFixed(0))
	}
	return nil
}

// CanRefundRest refuses (invalid_state) refunding everything left of a
// request that was not paid: an operator's refund returns the request's
// own payment.
func (r *Request) CanRefundRest() error {
	if r.Payment == nil || !r.refundable() {
		return fault.New(fault.InvalidState, "request %s is %s: only a paid request can be refunded", r.ID, r.Status)
	}
	return nil
}

// RefundRest returns everything still refundable of a paid request given
// reserved (refunds pending or succeeded); invalid_state when the request
// was not paid (CanRefundRest) or nothing is left to refund.
func (r *Request) RefundRest(reserved decimal.Decimal) (decimal.Decimal, error) {
	if err := r.CanRefundRest(); err != nil {
		return decimal.Zero, err
	}
	amount, err := r.RefundableAmount(reserved)
	if err != nil {
		return decimal.Zero, err
	}
	if !amount.IsPositive() {
		return decimal.Zero, fault.New(fault.InvalidState, "request %s has nothing left to refund (refunds pending or done cover it)", r.ID)
	}
	return amount, nil
}

// Refunded applies a succeeded refund of amount.
func (r *Request) Refunded(amount decimal.Decimal, now time.Time) error {
	if !r.refundable() {
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
