package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// Delivery states of an event (PROTOCOL.md §8).
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is an event with the state of its delivery to the portal.
type Delivery struct {
	EventID  string
	PortalID string
	Type     string
	Payload  []byte // byte for byte as sent
	Status   string
	// Attempts counts the attempts since the event was last queued, so that
	// a redelivery starts the retry schedule afresh.
	Attempts int
	// Generation grows by one at each redelivery. A delivery job carries the
	// generation it was queued for; one of an older generation does nothing,
	// so a redelivery never races the job it replaces.
	Generation    int
	LastAttemptAt *time.Time
	LastError     string
	DeliveredAt   *time.Time
}

// maxProblemRunes bounds a failed attempt's recorded reason (the column
// takes 500).
const maxProblemRunes = 300

// DeliveryByEventID returns the event id with its delivery state, or a
// not_found fault.
func DeliveryByEventID(ctx context.Context, q Querier, eventID string) (*Delivery, error) {
	var d Delivery
	err := q.QueryRow(ctx, `SELECT id, portal_id, type, payload, delivery_status, delivery_attempts, delivery_generation,
		last_attempt_at, coalesce(last_error, ''), delivered_at FROM events WHERE id = $1`, eventID).Scan(
		&d.EventID, &d.PortalID, &d.Type, &d.Payload, &d.Status, &d.Attempts, &d.Generation,
		&d.LastAttemptAt, &d.LastError, &d.DeliveredAt)
	if IsNoRows(err) {
		return nil, fault.New(fault.NotFound, "no event %s", eventID)
	}
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", eventID, err)
	}
	return &d, nil
}

// MarkDelivered records the attempt at that the portal took, if the event is
// still pending in generation gen. It reports whether it did: an event is
// marked delivered once.
func MarkDelivered(ctx context.Context, q Querier, eventID string, gen int, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE events SET delivery_status = 'delivered', delivered_at = $3,
		delivery_attempts = delivery_attempts + 1, last_attempt_at = $3, last_error = NULL
		WHERE id = $1 AND delivery_generation = $2 AND delivery_status = 'pending'`, eventID, gen, at)
	if err != nil {
		return false, fmt.Errorf("mark event %s delivered: %w", eventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// FailedAttempt is what RecordFailedAttempt did.
type FailedAttempt struct {
	Recorded bool // false: the event was no longer pending in that generation
	Attempts int  // the event's attempts, this one included
	Failed   bool // that was the last attempt: the event is marked failed
}

// RecordFailedAttempt records a failed attempt at that of the event, if it
// is still pending in generation gen, with problem (a short text, never a
// whole answer). The attempt that reaches maxAttempts marks the event failed.
func RecordFailedAttempt(ctx context.Context, q Querier, eventID string, gen int, at time.Time, problem string, maxAttempts int) (FailedAttempt, error) {
	if r := []rune(problem); len(r) > maxProblemRunes {
		problem = string(r[:maxProblemRunes]) + "…"
	}
	var f FailedAttempt
	var status string
	err := q.QueryRow(ctx, `UPDATE events SET delivery_attempts = delivery_attempts + 1, last_attempt_at = $3,
		last_error = $4, delivery_status = CASE WHEN delivery_attempts + 1 >= $5 THEN 'failed' ELSE 'pending' END
		WHERE id = $1 AND delivery_generation = $2 AND delivery_status = 'pending'
		RETURNING delivery_attempts, delivery_status`, eventID, gen, at, problem, maxAttempts).Scan(&f.Attempts, &status)
	if IsNoRows(err) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("record delivery attempt of %s: %w", eventID, err)
	}
	f.Recorded, f.Failed = true, status == DeliveryFailed
	return f, nil
}

// Requeued is an event put back to pending for a new delivery.
type Requeued struct {
	EventID    string
	Generation int
}

// ResetDelivery puts one event back to pending in a new generation with no
// attempts, whatever its state, for a redelivery, and records when
// (delivery_requeued_at: the retry horizon starts again). It returns the event's
// portal and new generation, or a not_found fault.
func ResetDelivery(ctx context.Context, q Querier, eventID string) (portalID string, gen int, err error) {
	err = q.QueryRow(ctx, `UPDATE events SET delivery_status = 'pending', delivery_attempts = 0, delivered_at = NULL,
		delivery_generation = delivery_generation + 1, delivery_requeued_at = now()
		WHERE id = $1 RETURNING portal_id, delivery_generation`, eventID).Scan(&portalID, &gen)
	if IsNoRows(err) {
		return "", 0, fault.New(fault.NotFound, "no event %s", eventID)
	}
	if err != nil {
		return "", 0, fmt.Errorf("reset delivery of %s: %w", eventID, err)
	}
	return portalID, gen, nil
}

// ResetDeliveries puts every event of the portal in delivery state status
// back to pending in a new generation with no attempts, and returns them,
// oldest first.
func ResetDeliveries(ctx context.Context, q Querier, portalID, status string) ([]Requeued, error) {
	rows, err := q.Query(ctx, `WITH reset AS (
			UPDATE events SET delivery_status = 'pending', delivery_attempts = 0, delivered_at = NULL,
				delivery_generation = delivery_generation + 1, delivery_requeued_at = now()
			WHERE portal_id = $1 AND delivery_status = $2 RETURNING id, delivery_generation, created_at)
		SELECT id, delivery_generation FROM reset ORDER BY created_at, id`, portalID, status)
	if err != nil {
		return nil, fmt.Errorf("reset %s deliveries of %s: %w", status, portalID, err)
	}
	defer rows.Close()
	out := []Requeued{}
	for rows.Next() {
		var r Requeued
		if err := rows.Scan(&r.EventID, &r.Generation); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PortalWebhookState returns the id of the portal with id or key id ref and
// whether its webhook endpoint is disabled, or a not_found fault. It reads
// no secret.
func PortalWebhookState(ctx context.Context, q Querier, ref string) (portalID string, disabled bool, err error) {
	err = q.QueryRow(ctx, `SELECT id, webhook_disabled_at IS NOT NULL FROM portals WHERE id = $1 OR key_id = $1`, ref).
		Scan(&portalID, &disabled)
	if IsNoRows(err) {
		return "", false, fault.New(fault.NotFound, "no portal %s", ref)
	}
	if err != nil {
		return "", false, fmt.Errorf("find portal %s: %w", ref, err)
	}
	return portalID, disabled, nil
}

// DisableWebhook stops deliveries to the portal's endpoint from at (after a
// 410 Gone). It reports whether the endpoint was enabled until then.
func DisableWebhook(ctx context.Context, q Querier, portalID string, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE portals SET webhook_disabled_at = $2, updated_at = $2
		WHERE id = $1 AND webhook_disabled_at IS NULL`, portalID, at)
	if err != nil {
		return false, fmt.Errorf("disable webhook of %s: %w", portalID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// EnableWebhook lets deliveries to the portal's endpoint resume. It reports
// whether the endpoint was disabled.
func EnableWebhook(ctx context.Context, q Querier, portalID string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE portals SET webhook_disabled_at = NULL, updated_at = now()
		WHERE id = $1 AND webhook_disabled_at IS NOT NULL`, portalID)
	if err != nil {
		return false, fmt.Errorf("enable webhook of %s: %w", portalID, err)
	}
	return tag.RowsAffected() == 1, nil
}
