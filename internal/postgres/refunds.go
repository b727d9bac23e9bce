package postgres

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/payment"
)

// InsertRefund records a new pending refund.
func InsertRefund(ctx context.Context, tx *Tx, r *payment.Refund) error {
	_, err := tx.conn().Exec(ctx, `INSERT INTO refunds (id, payment_request_id, attempt_id, bank_code, amount, currency, reason,
		status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8, $9, $9)`,
		r.ID, r.RequestID, r.AttemptID, r.BankCode, r.Amount, r.Currency, r.Reason, r.Status, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert refund %s: %w", r.ID, err)
	}
	return nil
}

const refundColumns = `id, payment_request_id, attempt_id, bank_code, amount, currency, coalesce(reason, ''), status,
	coalesce(failure_reason, ''), coalesce(bank_reference, ''), sent_at, created_at, updated_at`

// GetRefund reads a refund; lock takes its row lock.
func GetRefund(ctx context.Context, q Querier, id string, lock bool) (*payment.Refund, error) {
	sql := `SELECT ` + refundColumns + ` FROM refunds WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var r payment.Refund
	err := q.conn().QueryRow(ctx, sql, id).Scan(&r.ID, &r.RequestID, &r.AttemptID, &r.BankCode, &r.Amount, &r.Currency, &r.Reason,
		&r.Status, &r.FailureReason, &r.BankReference, &r.SentAt, &r.CreatedAt, &r.UpdatedAt)
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, notFound("refund", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get refund %s: %w", id, err)
	}
	return &r, nil
}

// SaveRefund writes a refund's outcome.
func SaveRefund(ctx context.Context, tx *Tx, r *payment.Refund) error {
	_, err := tx.conn().Exec(ctx, `UPDATE refunds SET status = $2, failure_reason = nullif($3, ''), bank_reference = nullif($4, ''),
		updated_at = $5 WHERE id = $1`, r.ID, r.Status, r.FailureReason, r.BankReference, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save refund %s: %w", r.ID, err)
	}
	return nil
}

// ReservedRefunds sums a request's refunds that are pending or succeeded.
// Call it with the request's row locked.
func ReservedRefunds(ctx context.Context, tx *Tx, requestID string) (decimal.Decimal, error) {
	var sum decimal.Decimal
	err := tx.conn().QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM refunds
		WHERE payment_request_id = $1 AND status IN ('pending', 'succeeded')`, requestID).Scan(&sum)
	if err != nil {
		return sum, fmt.Errorf("sum refunds of %s: %w", requestID, err)
	}
	return sum, nil
}
