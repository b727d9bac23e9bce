package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// flowTimeout is how long a whole payment may take before it counts as
// failed.
const flowTimeout = 15 * time.Second

// paidWatch tells when payment requests become paid, polling the database
// for all watched requests at once (one query every 10 ms), and gives the
// moment PostgreSQL recorded the change.
type paidWatch struct {
	b       *bench
	mu      sync.Mutex
	waiting map[string]chan time.Time
}

func (b *bench) watchPaid(ctx context.Context) *paidWatch {
	w := &paidWatch{b: b, waiting: map[string]chan time.Time{}}
	go w.loop(ctx)
	return w
}

func (w *paidWatch) wait(id string) chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiting[id] = ch
	w.mu.Unlock()
	return ch
}

func (w *paidWatch) forget(id string) {
	w.mu.Lock()
	delete(w.waiting, id)
	w.mu.Unlock()
}

func (w *paidWatch) loop(ctx context.Context) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make([]string, 0, len(w.waiting))
		for id := range w.waiting {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		rows, err := w.b.db.Query(ctx, `SELECT id, updated_at FROM payment_requests WHERE id = ANY($1) AND status = 'paid'`, ids)
		if err != nil {
			continue
		}
		for rows.Next() {
			var id string
			var at time.Time
			if rows.Scan(&id, &at) != nil {
				continue
			}
			w.mu.Lock()
			if ch, ok := w.waiting[id]; ok {
				ch <- at
				delete(w.waiting, id)
			}
			w.mu.Unlock()
		}
		rows.Close()
	}
}

