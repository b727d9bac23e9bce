package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
)

// InsertAttempt records a new pending attempt. PostgreSQL refuses a second
// live attempt for one request: that becomes payment_in_progress.
func InsertAttempt(ctx context.Context, tx *Tx, a *payment.Attempt) error {
	_, err := tx.conn().Exec(ctx, `INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency,
		status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
		a.ID, a.RequestID, a.AccountID, a.BankCode, a.Amount, a.Currency, a.Status, a.CreatedAt)
	if err = interpretError(err, ""); err != nil {
		return refusalOr(err, fmt.Errorf("insert attempt %s: %w", a.ID, err))
	}
	return nil
}

const attemptColumns = `id, payment_request_id, account_id, bank_code, amount, currency, status,
	coalesce(bank_reference, ''), coalesce(failure_code, ''), coalesce(failure_message, ''), sent_at, outcome_at, created_at, updated_at`

func scanAttempt(row pgx.Row) (*payment.Attempt, error) {
	var a payment.Attempt
	err := row.Scan(&a.ID, &a.RequestID, &a.AccountID, &a.BankCode, &a.Amount, &a.Currency, &a.Status,
		&a.BankReference, &a.FailureCode, &a.FailureMessage, &a.SentAt, &a.OutcomeAt, &a.CreatedAt, &a.UpdatedAt)
	return &a, err
}

// GetAttempt reads an attempt; lock takes its row lock.
func GetAttempt(ctx context.Context, q Querier, id string, lock bool) (*payment.Attempt, error) {
	sql := `SELECT ` + attemptColumns + ` FROM payment_attempts WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	a, err := scanAttempt(q.conn().QueryRow(ctx, sql, id))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, notFound("payment attempt", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get attempt %s: %w", id, err)
	}
	return a, nil
}

// SaveAttempt writes an attempt's outcome.
func SaveAttempt(ctx context.Context, tx *Tx, a *payment.Attempt) error {
	if tx.hold {
		return saveAttemptAtCommit(ctx, tx, a)
	}
	_, err := tx.conn().Exec(ctx, `UPDATE payment_attempts SET status = $2, bank_reference = nullif($3, ''), failure_code = nullif($4, ''),
		failure_message = nullif($5, ''), outcome_at = $6, updated_at = $7 WHERE id = $1`,
		a.ID, a.Status, a.BankReference, a.FailureCode, a.FailureMessage, a.OutcomeAt, a.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save attempt %s: %w", a.ID, err)
	}
	return nil
}

// Sent names a debit or a refund the gateway sends to a bank.
type Sent struct {
	table, id string
}

// SentDebit is the debit of payment attempt id.
func SentDebit(attemptID string) Sent { return Sent{"payment_attempts", attemptID} }

// SentRefund is refund id.
func SentRefund(refundID string) Sent { return Sent{"refunds", refundID} }

// MarkSent records the first time s was sent.
func MarkSent(ctx context.Context, q Querier, s Sent) error {
	_, err := q.conn().Exec(ctx, `UPDATE `+s.table+` SET sent_at = coalesce(sent_at, now()) WHERE id = $1`, s.id)
	if err != nil {
		return fmt.Errorf("mark %s sent: %w", s.id, err)
	}
	return nil
}

// SentState is the bank s went to and when it was first sent (nil if it
// has not been yet).
func SentState(ctx context.Context, q Querier, s Sent) (bankCode string, sentAt *time.Time, err error) {
	err = q.conn().QueryRow(ctx, `SELECT bank_code, sent_at FROM `+s.table+` WHERE id = $1`, s.id).Scan(&bankCode, &sentAt)
	if err = interpretError(err, ""); err == errNoRows {
		return "", nil, notFound("sent object", s.id)
	}
	if err != nil {
		return "", nil, fmt.Errorf("sent state of %s: %w", s.id, err)
	}
	return bankCode, sentAt, nil
}

// PayAccount is what paying needs to know of a linked account.
type PayAccount struct {
	ID       string
	BankCode string
	Status   string
}

// AccountForPayment returns the citizen's account id, or their default when
// id is empty (nil, nil when they have none). The row is share-locked, so an
// unlink racing the payment waits and then sees the pending debit.
func AccountForPayment(ctx context.Context, q Querier, citizenID, id string) (*PayAccount, error) {
	sql := `SELECT id, bank_code, status FROM linked_accounts WHERE citizen_id = $1 AND id = $2 FOR SHARE`
	args := []any{citizenID, id}
	if id == "" {
		sql = `SELECT id, bank_code, status FROM linked_accounts WHERE citizen_id = $1 AND is_default FOR SHARE`
		args = args[:1]
	}
	var a PayAccount
	err := q.conn().QueryRow(ctx, sql, args...).Scan(&a.ID, &a.BankCode, &a.Status)
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account for payment: %w", err)
	}
	return &a, nil
}

// DebitDetails is what a debit request to a bank carries, personal data
// still sealed, each value with the binding it opens under.
type DebitDetails struct {
	Attempt          *payment.Attempt
	AccountSealed    []byte
	AccountBinding   pii.Binding
	HolderPIDSealed  []byte
	HolderPIDBinding pii.Binding
	Description      string
	DossierCode      string
}

// GetDebitDetails reads what the bank must be sent for attempt id.
func GetDebitDetails(ctx context.Context, q Querier, id string) (*DebitDetails, error) {
	a, err := GetAttempt(ctx, q, id, false)
	if err != nil {
		return nil, err
	}
	d := &DebitDetails{Attempt: a}
	var accountID, requestID string
	var accountIndex, pidIndex []byte
	err = q.conn().QueryRow(ctx, `SELECT la.id, la.account_index, la.account_sealed, pr.id, pr.citizen_pid_index, pr.citizen_pid_sealed,
		pr.description, pr.dossier_code
		FROM payment_attempts pa JOIN linked_accounts la ON la.id = pa.account_id
		JOIN payment_requests pr ON pr.id = pa.payment_request_id WHERE pa.id = $1`, id).
		Scan(&accountID, &accountIndex, &d.AccountSealed, &requestID, &pidIndex, &d.HolderPIDSealed, &d.Description, &d.DossierCode)
	if err != nil {
		return nil, fmt.Errorf("debit details of %s: %w", id, err)
	}
	d.AccountBinding = AccountNumberBinding(accountID, accountIndex)
	d.HolderPIDBinding = RequestPIDBinding(requestID, pidIndex)
	return d, nil
}

// ID is the debit's payment attempt id, or the refund's id.
func (s Sent) ID() string { return s.id }
