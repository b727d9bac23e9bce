package httpapi_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/statement"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestReconcileDifferences reconciles a day whose statement shows every
// kind of difference, in each format: each becomes one incident with its
// evidence, a re-run records none twice, the day turns matched once they
// are resolved, and its settlement then closes with the ledger's figures
// and is settled once.
func TestReconcileDifferences(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"csv", "camt053"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			clock := testenv.NewClock()
			p := newPayer(t, withWorkers(), apitest.WithClock(clock), noCitizenRateLimit())
			h, ctx := p.h, context.Background()
			today := reconcile.DayOf(h.Now())
			at := h.Now()
			paidA := p.payAndWait(t, p.prID, "pay-a", "paid")
			prB, prC, prE := p.newRequest(t, "FEE-B"), p.newRequest(t, "FEE-C"), p.newRequest(t, "FEE-E")
			paidB, paidC, paidE := p.payAndWait(t, prB, "pay-b", "paid"), p.payAndWait(t, prC, "pay-c", "paid"), p.payAndWait(t, prE, "pay-e", "paid")
			rf := h.Post("/v1/payment-requests/"+p.prID+"/refunds", "refund-a", map[string]string{"amount": "10000"})
			if rf.Status != http.StatusAccepted {
				t.Fatalf("refund: %d %s", rf.Status, rf.Body)
			}
			rfID := rf.Map(t)["id"].(string)
			p.waitStatus(t, p.prID, "partially_refunded")
			p.bank.Sim.SetKnobs(banksim.Knobs{Reject: "INSUFFICIENT_FUNDS"})
			prD := p.newRequest(t, "FEE-D")
			if r := p.pay(t, prD, "pay-d"); r.Status != http.StatusAccepted {
				t.Fatalf("pay D: %d %s", r.Status, r.Body)
			}
			failedD := p.attemptID(t, prD)
			testenv.Eventually(t, 30*time.Second, func() bool {
				return h.Count(`SELECT count(*) FROM payment_attempts WHERE id = $1 AND status = 'failed'`, failedD) == 1
			}, "the rejected debit never failed")

			src := newStatementBank(format == "camt053")
			b := lineOf(t, p, paidB, at)
			b.Amount = b.Amount.Add(decimal.NewFromInt(1000))
			reversal := lineOf(t, p, paidC, at)
			reversal.Reversed = true
			d := lineOf(t, p, failedD, at)
			d.BankReference = "REF-D"
			src.add(today.String(), lineOf(t, p, paidA, at), lineOf(t, p, rfID, at), b,
				statement.Line{Type: "debit", ID: "pa_01neversent", Amount: decimal.NewFromInt(5000), Currency: "VND", BookedAt: at, BankReference: "REF-X"},
				lineOf(t, p, paidC, at), reversal, d)
			rc := reconciler(p, src)

			first := runDay(t, rc, today)
			if first.Status != reconcile.StatusDifferences || first.Tally.Lines != 7 || first.Tally.Matched != 3 ||
				first.Tally.Differences != 4 || first.Tally.Applied != 0 {
				t.Fatalf("first run: %+v", first)
			}
			want := map[string]int{"amount_differs": 1, "unknown_id": 1, "reversal": 1, "failed_at_gateway": 1}
			if got := incidentsOf(t, p, string(incident.KindReconciliation)); !equalCounts(got, want) {
				t.Fatalf("incidents %v, want %v", got, want)
			}
			if again := runDay(t, rc, today); again.Status != first.Status || tallyOf(again) != tallyOf(first) {
				t.Fatalf("a re-run came to %+v, not %+v", again, first)
			}
			if got := incidentsOf(t, p, string(incident.KindReconciliation)); !equalCounts(got, want) {
				t.Fatalf("after a re-run: incidents %v, want %v", got, want)
			}
			var evidence string
			if err := h.DB.Pool.QueryRow(ctx, `SELECT evidence::text FROM incidents WHERE evidence->>'difference' = 'amount_differs'`).Scan(&evidence); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(evidence, `"amount": "76000"`) || !strings.Contains(evidence, `"gateway"`) || !strings.Contains(evidence, prB) {
				t.Fatalf("evidence: %s", evidence)
			}

			// The next day's statement lists nothing of today: E, which no
			// line named, is missing; B, named with another amount, is not.
			clock.AdvanceTo(today.End().Add(time.Hour))
			if next := runDay(t, rc, today.Add(1)); next.Status != reconcile.StatusMatched || next.Tally.Lines != 0 {
				t.Fatalf("the next day: %+v", next)
			}
			want["missing_line"] = 1
			if got := incidentsOf(t, p, string(incident.KindReconciliation)); !equalCounts(got, want) {
				t.Fatalf("after the next day: incidents %v, want %v", got, want)
			}
			var missing string
			if err := h.DB.Pool.QueryRow(ctx, `SELECT object_id FROM incidents WHERE evidence->>'difference' = 'missing_line'`).Scan(&missing); err != nil || missing != paidE {
				t.Fatalf("the missing line names %q (%v), want %s", missing, err, paidE)
			}
			stl := settlementOf(t, p, today)
			if stl["status"] != "open" {
				t.Fatalf("a day with open differences has its settlement %v", stl["status"])
			}

			// The operator resolves every difference; the re-run is matched
			// and closes the day.
			rows, _ := h.DB.Pool.Query(ctx, `SELECT id FROM incidents WHERE kind = $1 AND status = 'open'`, string(incident.KindReconciliation))
			var open []string
			for rows.Next() {
				var id string
				_ = rows.Scan(&id)
				open = append(open, id)
			}
			rows.Close()
			for _, id := range open {
				if _, err := h.App.Service.ResolveIncident(ctx, id, incident.Resolution{Action: incident.ActionNote, Note: "the bank confirmed"}); err != nil {
					t.Fatal(err)
				}
			}
			done := runDay(t, rc, today)
			if done.Status != reconcile.StatusMatched || done.Tally.Differences != 5 || done.ID != first.ID {
				t.Fatalf("after resolving: %+v", done)
			}
			stl = settlementOf(t, p, today)
			if stl["status"] != "closed" || stl["count"] != float64(4) || stl["refund_count"] != float64(1) ||
				stl["collected"] != "300000" || stl["refunded"] != "10000" || stl["net"] != "290000" {
				t.Fatalf("settlement: %+v", stl)
			}
			checkSettlementLines(t, p, stl["id"].(string), 5)
			verifyClean(t, h, p.account.Number)

			stlID := stl["id"].(string)
			if _, err := h.App.Service.MarkSettled(ctx, stlID, "TRF-2026-001", "treasury"); err != nil {
				t.Fatal(err)
			}
			if _, err := h.App.Service.MarkSettled(ctx, stlID, "TRF-2026-002", "treasury"); !fault.Is(err, fault.InvalidState) {
				t.Fatalf("settling twice: %v", err)
			}
			got := h.Get("/v1/settlements/" + stlID).Map(t)
			if got["status"] != "settled" || got["settled_reference"] != "TRF-2026-001" {
				t.Fatalf("settled: %+v", got)
			}
			if n := h.Count(`SELECT count(*) FROM ledger_transactions WHERE kind = 'settlement' AND cause = $1`, stlID+":SBX"); n != 1 {
				t.Fatalf("%d settlement postings", n)
			}
			for _, typ := range []string{"settlement.closed", "settlement.settled"} {
				if n := h.Count(`SELECT count(*) FROM events WHERE type = $1 AND payload::jsonb #>> '{data,settlement,id}' = $2`, typ, stlID); n != 1 {
					t.Fatalf("%d %s events", n, typ)
				}
			}
			verifyClean(t, h, p.account.Number)
		})
	}
}

