package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/portal"
)

// PortalStore persists portals with their secrets sealed under keys derived
// from the master key.
type PortalStore struct {
	db     *DB
	sealer *keyring.Sealer
}

// NewPortalStore returns a PortalStore.
func NewPortalStore(db *DB, k *keyring.Keyring) *PortalStore {
	return &PortalStore{db: db, sealer: k.Sealer("portal-secrets")}
}

func (s *PortalStore) seal(portalID, what, v string) []byte {
	if v == "" {
		return nil
	}
	return s.sealer.Seal([]byte(v), []byte(portalID+"/"+what))
}

func (s *PortalStore) open(portalID, what string, b []byte) (string, error) {
	if b == nil {
		return "", nil
	}
	v, err := s.sealer.Open(b, []byte(portalID+"/"+what))
	if err != nil {
		return "", fmt.Errorf("open %s of portal %s: %w", what, portalID, err)
	}
	return string(v), nil
}

// Create inserts p with its return origins.
func (s *PortalStore) Create(ctx context.Context, p *portal.Portal) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.conn().Exec(ctx, `INSERT INTO portals (id, name, key_id, secret_sealed, webhook_url, webhook_secret_sealed, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
			p.ID, p.Name, p.KeyID, s.seal(p.ID, "secret", p.Secret), p.WebhookURL, s.seal(p.ID, "webhook", p.WebhookSecret), p.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert portal %s: %w", p.ID, err)
		}
		if err := insertReturnOrigins(ctx, tx, p.ID, p.ReturnOrigins); err != nil {
			return err
		}
		// A gateway that cached the key id as unknown finds it at once.
		return notifyKeyChange(ctx, tx, KeyPortal, p.KeyID)
	})
}

const portalColumns = `id, name, key_id, secret_sealed, previous_secret_sealed, previous_secret_expires_at,
	webhook_url, webhook_secret_sealed, previous_webhook_secret_sealed, previous_webhook_secret_expires_at,
	webhook_disabled_at, disabled_at, created_at, ` + returnOriginsColumn

func (s *PortalStore) scan(row pgx.Row) (*portal.Portal, error) {
	var p portal.Portal
	var sec, prev, wh, prevWh []byte
	var prevExp, prevWhExp *time.Time
	if err := row.Scan(&p.ID, &p.Name, &p.KeyID, &sec, &prev, &prevExp, &p.WebhookURL, &wh, &prevWh, &prevWhExp,
		&p.WebhookDisabledAt, &p.DisabledAt, &p.CreatedAt, &p.ReturnOrigins); err != nil {
		return nil, err
	}
	var err error
	if p.Secret, err = s.open(p.ID, "secret", sec); err != nil {
		return nil, err
	}
	if p.PreviousSecret, err = s.open(p.ID, "secret", prev); err != nil {
		return nil, err
	}
	if p.WebhookSecret, err = s.open(p.ID, "webhook", wh); err != nil {
		return nil, err
	}
	if p.PreviousWebhookSecret, err = s.open(p.ID, "webhook", prevWh); err != nil {
		return nil, err
	}
	if prevExp != nil {
		p.PreviousSecretExpires = *prevExp
	}
	if prevWhExp != nil {
		p.PreviousWebhookExpires = *prevWhExp
	}
	return &p, nil
}

// ByKeyID returns the portal with key id, or a not_found fault.
func (s *PortalStore) ByKeyID(ctx context.Context, keyID string) (*portal.Portal, error) {
	p, err := s.scan(s.db.pool.QueryRow(ctx, `SELECT `+portalColumns+` FROM portals WHERE key_id = $1`, keyID))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, fault.New(fault.NotFound, "no portal with key id %s", keyID)
	}
	return p, err
}

// ByID returns the portal with id, or a not_found fault.
func (s *PortalStore) ByID(ctx context.Context, id string) (*portal.Portal, error) {
	p, err := s.scan(s.db.pool.QueryRow(ctx, `SELECT `+portalColumns+` FROM portals WHERE id = $1 OR key_id = $1`, id))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, fault.New(fault.NotFound, "no portal %s", id)
	}
	return p, err
}

// List returns every portal, oldest first.
func (s *PortalStore) List(ctx context.Context) ([]*portal.Portal, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+portalColumns+` FROM portals ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list portals: %w", err)
	}
	defer rows.Close()
	var out []*portal.Portal
	for rows.Next() {
		p, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RotateSecret replaces the signing secret with secret; the old one keeps
// working until graceUntil. A zero graceUntil revokes the old one at once:
// no previous secret is kept, not even one still in an earlier grace.
func (s *PortalStore) RotateSecret(ctx context.Context, id, secret string, graceUntil time.Time) error {
	return s.rotate(ctx, id, "secret", secret, graceUntil)
}

// RotateWebhookSecret replaces the webhook secret; webhooks are signed with
// both until graceUntil. A zero graceUntil drops the old one at once, and
// webhooks are signed with the new one only.
func (s *PortalStore) RotateWebhookSecret(ctx context.Context, id, secret string, graceUntil time.Time) error {
	return s.rotate(ctx, id, "webhook", secret, graceUntil)
}

// rotate replaces one of a portal's secrets ("secret" or "webhook"),
// keeping the current one as the previous until graceUntil, or none when
// graceUntil is zero.
func (s *PortalStore) rotate(ctx context.Context, id, what, secret string, graceUntil time.Time) error {
	column := map[string]string{"secret": "secret", "webhook": "webhook_secret"}[what]
	return s.db.InTx(ctx, func(tx *Tx) error {
		p, err := s.scan(tx.conn().QueryRow(ctx, `SELECT `+portalColumns+` FROM portals WHERE id = $1 OR key_id = $1 FOR UPDATE`, id))
		err = interpretError(err, "")
		if err == errNoRows {
			return fault.New(fault.NotFound, "no portal %s", id)
		}
		if err != nil {
			return err
		}
		var previous []byte
		var expires *time.Time
		if !graceUntil.IsZero() {
			current := p.Secret
			if what == "webhook" {
				current = p.WebhookSecret
			}
			previous, expires = s.seal(p.ID, what, current), &graceUntil
		}
		_, err = tx.conn().Exec(ctx, `UPDATE portals SET `+column+`_sealed = $2, previous_`+column+`_sealed = $3,
			previous_`+column+`_expires_at = $4, updated_at = now() WHERE id = $1`,
			p.ID, s.seal(p.ID, what, secret), previous, expires)
		if err != nil {
			return err
		}
		return notifyKeyChange(ctx, tx, KeyPortal, p.KeyID)
	})
}
