package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/pii"
)

// SealedAccount is an account number as stored: blind index, ciphertext and
// mask, with the holder's name sealed for the bank's verification.
type SealedAccount struct {
	Index            []byte
	Sealed           []byte
	HolderNameSealed []byte
}

// InsertAccount records a new linked account.
func InsertAccount(ctx context.Context, tx *Tx, a *account.Account, s SealedAccount) error {
	_, err := tx.conn().Exec(ctx, `INSERT INTO linked_accounts (id, citizen_id, bank_code, account_index, account_sealed,
		account_masked, holder_name_sealed, status, is_default, verification_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		a.ID, a.CitizenID, a.BankCode, s.Index, s.Sealed, a.NumberMasked, s.HolderNameSealed, a.Status, a.IsDefault,
		a.VerificationID, a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert account %s: %w", a.ID, err)
	}
	return nil
}

const accountColumns = `id, citizen_id, bank_code, account_masked, status, is_default, coalesce(rejection_reason, ''),
	coalesce(bank_reason_code, ''), verification_id, coalesce(verification_outcome, ''), verification_sent_at,
	created_at, updated_at`

func scanAccount(row pgx.Row) (*account.Account, error) {
	var a account.Account
	err := row.Scan(&a.ID, &a.CitizenID, &a.BankCode, &a.NumberMasked, &a.Status, &a.IsDefault, &a.RejectionReason,
		&a.BankReasonCode, &a.VerificationID, &a.VerificationOutcome, &a.VerificationSentAt, &a.CreatedAt, &a.UpdatedAt)
	return &a, err
}

func getAccount(ctx context.Context, q Querier, where string, lock bool, args ...any) (*account.Account, error) {
	sql := `SELECT ` + accountColumns + ` FROM linked_accounts WHERE ` + where
	if lock {
		sql += ` FOR UPDATE`
	}
	a, err := scanAccount(q.conn().QueryRow(ctx, sql, args...))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get account: %w", err)
	}
	return a, nil
}

// GetCitizenAccount returns the citizen's account id (locked when lock), or
// not_found when it is not theirs.
func GetCitizenAccount(ctx context.Context, q Querier, citizenID, id string, lock bool) (*account.Account, error) {
	a, err := getAccount(ctx, q, `citizen_id = $1 AND id = $2`, lock, citizenID, id)
	if err == nil && a == nil {
		return nil, notFound("account", id)
	}
	return a, err
}

// GetAccount returns account id (locked when lock), or nil when there is none.
func GetAccount(ctx context.Context, q Querier, id string, lock bool) (*account.Account, error) {
	return getAccount(ctx, q, `id = $1`, lock, id)
}

// AccountByVerification returns the account whose verification id is vid,
// or nil when there is none.
func AccountByVerification(ctx context.Context, q Querier, vid string) (*account.Account, error) {
	return getAccount(ctx, q, `verification_id = $1`, false, vid)
}

// LiveAccountOf returns the citizen's pending or active account with this
// number at this bank, or nil.
func LiveAccountOf(ctx context.Context, q Querier, citizenID, bankCode string, index []byte) (*account.Account, error) {
	return getAccount(ctx, q, `citizen_id = $1 AND bank_code = $2 AND account_index = $3
		AND status IN ('pending_verification', 'active') ORDER BY id DESC LIMIT 1`, false, citizenID, bankCode, index)
}

// ActiveForAnother reports whether the number at this bank is active for a
// citizen other than citizenID.
func ActiveForAnother(ctx context.Context, q Querier, citizenID, bankCode string, index []byte) (bool, error) {
	var taken bool
	err := q.conn().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM linked_accounts WHERE bank_code = $1 AND account_index = $2
		AND status = 'active' AND citizen_id <> $3)`, bankCode, index, citizenID).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("check account number in use: %w", err)
	}
	return taken, nil
}

// CountLiveAccounts counts the citizen's pending and active accounts.
func CountLiveAccounts(ctx context.Context, q Querier, citizenID string) (int, error) {
	var n int
	err := q.conn().QueryRow(ctx, `SELECT count(*) FROM linked_accounts WHERE citizen_id = $1
		AND status IN ('pending_verification', 'active')`, citizenID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count accounts of %s: %w", citizenID, err)
	}
	return n, nil
}

