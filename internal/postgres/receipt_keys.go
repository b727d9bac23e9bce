package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StoredReceiptKey is a receipt signing key as kept: its seed sealed, its
// public half clear.
type StoredReceiptKey struct {
	KID        string
	SeedSealed []byte
	Public     []byte
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

const receiptKeyColumns = `kid, seed_sealed, public_key, created_at, revoked_at`

func scanReceiptKey(row pgx.Row) (*StoredReceiptKey, error) {
	var k StoredReceiptKey
	err := row.Scan(&k.KID, &k.SeedSealed, &k.Public, &k.CreatedAt, &k.RevokedAt)
	return &k, err
}

// receiptKeysLock is the transaction advisory lock under which a first
// receipt key is made, so that two gateways never both make one.
const receiptKeysLock = 7_206_511_338

// LockReceiptKeys serialises changes of the set of receipt keys (a first
// key, a rotation, a revocation) until tx ends.
func LockReceiptKeys(ctx context.Context, tx *Tx) error {
	if _, err := tx.conn().Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, receiptKeysLock); err != nil {
		return fmt.Errorf("lock receipt keys: %w", err)
	}
	return nil
}

// CurrentReceiptKey returns the newest key not revoked, share-locked until
// tx ends (so that its revocation waits for the receipts being signed with
// it, and then re-signs them), or nil when there is none.
func CurrentReceiptKey(ctx context.Context, tx *Tx) (*StoredReceiptKey, error) {
	k, err := scanReceiptKey(tx.conn().QueryRow(ctx, currentReceiptKeySQL))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("current receipt key: %w", err)
	}
	return k, nil
}

const currentReceiptKeySQL = `SELECT ` + receiptKeyColumns + ` FROM receipt_keys
	WHERE revoked_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1 FOR SHARE`

// InsertReceiptKey records a new key; it becomes the current one. Its
// created_at is the database's clock, not the caller's: which key is
// current must not depend on which process (gateway or gatewayctl) made it.
func InsertReceiptKey(ctx context.Context, tx *Tx, k *StoredReceiptKey) error {
	_, err := tx.conn().Exec(ctx, `INSERT INTO receipt_keys (kid, seed_sealed, public_key) VALUES ($1, $2, $3)`,
		k.KID, k.SeedSealed, k.Public)
	if err != nil {
		return fmt.Errorf("insert receipt key %s: %w", k.KID, err)
	}
	return nil
}

// ReceiptKeys lists the keys, oldest first; revoked ones only if asked.
func ReceiptKeys(ctx context.Context, q Querier, withRevoked bool) ([]*StoredReceiptKey, error) {
	rows, err := q.conn().Query(ctx, `SELECT `+receiptKeyColumns+` FROM receipt_keys
		WHERE $1 OR revoked_at IS NULL ORDER BY created_at, kid`, withRevoked)
	if err != nil {
		return nil, fmt.Errorf("list receipt keys: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*StoredReceiptKey, error) { return scanReceiptKey(row) })
}

// RevokeReceiptKey marks kid revoked at at. It reports false if kid is not
// a key, or is revoked already.
func RevokeReceiptKey(ctx context.Context, tx *Tx, kid string, at time.Time) (bool, error) {
	tag, err := tx.conn().Exec(ctx, `UPDATE receipt_keys SET revoked_at = greatest($2, created_at) WHERE kid = $1 AND revoked_at IS NULL`, kid, at)
	if err != nil {
		return false, fmt.Errorf("revoke receipt key %s: %w", kid, err)
	}
	return tag.RowsAffected() == 1, nil
}
