package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/reconcile"
)

// The gauges the gateway's metrics read at scrape time: one cheap query
// each, on the partial indexes of open incidents and undelivered events
// and on the reconciliations' (bank_code, business_date) key.

// OpenIncidentsByKind counts the open incidents of each kind; a kind with
// none is absent.
func OpenIncidentsByKind(ctx context.Context, q Querier) (map[string]int64, error) {
	rows, err := q.conn().Query(ctx, `SELECT kind, count(*) FROM incidents WHERE status = 'open' GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("count open incidents: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("count open incidents: %w", err)
		}
		out[kind] = n
	}
	return out, rows.Err()
}

// WebhookBacklog is one portal's events still to deliver.
type WebhookBacklog struct {
	PortalID string
	// Pending counts the events neither delivered nor failed, those held
	// for a disabled endpoint included.
	Pending int64
	// Oldest is when the oldest of them was created; zero when none is.
	Oldest time.Time
}

// WebhookBacklogs returns the backlog of every portal, an empty one too.
func WebhookBacklogs(ctx context.Context, q Querier) ([]WebhookBacklog, error) {
	rows, err := q.conn().Query(ctx, `SELECT p.id, count(e.id), min(e.created_at)
		FROM portals p LEFT JOIN events e ON e.portal_id = p.id AND e.delivery_status = 'pending'
		GROUP BY p.id ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("count undelivered events: %w", err)
	}
	defer rows.Close()
	var out []WebhookBacklog
	for rows.Next() {
		var b WebhookBacklog
		var oldest *time.Time
		if err := rows.Scan(&b.PortalID, &b.Pending, &oldest); err != nil {
			return nil, fmt.Errorf("count undelivered events: %w", err)
		}
		if oldest != nil {
			b.Oldest = *oldest
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// OutcomesUnknownByBank counts, for every onboarded bank (zero included),
// the debits and refunds sent to it (sent_at set) that are still pending:
// the bank has been asked and the gateway does not know its answer yet.
func OutcomesUnknownByBank(ctx context.Context, q Querier) (map[string]int64, error) {
	rows, err := q.conn().Query(ctx, `SELECT b.code, count(o.bank_code) FROM banks b LEFT JOIN (
			SELECT bank_code FROM payment_attempts WHERE status = 'pending' AND sent_at IS NOT NULL
			UNION ALL
			SELECT bank_code FROM refunds WHERE status = 'pending' AND sent_at IS NOT NULL
		) o ON o.bank_code = b.code
		GROUP BY b.code`)
	if err != nil {
		return nil, fmt.Errorf("count outcomes unknown: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var bank string
		var n int64
		if err := rows.Scan(&bank, &n); err != nil {
			return nil, fmt.Errorf("count outcomes unknown: %w", err)
		}
		out[bank] = n
	}
	return out, rows.Err()
}

// LatestReconciliation is where a bank's reconciliations stand.
type LatestReconciliation struct {
	BankCode string
	// Day is the latest business day reconciled, and Status what its last
	// run came to.
	Day    reconcile.Day
	Status reconcile.Status
	// LastMatched is the latest day that matched; zero if none has.
	LastMatched reconcile.Day
}

// LatestReconciliations returns, for each bank with a reconciliation, its
// latest day's status and its latest matched day, in bank code order.
func LatestReconciliations(ctx context.Context, q Querier) ([]LatestReconciliation, error) {
	rows, err := q.conn().Query(ctx, `SELECT DISTINCT ON (r.bank_code) r.bank_code, r.business_date, r.status,
			(SELECT max(m.business_date) FROM reconciliations m WHERE m.bank_code = r.bank_code AND m.status = 'matched')
		FROM reconciliations r ORDER BY r.bank_code, r.business_date DESC`)
	if err != nil {
		return nil, fmt.Errorf("read latest reconciliations: %w", err)
	}
	defer rows.Close()
	var out []LatestReconciliation
	for rows.Next() {
		var l LatestReconciliation
		var day time.Time
		var matched *time.Time
		if err := rows.Scan(&l.BankCode, &day, &l.Status, &matched); err != nil {
			return nil, fmt.Errorf("read latest reconciliations: %w", err)
		}
		l.Day = reconcile.DayOfDate(day)
		if matched != nil {
			l.LastMatched = reconcile.DayOfDate(*matched)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
