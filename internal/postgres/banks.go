package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/keyring"
)

// BankStore persists banks with their shared secrets sealed under a key
// derived from the master key.
type BankStore struct {
	db     *DB
	sealer *keyring.Sealer
}

// NewBankStore returns a BankStore.
func NewBankStore(db *DB, k *keyring.Keyring) *BankStore {
	return &BankStore{db: db, sealer: k.Sealer("bank-secrets")}
}

// seal binds a secret to its bank, so a sealed secret copied to another
// bank's row does not open.
func (s *BankStore) seal(code, v string) []byte {
	if v == "" {
		return nil
	}
	return s.sealer.Seal([]byte(v), []byte(code))
}

func (s *BankStore) open(code string, b []byte) (string, error) {
	if b == nil {
		return "", nil
	}
	v, err := s.sealer.Open(b, []byte(code))
	if err != nil {
		return "", fmt.Errorf("open secret of bank %s: %w", code, err)
	}
	return string(v), nil
}

// Create inserts b. An existing code is refused with invalid_state.
func (s *BankStore) Create(ctx context.Context, b *bank.Bank) error {
	_, err := s.db.pool.Exec(ctx, `INSERT INTO banks (code, name, base_url, secret_sealed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)`, b.Code, b.Name, b.BaseURL, s.seal(b.Code, b.Secret), b.CreatedAt)
	if err = interpretError(err, b.Code); err != nil {
		return refusalOr(err, fmt.Errorf("insert bank %s: %w", b.Code, err))
	}
	// A gateway that cached the code as unknown finds it at once.
	return notifyKeyChange(ctx, s.db, KeyBank, b.Code)
}

const bankColumns = `code, name, base_url, secret_sealed, previous_secret_sealed, previous_secret_expires_at, created_at, updated_at`

func (s *BankStore) scan(row pgx.Row) (*bank.Bank, error) {
	var b bank.Bank
	var sec, prev []byte
	var prevExp *time.Time
	if err := row.Scan(&b.Code, &b.Name, &b.BaseURL, &sec, &prev, &prevExp, &b.CreatedAt, &b.UpdatedAt); err != nil {
		return nil, err
	}
	var err error
	if b.Secret, err = s.open(b.Code, sec); err != nil {
		return nil, err
	}
	if b.PreviousSecret, err = s.open(b.Code, prev); err != nil {
		return nil, err
	}
	if prevExp != nil {
		b.PreviousSecretExpires = *prevExp
	}
	return &b, nil
}

// ByCode returns the bank with code, or a not_found fault.
func (s *BankStore) ByCode(ctx context.Context, code string) (*bank.Bank, error) {
	b, err := s.scan(s.db.pool.QueryRow(ctx, `SELECT `+bankColumns+` FROM banks WHERE code = $1`, code))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, fault.New(fault.NotFound, "no bank %s", code)
	}
	if err != nil {
		return nil, fmt.Errorf("get bank %s: %w", code, err)
	}
	return b, nil
}

// List returns every bank by code.
func (s *BankStore) List(ctx context.Context) ([]*bank.Bank, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+bankColumns+` FROM banks ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	defer rows.Close()
	var out []*bank.Bank
	for rows.Next() {
		b, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	return out, nil
}

// RotateSecret replaces the bank's secret with secret; the old one keeps
// verifying callbacks until graceUntil. A zero graceUntil revokes the old
// one at once: no previous secret is kept, not even one still in an earlier
// grace.
func (s *BankStore) RotateSecret(ctx context.Context, code, secret string, graceUntil time.Time) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		b, err := s.scan(tx.conn().QueryRow(ctx, `SELECT `+bankColumns+` FROM banks WHERE code = $1 FOR UPDATE`, code))
		err = interpretError(err, "")
		if err == errNoRows {
			return fault.New(fault.NotFound, "no bank %s", code)
		}
		if err != nil {
			return fmt.Errorf("lock bank %s: %w", code, err)
		}
		var previous []byte
		var expires *time.Time
		if !graceUntil.IsZero() {
			previous, expires = s.seal(code, b.Secret), &graceUntil
		}
		_, err = tx.conn().Exec(ctx, `UPDATE banks SET secret_sealed = $2, previous_secret_sealed = $3,
			previous_secret_expires_at = $4, updated_at = now() WHERE code = $1`,
			code, s.seal(code, secret), previous, expires)
		if err != nil {
			return fmt.Errorf("rotate secret of bank %s: %w", code, err)
		}
		return notifyKeyChange(ctx, tx, KeyBank, code)
	})
}
