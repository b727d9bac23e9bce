package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/statement"
	"github.com/citizenpay/gateway/internal/testenv"
)

// benchLines is the size of the benchmark's business day.
const benchLines = 100_000

// benchDay is a generated business day of bank SBX: benchLines paid
// requests, each with its succeeded attempt and its ledger posting, all of
// one portal, booked 0.8 s apart from the day's midnight. Every value of
// line i is a function of i, so its statement is generated without keeping
// the day in memory.
type benchDay struct {
	db  *testenv.DB
	day reconcile.Day
}

func benchAttemptID(i int) string { return fmt.Sprintf("pa_01jbench%016d", i) }
func benchReference(i int) string { return fmt.Sprintf("SBX%012d", i) }
func benchAmount(i int) int64     { return 10_000 + int64(i%500)*1_000 }
func (d *benchDay) bookedAt(i int) time.Time {
	return d.day.Start().Add(time.Duration(i) * 800 * time.Millisecond)
}

// setupBenchDay inserts the day with set-based SQL, in one transaction so
// that the ledger's balance triggers check it at commit.
func setupBenchDay(b *testing.B) *benchDay {
	b.Helper()
	ctx := context.Background()
	db := testenv.NewDB(b)
	d := &benchDay{db: db, day: reconcile.DayOfDate(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	const portal = "ptl_01jbenchportal0000000000"
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO portals (id, name, key_id, secret_sealed, webhook_url, webhook_secret_sealed)
			VALUES ($1, 'Bench portal', 'pk_bench', '\x00', 'https://portal.example/hooks', '\x00')`, []any{portal}},
		{`INSERT INTO banks (code, name, base_url, secret_sealed) VALUES ('SBX', 'Sandbox bank', 'http://sbx.example', '\x00')`, nil},
		{`INSERT INTO citizens (id, pid_index, pid_sealed) VALUES ('ctz_01jbench', '\x01', '\x00')`, nil},
		{`INSERT INTO linked_accounts (id, citizen_id, bank_code, account_index, account_sealed, account_masked,
				holder_name_sealed, status, is_default, verification_id, verification_outcome)
			VALUES ('acc_01jbench', 'ctz_01jbench', 'SBX', '\x01', '\x00', '****1234', '\x00', 'active', true,
				'av_01jbench', 'succeeded')`, nil},
		{`INSERT INTO payment_requests (id, portal_id, status, citizen_pid_index, citizen_pid_sealed, citizen_pid_masked,
				dossier_code, service_code, description, items, amount, currency, expires_at,
				paid_attempt_id, paid_bank_code, paid_bank_reference, paid_at, created_at, updated_at)
			SELECT 'pr_01jbench' || lpad(i::text, 16, '0'), $1, 'paid', '\x01', '\x00', '********1234',
				'HS-' || i, 'SVC-1', 'Bench fee', '[]', 10000 + (i % 500) * 1000, 'VND', $2::timestamptz + interval '1 day',
				'pa_01jbench' || lpad(i::text, 16, '0'), 'SBX', 'SBX' || lpad(i::text, 12, '0'),
				$2::timestamptz + i * interval '800 milliseconds', $2, $2
			FROM generate_series(0, $3 - 1) AS i`, []any{portal, d.day.Start(), benchLines}},
		{`INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency, status,
				bank_reference, sent_at, outcome_at, created_at, updated_at)
			SELECT 'pa_01jbench' || lpad(i::text, 16, '0'), 'pr_01jbench' || lpad(i::text, 16, '0'), 'acc_01jbench', 'SBX',
				10000 + (i % 500) * 1000, 'VND', 'succeeded', 'SBX' || lpad(i::text, 12, '0'),
				$1::timestamptz + i * interval '800 milliseconds', $1::timestamptz + i * interval '800 milliseconds', $1, $1
			FROM generate_series(0, $2 - 1) AS i`, []any{d.day.Start(), benchLines}},
		{`INSERT INTO ledger_transactions (cause, kind, booked_at, created_at)
			SELECT id, 'debit_succeeded', outcome_at, outcome_at FROM payment_attempts ORDER BY id`, nil},
		{`INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency)
			SELECT lt.id, p.account, p.direction, a.amount, 'VND'
			FROM ledger_transactions lt JOIN payment_attempts a ON a.id = lt.cause
			CROSS JOIN (VALUES ('bank_clearing:SBX', 'debit'), ('portal_payable:' || $1, 'credit')) AS p(account, direction)`,
			[]any{portal}},
	}
	for _, s := range steps {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			b.Fatalf("set up the day: %v\n%s", err, s.sql)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatalf("set up the day: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return d
}

// benchStatements is SBX's statement of the benchmark's day, generated
// line by line as it is written: every attempt of the day, as booked.
type benchStatements struct {
	d    *benchDay
	camt bool
}

// FetchStatement implements service.StatementSource.
func (s benchStatements) FetchStatement(_ context.Context, bankCode, date string, w io.Writer) (string, error) {
	line := func(i int) statement.Line {
		return statement.Line{Type: "debit", ID: benchAttemptID(i), Amount: decimal.NewFromInt(benchAmount(i)), Currency: "VND",
			BookedAt: s.d.bookedAt(i), BankReference: benchReference(i)}
	}
	if s.camt {
		cw := statement.NewCamtWriter(w, "GATEWAY-"+bankCode, date)
		for i := range benchLines {
			if err := cw.Write(line(i)); err != nil {
				return "", err
			}
		}
		return "application/xml", cw.Close()
	}
	cw := statement.NewCSVWriter(w)
	for i := range benchLines {
		if err := cw.Write(line(i)); err != nil {
			return "", err
		}
	}
	return "text/csv; charset=utf-8", cw.Flush()
}

// heapPeak samples the heap in use every 10 ms until stop is called, which
// returns the highest sample.
func heapPeak() (stop func() uint64) {
	var mu sync.Mutex
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		sample()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// BenchmarkReconcile100k reconciles a day of 100,000 statement lines, in
// CSV and in camt.053: "first" is the day's first run, which matches every
// line and records the matches and the closed settlement; "rerun" runs the
// day again, with every line matched already. Each run is checked to have
// matched every line, so only correct runs are timed.
func BenchmarkReconcile100k(b *testing.B) {
	d := setupBenchDay(b)
	ctx := context.Background()
	svc := &service.Service{DB: d.db.Store, Now: func() time.Time { return d.day.End().Add(3 * time.Hour) }}
	reset := func(b *testing.B) {
		b.Helper()
		if _, err := d.db.Pool.Exec(ctx, `TRUNCATE reconciliation_matches, reconciliation_differences, reconciliations,
			settlements, incidents, events`); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B, rc *service.Reconciler) uint64 {
		b.Helper()
		runtime.GC()
		stop := heapPeak()
		b.StartTimer()
		r, err := rc.Reconcile(ctx, "SBX", d.day)
		b.StopTimer()
		peak := stop()
		if err != nil {
			b.Fatal(err)
		}
		if res := r.Result; res.Status != reconcile.StatusMatched || res.Tally.Lines != benchLines ||
			res.Tally.Matched != benchLines || res.Tally.Differences != 0 {
			b.Fatalf("reconciled %s: %+v, want matched with %d lines all matched", d.day, res, benchLines)
		}
		return peak
	}
	report := func(b *testing.B, peak uint64) {
		b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
	for _, format := range []string{"csv", "camt"} {
		src := benchStatements{d: d, camt: format == "camt"}
		newReconciler := func(b *testing.B) *service.Reconciler {
			return &service.Reconciler{Service: svc, Statements: src, TempDir: b.TempDir(), Log: slog.New(slog.DiscardHandler)}
		}
		b.Run(format, func(b *testing.B) {
			b.Run("first", func(b *testing.B) {
				b.StopTimer()
				var peak uint64
				for range b.N {
					reset(b)
					peak = max(peak, run(b, newReconciler(b)))
				}
				report(b, peak)
			})
			b.Run("rerun", func(b *testing.B) {
				b.StopTimer()
				reset(b)
				run(b, newReconciler(b)) // the first run, not timed
				b.ResetTimer()
				b.StopTimer()
				var peak uint64
				for range b.N {
					peak = max(peak, run(b, newReconciler(b)))
				}
				report(b, peak)
			})
		})
	}
}
