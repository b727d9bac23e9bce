package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// createScenario: the portal creates payment requests with unique keys,
// each built and signed before the clock starts (presign.go).
func (b *bench) createScenario(ctx context.Context, sc *scenarioResult, rate float64, d time.Duration) {
	crs := make([]createdReq, scheduled(rate, d))
	p := presign(ctx, len(crs), rate, func(i int, now time.Time) []byte {
		cit := i % len(b.cits)
		crs[i] = createdReq{Key: "c-" + newID(), Cit: cit, Body: createBody(b.cits[cit].PID, "BENCH-"+newID())}
		return b.c.portalWire(http.MethodPost, "/v1/payment-requests", crs[i].Body, crs[i].Key, now)
	})
	start := time.Now()
	sc.cpu = b.cpu.window(start, b.warmup, d)
	rec := newRecorder("create", start)
	pace(ctx, rate, d, func(ctx context.Context, i int) {
		if r := b.send(ctx, rec, p, i); r.Status == http.StatusCreated {
			b.keep(crs[i], idOf(r.Body), true)
		}
	})
	sc.Ops = append(sc.Ops, b.stats(sc.Name, rec, rate, d))
}

// create creates one request for citizen i mod n, signed as it is sent,
// and keeps it for replay and, when unpaid, for clear's preparation to pay.
func (b *bench) create(ctx context.Context, rec *recorder, i int, unpaid bool) (createdReq, bool) {
	cit := i % len(b.cits)
	cr := createdReq{Key: "c-" + newID(), Cit: cit}
	cr.Body = createBody(b.cits[cit].PID, "BENCH-"+newID())
	r := rec.record(func() result { return b.c.portalDo(ctx, http.MethodPost, "/v1/payment-requests", cr.Body, cr.Key) })
	if r.Status != http.StatusCreated {
		return cr, false
	}
	return b.keep(cr, idOf(r.Body), unpaid), true
}

// keep records cr, created as id, for replay and, when unpaid, for clear's
// preparation to pay.
func (b *bench) keep(cr createdReq, id string, unpaid bool) createdReq {
	cr.ID = id
	b.mu.Lock()
	b.created = append(b.created, cr)
	if unpaid {
		b.unpaid = append(b.unpaid, cr)
	}
	b.mu.Unlock()
	return cr
}

// replayScenario sends the create scenario's requests again, same keys and
// bodies, built and signed anew before the clock starts: each is answered
// from the Redis fast path.
func (b *bench) replayScenario(ctx context.Context, sc *scenarioResult, rate float64, d time.Duration) {
	b.mu.Lock()
	reqs := append([]createdReq(nil), b.created...)
	b.mu.Unlock()
	if len(reqs) == 0 {
		sc.note("skipped", "no requests from the create scenario to replay")
		return
	}
	p := presign(ctx, scheduled(rate, d), rate, func(i int, now time.Time) []byte {
		cr := reqs[i%len(reqs)]
		return b.c.portalWire(http.MethodPost, "/v1/payment-requests", cr.Body, cr.Key, now)
	})
	start := time.Now()
	sc.cpu = b.cpu.window(start, b.warmup, d)
	rec := newRecorder("replay", start)
	pace(ctx, rate, d, func(ctx context.Context, i int) {
		if r := b.send(ctx, rec, p, i); r.Header.Get("Idempotent-Replayed") == "true" {
			rec.count("replayed")
		}
	})
	sc.Ops = append(sc.Ops, b.stats(sc.Name, rec, rate, d))
}

// readScenario: citizens list their payment requests.
func (b *bench) readScenario(ctx context.Context, sc *scenarioResult, rate float64, d time.Duration) {
	start := time.Now()
	sc.cpu = b.cpu.window(start, b.warmup, d)
	rec := newRecorder("read", start)
	pace(ctx, rate, d, func(ctx context.Context, i int) { b.read(ctx, rec, i) })
	sc.Ops = append(sc.Ops, b.stats(sc.Name, rec, rate, d))
}

func (b *bench) read(ctx context.Context, rec *recorder, i int) {
	cit := i % len(b.cits)
	rec.record(func() result {
		return b.c.citizenDo(ctx, cit, http.MethodGet, "/v1/me/payment-requests?limit=20", nil, "")
	})
}

// pay asks the gateway to pay cr from its citizen's account at bank k.
func (b *bench) pay(ctx context.Context, rec *recorder, cr createdReq, k int) result {
	body, _ := json.Marshal(map[string]string{"account_id": b.accounts[cr.Cit][k]})
	call := func() result {
		return b.c.citizenDo(ctx, cr.Cit, http.MethodPost, "/v1/me/payment-requests/"+cr.ID+"/pay", body, "p-"+cr.ID)
	}
	if rec == nil {
		return call()
	}
	return rec.record(call)
}

// attempt is a debit in flight: what a bank's callback names.
type attempt struct {
	ID     string
	Amount string
}

