package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/wire"
)

// ctlAt runs gatewayctl against the database at dbURL and returns what it
// printed, whatever its outcome: a command may report and then fail.
func ctlAt(t *testing.T, dbURL string, args ...string) ([]byte, error) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbURL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": "development"}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.Bytes(), err
}

// paidClearing is a clearing setup whose debit the sandbox bank executed
// and the gateway applied: the bank's statement of today lists it.
func paidClearing(t *testing.T) (*clearingSetup, reconcile.Day) {
	t.Helper()
	s := newClearing(t, banksim.Knobs{})
	testenv.Eventually(t, 30*time.Second, func() bool { return s.status(t) == "paid" }, "the debit was never paid")
	var paidAt time.Time
	if err := s.h.DB.Pool.QueryRow(context.Background(), `SELECT paid_at FROM payment_requests WHERE id = $1`, s.prID).Scan(&paidAt); err != nil {
		t.Fatal(err)
	}
	return s, reconcile.DayOf(paidAt)
}

// TestReconcileCommand: `gatewayctl reconcile` prints the run's result and
// exits 0 when the statement was read, prints an unavailable result and
// exits 1 when it could not be, and refuses bad flags with one error that
// names the flag or the bank, before anything runs.
func TestReconcileCommand(t *testing.T) {
	t.Parallel()
	s, day := paidClearing(t)
	h, url := s.h, s.h.DB.URL

	var res wire.Reconciliation
	if err := ctlInto(t, url, &res, "reconcile", "--bank", "SBX", "--date", day.String()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ID, "rcn_") || res.Object != "reconciliation" || res.BankCode != "SBX" || res.Date != day.String() ||
		res.Status != "matched" || res.Lines != 1 || res.Matched != 1 || res.Applied != 0 || res.Differences != 0 ||
		res.DebitTotal != "75000" || res.RefundTotal != "0" || res.Reason != nil {
		t.Fatalf("reconcile: %+v", res)
	}
	if n := h.Count(`SELECT count(*) FROM ledger_transactions WHERE cause = $1`, s.paID); n != 1 {
		t.Fatalf("%d postings of the matched debit", n)
	}

	// The bank has no statement for an hour: the run reports why, and the
	// command fails after printing it.
	s.bank.Sim.SetKnobs(banksim.Knobs{StatementUnavailableFor: time.Hour})
	out, err := ctlAt(t, url, "reconcile", "--bank", "SBX", "--date", day.String())
	if !errors.Is(err, errExit) {
		t.Fatalf("an unavailable statement: %v, want exit 1 (printed %s)", err, out)
	}
	var un wire.Reconciliation
	if err := json.Unmarshal(out, &un); err != nil {
		t.Fatalf("printed %q: %v", out, err)
	}
	if un.ID != res.ID || un.Status != "unavailable" || un.Reason == nil || !strings.Contains(*un.Reason, "503") {
		t.Fatalf("unavailable: %+v (reason %v)", un, un.Reason)
	}
	if n := h.Count(`SELECT count(*) FROM incidents`); n != 0 {
		t.Fatalf("%d incidents after an unavailable statement", n)
	}
	s.bank.Sim.SetKnobs(banksim.Knobs{})
	if err := ctlInto(t, url, &res, "reconcile", "--bank", "SBX", "--date", day.String()); err != nil || res.Status != "matched" || res.Matched != 1 {
		t.Fatalf("once the statement is back: %+v %v", res, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--date", day.String()}, "--bank"},
		{[]string{"--bank", "SBX"}, "--date"},
		{[]string{"--bank", "SBX", "--date", "2026-13-01"}, "--date"},
		{[]string{"--bank", "SBX", "--date", "03/12/2026"}, "--date"},
		{[]string{"--bank", "SBX", "--date", day.Add(2).String()}, "has not begun"},
		{[]string{"--bank", "NOPE", "--date", day.String()}, `"NOPE"`},
	} {
		out, err := ctlAt(t, url, append([]string{"reconcile"}, tc.args...)...)
		if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || len(out) != 0 {
			t.Errorf("reconcile %v: %v (printed %q), want one error naming %s", tc.args, err, out, tc.want)
		}
	}
	for _, args := range [][]string{{"--bank", "SBX", "--date", day.String(), "extra"}, {"--bank"}, {"--nope"}} {
		if _, err := ctlAt(t, url, append([]string{"reconcile"}, args...)...); !errors.Is(err, errUsage) {
			t.Errorf("reconcile %v: %v, want the usage", args, err)
		}
	}
	if n := h.Count(`SELECT count(*) FROM reconciliations`); n != 1 {
		t.Fatalf("%d reconciliations, want the one of SBX's day", n)
	}
	verifyClean(t, url)
}

// TestSettlementsCommand: the day's settlement is open until the day has
// ended and SBX reconciled it matched; mark-settled refuses an open one,
// settles a closed one once — five operators at once included — with its
// reference, posting the bank's share once, and refuses every later try
// without changing anything.
func TestSettlementsCommand(t *testing.T) {
	t.Parallel()
	s, day := paidClearing(t)
	h, url, ctx := s.h, s.h.DB.URL, context.Background()
	var res wire.Reconciliation
	if err := ctlInto(t, url, &res, "reconcile", "--bank", "SBX", "--date", day.String()); err != nil || res.Status != "matched" {
		t.Fatalf("reconcile: %+v %v", res, err)
	}

	var list []wire.Settlement
	if err := ctlInto(t, url, &list, "settlements", "list", "--date", day.String()); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || !strings.HasPrefix(list[0].ID, "stl_") || list[0].Status != "open" || list[0].Date != day.String() ||
		list[0].Count != 1 || list[0].Collected != "75000" || list[0].Refunded != "0" || list[0].Net != "75000" {
		t.Fatalf("list: %+v", list)
	}
	stlID := list[0].ID
	if _, err := ctlAt(t, url, "settlements", "mark-settled", "--id", stlID, "--reference", "TRF-1", "--by", "treasury"); err == nil ||
		!strings.Contains(err.Error(), "invalid_state") || !strings.Contains(err.Error(), "still open") {
		t.Fatalf("settling an open settlement: %v", err)
	}

	// The day ends: the next refresh closes it, every bank having matched.
	later := &service.Service{DB: h.App.Service.DB, Now: func() time.Time { return day.End().Add(time.Hour) }}
	if err := later.RefreshSettlements(ctx, day); err != nil {
		t.Fatal(err)
	}
	var shown wire.Settlement
	if err := ctlInto(t, url, &shown, "settlements", "show", "--id", stlID); err != nil {
		t.Fatal(err)
	}
	if shown.Status != "closed" || shown.ClosedAt == nil || shown.SettledReference != nil || len(shown.Banks) != 1 ||
		shown.Banks[0].BankCode != "SBX" || shown.Banks[0].Net != "75000" {
		t.Fatalf("show: %+v", shown)
	}
	for status, want := range map[string]int{"open": 0, "closed": 1, "settled": 0} {
		if err := ctlInto(t, url, &list, "settlements", "list", "--status", status); err != nil || len(list) != want {
			t.Errorf("list --status %s: %+v %v, want %d", status, list, err, want)
		}
	}

	// Refused before the database is touched, naming the flag.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mark-settled", "--id", stlID, "--by", "treasury"}, "--reference"},
		{[]string{"mark-settled", "--id", stlID, "--reference", "  ", "--by", "treasury"}, "--reference"},
		{[]string{"mark-settled", "--id", stlID, "--reference", "TRF-1"}, "--by"},
		{[]string{"mark-settled", "--reference", "TRF-1", "--by", "treasury"}, "--id"},
		{[]string{"show"}, "--id"},
		{[]string{"list", "--status", "paid"}, "--status"},
		{[]string{"list", "--limit", "0"}, "--limit"},
		{[]string{"list", "--date", "yesterday"}, "--date"},
	} {
		if _, err := ctlAt(t, url, append([]string{"settlements"}, tc.args...)...); err == nil || errors.Is(err, errUsage) ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("settlements %v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	for _, args := range [][]string{{}, {"close", "--id", stlID}, {"show", "--id", stlID, "--reference", "TRF-1"}, {"list", "extra"}} {
		if _, err := ctlAt(t, url, append([]string{"settlements"}, args...)...); !errors.Is(err, errUsage) {
			t.Errorf("settlements %v: %v, want the usage", args, err)
		}
	}
	if _, err := ctlAt(t, url, "settlements", "show", "--id", "stl_nosuch"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("show of no settlement: %v", err)
	}
	if err := ctlInto(t, url, &shown, "settlements", "show", "--id", stlID); err != nil || shown.Status != "closed" {
		t.Fatalf("after the refusals: %+v %v", shown, err)
	}

	const workers = 5
	var wg sync.WaitGroup
	outs := make([]wire.Settlement, workers)
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			errs[i] = ctlInto(t, url, &outs[i], "settlements", "mark-settled", "--id", stlID, "--reference", "TRF-2026-001", "--by", "treasury")
		})
	}
	wg.Wait()
	var won *wire.Settlement
	for i, err := range errs {
		switch {
		case err == nil && won == nil:
			won = &outs[i]
		case err == nil:
			t.Fatalf("two operators settled it: %+v and %+v", *won, outs[i])
		case !strings.Contains(err.Error(), "invalid_state") || !strings.Contains(err.Error(), "already settled"):
			t.Errorf("a racing mark-settled failed with %v, want invalid_state", err)
		}
	}
	if won == nil {
		t.Fatalf("nobody settled it: %v", errs)
	}
	if won.ID != stlID || won.Status != "settled" || won.SettledReference == nil || *won.SettledReference != "TRF-2026-001" ||
		won.SettledAt == nil || won.Version != shown.Version+1 || won.Net != "75000" {
		t.Fatalf("mark-settled: %+v", *won)
	}

	// Once more, after the fact: refused, and nothing changes.
	_, err := ctlAt(t, url, "settlements", "mark-settled", "--id", stlID, "--reference", "TRF-2026-002", "--by", "someone else")
	if err == nil || !strings.Contains(err.Error(), "invalid_state") || !strings.Contains(err.Error(), "TRF-2026-001") {
		t.Fatalf("second mark-settled: %v", err)
	}
	var after wire.Settlement
	if err := ctlInto(t, url, &after, "settlements", "show", "--id", stlID); err != nil {
		t.Fatal(err)
	}
	if after.Status != "settled" || *after.SettledReference != "TRF-2026-001" || after.Version != won.Version || after.UpdatedAt != won.UpdatedAt {
		t.Fatalf("the settlement changed: %+v", after)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM settlements WHERE id = '` + stlID + `' AND status = 'settled' AND settled_reference = 'TRF-2026-001' AND settled_by = 'treasury'`: 1,
		`SELECT count(*) FROM ledger_transactions WHERE kind = 'settlement'`:                                                                                    1,
		`SELECT count(*) FROM ledger_transactions WHERE kind = 'settlement' AND cause = '` + stlID + `:SBX'`:                                                    1,
		`SELECT count(*) FROM events WHERE type = 'settlement.closed'`:                                                                                          1,
		`SELECT count(*) FROM events WHERE type = 'settlement.settled'`:                                                                                         1,
	} {
		if n := h.Count(q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	if err := ctlInto(t, url, &list, "settlements", "list", "--status", "settled", "--portal", after.PortalID); err != nil || len(list) != 1 || list[0].ID != stlID {
		t.Fatalf("list --status settled: %+v %v", list, err)
	}
	verifyClean(t, url)
}