// RecentBankRefusals returns when the citizen's links were last refused by
// their bank (rejected not_verified) since since, newest first, at most limit.
func RecentBankRefusals(ctx context.Context, q Querier, citizenID string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := q.conn().Query(ctx, `SELECT updated_at FROM linked_accounts WHERE citizen_id = $1
		AND status = 'rejected' AND rejection_reason = 'not_verified' AND updated_at > $2
		ORDER BY updated_at DESC LIMIT $3`, citizenID, since, limit)
	if err != nil {
		return nil, fmt.Errorf("find refused links of %s: %w", citizenID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("find refused links of %s: %w", citizenID, err)
	}
	return out, nil
}

// HasDefaultAccount reports whether the citizen has a default account.
func HasDefaultAccount(ctx context.Context, q Querier, citizenID string) (bool, error) {
	var has bool
	err := q.conn().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM linked_accounts WHERE citizen_id = $1 AND is_default)`,
		citizenID).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("find default account of %s: %w", citizenID, err)
	}
	return has, nil
}

// ClearDefaultAccount makes none of the citizen's accounts the default
// except keep, returning how many changed.
func ClearDefaultAccount(ctx context.Context, tx *Tx, citizenID, keep string, now time.Time) error {
	_, err := tx.conn().Exec(ctx, `UPDATE linked_accounts SET is_default = false, updated_at = $3
		WHERE citizen_id = $1 AND is_default AND id <> $2`, citizenID, keep, now)
	if err != nil {
		return fmt.Errorf("clear default account of %s: %w", citizenID, err)
	}
	return nil
}

// SaveAccount writes a's mutable fields. Activating a number that is active
// for another citizen is refused by the linked_accounts_active_number index
// and comes back as account_taken.
func SaveAccount(ctx context.Context, tx *Tx, a *account.Account) error {
	_, err := tx.conn().Exec(ctx, `UPDATE linked_accounts SET status = $2, is_default = $3, rejection_reason = nullif($4, ''),
		verification_outcome = nullif($5, ''), bank_reason_code = nullif($6, ''), updated_at = $7 WHERE id = $1`,
		a.ID, a.Status, a.IsDefault, a.RejectionReason, a.VerificationOutcome, a.BankReasonCode, a.UpdatedAt)
	if err = interpretError(err, ""); err != nil {
		return refusalOr(err, fmt.Errorf("save account %s: %w", a.ID, err))
	}
	return nil
}

// ListAccounts returns up to f.Limit of the citizen's accounts, newest first,
// and whether more follow.
func ListAccounts(ctx context.Context, q Querier, f account.Filter) ([]*account.Account, bool, error) {
	args := []any{f.CitizenID}
	conds := []string{"citizen_id = $1"}
	if f.Status != "" {
		args = append(args, f.Status)
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	if f.Before != "" {
		args = append(args, f.Before)
		conds = append(conds, fmt.Sprintf("id < $%d", len(args)))
	}
	args = append(args, f.Limit+1)
	rows, err := q.conn().Query(ctx, `SELECT `+accountColumns+` FROM linked_accounts WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []*account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// HasPendingDebit reports whether a payment attempt on the account still
// awaits its bank's word.
func HasPendingDebit(ctx context.Context, q Querier, accountID string) (bool, error) {
	var busy bool
	err := q.conn().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payment_attempts WHERE account_id = $1 AND status = 'pending')`,
		accountID).Scan(&busy)
	if err != nil {
		return false, fmt.Errorf("find pending debits of %s: %w", accountID, err)
	}
	return busy, nil
}

// VerificationDetails is what an account verification sends to the bank,
// personal data still sealed, each value with the binding it opens under
// (the holder's name is bound to the account's id).
type VerificationDetails struct {
	Account          *account.Account
	AccountSealed    []byte
	AccountBinding   pii.Binding
	HolderNameSealed []byte
	HolderPIDSealed  []byte
	HolderPIDBinding pii.Binding
}

// GetVerificationDetails reads what the bank must be sent to verify account
// id, or nil when there is no such account.
func GetVerificationDetails(ctx context.Context, q Querier, id string) (*VerificationDetails, error) {
	a, err := GetAccount(ctx, q, id, false)
	if err != nil || a == nil {
		return nil, err
	}
	d := &VerificationDetails{Account: a}
	var accountIndex, pidIndex []byte
	var citizenID string
	err = q.conn().QueryRow(ctx, `SELECT la.account_index, la.account_sealed, la.holder_name_sealed, c.id, c.pid_index, c.pid_sealed
		FROM linked_accounts la JOIN citizens c ON c.id = la.citizen_id WHERE la.id = $1`, id).
		Scan(&accountIndex, &d.AccountSealed, &d.HolderNameSealed, &citizenID, &pidIndex, &d.HolderPIDSealed)
	if err != nil {
		return nil, fmt.Errorf("verification details of %s: %w", id, err)
	}
	d.AccountBinding = AccountNumberBinding(a.ID, accountIndex)
	d.HolderPIDBinding = CitizenPIDBinding(citizenID, pidIndex)
	return d, nil
}

// MarkVerificationSent records, before the first send, that the
// verification of account id is on its way; it returns when it was first
// sent. A callback for a verification never sent is refused.
func MarkVerificationSent(ctx context.Context, q Querier, id string, now time.Time) (time.Time, error) {
	var at time.Time
	err := q.conn().QueryRow(ctx, `UPDATE linked_accounts SET verification_sent_at = coalesce(verification_sent_at, $2)
		WHERE id = $1 RETURNING verification_sent_at`, id, now).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("mark verification of %s sent: %w", id, err)
	}
	return at, nil
}
