package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/fault"

	"github.com/citizenpay/gateway/internal/id"
)

// Incident kinds the gateway records; callers may use others.
const (
	IncidentUnknownObject    = "unknown_object"
	IncidentOutcomeConflict  = "outcome_conflict"
	IncidentAmountDiffers    = "amount_differs"
	IncidentUnknownEventType = "unknown_event_type"
)

// InsertIncident records something the gateway will not decide alone, with
// its evidence, for the operator. The evidence must hold no personal data.
// Its shape suits the clearing workers' Incident hook.
func InsertIncident(ctx context.Context, q Querier, kind, bankCode, objectID, summary string, evidence map[string]any) error {
	if evidence == nil {
		evidence = map[string]any{}
	}
	ev, err := json.Marshal(evidence)
	if err != nil {
		return fmt.Errorf("encode incident evidence: %w", err)
	}
	incID := id.New(id.Incident)
	if _, err := q.Exec(ctx, `INSERT INTO incidents (id, kind, bank_code, object_id, summary, evidence)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, $6)`, incID, kind, bankCode, objectID, summary, ev); err != nil {
		return fmt.Errorf("insert incident %s (%s): %w", incID, kind, err)
	}
	return nil
}

// Incident is something the gateway would not decide alone, as kept for
// the operator.
type Incident struct {
	ID         string
	Kind       string
	Status     string
	BankCode   string
	ObjectID   string
	Summary    string
	Evidence   []byte
	Resolution string
	CreatedAt  time.Time
	ResolvedAt *time.Time
}

const incidentColumns = `id, kind, status, coalesce(bank_code, ''), coalesce(object_id, ''), summary, evidence,
	coalesce(resolution, ''), created_at, resolved_at`

func scanIncident(row pgx.Row) (*Incident, error) {
	var in Incident
	err := row.Scan(&in.ID, &in.Kind, &in.Status, &in.BankCode, &in.ObjectID, &in.Summary, &in.Evidence,
		&in.Resolution, &in.CreatedAt, &in.ResolvedAt)
	return &in, err
}

// ListIncidents returns up to limit incidents of status (or all), newest first.
func ListIncidents(ctx context.Context, q Querier, status string, limit int) ([]*Incident, error) {
	rows, err := q.Query(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE $1 = 'all' OR status = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, status, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []*Incident
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
func GetIncident(ctx context.Context, q Querier, incID string, lock bool) (*Incident, error) {
	sql := `SELECT ` + incidentColumns + ` FROM incidents WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	in, err := scanIncident(q.QueryRow(ctx, sql, incID))
	if IsNoRows(err) {
		return nil, fault.New(fault.NotFound, "no incident %s", incID)
	}
	if err != nil {
		return nil, fmt.Errorf("get incident %s: %w", incID, err)
	}
	return in, nil
}

// ResolveIncident closes an open incident with its resolution text.
func ResolveIncident(ctx context.Context, tx pgx.Tx, in *Incident, text string) error {
	err := tx.QueryRow(ctx, `UPDATE incidents SET status = 'resolved', resolution = $2, resolved_at = now()
		WHERE id = $1 AND status = 'open' RETURNING status, resolution, resolved_at`, in.ID, text).
		Scan(&in.Status, &in.Resolution, &in.ResolvedAt)
	if err != nil {
		return fmt.Errorf("resolve incident %s: %w", in.ID, err)
	}
	return nil
}
