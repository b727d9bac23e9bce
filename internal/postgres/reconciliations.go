package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/reconcile"
)

// reconcileLockClass is the first key of a (bank, day)'s reconciliation
// lock; the second is the hash of "bank/day".
const reconcileLockClass = 1_000_612

// LockReconciliation waits until no other run of bank's day holds its lock,
// in any gateway process, and takes it on a connection of its own; release
// gives it back. Two runs of one day therefore never overlap.
func (db *DB) LockReconciliation(ctx context.Context, bank string, day reconcile.Day) (release func(), err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock reconciliation of %s %s: %w", bank, day, err)
	}
	key := bank + "/" + day.String()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, reconcileLockClass, key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock reconciliation of %s %s: %w", bank, day, err)
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, reconcileLockClass, key); err != nil {
			// A connection whose lock state is unknown is not given back.
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, nil
}

const reconciliationColumns = `id, bank_code, business_date, status, lines, matched, applied, differences,
	debit_total::text, refund_total::text, coalesce(reason, ''), created_at, updated_at`

func scanReconciliation(row interface{ Scan(...any) error }) (reconcile.Result, error) {
	var r reconcile.Result
	var date time.Time
	var debits, refunds string
	if err := row.Scan(&r.ID, &r.BankCode, &date, &r.Status, &r.Tally.Lines, &r.Tally.Matched, &r.Tally.Applied,
		&r.Tally.Differences, &debits, &refunds, &r.Reason, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return r, err
	}
	r.Day = reconcile.DayOfDate(date)
	var err error
	if r.Tally.DebitTotal, err = decimal.NewFromString(debits); err != nil {
		return r, err
	}
	r.Tally.RefundTotal, err = decimal.NewFromString(refunds)
	return r, err
}

// GetReconciliation returns the last run of bank's day, or not_found.
func GetReconciliation(ctx context.Context, q Querier, bank string, day reconcile.Day) (reconcile.Result, error) {
	r, err := scanReconciliation(q.conn().QueryRow(ctx, `SELECT `+reconciliationColumns+`
		FROM reconciliations WHERE bank_code = $1 AND business_date = $2`, bank, day.Date()))
	if err = interpretError(err, ""); err == errNoRows {
		return r, fault.New(fault.NotFound, "bank %s's %s has not been reconciled", bank, day)
	}
	if err != nil {
		return r, fmt.Errorf("read reconciliation of %s %s: %w", bank, day, err)
	}
	return r, nil
}

