package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/statement"
)

// statementBank serves statements the test writes, line by line, in either
// format: a bank's statement endpoint under the test's control, for the
// differences a sandbox bank cannot be made to show on the same day.
type statementBank struct {
	mu       sync.Mutex
	lines    map[string][]statement.Line // by date
	camt     bool
	notReady bool
	body     string // served as is when set
	fetches  int
}

func newStatementBank(camt bool) *statementBank {
	return &statementBank{lines: map[string][]statement.Line{}, camt: camt}
}

func (b *statementBank) add(date string, ls ...statement.Line) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines[date] = append(b.lines[date], ls...)
}

func (b *statementBank) set(edit func(b *statementBank)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	edit(b)
}

// FetchStatement implements service.StatementSource.
func (b *statementBank) FetchStatement(_ context.Context, bankCode, date string, w io.Writer) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fetches++
	switch {
	case b.notReady:
		return "", &bankclient.NotReadyError{RetryAfter: time.Minute, Status: http.StatusServiceUnavailable}
	case b.body != "":
		_, err := io.WriteString(w, b.body)
		return "text/csv", err
	case b.camt:
		return "application/xml", statement.WriteCamt(w, "GATEWAY-"+bankCode, date, b.lines[date])
	}
	return "text/csv; charset=utf-8", statement.WriteCSV(w, b.lines[date])
}

// reconciler is the gateway's reconciler reading statements from src.
func reconciler(p *payer, src service.StatementSource) *service.Reconciler {
	return &service.Reconciler{Service: p.h.App.Service, Statements: src, TempDir: p.h.T.TempDir(), BatchSize: 2,
		Log: slog.New(slog.DiscardHandler)}
}

func runDay(t *testing.T, rc *service.Reconciler, day reconcile.Day) reconcile.Result {
	t.Helper()
	run, err := rc.Reconcile(context.Background(), "SBX", day)
	if err != nil {
		t.Fatalf("reconcile %s: %v", day, err)
	}
	return run.Result
}

// lineOf is the statement line that books attempt or refund objID as the
// gateway holds it.
func lineOf(t *testing.T, p *payer, objID string, at time.Time) statement.Line {
	t.Helper()
	l := statement.Line{ID: objID, Currency: "VND", BookedAt: at}
	table, typ := "payment_attempts", "debit"
	if objID[:3] == "rf_" {
		table, typ = "refunds", "refund"
	}
	l.Type = typ
	var amount string
	if err := p.h.DB.Pool.QueryRow(context.Background(), `SELECT amount::text, coalesce(bank_reference, 'REF-'||id) FROM `+table+`
		WHERE id = $1`, objID).Scan(&amount, &l.BankReference); err != nil {
		t.Fatal(err)
	}
	l.Amount = decimal.RequireFromString(amount)
	return l
}

// payAndWait pays prID and waits until the bank's word is applied.
func (p *payer) payAndWait(t *testing.T, prID, key, want string) string {
	t.Helper()
	if r := p.pay(t, prID, key); r.Status != http.StatusAccepted {
		t.Fatalf("pay %s: %d %s", prID, r.Status, r.Body)
	}
	p.waitStatus(t, prID, want)
	return p.attemptID(t, prID)
}

// incidentsOf counts the reconciliation incidents of each difference kind.
func incidentsOf(t *testing.T, p *payer, kind string) map[string]int {
	t.Helper()
	rows, err := p.h.DB.Pool.Query(context.Background(), `SELECT coalesce(evidence->>'difference', ''), count(*) FROM incidents
		WHERE kind = $1 GROUP BY 1`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}
