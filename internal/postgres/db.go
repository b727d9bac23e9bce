// Package postgres is the gateway's PostgreSQL store: the pool, the schema
// migrations, and the statements that persist the domain. It is the only
// package that speaks SQL or names a driver type: the rest of the gateway
// holds a *DB, which reads and begins transactions, or the *Tx a
// transaction gives its work, and gets domain values and fault errors back.
package postgres

import (
	"context"
	"fmt"
	"time"

	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citizenpay/gateway/internal/pgtx"
)

// Open connects a pool to url with maxConns connections and checks that the
// server answers.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		pgxdecimal.Register(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// querier is what a pool, a connection and a transaction share: what the
// statements of this package run on.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Querier is a *DB or a *Tx: anything a read may run on. Only this package
// can run a statement on it.
type Querier interface {
	conn() querier
}

// DB is the store: a pool of connections to the gateway's database.
type DB struct {
	pool  *pgxpool.Pool
	group createGroup
}

// NewDB is the store on pool.
func NewDB(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }

func (db *DB) conn() querier { return db.pool }

// Pool is the pool under the store, for the job queue's driver and for
// the jobs, which share its transactions.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Tx is a transaction of the store. Work given a *Tx reads and writes
// through this package's functions; the transaction's owner commits it.
type Tx struct {
	tx pgx.Tx
	// explain, in order, turn an error of COMMIT into what the writes held
	// back for it stand for (OnCommitError).
	explain []func(error) error
	// hold: writes that can wait are held back for COMMIT (HoldWrites).
	hold bool
	// create is the payment request held back by InsertPaymentRequest in
	// such a transaction, for CommitClaimed to write alone or in a group.
	create *pendingCreate
}

// HoldWrites holds back for COMMIT, from now on, the writes of tx that the
// store can hold (payment requests, attempts, ledger postings, events,
// receipts): COMMIT then sends them in its round trip, and a write that
// finds nothing to change fails it, rolling everything back. For work that
// reads none of them again in tx: nothing held is visible before COMMIT.
// A transaction begun with BeginAtCommit holds its writes from the start.
func (tx *Tx) HoldWrites() { tx.hold = true }

// OnCommitError has fn explain an error of this transaction's COMMIT: a
// write held back until then (a refused insert, say) fails there, not
// where it was written. fn returns err unchanged when it is not about its
// write. Errors of writes sent at once reach their caller as usual.
func (tx *Tx) OnCommitError(fn func(error) error) { tx.explain = append(tx.explain, fn) }

func (tx *Tx) explainCommit(err error) error {
	for _, fn := range tx.explain {
		err = fn(err)
	}
	return err
}

// WrapTx makes a driver transaction a store transaction, for the job
// queue's workers, which are handed one.
func WrapTx(tx pgx.Tx) *Tx { return &Tx{tx: tx} }

func (tx *Tx) conn() querier { return tx.tx }

// Driver is the driver's transaction under tx, for the job queue, which
// inserts its jobs in the caller's transaction.
func (tx *Tx) Driver() pgx.Tx { return tx.tx }

// AfterCommit runs fn once tx has committed, and reports whether it will
// (pgtx.AfterCommit): fn is for speed only, never for correctness.
func (tx *Tx) AfterCommit(fn func()) bool { return pgtx.AfterCommit(tx.tx, fn) }

// InTx runs fn in a transaction, committing when it returns nil. BEGIN is
// pipelined with the first statement and held-back writes with COMMIT
// (internal/pgtx): fewer round trips on every transaction.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	return pgtx.InTx(ctx, db.pool, func(t pgx.Tx) error { return fn(&Tx{tx: t}) })
}

// Begin starts a transaction whose owner commits or rolls it back. Nothing
// is sent yet: BEGIN goes out with its first statement.
func (db *DB) Begin(ctx context.Context) (*OwnedTx, error) {
	t, err := pgtx.Begin(ctx, db.pool)
	if err != nil {
		return nil, interpretError(err, "begin")
	}
	return &OwnedTx{Tx: Tx{tx: t}, t: t, db: db}, nil
}

// BeginAtCommit starts a transaction like Begin in which the store holds
// back its writes for COMMIT where it can (InsertPaymentRequest), so that
// COMMIT carries them all in one round trip; for work that reads nothing
// it wrote (a create), committed with CommitClaimed.
func (db *DB) BeginAtCommit(ctx context.Context) (*OwnedTx, error) {
	o, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	o.hold = true
	return o, nil
}

// OwnedTx is a transaction begun with Begin: its owner ends it.
type OwnedTx struct {
	Tx
	t  *pgtx.Tx
	db *DB
}

// Commit commits the transaction, with the writes held back for it.
func (o *OwnedTx) Commit(ctx context.Context) error {
	if err := o.t.Commit(ctx); err != nil {
		return interpretError(o.explainCommit(err), "commit")
	}
	return nil
}

// Rollback rolls the transaction back; after a commit it does nothing.
func (o *OwnedTx) Rollback(ctx context.Context) { _ = o.t.Rollback(ctx) }

// atCommit holds back a last write for COMMIT (pgtx.Tx.AtCommit).
func (o *OwnedTx) atCommit(sql string, args ...any) { o.t.AtCommit(sql, args...) }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Savepoint runs fn in a savepoint of tx: when fn fails, its writes are
// undone, its error returned, and tx goes on.
func (tx *Tx) Savepoint(ctx context.Context, fn func(*Tx) error) error {
	sp, err := tx.tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(&Tx{tx: sp}); err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return fmt.Errorf("rollback to savepoint: %w", rerr)
		}
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }
