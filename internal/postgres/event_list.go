package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/delivery"
)

// EventSummary is what an operator lists of an event: its delivery, not
// its payload.
type EventSummary struct {
	ID            string
	Type          string
	CreatedAt     time.Time
	Status        delivery.Status
	Attempts      int
	LastAttemptAt *time.Time
	LastError     *string
	// Held: pending with no attempt due, until the portal's endpoint or
	// the portal is enabled again.
	Held bool
}

// ListEventDeliveries returns up to limit of the portal's events, newest first;
// only those in status unless it is empty.
func ListEventDeliveries(ctx context.Context, q Querier, portalID string, status delivery.Status, limit int) ([]EventSummary, error) {
	rows, err := q.conn().Query(ctx, `SELECT id, type, created_at, delivery_status, delivery_attempts, last_attempt_at, last_error,
			delivery_status = 'pending' AND next_attempt_at IS NULL
		FROM events WHERE portal_id = $1 AND ($2 = '' OR delivery_status = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, portalID, string(status), limit)
	if err != nil {
		return nil, fmt.Errorf("list events of %s: %w", portalID, err)
	}
	defer rows.Close()
	out := []EventSummary{}
	for rows.Next() {
		var e EventSummary
		var st string
		if err := rows.Scan(&e.ID, &e.Type, &e.CreatedAt, &st, &e.Attempts, &e.LastAttemptAt, &e.LastError, &e.Held); err != nil {
			return nil, fmt.Errorf("list events of %s: %w", portalID, err)
		}
		e.Status = delivery.Status(st)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events of %s: %w", portalID, err)
	}
	return out, nil
}