// flowScenario runs whole payments: the portal creates, the citizen pays,
// the gateway sends the debit, the sandbox bank executes it and calls back,
// the request is paid. Flows alternate between banks. With downBank set,
// that bank stops answering halfway through, and the other banks' flows
// are reported before and after.
func (b *bench) flowScenario(ctx context.Context, sc *scenarioResult, rate float64, d time.Duration, banks []string, downBank string) error {
	for _, code := range banks {
		if err := b.c.setKnobs(ctx, code, map[string]any{"never_call_back": false, "down": false}); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := b.watchPaid(wctx)
	start := time.Now()
	sc.cpu = b.cpu.window(start, b.warmup, d)
	createRec, payRec := newRecorder("create", start), newRecorder("pay", start)
	flowRecs := map[string]*recorder{}
	for _, code := range banks {
		flowRecs[code] = newRecorder("flow "+code, start)
	}
	if downBank != "" {
		time.AfterFunc(d/2, func() {
			b.logf("bank-down: %s stops answering", downBank)
			if err := b.c.setKnobs(ctx, downBank, map[string]any{"down": true}); err != nil {
				b.logf("bank-down: %v", err)
			}
		})
	}
	pace(ctx, rate, d, func(ctx context.Context, i int) {
		k := i % len(banks)
		rec := flowRecs[banks[k]]
		t0 := time.Now()
		cr, ok := b.create(ctx, createRec, i, false)
		if !ok {
			rec.addDuration(t0, time.Since(t0), "create failed")
			return
		}
		ch := watch.wait(cr.ID)
		bankIdx := 0
		for j, code := range b.banks {
			if code == banks[k] {
				bankIdx = j
			}
		}
		if r := b.pay(ctx, payRec, cr, bankIdx); r.Status != http.StatusAccepted {
			watch.forget(cr.ID)
			rec.addDuration(t0, time.Since(t0), fmt.Sprintf("pay %d", r.Status))
			return
		}
		select {
		case at := <-ch:
			rec.addDuration(t0, at.Sub(t0), "ok")
		case <-time.After(flowTimeout):
			watch.forget(cr.ID)
			rec.addDuration(t0, flowTimeout, "not paid in 15s")
		}
	})
	sc.Ops = append(sc.Ops, b.stats(sc.Name, createRec, rate, d), b.stats(sc.Name, payRec, rate, d))
	for _, code := range banks {
		sc.Ops = append(sc.Ops, b.stats(sc.Name, flowRecs[code], rate/float64(len(banks)), d))
	}
	if downBank == "" {
		return nil
	}
	defer func() { _ = b.c.setKnobs(context.WithoutCancel(ctx), downBank, map[string]any{"down": false}) }()
	for _, code := range banks {
		if code == downBank {
			continue
		}
		rec := flowRecs[code]
		before := stats(sc.Name, rec, rate/float64(len(banks)), b.warmup, d/2)
		after := stats(sc.Name, rec, rate/float64(len(banks)), d/2, d)
		before.Op, after.Op = rec.op+" before "+downBank+" down", rec.op+" while "+downBank+" down"
		before.Series, after.Series = nil, nil
		sc.Ops = append(sc.Ops, before, after)
	}
	return nil
}

// mixedScenario is the soak: portals create, citizens pay and read, the
// first bank's callbacks clear the debits, all at once; rate is the total,
// shared 35% create, 15% pay, 15% clear, 35% read. Pays take requests the
// soak created; callbacks take the debits those pays started.
func (b *bench) mixedScenario(ctx context.Context, sc *scenarioResult, rate float64, d time.Duration) error {
	if err := b.c.setKnobs(ctx, b.banks[0], map[string]any{"never_call_back": true, "down": false}); err != nil {
		return err
	}
	defer func() {
		_ = b.c.setKnobs(context.WithoutCancel(ctx), b.banks[0], map[string]any{"never_call_back": false})
	}()
	start := time.Now()
	sc.cpu = b.cpu.window(start, b.warmup, d)
	recs := map[string]*recorder{}
	for _, op := range []string{"create", "pay", "clear", "read"} {
		recs[op] = newRecorder(op, start)
	}
	toPay := make(chan createdReq, 1<<16)
	toClear := make(chan attempt, 1<<16)
	paid := make(chan string, 1<<16)
	rctx, cancel := context.WithCancel(ctx)
	var resolver sync.WaitGroup
	resolver.Go(func() { b.resolveAttempts(rctx, paid, toClear) })

	shares := map[string]float64{"create": .35, "pay": .15, "clear": .15, "read": .35}
	var wg sync.WaitGroup
	for op, share := range shares {
		wg.Go(func() {
			pace(ctx, rate*share, d, func(ctx context.Context, i int) {
				rec := recs[op]
				switch op {
				case "create":
					if cr, ok := b.create(ctx, rec, i, false); ok {
						select {
						case toPay <- cr:
						default:
						}
					}
				case "pay":
					select {
					case cr := <-toPay:
						if r := b.pay(ctx, rec, cr, 0); r.Status == http.StatusAccepted {
							paid <- cr.ID
						}
					default:
						rec.count("starved")
					}
				case "clear":
					select {
					case a := <-toClear:
						b.clear(ctx, rec, a)
					default:
						rec.count("starved")
					}
				case "read":
					b.read(ctx, rec, i)
				}
			})
		})
	}
	wg.Wait()
	cancel()
	resolver.Wait()
	for _, op := range []string{"create", "pay", "clear", "read"} {
		sc.Ops = append(sc.Ops, b.stats(sc.Name, recs[op], rate*shares[op], d))
	}
	applied, err := b.applied(ctx, start.Add(b.warmup), start.Add(d))
	if err != nil {
		return err
	}
	sc.op("clear").AppliedRPS = applied
	sc.note("webhooks_received_so_far", b.webhooks.Load())
	return nil
}

// resolveAttempts turns paid request ids into their pending debits, in
// batches every 50 ms.
func (b *bench) resolveAttempts(ctx context.Context, paid <-chan string, out chan<- attempt) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var batch []string
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-paid:
			batch = append(batch, id)
		case <-t.C:
			if len(batch) == 0 {
				continue
			}
			atts, err := b.attemptsOf(ctx, batch)
			if err != nil {
				continue
			}
			batch = batch[:0]
			for _, a := range atts {
				select {
				case out <- a:
				default:
				}
			}
		}
	}
}
