// Package idempotency makes every mutating request run at most once per
// key (PROTOCOL.md §4). Redis is the fast path: one script takes the
// in-flight lock or returns the stored response. PostgreSQL is the truth: the
// record is inserted first in the transaction that makes the change, so a
// concurrent duplicate waits on its unique key and then replays; a Redis miss
// or outage always falls through to it.
package idempotency

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/jcs"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Claim names one operation: a caller's scope and key, and the fingerprint
// of what was asked.
type Claim struct {
	Scope       string
	Key         string
	Fingerprint [32]byte
}

// Fingerprint is the SHA-256 HMAC, under key, of METHOD "\n" path "\n"
// JCS(body); an empty body contributes the empty string. PROTOCOL.md §4 names
// a plain SHA-256; the gateway keys it because a body holding a personal ID
// number has few enough possible values that a plain hash could be reversed.
// Fingerprints never leave the gateway, so clients see no difference.
func Fingerprint(key []byte, method, path string, body []byte) ([32]byte, error) {
	var canon []byte
	if len(bytes.TrimSpace(body)) > 0 {
		c, err := jcs.Transform(body)
		if err != nil {
			return [32]byte{}, err
		}
		canon = c
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(method))
	h.Write([]byte{'\n'})
	h.Write([]byte(path))
	h.Write([]byte{'\n'})
	h.Write(canon)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// CheckKey validates an Idempotency-Key header value: 1–255 printable ASCII.
func CheckKey(key string) error {
	if key == "" {
		return fault.New(fault.IdempotencyKeyMissing, "this request changes something: send an Idempotency-Key header")
	}
	if len(key) > 255 {
		return fault.New(fault.IdempotencyKeyInvalid, "Idempotency-Key must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return fault.New(fault.IdempotencyKeyInvalid, "Idempotency-Key must be printable ASCII")
		}
	}
	return nil
}

// Response is a finished request's status and body, replayed byte for byte.
type Response struct {
	Status int
	Body   []byte
}

// FastState is what the fast path found for a claim.
type FastState int

// States of the fast path.
const (
	FastAcquired FastState = iota + 1 // the lock is ours: run it
	FastInUse                         // another request holds the lock
	FastReused                        // the key holds another fingerprint
	FastDone                          // finished: the response is attached
)

// FastPath is the Redis side. Any error means "not known here": the guard
// falls through to PostgreSQL.
type FastPath interface {
	Acquire(ctx context.Context, c Claim, token string, lockTTL time.Duration) (FastState, Response, error)
	Complete(ctx context.Context, c Claim, r Response, ttl time.Duration) error
	Release(ctx context.Context, c Claim, token string) error
}

// Op does the guarded work in tx and returns the response to store. The
// transaction is the guard's: an Op that fails leaves it to be rolled back.
type Op func(ctx context.Context, tx *postgres.Tx) (Response, error)

// Render turns an Op's refusal that was decided on current state into the
// response to store (its changes are rolled back); it reports false for
// errors that must store nothing, which then reach the caller of Do.
type Render func(error) (Response, bool)

// Records is the PostgreSQL side, the truth (postgres.DB).
type Records interface {
	BeginAtCommit(ctx context.Context) (*postgres.OwnedTx, error)
	ClaimIdempotencyKey(ctx context.Context, scope, key string, fp []byte) (*postgres.OwnedTx, bool, error)
	StoreIdempotentRefusal(ctx context.Context, scope, key string, fp []byte, status int, body []byte) (bool, error)
	IdempotencyRecordOf(ctx context.Context, scope, key string) (postgres.IdempotencyRecord, bool, error)
	PurgeIdempotencyRecords(ctx context.Context, keep time.Duration) (int64, error)
}

// Guard runs operations exactly once per claim.
type Guard struct {
	Records Records
	Fast    FastPath
	TTL     time.Duration // how long Redis keeps finished responses
	LockTTL time.Duration // how long an in-flight lock outlives a dead process
	// Observe, if set, is told of each outcome: "replay_redis",
	// "replay_postgres", "in_use", "reused", "fallback".
	Observe func(outcome string)
}

func (g *Guard) observe(o string) {
	if g.Observe != nil {
		g.Observe(o)
	}
}

// Do runs op once for c. It returns the response and whether it is a replay.
// Errors are *fault.Error for in-use and reused keys, or internal errors.
// The key's record is written before op runs, so a concurrent duplicate
// waits for this one to finish before it does anything.
func (g *Guard) Do(ctx context.Context, c Claim, op Op, render Render) (Response, bool, error) {
	return g.do(ctx, c, op, render, g.tryPostgres)
}

// DoAtCommit is Do for an op whose writes are all held back for COMMIT
// (its reads, if any, may go at once): the key's record, holding the
// response, goes ahead of those writes in COMMIT's round trip
// (postgres.OwnedTx.CommitClaimed), and a create costs one round trip. A
// concurrent duplicate runs its op too, then waits on the record, and its
// writes are rolled back when it finds the key taken: op must therefore do
// nothing outside its transaction.
func (g *Guard) DoAtCommit(ctx context.Context, c Claim, op Op, render Render) (Response, bool, error) {
	return g.do(ctx, c, op, render, g.tryAtCommit)
}

type attempt func(ctx context.Context, c Claim, op Op, render Render) (Response, bool, error)

func (g *Guard) do(ctx context.Context, c Claim, op Op, render Render, try attempt) (Response, bool, error) {
	token := newToken()
	bg := context.WithoutCancel(ctx)
	fastOK := false
	if g.Fast != nil {
		state, resp, err := g.Fast.Acquire(ctx, c, token, g.LockTTL)
		switch {
		case err != nil:
			g.observe("fallback")
		case state == FastDone:
			g.observe("replay_redis")
			return resp, true, nil
		case state == FastInUse:
			g.observe("in_use")
			return Response{}, false, errInUse()
		case state == FastReused:
			g.observe("reused")
			return Response{}, false, errReused()
		default:
			fastOK = true
		}
	}
	resp, replayed, err := g.runPostgres(ctx, c, op, render, try)
	if err != nil {
		if fastOK {
			_ = g.Fast.Release(bg, c, token)
		}
		return Response{}, false, err
	}
	if g.Fast != nil && (fastOK || replayed) {
		_ = g.Fast.Complete(bg, c, resp, g.TTL)
	}
	return resp, replayed, nil
}

func (g *Guard) runPostgres(ctx context.Context, c Claim, op Op, render Render, try attempt) (Response, bool, error) {
	for attempt := 0; ; attempt++ {
		resp, replayed, err := try(ctx, c, op, render)
		if errors.Is(err, errVanished) && attempt < 3 {
			continue
		}
		return resp, replayed, err
	}
}

var errVanished = errors.New("idempotency record vanished")

func (g *Guard) tryPostgres(ctx context.Context, c Claim, op Op, render Render) (Response, bool, error) {
	// The record is written first: a concurrent duplicate waits on it
	// until this transaction ends, then finds the finished record.
	tx, claimed, err := g.Records.ClaimIdempotencyKey(ctx, c.Scope, c.Key, c.Fingerprint[:])
	if err != nil {
		return Response{}, false, err
	}
	if !claimed {
		return g.replayFromPostgres(ctx, c)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after commit
	resp, opErr := op(ctx, &tx.Tx)
	if opErr != nil {
		return g.refuse(ctx, c, tx, render, opErr)
	}
	tx.StoreIdempotentResponse(c.Scope, c.Key, resp.Status, resp.Body)
	if err := tx.Commit(ctx); err != nil {
		return Response{}, false, fmt.Errorf("store idempotent response and commit: %w", err)
	}
	return resp, false, nil
}

func (g *Guard) tryAtCommit(ctx context.Context, c Claim, op Op, render Render) (Response, bool, error) {
	tx, err := g.Records.BeginAtCommit(ctx)
	if err != nil {
		return Response{}, false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after commit
	resp, err := op(ctx, &tx.Tx)
	if err == nil {
		err = tx.CommitClaimed(ctx, c.Scope, c.Key, c.Fingerprint[:], resp.Status, resp.Body)
		if errors.Is(err, postgres.ErrKeyClaimed) {
			return g.replayFromPostgres(ctx, c)
		}
		if err == nil {
			return resp, false, nil
		}
	}
	// Refused by op or at COMMIT (a held-back insert): nothing was kept.
	return g.refuse(ctx, c, tx, render, err)
}

// refuse answers an op's refusal: one decided on current state changed
// nothing, so the work is rolled back and the refusal stored on its own;
// any other error stores nothing and reaches the caller.
func (g *Guard) refuse(ctx context.Context, c Claim, tx *postgres.OwnedTx, render Render, err error) (Response, bool, error) {
	stored, ok := Response{}, false
	if render != nil {
		stored, ok = render(err)
	}
	if !ok {
		return Response{}, false, err
	}
	tx.Rollback(ctx)
	return g.storeRefusal(ctx, c, stored)
}

// storeRefusal records a refusal under the claim. Between the rollback and
// this insert a concurrent request with the same key may have run and
// stored its own outcome: then that one is the key's answer, replayed here.
func (g *Guard) storeRefusal(ctx context.Context, c Claim, r Response) (Response, bool, error) {
	stored, err := g.Records.StoreIdempotentRefusal(ctx, c.Scope, c.Key, c.Fingerprint[:], r.Status, r.Body)
	if err != nil {
		return Response{}, false, err
	}
	if stored {
		return r, false, nil
	}
	return g.replayFromPostgres(ctx, c)
}

func (g *Guard) replayFromPostgres(ctx context.Context, c Claim) (Response, bool, error) {
	rec, found, err := g.Records.IdempotencyRecordOf(ctx, c.Scope, c.Key)
	if err != nil {
		return Response{}, false, err
	}
	if !found {
		return Response{}, false, errVanished
	}
	if !rec.SameRequest(c.Fingerprint[:]) {
		g.observe("reused")
		return Response{}, false, errReused()
	}
	if rec.Status == nil {
		// Committed without a response cannot happen: the response is
		// written in the same transaction. Treat it as still running.
		g.observe("in_use")
		return Response{}, false, errInUse()
	}
	g.observe("replay_postgres")
	return Response{Status: *rec.Status, Body: rec.Body}, true, nil
}

func errInUse() error {
	return fault.New(fault.IdempotencyKeyInUse, "a request with this Idempotency-Key is still running; retry shortly")
}

func errReused() error {
	return fault.New(fault.IdempotencyKeyReused, "this Idempotency-Key was used for a different request")
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Purge deletes PostgreSQL records older than keep (at least 72 h by
// PROTOCOL.md §4), returning how many went.
func Purge(ctx context.Context, r Records, keep time.Duration) (int64, error) {
	if keep < 72*time.Hour {
		keep = 72 * time.Hour
	}
	return r.PurgeIdempotencyRecords(ctx, keep)
}
