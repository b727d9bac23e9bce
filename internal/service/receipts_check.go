package service

import (
	"context"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
)

// ReceiptCheck is what the public verify page shows: the receipt, whether
// its JWS verifies with the published keys, and the refunds since.
type ReceiptCheck struct {
	Receipt   receipt.Receipt
	Authentic bool
	Refunds   []postgres.SucceededRefund
}

// CheckReceipt answers the verify page of receipt rcID given code: a wrong
// code is not_found, exactly like an unknown id, so the page cannot tell
// anyone which receipt ids exist.
func (s *Service) CheckReceipt(ctx context.Context, rcID, code string) (*ReceiptCheck, error) {
	if code == "" || !s.CheckReceiptCode(rcID, code) {
		return nil, fault.New(fault.NotFound, "no receipt %s with that code", rcID)
	}
	rc, jws, err := s.ReceiptByID(ctx, rcID)
	if err != nil {
		return nil, err
	}
	jwks, err := s.ReceiptJWKS(ctx)
	if err != nil {
		return nil, err
	}
	signed, _, verr := receipt.Verify(jws, jwks)
	out := &ReceiptCheck{Receipt: rc, Authentic: verr == nil && signed.ID == rc.ID}
	if out.Refunds, err = postgres.SucceededRefunds(ctx, s.DB, rc.PaymentRequestID); err != nil {
		return nil, err
	}
	return out, nil
}
