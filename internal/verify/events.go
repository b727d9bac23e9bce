package verify

import (
	"context"
	"time"
)

// Event types (PROTOCOL.md §8), as stored in events.type.
const (
	evCreated       = "payment_request.created"
	evPaid          = "payment_request.paid"
	evPaymentFailed = "payment_request.payment_failed"
	evExpired       = "payment_request.expired"
	evCanceled      = "payment_request.canceled"
	evRefunded      = "payment_request.refunded"
	evRefundSucc    = "refund.succeeded"
	evRefundFailed  = "refund.failed"
)

// eventsCTE reads from each event's snapshot which request and refund it
// is about, and the request's state it reports.
const eventsCTE = `WITH ev AS (
	SELECT e.id, e.type,
		coalesce(j #>> '{data,payment_request,id}', j #>> '{data,refund,payment_request_id}') AS request_id,
		j #>> '{data,payment_request,status}' AS snap_status,
		j #>> '{data,refund,id}' AS refund_id
	FROM events e CROSS JOIN LATERAL (SELECT e.payload::jsonb AS j) p
)`

// checkEvents: invariant 6, every change portals are told about has its
// event, once, and every event whose schedule has run out (RetryHorizon
// after it was written or last requeued for redelivery) has been delivered
// or given up.
func (c *checker) checkEvents(ctx context.Context) error {
	if err := c.checkRequestEvents(ctx); err != nil {
		return err
	}
	if err := c.checkRefundEvents(ctx); err != nil {
		return err
	}
	return c.checkDelivery(ctx)
}

func (c *checker) checkRequestEvents(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, eventsCTE+`
		SELECT r.id, r.status,
			count(*) FILTER (WHERE ev.type = $1),
			count(*) FILTER (WHERE ev.type = $2),
			count(*) FILTER (WHERE ev.type = $3),
			count(*) FILTER (WHERE ev.type = $4),
			count(*) FILTER (WHERE ev.type = $5),
			count(*) FILTER (WHERE ev.type = $5 AND ev.snap_status = 'expired'),
			count(*) FILTER (WHERE ev.type = $6),
			coalesce(max(fa.n), 0),
			(SELECT count(*) FROM refunds f WHERE f.payment_request_id = r.id AND f.status = 'succeeded')
		FROM payment_requests r LEFT JOIN ev ON ev.request_id = r.id
		-- Failed attempts counted in one pass: only live attempts are indexed by request.
		LEFT JOIN (SELECT payment_request_id, count(*) AS n FROM payment_attempts WHERE status = 'failed'
		           GROUP BY payment_request_id) fa ON fa.payment_request_id = r.id
		GROUP BY r.id ORDER BY r.id`,
		evCreated, evPaid, evCanceled, evExpired, evPaymentFailed, evRefunded)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var created, paid, canceled, expired, failed, failedExpired, refunded, failedAttempts, succeededRefunds int64
		if err := rows.Scan(&id, &status, &created, &paid, &canceled, &expired, &failed, &failedExpired, &refunded,
			&failedAttempts, &succeededRefunds); err != nil {
			return err
		}
		paidState := status == "paid" || status == "partially_refunded" || status == "refunded"
		c.once(id, evCreated, created, true)
		c.once(id, evPaid, paid, paidState)
		c.once(id, evCanceled, canceled, status == "canceled")
		// A debit that fails after expires_at moves processing → expired;
		// the portal may be told by .payment_failed with the expired
		// snapshot. A debit that succeeds after expiry still pays.
		toldExpired := expired + failedExpired
		switch {
		case status == "expired" && toldExpired == 0:
			c.violation(InvEvents, CheckEventMissing, id, "expired, but no %s event (nor %s with status expired)", evExpired, evPaymentFailed)
		case toldExpired > 1:
			c.violation(InvEvents, CheckEventDuplicated, id, "told %d times that it expired", toldExpired)
		case toldExpired > 0 && status != "expired" && !paidState:
			c.violation(InvEvents, CheckEventContradicts, id, "told it expired, but it is %s", status)
		}
		if failedAttempts > failed+expired {
			c.violation(InvEvents, CheckEventMissing, id, "%d failed attempts, but %d %s and %d %s events",
				failedAttempts, failed, evPaymentFailed, expired, evExpired)
		}
		switch {
		case refunded < succeededRefunds:
			c.violation(InvEvents, CheckEventMissing, id, "%d succeeded refunds, but %d %s events", succeededRefunds, refunded, evRefunded)
		case refunded > succeededRefunds:
			c.violation(InvEvents, CheckEventDuplicated, id, "%d %s events for %d succeeded refunds", refunded, evRefunded, succeededRefunds)
		}
	}
	return rows.Err()
}

// once checks that typ was written n == 1 times for request id when want,
// and never otherwise.
func (c *checker) once(id, typ string, n int64, want bool) {
	switch {
	case want && n == 0:
		c.violation(InvEvents, CheckEventMissing, id, "no %s event", typ)
	case n > 1:
		c.violation(InvEvents, CheckEventDuplicated, id, "%d %s events", n, typ)
	case !want && n > 0:
		c.violation(InvEvents, CheckEventContradicts, id, "a %s event, but the request is not in that state", typ)
	}
}

func (c *checker) checkRefundEvents(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, eventsCTE+`
		SELECT f.id, f.status,
			count(*) FILTER (WHERE ev.type = $1),
			count(*) FILTER (WHERE ev.type = $2)
		FROM refunds f LEFT JOIN ev ON ev.refund_id = f.id
		GROUP BY f.id ORDER BY f.id`, evRefundSucc, evRefundFailed)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var succeeded, failed int64
		if err := rows.Scan(&id, &status, &succeeded, &failed); err != nil {
			return err
		}
		c.once(id, evRefundSucc, succeeded, status == "succeeded")
		c.once(id, evRefundFailed, failed, status == "failed")
	}
	return rows.Err()
}

func (c *checker) checkDelivery(ctx context.Context) error {
	cutoff := c.opts.Now.Add(-c.opts.RetryHorizon)
	// A redelivery puts an event back in line: its schedule, and so the
	// horizon, starts again then. An event is held while its endpoint, or
	// its portal, is disabled.
	rows, err := c.tx.Query(ctx, `SELECT e.id, e.type, e.portal_id, coalesce(e.delivery_requeued_at, e.created_at), e.delivery_attempts,
			p.webhook_disabled_at IS NOT NULL OR p.disabled_at IS NOT NULL
		FROM events e JOIN portals p ON p.id = e.portal_id
		WHERE e.delivery_status = 'pending' AND coalesce(e.delivery_requeued_at, e.created_at) < $1
		ORDER BY 4, e.id`, cutoff)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, typ, portal string
		var created time.Time
		var attempts int
		var disabled bool
		if err := rows.Scan(&id, &typ, &portal, &created, &attempts, &disabled); err != nil {
			return err
		}
		age := c.opts.Now.Sub(created).Round(time.Minute)
		if disabled {
			c.warning(InvEvents, WarnEventHeld, id, "%s for %s pending for %s after %d attempts: the portal's webhook is disabled",
				typ, portal, age, attempts)
			continue
		}
		c.violation(InvEvents, CheckEventOverdue, id, "%s for %s pending for %s after %d attempts, past the %s retry horizon",
			typ, portal, age, attempts, c.opts.RetryHorizon)
	}
	return rows.Err()
}
