package dispatch

import (
	"context"
	"time"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/postgres"
)

// PortalState is what disabling or enabling a portal did.
type PortalState struct {
	PortalID string
	// Changed is false when the portal already was so.
	Changed bool
	// Events are the held events queued again by an enable (none while
	// the portal's webhook endpoint stays disabled after a 410).
	Events []Queued
}

// DisablePortal disables the portal with id or key id ref from at: its
// signed requests are refused and its webhooks held until EnablePortal.
func DisablePortal(ctx context.Context, db *postgres.DB, ref string, at time.Time) (PortalState, error) {
	var s PortalState
	err := db.InTx(ctx, func(tx *postgres.Tx) error {
		p, changed, err := postgres.SetPortalDisabled(ctx, tx, ref, &at)
		s.PortalID, s.Changed = p.ID, changed
		return err
	})
	return s, err
}

// EnablePortal enables the portal with id or key id ref again and, if it
// was disabled and unless its webhook endpoint is disabled (portal enable-webhook does that), queues
// the events held meanwhile, as EnableWebhook does.
func EnablePortal(ctx context.Context, db *postgres.DB, ref string) (PortalState, error) {
	var s PortalState
	err := db.InTx(ctx, func(tx *postgres.Tx) error {
		p, changed, err := postgres.SetPortalDisabled(ctx, tx, ref, nil)
		if err != nil {
			return err
		}
		s.PortalID, s.Changed, s.Events = p.ID, changed, []Queued{}
		if !changed || p.WebhookDisabledAt != nil {
			return nil
		}
		s.Events, err = redeliverAll(ctx, tx, p.ID, delivery.StatusPending)
		return err
	})
	return s, err
}
