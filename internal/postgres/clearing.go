package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pgtx"
)

// LockedDebit is a debit's attempt and its request, both locked for the
// bank's outcome, with what the receipt of a success needs.
type LockedDebit struct {
	Request         *payment.Request
	Attempt         *payment.Attempt
	PortalName      string // the request's portal's, as receipts show it
	PayerNameSealed []byte // kept on the attempt until its receipt (nil if none)
	// Key is the current receipt key, share-locked (CurrentReceiptKey), when
	// it was asked for and there is one.
	Key *StoredReceiptKey
}

// LockDebit reads and locks, in one round trip, the request and the attempt
// of debit debitID sent to bank bankCode: the request first, then the
// attempt, the order Pay takes them in, so that the two never deadlock; the
// statements run in that order, pipelined. With withKey it also reads and
// share-locks the current receipt key, after both. It returns not_found
// when no such debit was sent to that bank, and then locks nothing.
func LockDebit(ctx context.Context, tx *Tx, bankCode, debitID string, withKey bool) (*LockedDebit, error) {
	b := &pgx.Batch{}
	// The attempt's request never changes: the sub-select may read it
	// without a lock.
	b.Queue(`SELECT `+requestColumns+`, (SELECT p.name FROM portals p WHERE p.id = payment_requests.portal_id)
		FROM payment_requests
		WHERE id = (SELECT payment_request_id FROM payment_attempts WHERE id = $1 AND bank_code = $2) FOR UPDATE`, debitID, bankCode)
	b.Queue(`SELECT `+attemptColumns+`, payer_name_sealed FROM payment_attempts WHERE id = $1 AND bank_code = $2 FOR UPDATE`,
		debitID, bankCode)
	if withKey {
		b.Queue(currentReceiptKeySQL)
	}
	br := tx.conn().SendBatch(ctx, b)
	defer br.Close() //nolint:errcheck // the error is the first Scan's
	var d LockedDebit
	var portalName *string
	var err error
	if d.Request, err = scanRequest(withExtra{br.QueryRow(), []any{&portalName}}); err != nil {
		return nil, lockDebitError(err, bankCode, debitID)
	}
	d.PortalName = deref(portalName)
	if d.Attempt, err = scanAttempt(withExtra{br.QueryRow(), []any{&d.PayerNameSealed}}); err != nil {
		return nil, lockDebitError(err, bankCode, debitID)
	}
	if withKey {
		k, err := scanReceiptKey(br.QueryRow())
		if err = interpretError(err, ""); err != nil && err != errNoRows {
			return nil, fmt.Errorf("current receipt key: %w", err)
		}
		if err == nil {
			d.Key = k
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("lock debit %s: %w", debitID, err)
	}
	return &d, nil
}

func lockDebitError(err error, bankCode, debitID string) error {
	if err = interpretError(err, ""); err == errNoRows {
		return fault.New(fault.NotFound, "no debit %s was sent to bank %s", debitID, bankCode)
	}
	return fmt.Errorf("lock debit %s: %w", debitID, err)
}

// withExtra is a row whose Scan fills extra after the destinations given.
type withExtra struct {
	pgx.Row
	extra []any
}

func (r withExtra) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// The functions below hold a write whose result nobody reads back for
// tx's COMMIT (pgtx.DeferUntilCommit): on a transaction of DB.InTx or
// DB.Begin it goes out with COMMIT, saving its round trip, and its error,
// if any, is the commit's, which then rolls everything back. On any other
// transaction it runs at once. A later read in tx does not see it: only a
// caller that reads none of it again may use them. A write that could find
// nothing to change fails instead, so that the commit does: a cast that
// fails, of a value that depends on what was written, so that the planner
// cannot fold it into an error of every call.

// saveAttemptAtCommit is SaveAttempt, at commit.
func saveAttemptAtCommit(ctx context.Context, tx *Tx, a *payment.Attempt) error {
	return atCommit(ctx, tx, "save attempt "+a.ID, `WITH u AS (
		UPDATE payment_attempts SET status = $2, bank_reference = nullif($3, ''), failure_code = nullif($4, ''),
			failure_message = nullif($5, ''), outcome_at = $6, updated_at = $7 WHERE id = $1 RETURNING 1)
		SELECT CASE WHEN c.n = 1 THEN true ELSE ('no payment attempt ' || $1::text || ': ' || c.n || ' saved')::boolean END
		FROM (SELECT count(*) AS n FROM u) c`,
		a.ID, a.Status, a.BankReference, a.FailureCode, a.FailureMessage, a.OutcomeAt, a.UpdatedAt)
}

// savePaymentRequestAtCommit is SavePaymentRequest, at commit: a request
// changed since readVersion fails the commit.
func savePaymentRequestAtCommit(ctx context.Context, tx *Tx, r *payment.Request, readVersion int) error {
	args, err := requestSaveArgs(r, readVersion)
	if err != nil {
		return err
	}
	return atCommit(ctx, tx, "save payment request "+r.ID, `WITH u AS (
		UPDATE payment_requests SET status = $3, version = $4, amount_refunded = $5,
			paid_attempt_id = $6, paid_bank_code = $7, paid_bank_reference = $8, paid_at = $9, updated_at = $10
		WHERE id = $1 AND version = $2 RETURNING 1)
		SELECT CASE WHEN c.n = 1 THEN true ELSE ('payment request ' || $1::text || ' changed meanwhile: ' || c.n || ' saved')::boolean END
		FROM (SELECT count(*) AS n FROM u) c`, args...)
}

// postLedgerAtCommit is PostLedger, at commit: t is checked now, and a
// cause posted before fails the commit (PostLedger's ErrAlreadyPosted).
func postLedgerAtCommit(ctx context.Context, tx *Tx, t ledger.Transaction) error {
	if err := t.Check(); err != nil {
		return fmt.Errorf("post ledger transaction: %w", err)
	}
	args := append(postLedgerArgs(t), len(t.Postings()))
	return atCommit(ctx, tx, "post ledger transaction for "+t.Cause(), postLedgerCTEs+`
		SELECT CASE WHEN c.n = $8::bigint THEN true
			ELSE ('ledger transaction for ' || $1 || ' already posted: ' || c.n || ' postings written')::boolean END
		FROM (SELECT count(*) AS n FROM p) c`, args...)
}

// insertEventAtCommit is InsertEvent, at commit.
func insertEventAtCommit(ctx context.Context, tx *Tx, e NewEvent) error {
	return atCommit(ctx, tx, "insert event "+e.ID, insertEvent, e.args()...)
}

// insertReceiptAtCommit is InsertReceipt, at commit.
func insertReceiptAtCommit(ctx context.Context, tx *Tx, r *StoredReceipt, attemptID string) error {
	what := fmt.Sprintf("insert receipt %s of %s", r.ID, r.RequestID)
	if err := atCommit(ctx, tx, what, `INSERT INTO receipts (`+receiptColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.RequestID, r.PortalID, r.Number, r.Year, r.Seq, r.Amount, r.JWSSealed, r.KID, r.IssuedAt, r.SignedAt); err != nil {
		return err
	}
	return atCommit(ctx, tx, what, `UPDATE payment_attempts SET payer_name_sealed = NULL WHERE id = $1`, attemptID)
}

func atCommit(ctx context.Context, tx *Tx, what, sql string, args ...any) error {
	if err := pgtx.DeferUntilCommit(ctx, tx.tx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", what, interpretError(err, ""))
	}
	return nil
}
