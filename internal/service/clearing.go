package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/wire"
)

// Applied says what applying a bank's outcome did.
type Applied string

// Results of applying an outcome (PROTOCOL.md §7).
const (
	ResultApplied   Applied = "applied"
	ResultDuplicate Applied = "duplicate"
)

// ApplyDebitOutcome applies a bank's word on debit debitID in tx, exactly
// once: the attempt's outcome, the request's state, the ledger posting and
// the event together. The same outcome again is a duplicate; a
// contradiction is outcome_conflict; another bank's or an unknown id is
// not_found; a different amount is amount_differs. Locks are taken request
// first, then attempt, like Pay, so the two never deadlock; request and
// attempt are read and locked in one round trip (postgres.LockDebit), with
// what a success's receipt needs. Its writes are made at once, for the rest
// of tx to read, unless tx holds its writes for COMMIT (a bank's callback:
// postgres.Tx.HoldWrites).
func (s *Service) ApplyDebitOutcome(ctx context.Context, tx *postgres.Tx, bankCode, debitID string, o payment.BankOutcome) (Applied, error) {
	d, err := postgres.LockDebit(ctx, tx, bankCode, debitID, o.Succeeded)
	if err != nil {
		return "", err
	}
	now := s.now()
	r, a := d.Request, d.Attempt
	read := r.Version
	var result Applied
	paid := false
	event, err := func() (string, error) {
		if err := a.Apply(o, now); err != nil {
			if errors.Is(err, payment.ErrAlreadyApplied) {
				result = ResultDuplicate
				return "", nil
			}
			return "", err
		}
		result = ResultApplied
		if err := postgres.SaveAttempt(ctx, tx, a); err != nil {
			return "", err
		}
		if !o.Succeeded {
			if !r.DebitFailed(now) {
				return "", nil // a failed attempt that no longer holds the request
			}
			return EventRequestPaymentFailed, nil
		}
		if r.Payment != nil {
			return "", fault.New(fault.OutcomeConflict, "request %s is already paid by %s", r.ID, r.Payment.AttemptID)
		}
		// The receipt's id is given now, so that the paid event carries it;
		// the receipt itself is issued last (issueReceipt).
		if err := r.Paid(payment.Payment{AttemptID: a.ID, BankCode: a.BankCode, BankReference: a.BankReference, PaidAt: now,
			ReceiptID: receipt.NewID()}, now); err != nil {
			return "", err
		}
		paid = true
		t, err := ledger.DebitSucceeded(a.ID, a.BankCode, r.PortalID, a.Amount)
		if err != nil {
			return "", err
		}
		if err := postgres.PostLedger(ctx, tx, t.At(now)); err != nil {
			return "", err
		}
		return EventRequestPaid, nil
	}()
	if err != nil {
		return "", err
	}
	if r.Version != read {
		if err := postgres.SavePaymentRequest(ctx, tx, r, read); err != nil {
			return "", err
		}
		if event != "" {
			if err := s.emit(ctx, tx, event, r, nil); err != nil {
				return "", err
			}
		}
	}
	if paid {
		if err := s.issueReceipt(ctx, tx, r, d); err != nil {
			return "", fmt.Errorf("issue the receipt of %s: %w", r.ID, err)
		}
	}
	return result, nil
}

// ApplyRefundOutcome applies a bank's word on refund refundID in tx, exactly
// once, with its reversing posting and events.
func (s *Service) ApplyRefundOutcome(ctx context.Context, tx *postgres.Tx, bankCode, refundID string, o payment.BankOutcome) (Applied, error) {
	peek, err := postgres.GetRefund(ctx, tx, refundID, false)
	if fault.Is(err, fault.NotFound) || (err == nil && peek.BankCode != bankCode) {
		return "", fault.New(fault.NotFound, "no refund %s was sent to bank %s", refundID, bankCode)
	}
	if err != nil {
		return "", err
	}
	now := s.now()
	var result Applied
	var rf *payment.Refund
	r, err := s.UpdatePaymentRequestUnscoped(ctx, tx, peek.RequestID, func(r *payment.Request) (string, error) {
		var err error
		if rf, err = postgres.GetRefund(ctx, tx, refundID, true); err != nil {
			return "", err
		}
		if err := rf.Apply(o, now); err != nil {
			if errors.Is(err, payment.ErrAlreadyApplied) {
				result = ResultDuplicate
				return "", nil
			}
			return "", err
		}
		result = ResultApplied
		if err := postgres.SaveRefund(ctx, tx, rf); err != nil {
			return "", err
		}
		if !o.Succeeded {
			return "", nil
		}
		if err := r.Refunded(rf.Amount, now); err != nil {
			return "", err
		}
		t, err := ledger.RefundSucceeded(rf.ID, rf.BankCode, r.PortalID, rf.Amount)
		if err != nil {
			return "", err
		}
		if err := postgres.PostLedger(ctx, tx, t.At(now)); err != nil {
			return "", err
		}
		return EventRequestRefunded, nil
	})
	if err != nil || result != ResultApplied {
		return result, err
	}
	typ := EventRefundFailed
	if o.Succeeded {
		typ = EventRefundSucceeded
	}
	w := wire.ToRefund(rf)
	if err := s.emit(ctx, tx, typ, r, &w); err != nil {
		return "", err
	}
	return result, nil
}