// tallyOf is a run's counts and totals, comparable.
func tallyOf(r reconcile.Result) string {
	tl := r.Tally
	return fmt.Sprintf("%s lines=%d matched=%d applied=%d differences=%d debits=%s refunds=%s", r.Status, tl.Lines,
		tl.Matched, tl.Applied, tl.Differences, tl.DebitTotal, tl.RefundTotal)
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// settlementOf returns the portal's settlement of day, through the API.
func settlementOf(t *testing.T, p *payer, day reconcile.Day) map[string]any {
	t.Helper()
	var list struct{ Data []map[string]any }
	p.h.Get("/v1/settlements?date="+day.String()).JSON(t, &list)
	if len(list.Data) != 1 {
		t.Fatalf("settlements of %s: %+v", day, list.Data)
	}
	return list.Data[0]
}

// checkSettlementLines reads a settlement's lines page by page and as CSV,
// and checks that another portal cannot.
func checkSettlementLines(t *testing.T, p *payer, stlID string, want int) {
	t.Helper()
	h := p.h
	seen, cursor := 0, ""
	for range want + 1 {
		var page struct {
			Data       []map[string]any
			NextCursor *string `json:"next_cursor"`
		}
		h.Get("/v1/settlements/"+stlID+"/lines?limit=2&cursor="+cursor).JSON(t, &page)
		seen += len(page.Data)
		for _, l := range page.Data {
			if l["dossier_code"] == "" || l["payment_request_id"] == "" || l["bank_code"] != "SBX" {
				t.Fatalf("line %+v", l)
			}
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if seen != want {
		t.Fatalf("%d lines in pages, want %d", seen, want)
	}
	r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/settlements/" + stlID + "/lines", Header: http.Header{"Accept": {"text/csv"}}})
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(recs) != want+1 || strings.Join(recs[0], ",") != "type,id,payment_request_id,dossier_code,amount,booked_at,bank_code,bank_reference" {
		t.Fatalf("CSV: %v %q", err, r.Body)
	}
	other := h.NewPortal("Other agency")
	for _, path := range []string{"/v1/settlements/" + stlID, "/v1/settlements/" + stlID + "/lines"} {
		if r := h.Do(apitest.Request{Method: http.MethodGet, Path: path, Portal: other}); r.Status != http.StatusNotFound {
			t.Fatalf("another portal reads %s: %d", path, r.Status)
		}
	}
	var list struct{ Data []map[string]any }
	h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/settlements", Portal: other}).JSON(t, &list)
	if len(list.Data) != 0 {
		t.Fatalf("another portal lists %+v", list.Data)
	}
}