// ListReconciliations returns the runs of day, in bank code order.
func ListReconciliations(ctx context.Context, q Querier, day reconcile.Day) ([]reconcile.Result, error) {
	rows, err := q.conn().Query(ctx, `SELECT `+reconciliationColumns+`
		FROM reconciliations WHERE business_date = $1 ORDER BY bank_code`, day.Date())
	if err != nil {
		return nil, fmt.Errorf("list reconciliations of %s: %w", day, err)
	}
	defer rows.Close()
	var out []reconcile.Result
	for rows.Next() {
		r, err := scanReconciliation(rows)
		if err != nil {
			return nil, fmt.Errorf("list reconciliations of %s: %w", day, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveReconciliation writes a run's result over the day's last one (the
// first run gives the day its id) and returns it as stored. unavailable
// says whether the statement could not be read: the first run that finds
// it so starts the unavailable_since clock, a readable one stops it.
func SaveReconciliation(ctx context.Context, q Querier, r reconcile.Result, now time.Time) (reconcile.Result, error) {
	row := q.conn().QueryRow(ctx, `INSERT INTO reconciliations AS r (id, bank_code, business_date, status, lines, matched,
			applied, differences, debit_total, refund_total, reason, unavailable_since, runs, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric, $10::numeric, nullif($11, ''),
			CASE WHEN $4 = 'unavailable' THEN $12::timestamptz END, 1, $12, $12)
		ON CONFLICT (bank_code, business_date) DO UPDATE SET
			status = excluded.status, reason = excluded.reason, runs = r.runs + 1, updated_at = excluded.updated_at,
			unavailable_since = CASE WHEN excluded.status = 'unavailable' THEN coalesce(r.unavailable_since, excluded.updated_at) END,
			-- An unavailable run read nothing: the last complete run's counts stand.
			lines = CASE WHEN excluded.status = 'unavailable' THEN r.lines ELSE excluded.lines END,
			matched = CASE WHEN excluded.status = 'unavailable' THEN r.matched ELSE excluded.matched END,
			applied = CASE WHEN excluded.status = 'unavailable' THEN r.applied ELSE excluded.applied END,
			differences = CASE WHEN excluded.status = 'unavailable' THEN r.differences ELSE excluded.differences END,
			debit_total = CASE WHEN excluded.status = 'unavailable' THEN r.debit_total ELSE excluded.debit_total END,
			refund_total = CASE WHEN excluded.status = 'unavailable' THEN r.refund_total ELSE excluded.refund_total END
		RETURNING `+reconciliationColumns,
		id.New(id.Reconciliation), r.BankCode, r.Day.Date(), string(r.Status), r.Tally.Lines, r.Tally.Matched,
		r.Tally.Applied, r.Tally.Differences, r.Tally.DebitTotal.String(), r.Tally.RefundTotal.String(), r.Reason, now)
	out, err := scanReconciliation(row)
	if err != nil {
		return out, fmt.Errorf("save reconciliation of %s %s: %w", r.BankCode, r.Day, err)
	}
	return out, nil
}

// UnavailableSince returns since when runs of bank's day have found its
// statement unavailable, or the zero time.
func UnavailableSince(ctx context.Context, q Querier, bank string, day reconcile.Day) (time.Time, error) {
	var t *time.Time
	err := interpretError(q.conn().QueryRow(ctx, `SELECT unavailable_since FROM reconciliations
		WHERE bank_code = $1 AND business_date = $2`, bank, day.Date()).Scan(&t), "")
	if err == errNoRows || t == nil {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read reconciliation of %s %s: %w", bank, day, err)
	}
	return *t, nil
}

// GatewayViews returns the gateway's view of each of ids (debits and
// refunds sent to bank) and the line each was matched to before, in one
// round trip. An id that is not in the first map was never sent to bank.
//
// Each line's match is looked up by its key (LIMIT 1 keeps the lookup a
// parameterized index scan; the key is unique): joined plainly, the
// planner, misled by a table it has not analyzed yet (the first large
// day), reads every match of bank in each round trip, and a day's first run
// grows with the square of its lines.
func GatewayViews(ctx context.Context, q Querier, bank string, ids []string) (map[string]reconcile.View, map[string]reconcile.Prior, error) {
	rows, err := q.conn().Query(ctx, `SELECT o.id, o.type, o.status, o.amount::text, o.currency, lt.booked_at, o.request_id,
			m.business_date, m.bank_reference, m.applied
		FROM (SELECT id, 'debit' AS type, status, amount, currency, payment_request_id AS request_id
				FROM payment_attempts WHERE id = ANY($2) AND bank_code = $1
			UNION ALL
			SELECT id, 'refund', status, amount, currency, payment_request_id
				FROM refunds WHERE id = ANY($2) AND bank_code = $1) o
		LEFT JOIN ledger_transactions lt ON lt.cause = o.id
		LEFT JOIN LATERAL (SELECT business_date, bank_reference, applied FROM reconciliation_matches
				WHERE bank_code = $1 AND object_id = o.id LIMIT 1) m ON true`, bank, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read the gateway's view of %d statement lines: %w", len(ids), err)
	}
	defer rows.Close()
	views := make(map[string]reconcile.View, len(ids))
	priors := map[string]reconcile.Prior{}
	for rows.Next() {
		v := reconcile.View{Found: true}
		var objID, amount string
		var booked, matchDate *time.Time
		var ref *string
		var applied *bool
		if err := rows.Scan(&objID, &v.Type, &v.Status, &amount, &v.Currency, &booked, &v.RequestID, &matchDate, &ref, &applied); err != nil {
			return nil, nil, fmt.Errorf("read the gateway's view of statement lines: %w", err)
		}
		if v.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, nil, fmt.Errorf("read the amount of %s: %w", objID, err)
		}
		if booked != nil {
			v.BookedAt = *booked
		}
		views[objID] = v
		if matchDate != nil {
			priors[objID] = reconcile.Prior{Day: reconcile.DayOfDate(*matchDate), BankReference: *ref, Applied: *applied}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read the gateway's view of statement lines: %w", err)
	}
	return views, priors, nil
}

// Match is a statement line matched to the gateway's outcome objectID.
type Match struct {
	ObjectID      string
	BankReference string
	Applied       bool
}

// SaveMatches records that bank's statement of day matched each of ms; a
// match recorded before stays as it was.
func SaveMatches(ctx context.Context, q Querier, bank string, day reconcile.Day, ms []Match, now time.Time) error {
	if len(ms) == 0 {
		return nil
	}
	ids, refs, applied := make([]string, len(ms)), make([]string, len(ms)), make([]bool, len(ms))
	for i, m := range ms {
		ids[i], refs[i], applied[i] = m.ObjectID, m.BankReference, m.Applied
	}
	if _, err := q.conn().Exec(ctx, `INSERT INTO reconciliation_matches (bank_code, object_id, business_date, bank_reference, applied, matched_at)
		SELECT $1, x.id, $2, x.ref, x.applied, $6 FROM unnest($3::text[], $4::text[], $5::bool[]) AS x(id, ref, applied)
		ON CONFLICT (bank_code, object_id) DO NOTHING`, bank, day.Date(), ids, refs, applied, now); err != nil {
		return fmt.Errorf("record %d matched lines of %s %s: %w", len(ms), bank, day, err)
	}
	return nil
}

// Difference is a reconciliation's difference, to record once with its
// incident.
type Difference struct {
	Key      string
	Incident incident.Kind // "" is a reconciliation_difference
	ObjectID string
	Summary  string
	Evidence map[string]any
}

// RecordDifferences records each of ds found by reconciliation rcnID of
// bank, each with its incident (reconciliation_difference), unless the
// same key was recorded by an earlier run: a re-run records nothing twice.
// It returns how many were new.
func RecordDifferences(ctx context.Context, q Querier, rcnID, bank string, ds []Difference, now time.Time) (int, error) {
	added := 0
	for _, d := range ds {
		kind := d.Incident
		if kind == "" {
			kind = incident.KindReconciliation
		}
		ev, err := json.Marshal(d.Evidence)
		if err != nil {
			return added, fmt.Errorf("encode the evidence of %s: %w", d.Key, err)
		}
		tag, err := q.conn().Exec(ctx, `WITH d AS (
				INSERT INTO reconciliation_differences (reconciliation_id, key, incident_id) VALUES ($1, $2, $3)
				ON CONFLICT (reconciliation_id, key) DO NOTHING RETURNING incident_id)
			INSERT INTO incidents (id, kind, bank_code, object_id, summary, evidence, created_at)
			SELECT d.incident_id, $4, $5, nullif($6, ''), $7, $8, $9 FROM d`,
			rcnID, d.Key, id.New(id.Incident), string(kind), bank, d.ObjectID, d.Summary, ev, now)
		if err != nil {
			return added, fmt.Errorf("record difference %s of %s: %w", d.Key, rcnID, err)
		}
		added += int(tag.RowsAffected())
	}
	return added, nil
}

// Outcome is a succeeded debit or refund of the gateway's, as the ledger
// booked it.
type Outcome struct {
	Type     string
	ID       string
	Amount   decimal.Decimal
	Currency string
	BookedAt time.Time
}

// UnmatchedOutcomes returns up to limit of bank's succeeded debits and
// refunds booked on day that no statement line matched, in id order after
// after: the ones a statement left out. An outcome a line named with a
// difference (another amount, say) has its incident already, and is not
// among them.
func UnmatchedOutcomes(ctx context.Context, q Querier, bank string, day reconcile.Day, after string, limit int) ([]Outcome, error) {
	rows, err := q.conn().Query(ctx, `SELECT o.type, o.id, o.amount::text, o.currency, lt.booked_at
		FROM ledger_transactions lt
		JOIN (SELECT id, 'debit' AS type, amount, currency, bank_code FROM payment_attempts WHERE status = 'succeeded'
			UNION ALL SELECT id, 'refund', amount, currency, bank_code FROM refunds WHERE status = 'succeeded') o
			ON o.id = lt.cause AND o.bank_code = $1
		WHERE lt.kind IN ('debit_succeeded', 'refund_succeeded') AND lt.booked_at >= $2 AND lt.booked_at < $3 AND lt.cause > $4
			AND NOT EXISTS (SELECT 1 FROM reconciliation_matches m WHERE m.bank_code = $1 AND m.object_id = lt.cause)
			AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.kind = $6 AND i.bank_code = $1 AND i.object_id = lt.cause)
		ORDER BY lt.cause LIMIT $5`, bank, day.Start(), day.End(), after, limit, string(incident.KindReconciliation))
	if err != nil {
		return nil, fmt.Errorf("read unmatched outcomes of %s %s: %w", bank, day, err)
	}
	defer rows.Close()
	var out []Outcome
	for rows.Next() {
		var o Outcome
		var amount string
		if err := rows.Scan(&o.Type, &o.ID, &amount, &o.Currency, &o.BookedAt); err != nil {
			return nil, fmt.Errorf("read unmatched outcomes of %s %s: %w", bank, day, err)
		}
		if o.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// BankCodes returns the code of every onboarded bank, in order: the banks
// whose days are reconciled.
func BankCodes(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.conn().Query(ctx, `SELECT code FROM banks ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("list banks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ReconciliationID returns the id of bank's day, giving the day one on its
// first run: until that run completes, the day reads as unavailable.
func ReconciliationID(ctx context.Context, q Querier, bank string, day reconcile.Day, now time.Time) (string, error) {
	var rcnID string
	err := q.conn().QueryRow(ctx, `WITH n AS (
			INSERT INTO reconciliations (id, bank_code, business_date, status, reason, created_at, updated_at)
			VALUES ($1, $2, $3, 'unavailable', 'the first run has not finished', $4, $4)
			ON CONFLICT (bank_code, business_date) DO NOTHING RETURNING id)
		SELECT id FROM n UNION ALL SELECT id FROM reconciliations WHERE bank_code = $2 AND business_date = $3`,
		id.New(id.Reconciliation), bank, day.Date(), now).Scan(&rcnID)
	if err != nil {
		return "", fmt.Errorf("give %s %s its reconciliation: %w", bank, day, err)
	}
	return rcnID, nil
}

// SettleReconciliationStatus sets a read day's differences to the number
// recorded for it and its status by whether any of them is still open:
// differences, or matched once every one is resolved. An unavailable day
// stays as it is. It returns the day as stored.
func SettleReconciliationStatus(ctx context.Context, q Querier, rcnID string) (reconcile.Result, error) {
	r, err := scanReconciliation(q.conn().QueryRow(ctx, `WITH d AS (
			SELECT count(*) AS n, count(*) FILTER (WHERE i.status = 'open') AS open
			FROM reconciliation_differences d JOIN incidents i ON i.id = d.incident_id
			WHERE d.reconciliation_id = $1 AND i.kind = $2)
		UPDATE reconciliations r SET differences = d.n,
			status = CASE WHEN d.open > 0 THEN 'differences' ELSE 'matched' END
		FROM d WHERE r.id = $1 AND r.status <> 'unavailable'
		RETURNING r.id, r.bank_code, r.business_date, r.status, r.lines, r.matched, r.applied, r.differences,
			r.debit_total::text, r.refund_total::text, coalesce(r.reason, ''), r.created_at, r.updated_at`, rcnID, string(incident.KindReconciliation)))
	if err = interpretError(err, ""); err == errNoRows {
		return r, fault.New(fault.NotFound, "reconciliation %s has not been read", rcnID)
	}
	if err != nil {
		return r, fmt.Errorf("settle the status of %s: %w", rcnID, err)
	}
	return r, nil
}