// attemptsOf returns the pending debits of the given payment requests.
func (b *bench) attemptsOf(ctx context.Context, reqIDs []string) ([]attempt, error) {
	rows, err := b.db.Query(ctx, `SELECT id, amount::text FROM payment_attempts
		WHERE payment_request_id = ANY($1) AND status = 'pending' ORDER BY id`, reqIDs)
	if err != nil {
		return nil, fmt.Errorf("read pending attempts: %w", err)
	}
	defer rows.Close()
	var out []attempt
	for rows.Next() {
		var a attempt
		if err := rows.Scan(&a.ID, &a.Amount); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// prepareDebits makes n debits in flight at the first bank, which is told
// not to call back: creates what the create scenario did not leave, pays
// them all (closed loop, 32 at a time), and returns the pending attempts.
func (b *bench) prepareDebits(ctx context.Context, n int) ([]attempt, error) {
	if err := b.c.setKnobs(ctx, b.banks[0], map[string]any{"never_call_back": true}); err != nil {
		return nil, err
	}
	b.mu.Lock()
	take := min(n, len(b.unpaid))
	reqs := append([]createdReq(nil), b.unpaid[:take]...)
	b.unpaid = b.unpaid[take:]
	b.mu.Unlock()
	prep := newRecorder("prepare", time.Now())
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := len(reqs); i < n; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cit := i % len(b.cits)
			cr := createdReq{Key: "c-" + newID(), Cit: cit, Body: createBody(b.cits[cit].PID, "BENCH-"+newID())}
			r := prep.record(func() result {
				return b.c.portalDo(ctx, http.MethodPost, "/v1/payment-requests", cr.Body, cr.Key)
			})
			if r.Status == http.StatusCreated {
				cr.ID = idOf(r.Body)
				mu.Lock()
				reqs = append(reqs, cr)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	ids := make([]string, 0, len(reqs))
	for _, cr := range reqs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			prep.record(func() result { return b.pay(ctx, nil, cr, 0) })
		})
		ids = append(ids, cr.ID)
	}
	wg.Wait()
	st := stats("prepare", prep, 0, 0, time.Hour)
	if len(st.Outcomes) > 0 {
		b.logf("preparing debits: answers other than 2xx: %s", errorsText(st.Outcomes))
	}
	if err := b.debitsSent(ctx); err != nil {
		return nil, err
	}
	return b.attemptsOf(ctx, ids)
}

// debitsSent waits until the gateway has sent every debit to its bank: the
// jobs that send them would otherwise run on into the clearing's measured
// window, and their CPU would be counted as the clears'.
func (b *bench) debitsSent(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		var n int
		if err := b.db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'send_debit'
			AND state IN ('available', 'running', 'retryable', 'pending')`).Scan(&n); err != nil {
			return fmt.Errorf("debits still to send: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d debits still to send after 5 minutes", n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clearScenario: the bank's debit.succeeded callbacks for debits in flight.
// What counts is outcomes applied a second, counted in the database.
func (b *bench) clearScenario(ctx context.Context, sc *scenarioResult, rate float64, d time.Duration) error {
	n := int(rate*d.Seconds()) + 1
	b.logf("clear: preparing %d debits in flight", n)
	t0 := time.Now()
	atts, err := b.prepareDebits(ctx, n)
	if err != nil {
		return err
	}
	sc.note("prepared_debits", len(atts))
	sc.note("prepare_seconds", fmt.Sprintf("%.1f", time.Since(t0).Seconds()))
	p := presign(ctx, min(scheduled(rate, d), len(atts)), rate, func(i int, now time.Time) []byte {
		return b.c.callbackWire(b.banks[0], clearBody(atts[i]), now)
	})
	start := time.Now()
	sc.cpu = b.cpu.window(start, b.warmup, d)
	rec := newRecorder("clear", start)
	pace(ctx, rate, d, func(ctx context.Context, i int) {
		if i >= len(p.reqs) {
			rec.count("starved")
			return
		}
		countResult(rec, b.send(ctx, rec, p, i))
	})
	st := b.stats(sc.Name, rec, rate, d)
	applied, err := b.applied(ctx, start.Add(b.warmup), start.Add(d))
	if err != nil {
		return err
	}
	st.AppliedRPS = applied
	sc.Ops = append(sc.Ops, st)
	return b.c.setKnobs(ctx, b.banks[0], map[string]any{"never_call_back": false})
}

// clear posts the first bank's debit.succeeded callback for a, signed as
// it is sent.
func (b *bench) clear(ctx context.Context, rec *recorder, a attempt) {
	body := clearBody(a)
	countResult(rec, rec.record(func() result { return b.c.callback(ctx, b.banks[0], body) }))
}

// clearBody is a bank's debit.succeeded callback for a.
func clearBody(a attempt) []byte {
	body, _ := json.Marshal(map[string]any{
		"event_id": "evt-" + newID(), "type": "debit.succeeded", "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]string{"debit_id": a.ID, "amount": a.Amount, "currency": "VND", "bank_reference": bankReference()},
	})
	return body
}

// countResult counts a callback's result (applied, duplicate, …).
func countResult(rec *recorder, r result) {
	if r.Status == http.StatusOK {
		var v struct {
			Result string `json:"result"`
		}
		_ = json.Unmarshal(r.Body, &v)
		rec.count(v.Result)
	}
}

// applied counts the debit outcomes applied per second between from and to,
// as the database has them.
func (b *bench) applied(ctx context.Context, from, to time.Time) (float64, error) {
	var n int64
	err := b.db.QueryRow(ctx, `SELECT count(*) FROM bank_events WHERE bank_code = $1 AND type = 'debit.succeeded'
		AND result = 'applied' AND received_at >= $2 AND received_at < $3`, b.banks[0], from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count applied outcomes: %w", err)
	}
	return float64(n) / to.Sub(from).Seconds(), nil
}

func (b *bench) stats(scenario string, rec *recorder, rate float64, d time.Duration) *opStats {
	return stats(scenario, rec, rate, b.warmup, d)
}

// bankReference is a bank's reference for a debit: letters between short
// runs of digits, so that it never looks like a personal ID number.
func bankReference() string {
	id := newID()
	return "FT" + id[:6] + "X" + id[6:12]
}
