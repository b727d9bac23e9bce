package dispatch

import (
	"context"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Redelivery is what an operator's redelivery did.
type Redelivery struct {
	PortalID string
	// WebhookDisabled: the portal's endpoint is disabled, so the events stay
	// pending until it is enabled.
	WebhookDisabled bool
	Events          []Queued
}

// Queued is one event put back in line for delivery: pending, with no
// attempts, due now, in a new generation. An attempt of the previous
// generation still in flight is not recorded against it.
type Queued struct {
	EventID    string
	Generation int
}

// Redeliver puts one event, whatever its delivery state, back to pending
// with a fresh retry schedule, due now, in one transaction. It returns a not_found fault for an unknown event.
func Redeliver(ctx context.Context, db *postgres.DB, eventID string) (Redelivery, error) {
	var r Redelivery
	err := db.InTx(ctx, func(tx *postgres.Tx) error {
		d, portalID, err := postgres.LockDelivery(ctx, tx, eventID)
		if err != nil {
			return err
		}
		if r.PortalID, r.WebhookDisabled, err = postgres.PortalWebhookState(ctx, tx, portalID); err != nil {
			return err
		}
		r.Events, err = redeliver(ctx, tx, []delivery.Delivery{d})
		return err
	})
	return r, err
}

// RedeliverAll puts every event of the portal (by id or key id) in delivery
// state status back to pending with a fresh retry schedule, due now, in one
// transaction. It returns a not_found fault for an unknown portal.
func RedeliverAll(ctx context.Context, db *postgres.DB, portalRef string, status delivery.Status) (Redelivery, error) {
	var r Redelivery
	err := db.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		if r.PortalID, r.WebhookDisabled, err = postgres.PortalWebhookState(ctx, tx, portalRef); err != nil {
			return err
		}
		r.Events, err = redeliverAll(ctx, tx, r.PortalID, status)
		return err
	})
	return r, err
}

// EnableWebhook re-enables the portal's endpoint after a 410 and queues
// every event held meanwhile (they stayed pending) with a fresh retry
// schedule, in one transaction. wasDisabled reports whether the endpoint was
// disabled. It returns a not_found fault for an unknown portal.
func EnableWebhook(ctx context.Context, db *postgres.DB, portalRef string) (r Redelivery, wasDisabled bool, err error) {
	err = db.InTx(ctx, func(tx *postgres.Tx) error {
		if r.PortalID, wasDisabled, err = postgres.PortalWebhookState(ctx, tx, portalRef); err != nil {
			return err
		}
		if _, err = postgres.EnableWebhook(ctx, tx, r.PortalID); err != nil {
			return err
		}
		r.Events, err = redeliverAll(ctx, tx, r.PortalID, delivery.StatusPending)
		return err
	})
	return r, wasDisabled, err
}

func redeliverAll(ctx context.Context, tx *postgres.Tx, portalID string, status delivery.Status) ([]Queued, error) {
	ds, err := postgres.LockDeliveries(ctx, tx, portalID, status)
	if err != nil {
		return nil, err
	}
	return redeliver(ctx, tx, ds)
}

// redeliver starts a new series of attempts for each of ds (the domain's
// Redeliver) and saves them.
func redeliver(ctx context.Context, tx *postgres.Tx, ds []delivery.Delivery) ([]Queued, error) {
	out := make([]Queued, 0, len(ds))
	for i := range ds {
		ds[i].Redeliver()
		out = append(out, Queued{EventID: ds[i].EventID(), Generation: ds[i].Generation()})
	}
	return out, postgres.SaveRedeliveries(ctx, tx, ds)
}
