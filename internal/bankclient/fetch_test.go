package bankclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/statement"
)

// requests counts gateway_bank_requests_total of a bank, operation and outcome.
func requests(t *testing.T, reg *prometheus.Registry, bank, op, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gateway_bank_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["bank"] == bank && l["operation"] == op && l["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestFetchStatementFromTheSandboxBank(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{})
	b.sandbox(t, "SBX", banksim.Knobs{Sync: true})
	ctx := context.Background()
	d := bankclient.Debit{DebitID: "pa_1", AccountNumber: number, HolderPID: holderPID, Amount: decimal.NewFromInt(75000),
		Currency: "VND", Description: "Lệ phí", Reference: "HCM-1"}
	if res := b.clients.Debit(ctx, "SBX", d); res.Outcome != bankclient.Succeeded {
		t.Fatalf("debit: %+v", res)
	}
	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	var body bytes.Buffer
	ct, err := b.clients.FetchStatement(ctx, "SBX", today, &body)
	if err != nil || !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("fetch: %q, %v", ct, err)
	}
	r, err := statement.NewReader(&body, ct, today)
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Next()
	if err != nil || l.ID != "pa_1" || l.Type != "debit" || !l.Amount.Equal(decimal.NewFromInt(75000)) || l.Reversed {
		t.Fatalf("line %+v, %v", l, err)
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the one line: %v", err)
	}
	if n := requests(t, b.reg, "SBX", bankclient.OpStatement, "succeeded"); n != 1 {
		t.Fatalf("succeeded statements counted %v", n)
	}
	if _, err := b.clients.FetchStatement(ctx, "SBX", "26/11/2026", &body); err == nil {
		t.Fatal("a date that is not YYYY-MM-DD was fetched")
	}
	if _, err := b.clients.FetchStatement(ctx, "NOPE", today, &body); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown bank: %v", err)
	}
}

func TestFetchStatementWritesWhatTheBankSent(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{})
	lines := make([]statement.Line, 10_000)
	for i := range lines {
		lines[i] = statement.Line{Type: "debit", ID: fmt.Sprintf("pa_%d", i), Amount: decimal.NewFromInt(int64(1000 + i)),
			Currency: "VND", BookedAt: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), BankReference: fmt.Sprintf("FT%d", i)}
	}
	var sent bytes.Buffer
	if err := statement.WriteCamt(&sent, "0071000999999", "2026-11-26", lines); err != nil {
		t.Fatal(err)
	}
	fakeBank(t, b.dir, "XML", func(w http.ResponseWriter, r *http.Request) {
		bk := mustBank(t, b.dir, "XML")
		m := signature.Message{Timestamp: r.Header.Get(signature.HeaderTimestamp), Method: r.Method, Target: r.RequestURI}
		if err := signature.Verify(r.Header.Get(signature.HeaderSignature), []string{bk.Secret}, m, time.Now()); err != nil ||
			r.URL.Path != "/v1/statements" || r.URL.Query().Get("date") != "2026-11-26" ||
			r.Header.Get("Accept") != "text/csv, application/xml" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(sent.Bytes())
	})
	var got bytes.Buffer
	ct, err := b.clients.FetchStatement(context.Background(), "XML", "2026-11-26", &got)
	if err != nil || ct != "application/xml" {
		t.Fatalf("fetch: %q, %v", ct, err)
	}
	if !bytes.Equal(got.Bytes(), sent.Bytes()) {
		t.Fatalf("wrote %d bytes, the bank sent %d", got.Len(), sent.Len())
	}
}

func TestFetchStatementNotReady(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	b := setup(t, bankclient.Options{Now: func() time.Time { return now }, BreakerFailures: 100})
	fakeBank(t, b.dir, "SBX", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("date") {
		case "2026-11-01":
			w.WriteHeader(http.StatusNotFound)
		case "2026-11-02":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusNotFound)
		case "2026-11-03":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "2026-11-04":
			w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		case "2026-11-05":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "holder 079203001234 broke")
		}
	})
	ctx := context.Background()
	for _, tc := range []struct {
		date   string
		status int
		wait   time.Duration
	}{{"2026-11-01", 404, 0}, {"2026-11-02", 404, 30 * time.Second}, {"2026-11-03", 503, 2 * time.Minute}, {"2026-11-04", 503, 90 * time.Second}} {
		var w bytes.Buffer
		ct, err := b.clients.FetchStatement(ctx, "SBX", tc.date, &w)
		var nr *bankclient.NotReadyError
		if !errors.As(err, &nr) || nr.Status != tc.status || nr.RetryAfter != tc.wait || ct != "" || w.Len() != 0 {
			t.Errorf("%s: %q, %v (%+v)", tc.date, ct, err, nr)
		}
	}
	for _, date := range []string{"2026-11-05", "2026-11-06"} {
		_, err := b.clients.FetchStatement(ctx, "SBX", date, io.Discard)
		var nr *bankclient.NotReadyError
		if err == nil || errors.As(err, &nr) || !strings.Contains(err.Error(), "bank SBX") ||
			!strings.Contains(err.Error(), "answered 5") || strings.Contains(err.Error(), "079203001234") {
			t.Errorf("%s: %v", date, err)
		}
	}
	if n := requests(t, b.reg, "SBX", bankclient.OpStatement, "not_found"); n != 2 {
		t.Errorf("not_found counted %v", n)
	}
	if n := requests(t, b.reg, "SBX", bankclient.OpStatement, "unknown"); n != 4 {
		t.Errorf("unknown counted %v", n)
	}
}

