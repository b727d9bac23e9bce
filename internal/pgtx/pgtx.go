// Package pgtx is a pgx.Tx that saves round trips to PostgreSQL, which is
// where the hot paths spend their time (issue 6): BEGIN is not sent on its
// own but pipelined with the transaction's first statement, and statements
// whose only possible outcome is an error can be held back and pipelined
// with COMMIT. Everything else behaves like pgxpool's transactions.
package pgtx

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tx is a transaction on a connection of a pool. It implements pgx.Tx except
// LargeObjects, which pgx lets no other type build.
type Tx struct {
	conn    *pgxpool.Conn
	begun   bool // BEGIN has been sent
	closed  bool
	spNum   int64
	atCommt []queued
	after   []func()
}

type queued struct {
	sql  string
	args []any
}

// Begin acquires a connection from pool for a transaction. Nothing is sent
// yet: BEGIN goes out with the first statement.
func Begin(ctx context.Context, pool *pgxpool.Pool) (*Tx, error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &Tx{conn: c}, nil
}

// InTx runs fn in a transaction, committing when it returns nil.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := Begin(ctx, pool)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after commit this is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// AtCommit holds back a statement to be pipelined with COMMIT, after every
// other statement of the transaction. Use it only for a last write whose
// result nobody reads: its error, if any, is Commit's, and the transaction
// is then rolled back.
func (tx *Tx) AtCommit(sql string, args ...any) {
	tx.atCommt = append(tx.atCommt, queued{sql, args})
}

// AtCommitFirst holds back a statement like AtCommit, but ahead of every
// statement held back so far: for a write that must reach PostgreSQL
// before the others, such as the record of an idempotency key that a
// duplicate must wait on before it can touch anything else.
func (tx *Tx) AtCommitFirst(sql string, args ...any) {
	tx.atCommt = append([]queued{{sql, args}}, tx.atCommt...)
}

// HoldForCommit holds back sql for tx's COMMIT and reports true when tx is
// a *Tx; on any other transaction it does nothing and reports false, for
// the caller to run sql itself.
func HoldForCommit(tx pgx.Tx, sql string, args ...any) bool {
	t, ok := tx.(*Tx)
	if !ok || t.closed {
		return false
	}
	t.AtCommit(sql, args...)
	return true
}

// Idle reports whether nothing of tx has been sent or held back yet.
func (tx *Tx) Idle() bool { return !tx.closed && !tx.begun && len(tx.atCommt) == 0 }

// Abandon ends a transaction that sent nothing, returning its connection
// to the pool, and hands back the functions it was to run after its commit:
// for work that commits elsewhere (a group commit) and runs them itself.
func (tx *Tx) Abandon() []func() {
	after := tx.after
	tx.release()
	return after
}

