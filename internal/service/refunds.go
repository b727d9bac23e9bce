package service

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// CreateRefund asks for amount of a portal's paid request back, checking the
// refundable amount under the request's lock so that concurrent refunds
// cannot together pass the paid amount.
func (s *Service) CreateRefund(ctx context.Context, tx *postgres.Tx, portalID, reqID string, amount decimal.Decimal, reason string) (*payment.Refund, error) {
	if !id.HasPrefix(reqID, id.PaymentRequest) {
		return nil, fault.New(fault.NotFound, "no payment request %s", reqID)
	}
	r, err := postgres.LockPaymentRequest(ctx, tx, payment.PortalScope(portalID), reqID)
	if err != nil {
		return nil, err
	}
	reserved, err := postgres.ReservedRefunds(ctx, tx, r.ID)
	if err != nil {
		return nil, err
	}
	if err := r.CheckRefund(amount, reserved); err != nil {
		return nil, err
	}
	now := s.now()
	rf := &payment.Refund{ID: id.New(id.Refund), RequestID: r.ID, AttemptID: r.Payment.AttemptID, BankCode: r.Payment.BankCode,
		Amount: amount, Currency: r.Currency, Reason: reason, Status: payment.OutcomePending, CreatedAt: now, UpdatedAt: now}
	if err := postgres.InsertRefund(ctx, tx, rf); err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, tx, jobargs.SendRefund{RefundID: rf.ID}); err != nil {
		return nil, err
	}
	return rf, nil
}

// GetRefund returns a portal's refund.
func (s *Service) GetRefund(ctx context.Context, portalID, refundID string) (*payment.Refund, error) {
	if !id.HasPrefix(refundID, id.Refund) {
		return nil, fault.New(fault.NotFound, "no refund %s", refundID)
	}
	rf, err := postgres.GetRefund(ctx, s.DB, refundID, false)
	if err != nil {
		return nil, err
	}
	if _, err := postgres.GetPaymentRequest(ctx, s.DB, payment.PortalScope(portalID), rf.RequestID); err != nil {
		return nil, fault.New(fault.NotFound, "no refund %s", refundID)
	}
	return rf, nil
}
