package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/fault"
)

// maxProblemRunes bounds a failed attempt's recorded reason (the column
// takes 500).
const maxProblemRunes = 300

// Due is an event claimed for a delivery attempt.
type Due struct {
	EventID  string
	PortalID string
	Payload  []byte // byte for byte as sent
	Attempts int    // failed attempts so far in this generation
	// Generation grows by one at each redelivery. An attempt is recorded
	// only in the generation it was made in, so an attempt in flight when the
	// event is redelivered never touches the new series.
	Generation int
}

// Delivery restores the claimed event's delivery: pending, due, in its
// generation.
func (e Due) Delivery() (delivery.Delivery, error) {
	return delivery.Restore(e.EventID, e.Generation, delivery.StatusPending, e.Attempts, false)
}

// Claim says which due events to claim.
type Claim struct {
	Limit     int           // events at most
	PerPortal int           // events of one portal at most (0: no bound)
	Skip      []string      // portals not to claim for (their deliveries are busy enough)
	Lease     time.Duration // how long the claimed events are the claimer's
}

// ClaimDue claims events due for a delivery attempt, oldest due first, for
// c.Lease: their next attempt moves that far ahead, so that another
// dispatcher does not take them meanwhile, and a dispatcher that dies leaves
// them due again when the lease ends. Events claimed by a concurrent
// dispatcher are skipped, never waited for; so are the portals in c.Skip,
// and a portal's events past c.PerPortal, which stay due.
func ClaimDue(ctx context.Context, q Querier, c Claim) ([]Due, error) {
	perPortal := c.PerPortal
	if perPortal <= 0 {
		perPortal = c.Limit
	}
	skip := c.Skip
	if skip == nil {
		skip = []string{}
	}
	rows, err := q.conn().Query(ctx, `WITH due AS (
			SELECT id, portal_id, next_attempt_at FROM events
			WHERE next_attempt_at <= now() AND portal_id <> ALL($3)
			ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
		fair AS (SELECT id, row_number() OVER (PARTITION BY portal_id ORDER BY next_attempt_at, id) AS n FROM due)
		UPDATE events e SET next_attempt_at = now() + $2 * interval '1 microsecond'
		FROM fair WHERE e.id = fair.id AND fair.n <= $4
		RETURNING e.id, e.portal_id, e.payload, e.delivery_attempts, e.delivery_generation`,
		c.Limit, c.Lease.Microseconds(), skip, perPortal)
	if err != nil {
		return nil, fmt.Errorf("claim due events: %w", err)
	}
	defer rows.Close()
	var out []Due
	for rows.Next() {
		var d Due
		if err := rows.Scan(&d.EventID, &d.PortalID, &d.Payload, &d.Attempts, &d.Generation); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Attempt is the outcome of one delivery attempt, to be recorded.
type Attempt struct {
	EventID    string
	Generation int // the generation the attempt was made in
	Outcome    delivery.Outcome
}

// RecordAttempts records delivery attempts in one statement: each event takes
// its outcome's state (delivered, failed, or pending: due again at the
// outcome's next attempt, or held when there is none). An attempt counts only
// if its event is still pending in the attempt's generation: a redelivery
// meanwhile started a new series, which the stale outcome must not touch. The
// outcome is the domain's decision; the guard is a safety net. It returns how
// many were recorded.
func RecordAttempts(ctx context.Context, q Querier, as []Attempt) (int64, error) {
	if len(as) == 0 {
		return 0, nil
	}
	ids := make([]string, len(as))
	gens := make([]int32, len(as))
	ats := make([]time.Time, len(as))
	statuses := make([]string, len(as))
	problems := make([]*string, len(as))
	nexts := make([]*time.Time, len(as))
	for i, a := range as {
		ids[i], gens[i] = a.EventID, int32(a.Generation)
		ats[i], statuses[i], problems[i], nexts[i] = toDBOutcome(a.Outcome)
	}
	tag, err := q.conn().Exec(ctx, `UPDATE events e SET delivery_status = a.status,
			delivered_at = CASE WHEN a.status = 'delivered' THEN a.at END,
			delivery_attempts = e.delivery_attempts + 1, last_attempt_at = a.at, last_error = a.problem,
			next_attempt_at = CASE WHEN a.status = 'pending' THEN a.next_at END
		FROM (SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::timestamptz[])
		      AS t(id, gen, at, status, problem, next_at) ORDER BY id) a
		WHERE e.id = a.id AND e.delivery_generation = a.gen AND e.delivery_status = 'pending'`,
		ids, gens, ats, statuses, problems, nexts)
	if err != nil {
		return 0, fmt.Errorf("record delivery attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}

// toDBOutcome returns the columns an outcome sets: when the attempt was made,
// the event's delivery state, the problem (bounded to maxProblemRunes; nil
// when there is none) and the next attempt (nil when none is due).
func toDBOutcome(o delivery.Outcome) (at time.Time, status string, problem *string, next *time.Time) {
	if p := o.Problem(); p != "" {
		if r := []rune(p); len(r) > maxProblemRunes {
			p = string(r[:maxProblemRunes]) + "…"
		}
		problem = &p
	}
	if n, ok := o.Next(); ok {
		next = &n
	}
	return o.At(), string(o.Status()), problem, next
}

// Hold leaves the event pending with no attempt due, if it is still pending
// in generation gen: its portal's endpoint is disabled, and enabling it puts
// the event back in line.
func Hold(ctx context.Context, q Querier, eventID string, gen int) error {
	if _, err := q.conn().Exec(ctx, `UPDATE events SET next_attempt_at = NULL
		WHERE id = $1 AND delivery_generation = $2 AND delivery_status = 'pending'`, eventID, gen); err != nil {
		return fmt.Errorf("hold event %s: %w", eventID, err)
	}
	return nil
}

// LockDelivery reads and locks one event's delivery, with its portal, for
// a change the domain decides. It returns a not_found fault for an unknown
// event.
func LockDelivery(ctx context.Context, tx *Tx, eventID string) (d delivery.Delivery, portalID string, err error) {
	var gen, attempts int
	var status string
	var held bool
	err = tx.conn().QueryRow(ctx, `SELECT portal_id, delivery_generation, delivery_status, delivery_attempts,
			delivery_status = 'pending' AND next_attempt_at IS NULL
		FROM events WHERE id = $1 FOR UPDATE`, eventID).Scan(&portalID, &gen, &status, &attempts, &held)
	if err = interpretError(err, ""); err == errNoRows {
		return delivery.Delivery{}, "", fault.New(fault.NotFound, "no event %s", eventID)
	}
	if err != nil {
		return delivery.Delivery{}, "", fmt.Errorf("lock delivery of %s: %w", eventID, err)
	}
	d, err = delivery.Restore(eventID, gen, delivery.Status(status), attempts, held)
	return d, portalID, err
}

// LockDeliveries reads and locks the deliveries of the portal's events in
// state status, oldest first.
func LockDeliveries(ctx context.Context, tx *Tx, portalID string, status delivery.Status) ([]delivery.Delivery, error) {
	rows, err := tx.conn().Query(ctx, `SELECT id, delivery_generation, delivery_status, delivery_attempts,
			delivery_status = 'pending' AND next_attempt_at IS NULL
		FROM events WHERE portal_id = $1 AND delivery_status = $2 ORDER BY created_at, id FOR UPDATE`, portalID, string(status))
	if err != nil {
		return nil, fmt.Errorf("lock %s deliveries of %s: %w", status, portalID, err)
	}
	defer rows.Close()
	out := []delivery.Delivery{}
	for rows.Next() {
		var id, st string
		var gen, attempts int
		var held bool
		if err := rows.Scan(&id, &gen, &st, &attempts, &held); err != nil {
			return nil, err
		}
		d, err := delivery.Restore(id, gen, delivery.Status(st), attempts, held)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// SaveRedeliveries writes deliveries that were put back in line
// (delivery.Delivery.Redeliver): each is pending in its new generation
// with no attempts, due now, and the retry horizon starts again
// (delivery_requeued_at).
func SaveRedeliveries(ctx context.Context, tx *Tx, ds []delivery.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids, gens := make([]string, len(ds)), make([]int32, len(ds))
	for i, d := range ds {
		if d.Status() != delivery.StatusPending || d.Attempts() != 0 || d.Held() {
			return fault.New(fault.Internal, "delivery %s is not a redelivery", d)
		}
		ids[i], gens[i] = d.EventID(), int32(d.Generation())
	}
	_, err := tx.conn().Exec(ctx, `UPDATE events e SET delivery_status = 'pending', delivery_attempts = 0, delivered_at = NULL,
			delivery_generation = v.gen, delivery_requeued_at = now(), next_attempt_at = now()
		FROM unnest($1::text[], $2::int[]) AS v(id, gen) WHERE e.id = v.id`, ids, gens)
	if err != nil {
		return fmt.Errorf("save redeliveries: %w", err)
	}
	return nil
}

// PortalWebhookState returns the id of the portal with id or key id ref and
// whether its webhook endpoint is disabled, or a not_found fault. It reads
// no secret.
func PortalWebhookState(ctx context.Context, q Querier, ref string) (portalID string, disabled bool, err error) {
	err = q.conn().QueryRow(ctx, `SELECT id, webhook_disabled_at IS NOT NULL FROM portals WHERE id = $1 OR key_id = $1`, ref).
		Scan(&portalID, &disabled)
	err = interpretError(err, "")
	if err == errNoRows {
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
	tag, err := q.conn().Exec(ctx, `UPDATE portals SET webhook_disabled_at = $2, updated_at = $2
		WHERE id = $1 AND webhook_disabled_at IS NULL`, portalID, at)
	if err != nil {
		return false, fmt.Errorf("disable webhook of %s: %w", portalID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// EnableWebhook lets deliveries to the portal's endpoint resume. It reports
// whether the endpoint was disabled.
func EnableWebhook(ctx context.Context, q Querier, portalID string) (bool, error) {
	tag, err := q.conn().Exec(ctx, `UPDATE portals SET webhook_disabled_at = NULL, updated_at = now()
		WHERE id = $1 AND webhook_disabled_at IS NOT NULL`, portalID)
	if err != nil {
		return false, fmt.Errorf("enable webhook of %s: %w", portalID, err)
	}
	return tag.RowsAffected() == 1, nil
}