// TestFetchStatementOutsideTheBreaker: a bank whose debits opened its
// circuit still gives its statement, and statements that fail never open it.
func TestFetchStatementOutsideTheBreaker(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{BreakerFailures: 2, Attempts: 1, BreakerCooldown: time.Hour})
	answer := func(debits, statements int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/statements" {
				w.WriteHeader(debits)
				return
			}
			w.Header().Set("Content-Type", "text/csv")
			w.WriteHeader(statements)
			fmt.Fprint(w, "bank_reference,type,id,amount,currency,status,booked_at\r\n")
		}
	}
	fakeBank(t, b.dir, "DEBITS_DOWN", answer(500, 200))
	ctx := context.Background()
	d := bankclient.Debit{DebitID: "pa_1", AccountNumber: number, HolderPID: holderPID, Amount: decimal.NewFromInt(1000), Currency: "VND"}
	for range 3 {
		b.clients.Debit(ctx, "DEBITS_DOWN", d)
	}
	if !b.clients.Open("DEBITS_DOWN") {
		t.Fatal("failing debits did not open the circuit")
	}
	var w bytes.Buffer
	if ct, err := b.clients.FetchStatement(ctx, "DEBITS_DOWN", "2026-11-26", &w); err != nil || ct != "text/csv" || !strings.HasPrefix(w.String(), "bank_reference,") {
		t.Fatalf("statement with the circuit open: %q, %v", ct, err)
	}

	sent := fakeBank(t, b.dir, "STATEMENTS_DOWN", answer(200, 500))
	for range 10 {
		if _, err := b.clients.FetchStatement(ctx, "STATEMENTS_DOWN", "2026-11-26", io.Discard); err == nil {
			t.Fatal("a 500 was taken for a statement")
		}
	}
	if b.clients.Open("STATEMENTS_DOWN") {
		t.Fatal("failing statements opened the circuit")
	}
	before := sent.Load()
	if res := b.clients.Debit(ctx, "STATEMENTS_DOWN", d); errors.Is(res.Err, bankclient.ErrCircuitOpen) || sent.Load() != before+1 {
		t.Fatalf("a debit after failing statements: %+v", res)
	}
}

func TestFetchStatementHasItsOwnTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{StatementTimeout: 300 * time.Millisecond, Timeout: 100 * time.Millisecond})
	hold := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	fakeBank(t, b.dir, "MUTE", hold)
	fakeBank(t, b.dir, "STALLS", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, "bank_reference,type,id,amount,currency,status,booked_at\r\n")
		w.(http.Flusher).Flush()
		hold(w, r)
	})
	// Slower than a debit's timeout, within the statement's: it arrives.
	fakeBank(t, b.dir, "TRICKLES", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		for i := range 4 {
			time.Sleep(50 * time.Millisecond)
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	ctx := context.Background()
	for _, code := range []string{"MUTE", "STALLS"} {
		start := time.Now()
		_, err := b.clients.FetchStatement(ctx, code, "2026-11-26", io.Discard)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "bank "+code) {
			t.Errorf("%s: %v", code, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: gave up after %s", code, d)
		}
	}
	var w bytes.Buffer
	if _, err := b.clients.FetchStatement(ctx, "TRICKLES", "2026-11-26", &w); err != nil || w.String() != "part 0\npart 1\npart 2\npart 3\n" {
		t.Fatalf("a statement slower than a debit's timeout: %q, %v", w.String(), err)
	}
	// The caller's own end is the caller's, not a timeout.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.clients.FetchStatement(cctx, "MUTE", "2026-11-26", io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
