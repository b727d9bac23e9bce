package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// PortalSummary is what an operator lists of a portal: no secret, so
// listing needs no master key.
type PortalSummary struct {
	ID                string
	Name              string
	KeyID             string
	WebhookURL        string
	WebhookDisabledAt *time.Time
	DisabledAt        *time.Time
	ReturnOrigins     []string
	CreatedAt         time.Time
}

// ListPortals returns every portal without its secrets, oldest first.
func ListPortals(ctx context.Context, q Querier) ([]PortalSummary, error) {
	rows, err := q.conn().Query(ctx, `SELECT id, name, key_id, webhook_url, webhook_disabled_at, disabled_at, created_at, `+
		returnOriginsColumn+` FROM portals ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list portals: %w", err)
	}
	defer rows.Close()
	var out []PortalSummary
	for rows.Next() {
		var p PortalSummary
		if err := rows.Scan(&p.ID, &p.Name, &p.KeyID, &p.WebhookURL, &p.WebhookDisabledAt, &p.DisabledAt, &p.CreatedAt,
			&p.ReturnOrigins); err != nil {
			return nil, fmt.Errorf("list portals: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list portals: %w", err)
	}
	return out, nil
}

// PortalByRef returns the portal with id or key id ref without its
// secrets, or a not_found fault.
func PortalByRef(ctx context.Context, q Querier, ref string) (PortalSummary, error) {
	var p PortalSummary
	err := q.conn().QueryRow(ctx, `SELECT id, name, key_id, webhook_url, webhook_disabled_at, disabled_at, created_at, `+
		returnOriginsColumn+` FROM portals WHERE id = $1 OR key_id = $1`, ref).
		Scan(&p.ID, &p.Name, &p.KeyID, &p.WebhookURL, &p.WebhookDisabledAt, &p.DisabledAt, &p.CreatedAt, &p.ReturnOrigins)
	err = interpretError(err, "")
	if err == errNoRows {
		return p, fault.New(fault.NotFound, "no portal %s", ref)
	}
	if err != nil {
		return p, fmt.Errorf("find portal %s: %w", ref, err)
	}
	return p, nil
}

// UpdatePortal sets the name and webhook URL of the portal with id or key
// id ref (the caller validated them; nil leaves one as it is) and returns
// it, or a not_found fault. Gateways forget the portal they cached.
func UpdatePortal(ctx context.Context, db *DB, ref string, name, webhookURL *string) (PortalSummary, error) {
	var p PortalSummary
	err := db.InTx(ctx, func(tx *Tx) error {
		tag, err := tx.conn().Exec(ctx, `UPDATE portals SET name = coalesce($2, name), webhook_url = coalesce($3, webhook_url),
			updated_at = now() WHERE id = $1 OR key_id = $1`, ref, name, webhookURL)
		if err != nil {
			return fmt.Errorf("update portal %s: %w", ref, err)
		}
		if tag.RowsAffected() == 0 {
			return fault.New(fault.NotFound, "no portal %s", ref)
		}
		if p, err = PortalByRef(ctx, tx, ref); err != nil {
			return err
		}
		return notifyKeyChange(ctx, tx, KeyPortal, p.KeyID)
	})
	return p, err
}

// SetPortalDisabled disables the portal with id or key id ref from at, or
// enables it when at is nil, in tx; it returns the portal as it was before
// and whether this changed it. Gateways forget the portal they cached, so
// its requests are refused (or accepted) at once.
func SetPortalDisabled(ctx context.Context, tx *Tx, ref string, at *time.Time) (before PortalSummary, changed bool, err error) {
	if before, err = PortalByRef(ctx, tx, ref); err != nil {
		return before, false, err
	}
	tag, err := tx.conn().Exec(ctx, `UPDATE portals SET disabled_at = $2, updated_at = now()
		WHERE id = $1 AND (disabled_at IS NULL) = ($2::timestamptz IS NOT NULL)`, before.ID, at)
	if err != nil {
		return before, false, fmt.Errorf("set portal %s disabled: %w", before.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return before, false, nil
	}
	return before, true, notifyKeyChange(ctx, tx, KeyPortal, before.KeyID)
}
