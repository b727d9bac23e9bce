package pgtx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/pgtx"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestTransactions(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE t (k text PRIMARY KEY, v int NOT NULL CHECK (v >= 0))`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Committed: the first Exec carries BEGIN; the held-back write goes with COMMIT.
	err := pgtx.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES ('a', 1)`); err != nil {
			return err
		}
		return pgtx.DeferUntilCommit(ctx, tx, `UPDATE t SET v = 2 WHERE k = 'a'`)
	})
	if err != nil || count() != 1 {
		t.Fatalf("commit: %v, %d rows", err, count())
	}
	var v int
	_ = db.Pool.QueryRow(ctx, `SELECT v FROM t WHERE k = 'a'`).Scan(&v)
	if v != 2 {
		t.Fatalf("the held-back write did not land: v = %d", v)
	}

	// A held-back write that fails fails the commit, and nothing lands.
	err = pgtx.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES ('b', 1)`); err != nil {
			return err
		}
		return pgtx.DeferUntilCommit(ctx, tx, `UPDATE t SET v = -1 WHERE k = 'b'`)
	})
	if err == nil || count() != 1 {
		t.Fatalf("failed held-back write: %v, %d rows", err, count())
	}

	// An error from fn rolls back, also after a query.
	boom := errors.New("boom")
	err = pgtx.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES ('c', 1)`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 2 {
			t.Errorf("read inside the transaction: %d %v", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) || count() != 1 {
		t.Fatalf("rollback: %v, %d rows", err, count())
	}

	// A failing first statement leaves the transaction aborted; the
	// connection goes back clean and the pool keeps working.
	for i := 0; i < 20; i++ {
		err = pgtx.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO t VALUES ('a', 1)`) // duplicate key
			return err
		})
		if err == nil {
			t.Fatal("duplicate key accepted")
		}
	}
	// Savepoints.
	err = pgtx.InTx(ctx, db.Pool, func(tx pgx.Tx) error {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, `INSERT INTO t VALUES ('a', 1)`); err == nil {
			return errors.New("duplicate key accepted")
		}
		if err := sp.Rollback(ctx); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO t VALUES ('d', 1)`)
		return err
	})
	if err != nil || count() != 2 {
		t.Fatalf("savepoint: %v, %d rows", err, count())
	}
	// An empty transaction commits without a round trip.
	if err := pgtx.InTx(ctx, db.Pool, func(pgx.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
