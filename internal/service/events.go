package service

import (
	"context"

	"github.com/citizenpay/gateway/internal/postgres"
)

// ListEvents returns up to limit of a portal's events after the cursor
// position, numbering any that committed since the last call first.
func (s *Service) ListEvents(ctx context.Context, portalID string, after int64, limit int) ([]postgres.StoredEvent, error) {
	if err := postgres.SequenceEvents(ctx, s.DB, portalID); err != nil {
		return nil, err
	}
	return postgres.ListEvents(ctx, s.DB, portalID, after, limit)
}
