package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
)

// postLedgerSQL writes a transaction and its postings in one statement, so
// in one round trip. A cause already in the ledger inserts nothing and
// returns no row, without the error that would abort the caller's
// transaction: the caller may still record the duplicate and commit.
//
// The statement is also the database's own guard of the ledger's balance
// (the schema has no balance trigger since migration 0008): verdict
// refuses, with an error, a set of postings with fewer than two lines or
// whose debits and credits differ, and nothing is written. Its failing cast
// depends on the postings, so the planner cannot fold it into an error of
// every call.
const postLedgerSQL = postLedgerCTEs + `
SELECT id, (SELECT count(*) FROM p) FROM t`

// postLedgerCTEs is the posting statement but its answer: t is the
// transaction written (no row for a cause already posted), p its postings.
const postLedgerCTEs = `WITH x AS (
	SELECT * FROM unnest($3::text[], $4::text[], $5::numeric[]) WITH ORDINALITY AS x(account, direction, amount, n)
), s AS (
	SELECT count(*) AS n,
		coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0) AS debits,
		coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0) AS credits
	FROM x
), verdict AS (
	SELECT CASE WHEN n >= 2 AND debits = credits THEN true
		ELSE ('ledger transaction ' || $1 || ' does not balance: ' || n || ' postings, debits ' || debits ||
			', credits ' || credits)::boolean END AS ok
	FROM s
), t AS (
	INSERT INTO ledger_transactions (cause, kind, booked_at)
	SELECT $1, $2, coalesce($7, now()) FROM verdict WHERE ok
	ON CONFLICT (cause) DO NOTHING
	RETURNING id
), p AS (
	INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency)
	SELECT t.id, x.account, x.direction, x.amount, $6
	FROM t, x
	ORDER BY x.n
	RETURNING 1
)`

// PostLedger writes t, which must come from ledger.DebitSucceeded,
// ledger.RefundSucceeded or ledger.SettlementShare, in tx: the transaction row and its postings
// together. It returns an error wrapping ledger.ErrAlreadyPosted when t's
// cause has been posted before (by this tx or any committed one; a
// concurrent one for the same cause is waited for) and tx stays usable; an
// error wrapping ledger.ErrInvalidTransaction, ErrInvalidAmount or
// ErrUnbalanced for a malformed t, before anything is written; any other
// error is PostgreSQL's.
func PostLedger(ctx context.Context, tx *Tx, t ledger.Transaction) error {
	if tx.hold {
		return postLedgerAtCommit(ctx, tx, t)
	}
	if err := t.Check(); err != nil {
		return fmt.Errorf("post ledger transaction: %w", err)
	}
	args := postLedgerArgs(t)
	var id, n int64
	err := tx.conn().QueryRow(ctx, postLedgerSQL, args...).Scan(&id, &n)
	err = interpretError(err, "")
	if err == errNoRows {
		return fmt.Errorf("post ledger transaction for %s: %w", t.Cause(), ledger.ErrAlreadyPosted)
	}
	if err != nil {
		return fmt.Errorf("post ledger transaction for %s: %w", t.Cause(), err)
	}
	if want := len(t.Postings()); n != int64(want) {
		return fmt.Errorf("post ledger transaction for %s: wrote %d of %d postings", t.Cause(), n, want)
	}
	return nil
}

// postLedgerArgs are the posting statement's $1 to $7 for t.
func postLedgerArgs(t ledger.Transaction) []any {
	ps := t.Postings()
	accounts := make([]string, len(ps))
	directions := make([]string, len(ps))
	amounts := make([]string, len(ps)) // text, so no decimal codec is needed on the connection
	for i, p := range ps {
		accounts[i], directions[i], amounts[i] = string(p.Account), string(p.Direction), p.Amount.String()
	}
	var at *time.Time
	if b := t.BookedAt(); !b.IsZero() {
		at = &b
	}
	return []any{t.Cause(), string(t.Kind()), accounts, directions, amounts, t.Currency(), at}
}

// Balances returns every ledger account's total debits and credits, in
// account order.
func Balances(ctx context.Context, q Querier) ([]ledger.Balance, error) {
	rows, err := q.conn().Query(ctx, `SELECT account,
			coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0)::text,
			coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0)::text
		FROM ledger_postings GROUP BY account ORDER BY account`)
	if err != nil {
		return nil, fmt.Errorf("read ledger balances: %w", err)
	}
	defer rows.Close()
	var out []ledger.Balance
	for rows.Next() {
		var account, debits, credits string
		if err := rows.Scan(&account, &debits, &credits); err != nil {
			return nil, fmt.Errorf("read ledger balances: %w", err)
		}
		b := ledger.Balance{Account: ledger.Account(account)}
		if b.Debits, err = decimal.NewFromString(debits); err != nil {
			return nil, fmt.Errorf("read ledger balance of %s: %w", account, err)
		}
		if b.Credits, err = decimal.NewFromString(credits); err != nil {
			return nil, fmt.Errorf("read ledger balance of %s: %w", account, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger balances: %w", err)
	}
	return out, nil
}
