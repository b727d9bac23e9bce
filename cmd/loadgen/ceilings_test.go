package main

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/citizenpay/gateway/internal/testenv"
)

func newTestCeilingStore(t *testing.T) *ceilingStore {
	t.Helper()
	db := testenv.NewDB(t)
	s, err := newCeilingStore(context.Background(), db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, s *ceilingStore, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// The create ceiling runs the gateway's whole create: each one leaves a
// pending request, its event, and its idempotency record with the stored
// 201.
func TestCeilingCreateRunsTheGatewaysCreate(t *testing.T) {
	t.Parallel()
	s := newTestCeilingStore(t)
	m, err := measure(context.Background(), 4, 0, 25, func(ctx context.Context, n int) error {
		return s.create(ctx, "t", n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ops != 25 {
		t.Errorf("measured %d creates, want 25", m.ops)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM payment_requests WHERE status = 'pending' AND portal_id = $1`:                25,
		`SELECT count(*) FROM events WHERE type = 'payment_request.created' AND portal_id = $1`:            25,
		`SELECT count(*) FROM idempotency_records WHERE response_status = 201 AND scope = 'portal:' || $1`: 25,
	} {
		if got := count(t, s, sql, s.portalID); got != want {
			t.Errorf("%s = %d, want %d", sql, got, want)
		}
	}
	// The same key again is a replay, which the ceiling refuses to count.
	if err := s.create(context.Background(), "t", 3); err == nil {
		t.Error("a create with a used key was counted")
	}
}

// The pipelined create leaves what the gateway's create leaves: a pending
// request, its event, its key's record with the 201, the same rows the
// gateway's own create (with a key of the same scope) finds taken.
func TestCeilingCreatePipelinedLeavesTheCreatesRows(t *testing.T) {
	t.Parallel()
	s := newTestCeilingStore(t)
	response, err := s.createResponse()
	if err != nil {
		t.Fatal(err)
	}
	m, err := measure(context.Background(), 4, 0, 25, func(ctx context.Context, n int) error {
		return s.createPipelined(ctx, "p", n, response)
	})
	if err != nil || m.ops != 25 {
		t.Fatalf("measured %d pipelined creates: %v", m.ops, err)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM payment_requests WHERE status = 'pending' AND dossier_code LIKE 'CEILP-p-%' AND portal_id = $1`: 25,
		`SELECT count(*) FROM events WHERE type = 'payment_request.created' AND portal_id = $1`:                               25,
		`SELECT count(*) FROM idempotency_records WHERE response_status = 201 AND key LIKE 'ceilp-p-%'
			AND response_body IS NOT NULL AND scope = 'portal:' || $1`: 25,
	} {
		if got := count(t, s, sql, s.portalID); got != want {
			t.Errorf("%s = %d, want %d", sql, got, want)
		}
	}
	rec, found, err := s.db.IdempotencyRecordOf(context.Background(), "portal:"+s.portalID, "ceilp-p-7")
	if err != nil || !found || rec.Status == nil || *rec.Status != 201 || !rec.SameRequest(s.fp[:]) {
		t.Fatalf("record of ceilp-p-7: %+v %v %v", rec, found, err)
	}
	// A dossier taken makes the whole batch fail, and nothing of it stays.
	if err := s.createPipelined(context.Background(), "p", 7, response); err == nil {
		t.Fatal("a second create of a live dossier went through")
	}
	if got := count(t, s, `SELECT count(*) FROM payment_requests WHERE portal_id = $1`, s.portalID); got != 25 {
		t.Fatalf("%d requests after a refused batch", got)
	}
}

// The clearing ceiling applies a bank's success to seeded debits exactly as
// the gateway does: each request paid, each debit posted once, the books
// balanced, the bank event recorded as applied.
func TestCeilingClearingRunsTheGatewaysClearing(t *testing.T) {
	t.Parallel()
	s := newTestCeilingStore(t)
	ids, err := s.seedDebits(context.Background(), 0, 30, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 30 || count(t, s, `SELECT count(*) FROM payment_attempts WHERE status = 'pending'`) != 30 {
		t.Fatalf("seeded %d debits, want 30 pending", len(ids))
	}
	m, err := measure(context.Background(), 4, 0, len(ids), func(ctx context.Context, n int) error {
		return s.clear(ctx, "evt-"+strconv.Itoa(n), ids[n])
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ops != 30 {
		t.Errorf("measured %d clearings, want 30", m.ops)
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM payment_requests WHERE status = 'paid'`:                30,
		`SELECT count(*) FROM payment_attempts WHERE status = 'succeeded'`:           30,
		`SELECT count(*) FROM ledger_transactions WHERE kind = 'debit_succeeded'`:    30,
		`SELECT count(*) FROM events WHERE type = 'payment_request.paid'`:            30,
		`SELECT count(*) FROM bank_events WHERE result = 'applied'`:                  30,
		`SELECT count(*) FROM payment_requests WHERE status = 'processing'`:          0,
		`SELECT count(*) FROM ledger_postings WHERE account = 'bank_clearing:SBX'`:   30,
		`SELECT count(*) FROM ledger_postings WHERE account LIKE 'portal_payable:%'`: 30,
	} {
		if got := count(t, s, sql); got != want {
			t.Errorf("%s = %d, want %d", sql, got, want)
		}
	}
	if ok, err := s.ledgerBalanced(context.Background()); err != nil || !ok {
		t.Errorf("ledger balanced = %t, %v", ok, err)
	}
	// A second success for a paid debit is a duplicate, not a clearing.
	if err := s.clear(context.Background(), "evt-again", ids[0]); err == nil {
		t.Error("a second success for a cleared debit was counted")
	}
}

// The Redis ceiling takes the lock of new keys with the gateway's script,
// and deletes them afterwards.
func TestCeilingIdempotencyScript(t *testing.T) {
	t.Parallel()
	url := testenv.RedisURL(t)
	check, prefix := testenv.NewRedis(t)
	s, err := openIdemScript(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := measure(context.Background(), 8, 0, 40, s.acquire)
	if err != nil || m.ops != 40 {
		t.Fatalf("measure = %d ops, %v; want 40", m.ops, err)
	}
	keys, err := check.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) != 40 {
		t.Fatalf("%d keys under the prefix (%v), want 40", len(keys), err)
	}
	if err := s.acquire(context.Background(), 7); err == nil {
		t.Error("acquiring a held key again was counted")
	}
	if err := s.cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if keys, _ := check.Keys(context.Background(), prefix+"*").Result(); len(keys) != 0 {
		t.Errorf("%d keys left after cleanup", len(keys))
	}
}

// measure stops every worker at the first error and returns it; each n is
// given once.
func TestMeasureStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var mu sync.Mutex
	seen := map[int]int{}
	m, err := measure(context.Background(), 3, 0, 1000, func(ctx context.Context, n int) error {
		mu.Lock()
		seen[n]++
		mu.Unlock()
		if n == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("measure = %v, want boom", err)
	}
	if m.ops >= 1000 || int(m.ops) >= len(seen) {
		t.Errorf("counted %d ops of %d started: the failed one must not count, nor the run go on", m.ops, len(seen))
	}
	for n, times := range seen {
		if times != 1 {
			t.Errorf("op %d ran %d times", n, times)
		}
	}
}

func TestMeasuredRate(t *testing.T) {
	t.Parallel()
	if got := (measured{ops: 1234, elapsed: 4e9}).rate(); got != 308.5 {
		t.Errorf("rate = %v, want 308.5", got)
	}
	if got := (measured{ops: 5}).rate(); got != 0 {
		t.Errorf("rate without time = %v, want 0", got)
	}
}
