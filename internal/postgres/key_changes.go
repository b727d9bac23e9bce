package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// KeyChangesChannel is the PostgreSQL channel on which a change of the keys
// requests are signed with is announced, in the transaction that makes it
// (so only once it commits): a portal or bank created, a secret rotated or
// revoked. Every gateway listens and forgets what it had cached, so that a
// revoked secret stops working in every process at once, not when each
// cache expires.
const KeyChangesChannel = "gateway_keys"

// Kinds of key announced on KeyChangesChannel, the payload being
// "<kind>:<key>".
const (
	KeyPortal = "portal" // a portal's key id
	KeyBank   = "bank"   // a bank's code
)

// notifyKeyChange announces that the key of kind changed.
func notifyKeyChange(ctx context.Context, q Querier, kind, key string) error {
	if _, err := q.conn().Exec(ctx, `SELECT pg_notify($1, $2)`, KeyChangesChannel, kind+":"+key); err != nil {
		return fmt.Errorf("announce the change of %s %s: %w", kind, key, err)
	}
	return nil
}

// KeyChanges is told what ListenKeyChanges hears.
type KeyChanges struct {
	// Changed is called for each key announced.
	Changed func(kind, key string)
	// Lost is called whenever announcements may have been missed: at the
	// start of every (re)connection, before listening. A caller forgets
	// everything it cached.
	Lost func()
	// Retry is how long to wait before reconnecting (default 1 s).
	Retry time.Duration
}

// ListenKeyChanges holds one connection of pool listening on
// KeyChangesChannel until ctx ends, reconnecting when it is lost. It
// returns when ctx ends.
func ListenKeyChanges(ctx context.Context, pool *pgxpool.Pool, kc KeyChanges) {
	retry := kc.Retry
	if retry <= 0 {
		retry = time.Second
	}
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, kc)
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, kc KeyChanges) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool for good: it stays in LISTEN, and is
	// closed when it is lost or ctx ends.
	conn := c.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{KeyChangesChannel}.Sanitize()); err != nil {
		return err
	}
	kc.Lost()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if kind, key, ok := strings.Cut(n.Payload, ":"); ok {
			kc.Changed(kind, key)
		}
	}
}
