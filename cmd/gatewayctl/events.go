package main

import (
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/jobs"
	"github.com/citizenpay/gateway/internal/postgres"
)

// events runs `gatewayctl events redeliver`.
func (e env) events(args []string) error {
	if len(args) == 0 || args[0] != "redeliver" {
		return errUsage
	}
	fs := newFlags("events redeliver")
	event := fs.String("event", "", "event id (evt_…)")
	portalRef := fs.String("portal", "", "portal id or key id")
	failed := fs.Bool("failed", false, "with --portal: every failed event of the portal")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	byEvent := *event != "" && *portalRef == "" && !*failed
	byPortal := *event == "" && *portalRef != "" && *failed
	if !byEvent && !byPortal {
		return fmt.Errorf("give --event ID, or --portal ID --failed")
	}
	pool, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer pool.Close()
	client, err := insertClient(pool)
	if err != nil {
		return err
	}
	var r jobs.Redelivery
	if byEvent {
		r, err = jobs.Redeliver(e.ctx, pool, client, *event)
	} else {
		r, err = jobs.RedeliverAll(e.ctx, pool, client, *portalRef, postgres.DeliveryFailed)
	}
	if err != nil {
		return err
	}
	e.warnDisabled(r)
	return e.printJSON(redeliveryJSON(r, nil))
}

// enableWebhook runs `gatewayctl portal enable-webhook`: the endpoint is
// enabled again and the events held while it was disabled are queued.
func (e env) enableWebhook(pool *pgxpool.Pool, portalRef string) error {
	client, err := insertClient(pool)
	if err != nil {
		return err
	}
	r, wasDisabled, err := jobs.EnableWebhook(e.ctx, pool, client, portalRef)
	if err != nil {
		return err
	}
	return e.printJSON(redeliveryJSON(r, map[string]any{"webhook_enabled": true, "was_disabled": wasDisabled}))
}

// insertClient returns a River client that only inserts jobs.
func insertClient(pool *pgxpool.Pool) (*river.Client[pgx.Tx], error) {
	c, err := jobs.NewClient(jobs.Config{Pool: pool, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return c, nil
}

func (e env) warnDisabled(r jobs.Redelivery) {
	if r.WebhookDisabled && len(r.Events) > 0 {
		fmt.Fprintf(e.stderr, "gatewayctl: the webhook endpoint of %s is disabled: the events stay pending until "+
			"`gatewayctl portal enable-webhook --portal %s`\n", r.PortalID, r.PortalID)
	}
}

func redeliveryJSON(r jobs.Redelivery, extra map[string]any) map[string]any {
	events := make([]map[string]any, 0, len(r.Events))
	for _, q := range r.Events {
		events = append(events, map[string]any{"event_id": q.EventID, "delivery_status": postgres.DeliveryPending,
			"generation": q.Generation, "job_id": q.JobID})
	}
	out := map[string]any{"portal_id": r.PortalID, "webhook_disabled": r.WebhookDisabled, "count": len(events), "events": events}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
