package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/testenv"
)

// tripCounter counts what a connection sends PostgreSQL: a query on its
// own is a round trip and a statement; a batch (a pipeline) is one round
// trip of as many statements as it holds. A statement's preparation on
// first use on a connection is counted apart.
type tripCounter struct {
	mu       sync.Mutex
	on       bool
	trips    int
	stmts    int
	prepares int
	log      []string
}

func (c *tripCounter) add(trips, stmts int, sql string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
	c.trips += trips
	c.stmts += stmts
	if sql != "" {
		c.log = append(c.log, strings.Join(strings.Fields(sql), " "))
	}
}

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.add(1, 1, d.SQL)
	return ctx
}

func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.add(1, 0, "")
	return ctx
}

func (c *tripCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.add(0, 1, "  (pipelined) "+d.SQL)
}

func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *tripCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.prepares++
	}
	return ctx
}

func (c *tripCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func (c *tripCounter) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on, c.trips, c.stmts, c.prepares, c.log = true, 0, 0, 0, nil
}

func (c *tripCounter) stop() (trips, stmts, prepares int, log []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.trips, c.stmts, c.prepares, c.log
}

// Upper bounds of one applied debit.succeeded callback, BEGIN and COMMIT
// included: BEGIN with the bank event's claim; the request, the attempt
// and the receipt key read and locked, pipelined; the receipt's number,
// locked last; COMMIT with every write nobody reads back (the attempt, the
// posting, the request, two events, the receipt, the bank event's result).
// It was 15 round trips and 18 statements before the clear was batched.
const (
	maxClearTrips      = 4
	maxClearStatements = 15
)

// TestAppliedDebitCallbackRoundTrips counts what one applied debit
// callback sends PostgreSQL, on a warm connection (its statements already
// prepared by an earlier clear), and checks the outcome is whole.
func TestAppliedDebitCallbackRoundTrips(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("1h")...)
	h := p.h
	p.bank.Sim.SetKnobs(banksim.Knobs{NeverCallBack: true})
	second := p.newRequest(t, "FEE-2")
	var debits []string
	for i, prID := range []string{p.prID, second} {
		if r := p.pay(t, prID, "pay-"+prID); r.Status != 202 {
			t.Fatalf("pay: %d %s", r.Status, r.Body)
		}
		debits = append(debits, p.attemptID(t, prID))
		testenv.Eventually(t, 45*time.Second, func() bool { return p.bank.Sim.Stats().Received["debit"] >= i+1 }, "the debit was never sent")
	}

	// The clear runs on a one-connection pool that counts.
	cfg, err := pgxpool.ParseConfig(h.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	counter := &tripCounter{}
	cfg.ConnConfig.Tracer = counter
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := postgres.NewDB(pool)
	svc := *h.App.Service
	svc.DB = db
	callbacks := &service.Callbacks{DB: db}
	callbacks.Handle("debit", svc.DebitCallback)

	clear := func(eventID, debitID string) {
		t.Helper()
		data, err := json.Marshal(map[string]string{"debit_id": debitID, "amount": "75000", "currency": "VND", "bank_reference": "FT-" + eventID})
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(map[string]any{"event_id": eventID, "type": "debit.succeeded", "occurred_at": time.Now().UTC().Format(time.RFC3339),
			"data": json.RawMessage(data)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := callbacks.Apply(context.Background(), service.Callback{BankCode: "SBX", EventID: eventID, Type: "debit.succeeded",
			OccurredAt: time.Now(), Data: data, Body: body})
		if err != nil || res != service.ResultApplied {
			t.Fatalf("clear %s: %v, %v", debitID, res, err)
		}
	}
	clear("evt-warm", debits[0]) // prepares the statements on the connection
	counter.start()
	clear("evt-counted", debits[1])
	trips, stmts, prepares, log := counter.stop()
	t.Logf("one applied debit callback: %d round trips, %d statements, %d preparations:\n%s", trips, stmts, prepares, strings.Join(log, "\n"))
	if trips > maxClearTrips || stmts > maxClearStatements {
		t.Errorf("one applied debit callback took %d round trips and %d statements, want at most %d and %d",
			trips, stmts, maxClearTrips, maxClearStatements)
	}
	for _, prID := range []string{p.prID, second} {
		if st := p.status(t, prID); st["status"] != "paid" {
			t.Fatalf("%s: %v", prID, st["status"])
		}
	}
	verifyClean(t, h, p.account.Number)
}
