package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
)

func ledgerSetup(t *testing.T) (context.Context, *pgxpool.Pool) {
	t.Helper()
	return context.Background(), testenv.NewDB(t).Pool
}

// debit and refund build a transaction the test knows to be valid.
func debit(t *testing.T, cause, bank, portal, amt string) ledger.Transaction {
	t.Helper()
	tx, err := ledger.DebitSucceeded(cause, bank, portal, amount(amt))
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func refund(t *testing.T, cause, bank, portal, amt string) ledger.Transaction {
	t.Helper()
	tx, err := ledger.RefundSucceeded(cause, bank, portal, amount(amt))
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func amount(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func balancesOf(t *testing.T, ctx context.Context, q postgres.Querier) map[ledger.Account]string {
	t.Helper()
	bs, err := postgres.Balances(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[ledger.Account]string{}
	for _, b := range bs {
		out[b.Account] = b.Debits.String() + "/" + b.Credits.String()
	}
	return out
}

func TestPostLedgerAndBalances(t *testing.T) {
	t.Parallel()
	ctx, pool := ledgerSetup(t)
	err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error {
		for _, lt := range []ledger.Transaction{
			debit(t, "pa_1", "VCB", "ptl_a", "75000"),
			debit(t, "pa_2", "TCB", "ptl_a", "50000"),
			refund(t, "rf_1", "VCB", "ptl_a", "25000"),
		} {
			if err := postgres.PostLedger(ctx, tx, lt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := balancesOf(t, ctx, postgres.NewDB(pool))
	want := map[ledger.Account]string{
		"bank_clearing:TCB":    "50000/0",
		"bank_clearing:VCB":    "75000/25000",
		"portal_payable:ptl_a": "25000/125000",
	}
	if len(got) != len(want) {
		t.Fatalf("balances = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	bs, err := postgres.Balances(ctx, postgres.NewDB(pool))
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.CheckBalances(bs); err != nil {
		t.Error(err)
	}
	var kind, cause string
	var n int
	if err := pool.QueryRow(ctx, `SELECT t.kind, t.cause, count(*) FROM ledger_transactions t
		JOIN ledger_postings p ON p.transaction_id = t.id WHERE t.cause = 'rf_1' GROUP BY t.id`).Scan(&kind, &cause, &n); err != nil {
		t.Fatal(err)
	}
	if kind != "refund_succeeded" || n != 2 {
		t.Errorf("rf_1: kind %s, %d postings", kind, n)
	}
}

func TestPostLedgerTwiceForOneCause(t *testing.T) {
	t.Parallel()
	ctx, pool := ledgerSetup(t)
	first := debit(t, "pa_1", "VCB", "ptl_a", "75000")
	// Another amount, even another bank: the cause alone decides.
	second := debit(t, "pa_1", "TCB", "ptl_a", "1")
	err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error {
		if err := postgres.PostLedger(ctx, tx, first); err != nil {
			return err
		}
		err := postgres.PostLedger(ctx, tx, second)
		if !errors.Is(err, ledger.ErrAlreadyPosted) {
			t.Errorf("second posting in the same tx: %v, want ErrAlreadyPosted", err)
		}
		// The transaction is still usable: the duplicate aborted nothing.
		_, err = postgres.Balances(ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error { return postgres.PostLedger(ctx, tx, second) })
	if !errors.Is(err, ledger.ErrAlreadyPosted) {
		t.Errorf("second posting in a later tx: %v, want ErrAlreadyPosted", err)
	}
	got := balancesOf(t, ctx, postgres.NewDB(pool))
	if len(got) != 2 || got["bank_clearing:VCB"] != "75000/0" || got["portal_payable:ptl_a"] != "0/75000" {
		t.Errorf("balances = %v", got)
	}
}

func TestPostLedgerConcurrently(t *testing.T) {
	t.Parallel()
	ctx, pool := ledgerSetup(t)
	lt := refund(t, "rf_1", "VCB", "ptl_a", "1000")
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error { return postgres.PostLedger(ctx, tx, lt) })
		})
	}
	close(start)
	wg.Wait()
	posted, dup := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			posted++
		case errors.Is(err, ledger.ErrAlreadyPosted):
			dup++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if posted != 1 || dup != n-1 {
		t.Errorf("%d posted, %d already posted; want 1 and %d", posted, dup, n-1)
	}
	var rows int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM ledger_postings").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("%d postings, want 2", rows)
	}
}

func TestPostLedgerRefusesAMalformedTransaction(t *testing.T) {
	t.Parallel()
	ctx, pool := ledgerSetup(t)
	err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error { return postgres.PostLedger(ctx, tx, ledger.Transaction{}) })
	if !errors.Is(err, ledger.ErrInvalidTransaction) {
		t.Errorf("zero transaction: %v, want ErrInvalidTransaction", err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM ledger_transactions").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d transactions written (%v)", n, err)
	}
}

// TestLedgerSchemaRefuses shows what PostgreSQL itself refuses, whatever
// the code above it does.
func TestLedgerSchemaRefuses(t *testing.T) {
	t.Parallel()
	ctx, pool := ledgerSetup(t)
	err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error {
		return postgres.PostLedger(ctx, tx, debit(t, "pa_ok", "VCB", "ptl_a", "100"))
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sql  []string
		want string
	}{
		{"a debit caused by a refund", []string{
			`INSERT INTO ledger_transactions (cause, kind) VALUES ('rf_1', 'debit_succeeded')`,
		}, "ledger_transactions_check"},
		{"a second transaction for one cause", []string{
			`INSERT INTO ledger_transactions (cause, kind) VALUES ('pa_ok', 'debit_succeeded')`,
		}, "ledger_transactions_cause_key"},
		{"an account of no kind", []string{
			`INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency)
				SELECT id, 'cash:VCB', 'debit', 1, 'VND' FROM ledger_transactions WHERE cause = 'pa_ok'`,
		}, "ledger_postings_account_check"},
		{"an account without owner", []string{
			`INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency)
				SELECT id, 'bank_clearing:', 'debit', 1, 'VND' FROM ledger_transactions WHERE cause = 'pa_ok'`,
		}, "ledger_postings_account_check"},
		{"changing a posting", []string{`UPDATE ledger_postings SET amount = amount + 1`}, "append-only"},
		{"deleting a transaction", []string{`DELETE FROM ledger_transactions`}, "append-only"},
		{"truncating the postings", []string{`TRUNCATE ledger_postings, ledger_transactions`}, "append-only"},
	}
	for _, tt := range tests {
		err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error {
			for _, s := range tt.sql {
				if _, err := tx.Driver().Exec(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	got := balancesOf(t, ctx, postgres.NewDB(pool))
	if len(got) != 2 || got["bank_clearing:VCB"] != "100/0" {
		t.Errorf("the ledger changed: %v", got)
	}
}

// TestPostingStatementRefusesUnbalanced sends postings that do not balance
// straight through the posting statement, past ledger.Transaction's own
// check: PostgreSQL refuses them and writes nothing.
func TestPostingStatementRefusesUnbalanced(t *testing.T) {
	t.Parallel()
	ctx, pool := ledgerSetup(t)
	tests := []struct {
		name                          string
		accounts, directions, amounts []string
	}{
		{"debits above credits", []string{"bank_clearing:VCB", "portal_payable:ptl_a"}, []string{"debit", "credit"}, []string{"100", "99"}},
		{"two debits", []string{"bank_clearing:VCB", "portal_payable:ptl_a"}, []string{"debit", "debit"}, []string{"100", "100"}},
		{"one posting", []string{"bank_clearing:VCB"}, []string{"debit"}, []string{"100"}},
		{"no posting", []string{}, []string{}, []string{}},
	}
	for i, tt := range tests {
		cause := fmt.Sprintf("pa_%d", i)
		err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error {
			var id, n int64
			return tx.Driver().QueryRow(ctx, postgres.PostLedgerSQL, cause, "debit_succeeded",
				tt.accounts, tt.directions, tt.amounts, "VND", nil).Scan(&id, &n)
		})
		if err == nil || !strings.Contains(err.Error(), "does not balance") {
			t.Errorf("%s: err = %v, want the statement's refusal", tt.name, err)
		}
	}
	// The same statement writes a balanced set.
	err := postgres.NewDB(pool).InTx(ctx, func(tx *postgres.Tx) error {
		var id, n int64
		return tx.Driver().QueryRow(ctx, postgres.PostLedgerSQL, "pa_ok", "debit_succeeded",
			[]string{"bank_clearing:VCB", "portal_payable:ptl_a"}, []string{"debit", "credit"}, []string{"100", "100"}, "VND", nil).Scan(&id, &n)
	})
	if err != nil {
		t.Fatalf("balanced: %v", err)
	}
	var txs, postings int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM ledger_transactions), (SELECT count(*) FROM ledger_postings)`).Scan(&txs, &postings); err != nil {
		t.Fatal(err)
	}
	if txs != 1 || postings != 2 {
		t.Errorf("%d transactions and %d postings written, want only the balanced one's 1 and 2", txs, postings)
	}
}