// DeferUntilCommit holds back sql for tx's COMMIT when tx is a *Tx, and runs
// it at once on any other transaction.
func DeferUntilCommit(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	if t, ok := tx.(*Tx); ok && !t.closed {
		t.AtCommit(sql, args...)
		return nil
	}
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// AfterCommit runs fn once tx has committed, if tx is a *Tx, and reports
// whether it will. fn never runs if the transaction rolls back or its COMMIT
// fails, even if the commit in fact went through: the caller must not
// depend on fn for anything but speed.
func AfterCommit(tx pgx.Tx, fn func()) bool {
	t, ok := tx.(*Tx)
	if !ok || t.closed {
		return false
	}
	t.after = append(t.after, fn)
	return true
}

// begin sends BEGIN on its own: for statements that cannot share its round
// trip (queries, whose rows the caller reads later).
func (tx *Tx) begin(ctx context.Context) error {
	if tx.begun {
		return nil
	}
	if _, err := tx.conn.Exec(ctx, "begin"); err != nil {
		return err
	}
	tx.begun = true
	return nil
}

// Exec runs sql; the first one carries BEGIN in the same round trip.
func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if tx.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	if tx.begun {
		return tx.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(sql, args...)
	br := tx.conn.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		tx.begun = true
	}
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Commit sends the held-back statements and COMMIT in one round trip, and
// returns the connection to the pool.
func (tx *Tx) Commit(ctx context.Context) error {
	if tx.closed {
		return pgx.ErrTxClosed
	}
	after := tx.after
	defer tx.release()
	if !tx.begun && len(tx.atCommt) == 0 {
		for _, fn := range after {
			fn()
		}
		return nil // nothing was sent: nothing to commit
	}
	b := &pgx.Batch{}
	if !tx.begun {
		b.Queue("begin")
	}
	for _, q := range tx.atCommt {
		b.Queue(q.sql, q.args...)
	}
	b.Queue("commit")
	br := tx.conn.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	var err error
	for range b.QueuedQueries {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A failed statement leaves the transaction open and aborted:
		// release destroys a connection that is not idle.
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	for _, fn := range after {
		fn()
	}
	return nil
}

// Rollback rolls back and returns the connection to the pool; after Commit
// it does nothing and returns pgx.ErrTxClosed.
func (tx *Tx) Rollback(ctx context.Context) error {
	if tx.closed {
		return pgx.ErrTxClosed
	}
	defer tx.release()
	if !tx.begun {
		return nil
	}
	_, err := tx.conn.Exec(ctx, "rollback")
	return err
}

// release returns the connection; pgxpool destroys it if it is still in a
// transaction (a failed COMMIT or ROLLBACK).
func (tx *Tx) release() {
	tx.closed = true
	tx.atCommt, tx.after = nil, nil
	tx.conn.Release()
}

// Begin starts a pseudo nested transaction: a savepoint.
func (tx *Tx) Begin(ctx context.Context) (pgx.Tx, error) {
	if tx.closed {
		return nil, pgx.ErrTxClosed
	}
	tx.spNum++
	if _, err := tx.Exec(ctx, "savepoint sp_"+strconv.FormatInt(tx.spNum, 10)); err != nil {
		return nil, err
	}
	return &savepoint{tx: tx, num: tx.spNum}, nil
}

// Query runs sql after BEGIN.
func (tx *Tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.closed {
		return nil, pgx.ErrTxClosed
	}
	if err := tx.begin(ctx); err != nil {
		return nil, err
	}
	return tx.conn.Query(ctx, sql, args...)
}

// QueryRow runs sql after BEGIN.
func (tx *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if tx.closed {
		return errRow{pgx.ErrTxClosed}
	}
	if err := tx.begin(ctx); err != nil {
		return errRow{err}
	}
	return tx.conn.QueryRow(ctx, sql, args...)
}

// SendBatch sends b after BEGIN, in the same round trip if BEGIN is due.
func (tx *Tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if tx.closed {
		return pgx.FailedBatchResults(b, pgx.ErrTxClosed)
	}
	if !tx.begun {
		// Prepending BEGIN would shift the caller's results: send it on
		// its own. Batches are rare enough as a first statement.
		if err := tx.begin(ctx); err != nil {
			return pgx.FailedBatchResults(b, err)
		}
	}
	return tx.conn.SendBatch(ctx, b)
}

// CopyFrom runs COPY after BEGIN.
func (tx *Tx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if tx.closed {
		return 0, pgx.ErrTxClosed
	}
	if err := tx.begin(ctx); err != nil {
		return 0, err
	}
	return tx.conn.CopyFrom(ctx, table, cols, src)
}

// Prepare prepares a statement on the connection.
func (tx *Tx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if tx.closed {
		return nil, pgx.ErrTxClosed
	}
	return tx.conn.Conn().Prepare(ctx, name, sql)
}

// LargeObjects is not supported: pgx builds them only for its own Tx.
func (tx *Tx) LargeObjects() pgx.LargeObjects {
	panic("pgtx: large objects are not supported")
}

// Conn returns the underlying connection.
func (tx *Tx) Conn() *pgx.Conn { return tx.conn.Conn() }

// savepoint is a nested transaction of a Tx.
type savepoint struct {
	tx     *Tx
	num    int64
	closed bool
}

func (sp *savepoint) name() string { return "sp_" + strconv.FormatInt(sp.num, 10) }

func (sp *savepoint) Begin(ctx context.Context) (pgx.Tx, error) {
	if sp.closed {
		return nil, pgx.ErrTxClosed
	}
	return sp.tx.Begin(ctx)
}

func (sp *savepoint) Commit(ctx context.Context) error {
	if sp.closed {
		return pgx.ErrTxClosed
	}
	sp.closed = true
	_, err := sp.tx.Exec(ctx, "release savepoint "+sp.name())
	return err
}

func (sp *savepoint) Rollback(ctx context.Context) error {
	if sp.closed {
		return pgx.ErrTxClosed
	}
	sp.closed = true
	_, err := sp.tx.Exec(ctx, "rollback to savepoint "+sp.name())
	return err
}

func (sp *savepoint) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if sp.closed {
		return pgconn.CommandTag{}, pgx.ErrTxClosed
	}
	return sp.tx.Exec(ctx, sql, args...)
}

func (sp *savepoint) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if sp.closed {
		return nil, pgx.ErrTxClosed
	}
	return sp.tx.Query(ctx, sql, args...)
}

func (sp *savepoint) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if sp.closed {
		return errRow{pgx.ErrTxClosed}
	}
	return sp.tx.QueryRow(ctx, sql, args...)
}

func (sp *savepoint) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if sp.closed {
		return pgx.FailedBatchResults(b, pgx.ErrTxClosed)
	}
	return sp.tx.SendBatch(ctx, b)
}

func (sp *savepoint) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if sp.closed {
		return 0, pgx.ErrTxClosed
	}
	return sp.tx.CopyFrom(ctx, table, cols, src)
}

func (sp *savepoint) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return sp.tx.Prepare(ctx, name, sql)
}

func (sp *savepoint) LargeObjects() pgx.LargeObjects { return sp.tx.LargeObjects() }

func (sp *savepoint) Conn() *pgx.Conn { return sp.tx.Conn() }

// errRow is a row that only reports err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

var _ pgx.Tx = (*Tx)(nil)
