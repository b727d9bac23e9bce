package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// TestWritesAtCommitFailTheCommit: a write held back for COMMIT that finds
// nothing to do fails the commit, and the transaction writes nothing.
func TestWritesAtCommitFailTheCommit(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx, db, pool := context.Background(), h.DB.Store, h.DB.Pool
	prID := createRequest(t, h, h.Portal, "HCM-AT-COMMIT-1")
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	post := func() error {
		return db.InTx(ctx, func(tx *postgres.Tx) error {
			tx.HoldWrites()
			return postgres.PostLedger(ctx, tx, debit(t, "pa_1", "VCB", "ptl_a", "100"))
		})
	}
	if err := post(); err != nil {
		t.Fatalf("first posting: %v", err)
	}
	if err := post(); err == nil || !strings.Contains(err.Error(), "already posted") {
		t.Errorf("second posting of one cause: %v, want the commit to fail", err)
	}
	if n := count(`SELECT count(*) FROM ledger_postings`); n != 2 {
		t.Errorf("%d postings, want the first transaction's 2", n)
	}

	// A request saved over a version it was not read at, with the ledger
	// posting of the same transaction: neither is written.
	var r *payment.Request
	err := db.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		r, err = postgres.LockPaymentRequestUnscoped(ctx, tx, prID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	stale := r.Version - 1
	r.Version = stale + 1
	err = db.InTx(ctx, func(tx *postgres.Tx) error {
		tx.HoldWrites()
		if err := postgres.PostLedger(ctx, tx, debit(t, "pa_2", "VCB", "ptl_a", "100")); err != nil {
			return err
		}
		return postgres.SavePaymentRequest(ctx, tx, r, stale)
	})
	if err == nil || !strings.Contains(err.Error(), "changed meanwhile") {
		t.Errorf("save over a stale version: %v, want the commit to fail", err)
	}
	if n := count(`SELECT count(*) FROM ledger_transactions WHERE cause = 'pa_2'`); n != 0 {
		t.Error("the failed commit's posting was kept")
	}

	now := time.Now().UTC()
	err = db.InTx(ctx, func(tx *postgres.Tx) error {
		tx.HoldWrites()
		return postgres.SaveAttempt(ctx, tx, &payment.Attempt{ID: "pa_none", Status: payment.OutcomeSucceeded, OutcomeAt: &now, UpdatedAt: now})
	})
	if err == nil || !strings.Contains(err.Error(), "no payment attempt pa_none") {
		t.Errorf("save of an attempt that does not exist: %v, want the commit to fail", err)
	}
}
