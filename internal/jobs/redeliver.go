package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

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
// attempts, in a new generation that JobID delivers. A job of the previous
// generation still waiting for its next attempt will do nothing.
type Queued struct {
	EventID    string
	Generation int
	JobID      int64
}

// Redeliver puts one event, whatever its delivery state, back to pending
// with a fresh retry schedule and queues its delivery now, in one
// transaction. It returns a not_found fault for an unknown event.
func Redeliver(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], eventID string) (Redelivery, error) {
	var r Redelivery
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		portalID, gen, err := postgres.ResetDelivery(ctx, tx, eventID)
		if err != nil {
			return err
		}
		if r.PortalID, r.WebhookDisabled, err = postgres.PortalWebhookState(ctx, tx, portalID); err != nil {
			return err
		}
		q, err := queue(ctx, client, tx, postgres.Requeued{EventID: eventID, Generation: gen})
		r.Events = []Queued{q}
		return err
	})
	return r, err
}

// RedeliverAll puts every event of the portal (by id or key id) in delivery
// state status back to pending with a fresh retry schedule and queues them,
// in one transaction. It returns a not_found fault for an unknown portal.
func RedeliverAll(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], portalRef, status string) (Redelivery, error) {
	var r Redelivery
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		if r.PortalID, r.WebhookDisabled, err = postgres.PortalWebhookState(ctx, tx, portalRef); err != nil {
			return err
		}
		r.Events, err = redeliverAll(ctx, client, tx, r.PortalID, status)
		return err
	})
	return r, err
}

// EnableWebhook re-enables the portal's endpoint after a 410 and queues
// every event held meanwhile (they stayed pending) with a fresh retry
// schedule, in one transaction. wasDisabled reports whether the endpoint was
// disabled. It returns a not_found fault for an unknown portal.
func EnableWebhook(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], portalRef string) (r Redelivery, wasDisabled bool, err error) {
	err = postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if r.PortalID, wasDisabled, err = postgres.PortalWebhookState(ctx, tx, portalRef); err != nil {
			return err
		}
		if _, err = postgres.EnableWebhook(ctx, tx, r.PortalID); err != nil {
			return err
		}
		r.Events, err = redeliverAll(ctx, client, tx, r.PortalID, postgres.DeliveryPending)
		return err
	})
	return r, wasDisabled, err
}

func redeliverAll(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, portalID, status string) ([]Queued, error) {
	reset, err := postgres.ResetDeliveries(ctx, tx, portalID, status)
	if err != nil {
		return nil, err
	}
	out := make([]Queued, 0, len(reset))
	for _, e := range reset {
		q, err := queue(ctx, client, tx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

func queue(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, e postgres.Requeued) (Queued, error) {
	res, err := client.InsertTx(ctx, tx, DeliverWebhookArgs{EventID: e.EventID, Generation: e.Generation}, nil)
	if err != nil {
		return Queued{}, fmt.Errorf("queue delivery of %s: %w", e.EventID, err)
	}
	return Queued{EventID: e.EventID, Generation: e.Generation, JobID: res.Job.ID}, nil
}
