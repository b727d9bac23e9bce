package service

import (
	"context"
	"fmt"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// MaxIncidentList bounds how many incidents one listing returns.
const MaxIncidentList = 1000

// ListIncidents returns up to limit (1 to MaxIncidentList) incidents of
// status, or of any status when status is "", newest first.
func (s *Service) ListIncidents(ctx context.Context, status incident.Status, limit int) ([]*incident.Incident, error) {
	if status != "" && !incident.ValidStatus(string(status)) {
		return nil, fault.Field(fault.ValidationFailed, "status", "open, resolved or all")
	}
	if limit < 1 || limit > MaxIncidentList {
		return nil, fault.Field(fault.ValidationFailed, "limit", "between 1 and 1000")
	}
	return postgres.ListIncidents(ctx, s.DB, status, limit)
}

// GetIncident returns incident incID, with its evidence; not_found when
// there is none.
func (s *Service) GetIncident(ctx context.Context, incID string) (*incident.Incident, error) {
	if !id.HasPrefix(incID, id.Incident) {
		return nil, fault.New(fault.NotFound, "no incident %s", incID)
	}
	return postgres.GetIncident(ctx, s.DB, incID, false)
}

// IncidentResult is what resolving an incident did.
type IncidentResult struct {
	Incident *incident.Incident // resolved
	// Applied is ResultApplied when apply-paid applied the debit.
	Applied Applied
	// Request is the payment request the action changed, as it stands
	// after the change (apply-paid and refund).
	Request *payment.Request
	// Refund is the refund made (refund), pending until its bank answers.
	Refund *payment.Refund
}

// ResolveIncident carries out the operator's resolution r of incident
// incID and closes it, in one transaction under the incident's row lock:
// an incident is resolved once, a second resolution is refused, and a
// refused action changes nothing and leaves the incident open.
//
// The action must fit the incident (incident.Incident.Fits: its kind and
// the object it names), and a bank's incident moves only that bank's money
// (incident.Incident.CheckBank): apply-paid needs the debit to have been
// sent to the incident's bank; refund needs the request to have been paid
// through it, whether the incident names the request, its debit or one of
// its refunds. A refund asks for everything still refundable, with the
// fixed reason incident.RefundReason; the operator's note stays in the
// incident's resolution.
//
// Errors: validation_failed (r's form), not_found (no such incident, or
// the object it names), invalid_state (already resolved, an action that
// does not fit, another bank's money, a request that is not paid or has
// nothing left to refund), and what ApplyDebitOutcome and CreateRefund
// return.
func (s *Service) ResolveIncident(ctx context.Context, incID string, r incident.Resolution) (*IncidentResult, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if !id.HasPrefix(incID, id.Incident) {
		return nil, fault.New(fault.NotFound, "no incident %s", incID)
	}
	var out *IncidentResult
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		in, err := postgres.GetIncident(ctx, tx, incID, true)
		if err != nil {
			return err
		}
		if err := in.CanResolve(r); err != nil {
			return err
		}
		out = &IncidentResult{Incident: in}
		done := ""
		switch r.Action {
		case incident.ActionApplyPaid:
			if out.Request, err = s.applyPaid(ctx, tx, in, r.BankReference); err != nil {
				return err
			}
			out.Applied = ResultApplied
			done = fmt.Sprintf("debit %s applied as succeeded, bank reference %s", in.ObjectID(), r.BankReference)
		case incident.ActionRefund:
			if out.Refund, out.Request, err = s.refundFor(ctx, tx, in); err != nil {
				return err
			}
			done = fmt.Sprintf("%s of %s %s for %s", out.Refund.ID, money.Format(out.Refund.Amount), out.Refund.Currency, out.Request.ID)
		}
		if err := in.Resolve(r, done, s.now()); err != nil {
			return err
		}
		return postgres.SaveResolution(ctx, tx, in)
	})
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", incID, err)
	}
	return out, nil
}

