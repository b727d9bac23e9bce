package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// StoredReceipt is a receipt as kept: its numbering, the kid that signed it
// and its JWS sealed (the JWS carries the payer's name). The receipt itself
// is the JWS's payload.
type StoredReceipt struct {
	ID, RequestID, PortalID, Number string
	Year                            int
	Seq                             int64
	Amount                          decimal.Decimal
	JWSSealed                       []byte
	KID                             string
	IssuedAt, SignedAt              time.Time
}

const receiptColumns = `id, payment_request_id, portal_id, number, year, seq, amount, jws_sealed, kid, issued_at, signed_at`

func scanReceipt(row pgx.Row) (*StoredReceipt, error) {
	var r StoredReceipt
	err := row.Scan(&r.ID, &r.RequestID, &r.PortalID, &r.Number, &r.Year, &r.Seq, &r.Amount, &r.JWSSealed, &r.KID, &r.IssuedAt, &r.SignedAt)
	return &r, err
}

// NextReceiptSeq takes the next sequence number of portalID's receipts of
// year, from 1. The counter's row stays locked until tx ends, so numbers are
// given in commit order and a rolled-back transaction gives its number back:
// the paid transaction calls it last, to hold the lock the shortest time.
func NextReceiptSeq(ctx context.Context, tx *Tx, portalID string, year int) (int64, error) {
	var seq int64
	err := tx.conn().QueryRow(ctx, `INSERT INTO receipt_counters (portal_id, year, last_seq) VALUES ($1, $2, 1)
		ON CONFLICT (portal_id, year) DO UPDATE SET last_seq = receipt_counters.last_seq + 1
		RETURNING last_seq`, portalID, year).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("next receipt number of %s in %d: %w", portalID, year, err)
	}
	return seq, nil
}

// InsertReceipt records an issued receipt and clears the payer's name kept
// on attemptID for it: the receipt holds it now.
func InsertReceipt(ctx context.Context, tx *Tx, r *StoredReceipt, attemptID string) error {
	if tx.hold {
		return insertReceiptAtCommit(ctx, tx, r, attemptID)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO receipts (`+receiptColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.RequestID, r.PortalID, r.Number, r.Year, r.Seq, r.Amount, r.JWSSealed, r.KID, r.IssuedAt, r.SignedAt)
	b.Queue(`UPDATE payment_attempts SET payer_name_sealed = NULL WHERE id = $1`, attemptID)
	if err := tx.conn().SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert receipt %s of %s: %w", r.ID, r.RequestID, err)
	}
	return nil
}

// GetReceiptOfRequest returns the receipt of payment request reqID, or
// not_found (a request not paid has none).
func GetReceiptOfRequest(ctx context.Context, q Querier, reqID string) (*StoredReceipt, error) {
	return getReceipt(ctx, q, "payment_request_id", reqID)
}

// GetReceipt returns receipt id, or not_found.
func GetReceipt(ctx context.Context, q Querier, id string) (*StoredReceipt, error) {
	return getReceipt(ctx, q, "id", id)
}

func getReceipt(ctx context.Context, q Querier, column, value string) (*StoredReceipt, error) {
	r, err := scanReceipt(q.conn().QueryRow(ctx, `SELECT `+receiptColumns+` FROM receipts WHERE `+column+` = $1`, value))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, notFound("receipt", value)
	}
	if err != nil {
		return nil, fmt.Errorf("get receipt %s: %w", value, err)
	}
	return r, nil
}

// LockReceiptsSignedBy locks up to limit receipts signed by kid, by id,
// skipping none: a re-signing batch.
func LockReceiptsSignedBy(ctx context.Context, tx *Tx, kid string, limit int) ([]*StoredReceipt, error) {
	rows, err := tx.conn().Query(ctx, `SELECT `+receiptColumns+` FROM receipts WHERE kid = $1 ORDER BY id LIMIT $2 FOR UPDATE`, kid, limit)
	if err != nil {
		return nil, fmt.Errorf("receipts signed by %s: %w", kid, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*StoredReceipt, error) { return scanReceipt(row) })
}

// SaveReceiptSignature replaces the signature of receipt id, conditional on
// the kid it was read with.
func SaveReceiptSignature(ctx context.Context, tx *Tx, id, oldKID, newKID string, jwsSealed []byte, at time.Time) error {
	tag, err := tx.conn().Exec(ctx, `UPDATE receipts SET kid = $3, jws_sealed = $4, signed_at = $5 WHERE id = $1 AND kid = $2`,
		id, oldKID, newKID, jwsSealed, at)
	if err != nil {
		return fmt.Errorf("re-sign receipt %s: %w", id, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("re-sign receipt %s: it is no longer signed by %s", id, oldKID)
	}
	return nil
}

// SetAttemptPayerName keeps the sealed name of the citizen paying with
// attempt attemptID until its receipt is issued.
func SetAttemptPayerName(ctx context.Context, tx *Tx, attemptID string, sealed []byte) error {
	if _, err := tx.conn().Exec(ctx, `UPDATE payment_attempts SET payer_name_sealed = $2 WHERE id = $1`, attemptID, sealed); err != nil {
		return fmt.Errorf("keep payer of %s: %w", attemptID, err)
	}
	return nil
}

// SucceededRefund is a refund that returned money, as a receipt's verify
// page lists it.
type SucceededRefund struct {
	Amount decimal.Decimal
	At     time.Time
}

// SucceededRefunds lists the succeeded refunds of request reqID, oldest
// first.
func SucceededRefunds(ctx context.Context, q Querier, reqID string) ([]SucceededRefund, error) {
	rows, err := q.conn().Query(ctx, `SELECT amount, updated_at FROM refunds
		WHERE payment_request_id = $1 AND status = 'succeeded' ORDER BY updated_at, id`, reqID)
	if err != nil {
		return nil, fmt.Errorf("refunds of %s: %w", reqID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SucceededRefund, error) {
		var r SucceededRefund
		return r, row.Scan(&r.Amount, &r.At)
	})
}
