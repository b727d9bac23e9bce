package main

import (
	"errors"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/postgres"
)

// listEvents runs `gatewayctl events list --portal ID [--status
// pending|delivered|failed] [--limit 100]`: the portal's events, newest
// first, with their delivery: status, attempts, last attempt and error,
// and whether a pending one is held (its endpoint or the portal disabled).
// It reads no payload and needs no master key.
func (e env) listEvents(args []string) error {
	fs := newFlags("events list")
	portalRef := fs.String("portal", "", "portal id or key id")
	status := fs.String("status", "", "pending, delivered or failed")
	limit := fs.Int("limit", 100, "at most this many, newest first (1-1000)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if *portalRef == "" {
		return errors.New("--portal is required")
	}
	if *status != "" && !delivery.Status(*status).Valid() {
		return errors.New("--status: pending, delivered or failed")
	}
	if *limit < 1 || *limit > 1000 {
		return errors.New("--limit: between 1 and 1000")
	}
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := postgres.PortalByRef(e.ctx, db, *portalRef)
	if err != nil {
		return err
	}
	list, err := postgres.ListEventDeliveries(e.ctx, db, p.ID, delivery.Status(*status), *limit)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, ev := range list {
		row := map[string]any{"event_id": ev.ID, "type": ev.Type, "created_at": ev.CreatedAt.UTC(),
			"delivery_status": ev.Status, "attempts": ev.Attempts, "last_error": ev.LastError, "held": ev.Held}
		if ev.LastAttemptAt != nil {
			row["last_attempt_at"] = ev.LastAttemptAt.UTC()
		} else {
			row["last_attempt_at"] = nil
		}
		out = append(out, row)
	}
	return e.printJSON(out)
}