// applyPaid applies the incident's debit as succeeded, with the amount and
// currency that were sent and the bank reference the operator gives,
// through the path a bank's success takes: the attempt, the request, the
// ledger posting and the payment_request.paid event together, once.
func (s *Service) applyPaid(ctx context.Context, tx *postgres.Tx, in *incident.Incident, bankRef string) (*payment.Request, error) {
	a, err := postgres.GetAttempt(ctx, tx, in.ObjectID(), false)
	if err != nil {
		return nil, err
	}
	if err := in.CheckBank("debit "+a.ID, a.BankCode); err != nil {
		return nil, err
	}
	o := payment.BankOutcome{Succeeded: true, Amount: a.Amount, Currency: a.Currency, BankReference: bankRef}
	res, err := s.ApplyDebitOutcome(ctx, tx, a.BankCode, a.ID, o)
	if err != nil {
		return nil, fmt.Errorf("apply debit %s as succeeded: %w", a.ID, err)
	}
	if res != ResultApplied {
		return nil, fault.New(fault.InvalidState, "debit %s is already applied as succeeded: nothing to apply (resolve with a note)", a.ID)
	}
	// Read under the lock ApplyDebitOutcome holds: as it stands after the change.
	return postgres.LockPaymentRequestUnscoped(ctx, tx, a.RequestID)
}

// refundFor refunds everything still refundable of the request the
// incident names, through the portal's refund path (which queues the send
// to the bank that was paid). The incident's bank must be that bank. A
// debit other than the one that paid the request is refused: a refund can
// only return the request's own payment. A refund the gateway took as
// failed is refused too: the bank may have paid it after all, and a new
// refund could return the fee twice.
func (s *Service) refundFor(ctx context.Context, tx *postgres.Tx, in *incident.Incident) (*payment.Refund, *payment.Request, error) {
	reqID, attemptID := in.ObjectID(), ""
	var named *payment.Refund
	switch obj := in.ObjectID(); {
	case id.HasPrefix(obj, id.PaymentAttempt):
		a, err := postgres.GetAttempt(ctx, tx, obj, false)
		if err != nil {
			return nil, nil, err
		}
		if err := in.CheckBank("debit "+a.ID, a.BankCode); err != nil {
			return nil, nil, err
		}
		reqID, attemptID = a.RequestID, a.ID
	case id.HasPrefix(obj, id.Refund):
		rf, err := postgres.GetRefund(ctx, tx, obj, false)
		if err != nil {
			return nil, nil, err
		}
		if err := in.CheckBank("refund "+rf.ID, rf.BankCode); err != nil {
			return nil, nil, err
		}
		reqID, named = rf.RequestID, rf
	}
	// The request's lock first, as every payment change takes it; CreateRefund
	// takes it again in this transaction.
	req, err := postgres.LockPaymentRequestUnscoped(ctx, tx, reqID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.CanRefundRest(); err != nil {
		return nil, nil, err
	}
	if err := in.CheckBank("request "+req.ID, req.Payment.BankCode); err != nil {
		return nil, nil, err
	}
	if attemptID != "" && req.Payment.AttemptID != attemptID {
		return nil, nil, fault.New(fault.InvalidState, "request %s was paid by debit %s, not by %s; a refund returns the request's own payment "+
			"(return that debit's money at the bank, then resolve with a note)", req.ID, req.Payment.AttemptID, attemptID)
	}
	if named != nil && named.Status == payment.OutcomeFailed {
		return nil, nil, fault.New(fault.InvalidState, "refund %s is failed, but its bank may have paid it: a new refund could return the fee twice "+
			"(settle it with the bank, then resolve with a note)", named.ID)
	}
	reserved, err := postgres.ReservedRefunds(ctx, tx, req.ID)
	if err != nil {
		return nil, nil, err
	}
	amount, err := req.RefundRest(reserved)
	if err != nil {
		return nil, nil, err
	}
	rf, err := s.CreateRefund(ctx, tx, req.PortalID, req.ID, amount, incident.RefundReason)
	if err != nil {
		return nil, nil, fmt.Errorf("refund %s: %w", req.ID, err)
	}
	return rf, req, nil
}
