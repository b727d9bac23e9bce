package postgres

import (
	"context"
	"fmt"

	"github.com/citizenpay/gateway/internal/keyring"
)

// CheckMasterKey refuses a master key the database was not set up with:
// keyring.ErrMasterKeyMismatch when k's check value is not the one stored
// (migration 0007, compared in constant time). A database without one yet
// (migrated before 0007, or just migrated) records k's, since what it holds
// was sealed with that key; but when it already holds a portal whose secret
// k cannot open, k is refused and nothing is recorded.
func CheckMasterKey(ctx context.Context, db *DB, k *keyring.Keyring) error {
	stored, found, err := readKeyCheck(ctx, db)
	if err != nil {
		return err
	}
	if !found {
		if err := opensPortalSecret(ctx, db, k); err != nil {
			return err
		}
		if _, err := db.pool.Exec(ctx, `INSERT INTO key_check (check_value) VALUES ($1) ON CONFLICT DO NOTHING`,
			k.CheckValue()); err != nil {
			return fmt.Errorf("record the master key's check value: %w", err)
		}
		// Read back: another process may have recorded its key first.
		if stored, _, err = readKeyCheck(ctx, db); err != nil {
			return err
		}
	}
	if !k.MatchesCheck(stored) {
		return keyring.ErrMasterKeyMismatch
	}
	return nil
}

func readKeyCheck(ctx context.Context, db *DB) ([]byte, bool, error) {
	var v []byte
	err := interpretError(db.pool.QueryRow(ctx, `SELECT check_value FROM key_check`).Scan(&v), "")
	if err == errNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read the master key's check value: %w", err)
	}
	return v, true, nil
}

// opensPortalSecret checks k against the oldest portal's sealed secret, if
// there is a portal.
func opensPortalSecret(ctx context.Context, db *DB, k *keyring.Keyring) error {
	var id string
	var sealed []byte
	err := interpretError(db.pool.QueryRow(ctx, `SELECT id, secret_sealed FROM portals ORDER BY created_at, id LIMIT 1`).
		Scan(&id, &sealed), "")
	if err == errNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read a portal to check the master key: %w", err)
	}
	if _, err := NewPortalStore(db, k).open(id, "secret", sealed); err != nil {
		return keyring.ErrMasterKeyMismatch
	}
	return nil
}
