package postgres

import (
	"context"
	"fmt"
)

// EnsureCitizen returns the id of the citizen whose pid has blind index
// pid.Index, inserting them with newID on first sight. Concurrent first
// sightings agree on one row: the index is unique.
func EnsureCitizen(ctx context.Context, q Querier, newID string, pid SealedPID) (string, error) {
	var id string
	err := q.conn().QueryRow(ctx, `INSERT INTO citizens (id, pid_index, pid_sealed) VALUES ($1, $2, $3)
		ON CONFLICT (pid_index) DO NOTHING RETURNING id`, newID, pid.Index, pid.Sealed).Scan(&id)
	if err == nil {
		return id, nil
	}
	if err = interpretError(err, ""); err != errNoRows {
		return "", fmt.Errorf("insert citizen: %w", err)
	}
	id, err = CitizenByIndex(ctx, q, pid.Index)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("insert citizen: the conflicting row vanished")
	}
	return id, nil
}

// CitizenByIndex returns the id of the citizen with this pid index, or ""
// when the gateway has never seen them. It writes nothing.
func CitizenByIndex(ctx context.Context, q Querier, pidIndex []byte) (string, error) {
	var id string
	err := q.conn().QueryRow(ctx, `SELECT id FROM citizens WHERE pid_index = $1`, pidIndex).Scan(&id)
	err = interpretError(err, "")
	if err == errNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find citizen: %w", err)
	}
	return id, nil
}

// LockCitizen takes the citizen's row lock, which serialises every change to
// their accounts (the active count, the default). NO KEY UPDATE does not block
// rows that merely reference the citizen.
func LockCitizen(ctx context.Context, tx *Tx, id string) error {
	var got string
	err := tx.conn().QueryRow(ctx, `SELECT id FROM citizens WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&got)
	err = interpretError(err, "")
	if err == errNoRows {
		return notFound("citizen", id)
	}
	if err != nil {
		return fmt.Errorf("lock citizen %s: %w", id, err)
	}
	return nil
}
