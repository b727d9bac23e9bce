package service

import (
	"context"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// CheckoutRequest returns the request the hosted checkout shows at
// /pay/{id}, with the blind index of the pid it is addressed to, so that the
// page can tell the addressed citizen from anyone else (PROTOCOL.md §10).
// An id that is not a request's is not_found.
func (s *Service) CheckoutRequest(ctx context.Context, reqID string) (*payment.Request, []byte, error) {
	if !id.HasPrefix(reqID, id.PaymentRequest) {
		return nil, nil, fault.New(fault.NotFound, "no payment request %s", reqID)
	}
	return postgres.GetCheckoutRequest(ctx, s.DB, reqID)
}

// LatestAttempt returns the newest attempt at paying reqID, or nil: the
// checkout shows a failed debit's reason, and an outcome still unknown.
func (s *Service) LatestAttempt(ctx context.Context, reqID string) (*payment.Attempt, error) {
	return postgres.LatestAttempt(ctx, s.DB, reqID)
}
