package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestSandboxStatementFaults reconciles a day after day against the sandbox
// bank's own statement, in each format, with one of its faults set each
// day: every fault makes exactly the incident it should, and none other.
func TestSandboxStatementFaults(t *testing.T) {
	t.Parallel()
	for _, format := range []string{banksim.StatementCSV, banksim.StatementCamt053} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			clock := testenv.NewClock()
			p := newPayer(t, withWorkers(), apitest.WithClock(clock), noCitizenRateLimit())
			h, ctx := p.h, context.Background()
			// Each day starts at 03:00 in Ho Chi Minh City, so that its
			// payment and its run fall on that day.
			clock.AdvanceTo(reconcile.DayOf(h.Now()).End().Add(3 * time.Hour))
			p.idp.Renew(t, h, p.cit)
			rc := p.h.App.Reconciler
			kinds := func() map[string]int { return incidentsOf(t, p, string(incident.KindReconciliation)) }
			seen := map[string]int{}
			n := 0
			newDay := func(knobs banksim.Knobs) (reconcile.Day, string) {
				n++
				if n > 1 {
					clock.AdvanceTo(reconcile.DayOf(h.Now()).End().Add(3 * time.Hour))
					p.idp.Renew(t, h, p.cit)
				}
				knobs.StatementFormat = format
				prID := p.newRequest(t, "FEE-DAY-"+string(rune('A'+n)))
				p.bank.Sim.SetKnobs(knobs)
				return reconcile.DayOf(h.Now()), prID
			}
			expect := func(what string, res reconcile.Result, status reconcile.Status, added map[string]int) {
				t.Helper()
				if res.Status != status {
					t.Fatalf("%s: %+v, want %s", what, res, status)
				}
				for k, v := range added {
					seen[k] += v
				}
				if got := kinds(); !equalCounts(got, seen) {
					t.Fatalf("%s: incidents %v, want %v", what, got, seen)
				}
			}

			day, prID := newDay(banksim.Knobs{})
			p.payAndWait(t, prID, "pay-clean", "paid")
			res := runDay(t, rc, day)
			if res.Tally.Lines != 1 || res.Tally.Matched != 1 {
				t.Fatalf("a clean day: %+v", res)
			}
			expect("clean", res, reconcile.StatusMatched, nil)

			// A dropped callback: the statement is the bank's word, applied once.
			day, prID = newDay(banksim.Knobs{DropCallbacks: 1})
			if r := p.pay(t, prID, "pay-dropped"); r.Status != http.StatusAccepted {
				t.Fatalf("pay: %d %s", r.Status, r.Body)
			}
			attempt := p.attemptID(t, prID)
			testenv.Eventually(t, 30*time.Second, func() bool { return p.bank.Sim.Executed(attempt) == 1 }, "the bank never executed the debit")
			if got := p.status(t, prID)["status"]; got != "processing" {
				t.Fatalf("without its callback the request is %v", got)
			}
			res = runDay(t, rc, day)
			if res.Tally.Applied != 1 || res.Tally.Matched != 1 {
				t.Fatalf("the statement did not apply the debit: %+v", res)
			}
			expect("dropped callback", res, reconcile.StatusMatched, nil)
			if got := p.status(t, prID); got["status"] != "paid" || got["payment"].(map[string]any)["receipt_id"] == nil {
				t.Fatalf("after the statement: %+v", got)
			}
			if again := runDay(t, rc, day); again.Tally.Applied != 1 || again.Status != reconcile.StatusMatched {
				t.Fatalf("a re-run: %+v", again)
			}
			if n := h.Count(`SELECT count(*) FROM ledger_transactions WHERE cause = $1`, attempt); n != 1 {
				t.Fatalf("%d postings of the dropped debit", n)
			}
			if n := h.Count(`SELECT count(*) FROM events WHERE type = 'payment_request.paid' AND payload::jsonb #>> '{data,payment_request,id}' = $1`, prID); n != 1 {
				t.Fatalf("%d paid events", n)
			}

			for _, tc := range []struct {
				name  string
				knobs banksim.Knobs
				kind  string
			}{
				{"phantom", banksim.Knobs{StatementPhantom: 1}, "unknown_id"},
				{"altered amount", banksim.Knobs{StatementAlterAmount: 1}, "amount_differs"},
				{"reversal", banksim.Knobs{StatementReverse: 1}, "reversal"},
			} {
				day, prID = newDay(tc.knobs)
				p.payAndWait(t, prID, "pay-"+tc.name, "paid")
				expect(tc.name, runDay(t, rc, day), reconcile.StatusDifferences, map[string]int{tc.kind: 1})
				expect(tc.name+", again", runDay(t, rc, day), reconcile.StatusDifferences, nil)
			}

			// Unreadable or unavailable: nothing is applied, no incident yet.
			for _, tc := range []struct {
				name  string
				knobs banksim.Knobs
				why   string
			}{
				{"not an amount", banksim.Knobs{StatementGarbage: banksim.GarbageAmount}, "amount"},
				{"not a statement", banksim.Knobs{StatementGarbage: banksim.GarbageHTML}, ""},
				{"unavailable", banksim.Knobs{StatementUnavailableFor: time.Hour}, "503"},
			} {
				day, prID = newDay(tc.knobs)
				p.payAndWait(t, prID, "pay-"+tc.name, "paid")
				res := runDay(t, rc, day)
				expect(tc.name, res, reconcile.StatusUnavailable, nil)
				if !strings.Contains(res.Reason, tc.why) {
					t.Fatalf("%s: the reason %q does not say %q", tc.name, res.Reason, tc.why)
				}
				p.bank.Sim.SetKnobs(banksim.Knobs{StatementFormat: format})
				expect(tc.name+", then back", runDay(t, rc, day), reconcile.StatusMatched, nil)
			}

			// A missing line shows once the next day's statement is read too.
			day, prID = newDay(banksim.Knobs{StatementOmit: 1})
			omitted := p.payAndWait(t, prID, "pay-omitted", "paid")
			expect("omitted", runDay(t, rc, day), reconcile.StatusMatched, nil)
			next, _ := newDay(banksim.Knobs{})
			expect("the day after the omission", runDay(t, rc, next), reconcile.StatusMatched, map[string]int{"missing_line": 1})
			if n := h.Count(`SELECT count(*) FROM incidents WHERE object_id = $1 AND evidence->>'difference' = 'missing_line'`, omitted); n != 1 {
				t.Fatalf("the missing line's incident does not name %s", omitted)
			}
			if r, err := h.App.Reconciler.Reconcile(ctx, "SBX", day); err != nil || r.Result.Status != reconcile.StatusDifferences {
				t.Fatalf("the omitted day re-run: %+v %v", r.Result, err)
			}
			verifyCleanWithin(t, h, 30*24*time.Hour, p.account.Number)
		})
	}
}
