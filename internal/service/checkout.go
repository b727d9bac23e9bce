package service

import (
	"context"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// checkReturnURL refuses a return URL that is not on one of the portal's
// return origins, read in tx (PROTOCOL.md §10): 422 invalid_return_url,
// naming the field. A portal with no origins registered may name none.
func (s *Service) checkReturnURL(ctx context.Context, tx *postgres.Tx, portalID, returnURL string) error {
	if returnURL == "" {
		return nil
	}
	origins, err := postgres.ReturnOrigins(ctx, tx, portalID)
	if err != nil {
		return err
	}
	if payment.CheckReturnURL(returnURL, origins, s.Development) == nil {
		return nil
	}
	msg := "return_url must be an https:// URL on one of the portal's return origins"
	if s.Development {
		msg = "return_url must be an http:// or https:// URL on one of the portal's return origins"
	}
	if len(origins) == 0 {
		msg = "return_url needs a return origin registered for this portal (gatewayctl portal set-return-origins)"
	}
	return fault.Field(fault.InvalidReturnURL, "return_url", msg)
}
