package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/incident"
)

// InsertIncident records something the gateway will not decide alone, with
// its evidence, for the operator. The evidence must hold no personal data.
// Its shape suits the clearing workers' Incident hook.
func InsertIncident(ctx context.Context, q Querier, kind incident.Kind, bankCode, objectID, summary string, evidence map[string]any) error {
	if evidence == nil {
		evidence = map[string]any{}
	}
	ev, err := json.Marshal(evidence)
	if err != nil {
		return fmt.Errorf("encode incident evidence: %w", err)
	}
	incID := id.New(id.Incident)
	if _, err := q.conn().Exec(ctx, `INSERT INTO incidents (id, kind, bank_code, object_id, summary, evidence)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, $6)`, incID, string(kind), bankCode, objectID, summary, ev); err != nil {
		return fmt.Errorf("insert incident %s (%s): %w", incID, kind, err)
	}
	return nil
}

// incidentLockClass is the first key of the per-bank advisory lock that
// RecentBankIncidents takes (the second is the bank code's hash). The
// two-key form never meets the one-key locks of migrations and tests.
const incidentLockClass = 1_000_601

// RecentBankIncidents returns how many open incidents of bankCode were
// recorded within window (by PostgreSQL's clock, as created_at is), after
// taking the bank's incident lock until tx ends: recorders of one bank's
// incidents in every gateway process then count one another, and a bound
// checked with the count holds. It reads the open-incident index.
func RecentBankIncidents(ctx context.Context, tx *Tx, bankCode string, window time.Duration) (int, error) {
	if _, err := tx.conn().Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, incidentLockClass, bankCode); err != nil {
		return 0, fmt.Errorf("lock incidents of bank %s: %w", bankCode, err)
	}
	var n int
	if err := tx.conn().QueryRow(ctx, `SELECT count(*) FROM incidents
		WHERE status = 'open' AND created_at > now() - make_interval(secs => $2) AND bank_code = $1`, bankCode, window.Seconds()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents of bank %s: %w", bankCode, err)
	}
	return n, nil
}

const incidentColumns = `id, kind, status, coalesce(bank_code, ''), coalesce(object_id, ''), summary, evidence,
	coalesce(resolution, ''), created_at, resolved_at`

func scanIncident(row pgx.Row) (*incident.Incident, error) {
	var (
		incID, kind, status, bankCode, objectID, summary, resolution string
		evidence                                                     []byte
		createdAt                                                    time.Time
		resolvedAt                                                   *time.Time
	)
	if err := row.Scan(&incID, &kind, &status, &bankCode, &objectID, &summary, &evidence, &resolution, &createdAt, &resolvedAt); err != nil {
		return nil, err
	}
	return incident.Restore(incID, incident.Kind(kind), incident.Status(status), bankCode, objectID, summary, evidence,
		resolution, createdAt, resolvedAt)
}

// ListIncidents returns up to limit incidents of status ("" for all),
// newest first.
func ListIncidents(ctx context.Context, q Querier, status incident.Status, limit int) ([]*incident.Incident, error) {
	rows, err := q.conn().Query(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE $1 = '' OR status = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, string(status), limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []*incident.Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// GetIncident reads incident incID; lock takes its row lock.
func GetIncident(ctx context.Context, q Querier, incID string, lock bool) (*incident.Incident, error) {
	sql := `SELECT ` + incidentColumns + ` FROM incidents WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	in, err := scanIncident(q.conn().QueryRow(ctx, sql, incID))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, fault.New(fault.NotFound, "no incident %s", incID)
	}
	if err != nil {
		return nil, fmt.Errorf("get incident %s: %w", incID, err)
	}
	return in, nil
}

// SaveResolution writes a resolved incident's resolution. It writes over
// an open row only: an incident is resolved once.
func SaveResolution(ctx context.Context, tx *Tx, in *incident.Incident) error {
	tag, err := tx.conn().Exec(ctx, `UPDATE incidents SET status = $2, resolution = $3, resolved_at = $4
		WHERE id = $1 AND status = 'open'`, in.ID(), string(in.Status()), in.Resolution(), in.ResolvedAt())
	if err != nil {
		return fmt.Errorf("resolve incident %s: %w", in.ID(), err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("resolve incident %s: it is no longer open", in.ID())
	}
	return nil
}
