package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/statement"
	"github.com/citizenpay/gateway/internal/testenv"
)

// pendingDebit pays the payer's request at a bank that executes the debit
// but never calls back, and returns the attempt, still pending.
func pendingDebit(t *testing.T, p *payer) string {
	t.Helper()
	p.bank.Sim.SetKnobs(banksim.Knobs{NeverCallBack: true})
	if r := p.pay(t, p.prID, "pay-pending"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	attempt := p.attemptID(t, p.prID)
	testenv.Eventually(t, 30*time.Second, func() bool { return p.bank.Sim.Executed(attempt) == 1 }, "the bank never executed the debit")
	return attempt
}

// TestTwoRunsOfOneDayAtOnce runs the same day from two reconcilers at
// once, as two gateway processes would: they follow one another, reach
// the same result, apply the pending debit once and record its difference
// once.
func TestTwoRunsOfOneDayAtOnce(t *testing.T) {
	t.Parallel()
	p := newPayer(t, withWorkers())
	h := p.h
	attempt := pendingDebit(t, p)
	today := reconcile.DayOf(h.Now())
	src := newStatementBank(false)
	src.add(today.String(), lineOf(t, p, attempt, h.Now()),
		statement.Line{Type: "debit", ID: "pa_01neversent", Amount: lineOf(t, p, attempt, h.Now()).Amount, Currency: "VND",
			BookedAt: h.Now(), BankReference: "REF-X"})
	rcs := []*service.Reconciler{reconciler(p, src), reconciler(p, src)}
	results := make([]reconcile.Result, len(rcs))
	var wg sync.WaitGroup
	for i, rc := range rcs {
		wg.Go(func() { results[i] = runDay(t, rc, today) })
	}
	wg.Wait()
	if tallyOf(results[0]) != tallyOf(results[1]) || results[0].ID != results[1].ID {
		t.Fatalf("two runs came to %s and %s", tallyOf(results[0]), tallyOf(results[1]))
	}
	if r := results[0]; r.Status != reconcile.StatusDifferences || r.Tally.Lines != 2 || r.Tally.Applied != 1 || r.Tally.Differences != 1 {
		t.Fatalf("result %+v", r)
	}
	if n := h.Count(`SELECT count(*) FROM ledger_transactions WHERE cause = $1`, attempt); n != 1 {
		t.Fatalf("%d postings of the pending debit", n)
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind = $1`, string(incident.KindReconciliation)); n != 1 {
		t.Fatalf("%d incidents", n)
	}
	if got := p.status(t, p.prID)["status"]; got != "paid" {
		t.Fatalf("the request is %v", got)
	}
	verifyClean(t, h, p.account.Number)
}

// TestUnavailableStatement: a statement not ready yet, then unreadable,
// makes the day unavailable with the reason and applies nothing, even
// from its readable lines; after a day of trying the operator gets one
// incident; once readable, the day is matched.
func TestUnavailableStatement(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	p := newPayer(t, withWorkers(), apitest.WithClock(clock))
	h := p.h
	attempt := pendingDebit(t, p)
	today := reconcile.DayOf(h.Now())
	good := lineOf(t, p, attempt, h.Now())
	src := newStatementBank(false)
	src.set(func(b *statementBank) { b.notReady = true })
	rc := reconciler(p, src)
	res := runDay(t, rc, today)
	if res.Status != reconcile.StatusUnavailable || !strings.Contains(res.Reason, "not ready") {
		t.Fatalf("not ready: %+v", res)
	}
	// A readable first line that would apply the debit, then one that is not.
	src.set(func(b *statementBank) {
		b.notReady = false
		b.body = "bank_reference,type,id,amount,currency,status,booked_at\r\n" +
			good.BankReference + ",debit," + attempt + ",75000,VND,succeeded," + h.Now().UTC().Format(time.RFC3339) + "\r\n" +
			"R2,debit,pa_2,75.000,VND,succeeded," + h.Now().UTC().Format(time.RFC3339) + "\r\n"
	})
	res = runDay(t, rc, today)
	if res.Status != reconcile.StatusUnavailable || !strings.Contains(res.Reason, "line 2") {
		t.Fatalf("unreadable: %+v", res)
	}
	if got := p.status(t, p.prID)["status"]; got != "processing" {
		t.Fatalf("an unreadable statement applied something: the request is %v", got)
	}
	unavailable := func() int {
		return h.Count(`SELECT count(*) FROM incidents WHERE kind = $1`, string(incident.KindStatementUnavailable))
	}
	if n := unavailable(); n != 0 {
		t.Fatalf("%d incidents before a day of trying", n)
	}
	clock.Advance(reconcile.UnavailableIncidentAfter + time.Minute)
	for range 2 {
		if res = runDay(t, rc, today); res.Status != reconcile.StatusUnavailable {
			t.Fatalf("still unreadable: %+v", res)
		}
	}
	if n := unavailable(); n != 1 {
		t.Fatalf("%d incidents after a day of trying, want 1", n)
	}
	src.set(func(b *statementBank) { b.body = "" })
	src.add(today.String(), good)
	res = runDay(t, rc, today)
	if res.Status != reconcile.StatusMatched || res.Tally.Applied != 1 || res.Reason != "" {
		t.Fatalf("back: %+v", res)
	}
	if got := p.status(t, p.prID)["status"]; got != "paid" {
		t.Fatalf("the request is %v", got)
	}
}

// TestMidnight: a debit the gateway applied on one day and the bank booked
// just after midnight is matched by the next day's statement, and neither
// day shows a difference.
func TestMidnight(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	p := newPayer(t, withWorkers(), apitest.WithClock(clock))
	h := p.h
	today := reconcile.DayOf(h.Now())
	paid := p.payAndWait(t, p.prID, "pay", "paid")
	clock.AdvanceTo(today.End().Add(time.Hour))
	src := newStatementBank(true)
	src.add(today.Add(1).String(), lineOf(t, p, paid, today.End().Add(time.Second)))
	rc := reconciler(p, src)
	if res := runDay(t, rc, today); res.Status != reconcile.StatusMatched || res.Tally.Lines != 0 {
		t.Fatalf("the day of the payment: %+v", res)
	}
	if res := runDay(t, rc, today.Add(1)); res.Status != reconcile.StatusMatched || res.Tally.Matched != 1 {
		t.Fatalf("the day after: %+v", res)
	}
	if res := runDay(t, rc, today); res.Status != reconcile.StatusMatched || res.Tally.Differences != 0 {
		t.Fatalf("the day of the payment again: %+v", res)
	}
	if n := h.Count(`SELECT count(*) FROM incidents`); n != 0 {
		t.Fatalf("%d incidents", n)
	}
	if stl := settlementOf(t, p, today); stl["status"] != "closed" || stl["count"] != float64(1) {
		t.Fatalf("settlement %+v", stl)
	}
}

// TestReconcileJob: the background job runs a day against the sandbox
// bank's statement, and retries later while it is unavailable.
func TestReconcileJob(t *testing.T) {
	t.Parallel()
	p := newPayer(t, withWorkers())
	h, ctx := p.h, context.Background()
	p.payAndWait(t, p.prID, "pay", "paid")
	today := reconcile.DayOf(h.Now())
	p.bank.Sim.SetKnobs(banksim.Knobs{StatementUnavailableFor: time.Hour})
	job, err := h.App.River.Insert(ctx, jobargs.Reconcile{BankCode: "SBX", Date: today.String()},
		&river.InsertOpts{Queue: jobargs.QueueReconcile})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return worked(t, h, job.Job.ID) }, "the job never ran")
	if got, _ := h.App.River.JobGet(ctx, job.Job.ID); got.State != "scheduled" || !got.ScheduledAt.After(time.Now().Add(30*time.Second)) {
		t.Fatalf("an unavailable statement's job is %s until %s, want it scheduled a while later", got.State, got.ScheduledAt)
	}
	p.bank.Sim.SetKnobs(banksim.Knobs{})
	if _, err := h.App.River.JobRetry(ctx, job.Job.ID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM reconciliations WHERE status = 'matched' AND lines = 1`) == 1
	}, "the job never reconciled the day")
}
