package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// IdempotencyRecord is what PostgreSQL holds of a claimed key: the
// fingerprint it was claimed with, and the response once it is stored.
type IdempotencyRecord struct {
	Fingerprint []byte
	Status      *int
	Body        []byte
}

// SameRequest reports whether the record was claimed with fp.
func (r IdempotencyRecord) SameRequest(fp []byte) bool { return bytes.Equal(r.Fingerprint, fp) }

// ClaimIdempotencyKey begins the transaction of a guarded operation with
// the key's record, so that a concurrent claim of the same key waits on its
// unique index until this transaction ends. claimed is false when the key
// already had a record: the transaction is then over, and the record is
// read with IdempotencyRecordOf.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, scope, key string, fp []byte) (tx *OwnedTx, claimed bool, err error) {
	tx, err = db.Begin(ctx)
	if err != nil {
		return nil, false, err
	}
	tag, err := tx.t.Exec(ctx, `INSERT INTO idempotency_records (scope, key, fingerprint)
		VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, scope, key, fp)
	if err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, false, fmt.Errorf("insert idempotency record: %w", err)
	}
	if tag.RowsAffected() == 0 {
		tx.Rollback(ctx)
		return nil, false, nil
	}
	return tx, true, nil
}

// ErrKeyClaimed is CommitClaimed's answer when the key already had a
// record: nothing of the transaction was kept, and the record is read with
// IdempotencyRecordOf.
var ErrKeyClaimed = errors.New("the idempotency key already has a record")

// CommitClaimed commits a guarded operation whose writes were all held back
// for COMMIT, claiming its key at the same time: BEGIN (unless a read of
// the operation sent it), the key's record already holding its response,
// the held-back writes and COMMIT go in one round trip. The record goes
// first, so that a concurrent duplicate waits on its unique index before
// any other write of its own, and then fails with ErrKeyClaimed and writes
// nothing. Any other error is the commit's, explained by the writes
// (OnCommitError).
func (o *OwnedTx) CommitClaimed(ctx context.Context, scope, key string, fp []byte, status int, body []byte) error {
	if c := o.create; c != nil && o.t.Idle() {
		// A create and nothing else: written with the creates around it.
		after := o.t.Abandon()
		switch o.db.submit(&groupItem{scope: scope, key: key, fp: fp, status: status, body: body, create: c}) {
		case groupCommitted:
			for _, fn := range after {
				fn()
			}
			return nil
		case groupKeyTaken:
			return ErrKeyClaimed
		}
		// Written alone, for its own answer.
		t, err := o.db.Begin(ctx)
		if err != nil {
			return err
		}
		for _, fn := range after {
			t.AfterCommit(fn)
		}
		o.t, o.Tx.tx = t.t, t.t
	}
	return o.commitClaimedAlone(ctx, scope, key, fp, status, body)
}

func (o *OwnedTx) commitClaimedAlone(ctx context.Context, scope, key string, fp []byte, status int, body []byte) error {
	if c := o.create; c != nil {
		o.t.AtCommitFirst(insertEvent, c.event.args()...)
		o.t.AtCommitFirst(c.sql, c.args...)
		o.create = nil
	}
	o.t.AtCommitFirst(insertRecord, scope, key, fp, status, body)
	err := o.t.Commit(ctx)
	if err == nil {
		return nil
	}
	if isKeyTaken(err) {
		return ErrKeyClaimed
	}
	return interpretError(o.explainCommit(err), "commit")
}

// isKeyTaken reports whether err is the unique violation of a key that
// already has its record.
func isKeyTaken(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == "idempotency_records_pkey"
}

// StoreIdempotentResponse holds back the write of the claimed key's
// response for COMMIT: if it fails, the commit fails and nothing is kept.
func (o *OwnedTx) StoreIdempotentResponse(scope, key string, status int, body []byte) {
	o.atCommit(`UPDATE idempotency_records SET response_status = $3, response_body = $4
		WHERE scope = $1 AND key = $2`, scope, key, status, body)
}

// StoreIdempotentRefusal records a key with its response on its own, and
// reports false when the key already had a record.
func (db *DB) StoreIdempotentRefusal(ctx context.Context, scope, key string, fp []byte, status int, body []byte) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO idempotency_records (scope, key, fingerprint, response_status, response_body)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, scope, key, fp, status, body)
	if err != nil {
		return false, fmt.Errorf("store refusal: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// IdempotencyRecordOf reads a key's record; found is false when there is
// none (it was purged, or its claim rolled back).
func (db *DB) IdempotencyRecordOf(ctx context.Context, scope, key string) (rec IdempotencyRecord, found bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT fingerprint, response_status, response_body
		FROM idempotency_records WHERE scope = $1 AND key = $2`, scope, key).Scan(&rec.Fingerprint, &rec.Status, &rec.Body)
	if err = interpretError(err, ""); err == errNoRows {
		return IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return IdempotencyRecord{}, false, fmt.Errorf("read idempotency record: %w", err)
	}
	return rec, true, nil
}

// PurgeIdempotencyRecords deletes records older than keep, returning how
// many went.
func (db *DB) PurgeIdempotencyRecords(ctx context.Context, keep time.Duration) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_records WHERE created_at < now() - make_interval(secs => $1)`, keep.Seconds())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency records: %w", err)
	}
	return tag.RowsAffected(), nil
}
