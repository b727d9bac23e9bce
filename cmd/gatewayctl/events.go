package main

import (
	"fmt"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/webhook/dispatch"
)

// events runs `gatewayctl events list` (events_list.go) and `gatewayctl
// events redeliver`.
func (e env) events(args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return e.listEvents(args[1:])
	}
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
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	var r dispatch.Redelivery
	if byEvent {
		r, err = dispatch.Redeliver(e.ctx, db, *event)
	} else {
		r, err = dispatch.RedeliverAll(e.ctx, db, *portalRef, delivery.StatusFailed)
	}
	if err != nil {
		return err
	}
	e.warnDisabled(r)
	return e.printJSON(redeliveryJSON(r, nil))
}

// enableWebhook runs `gatewayctl portal enable-webhook`: the endpoint is
// enabled again and the events held while it was disabled are queued.
func (e env) enableWebhook(db *postgres.DB, portalRef string) error {
	r, wasDisabled, err := dispatch.EnableWebhook(e.ctx, db, portalRef)
	if err != nil {
		return err
	}
	return e.printJSON(redeliveryJSON(r, map[string]any{"webhook_enabled": true, "was_disabled": wasDisabled}))
}

func (e env) warnDisabled(r dispatch.Redelivery) {
	if r.WebhookDisabled && len(r.Events) > 0 {
		fmt.Fprintf(e.stderr, "gatewayctl: the webhook endpoint of %s is disabled: the events stay pending until "+
			"`gatewayctl portal enable-webhook --portal %s`\n", r.PortalID, r.PortalID)
	}
}

func redeliveryJSON(r dispatch.Redelivery, extra map[string]any) map[string]any {
	events := make([]map[string]any, 0, len(r.Events))
	for _, q := range r.Events {
		events = append(events, map[string]any{"event_id": q.EventID, "delivery_status": delivery.StatusPending,
			"generation": q.Generation})
	}
	out := map[string]any{"portal_id": r.PortalID, "webhook_disabled": r.WebhookDisabled, "count": len(events), "events": events}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
