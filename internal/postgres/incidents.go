package postgres

import (
	"context"
	"encoding/json"
	"fmt"

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
