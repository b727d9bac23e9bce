package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/webhook"
)

// Delivery outcomes, the label of the deliveries metric.
const (
	OutcomeDelivered = "delivered" // the portal answered 2xx
	OutcomeRetry     = "retry"     // the attempt failed; another is scheduled
	OutcomeFailed    = "failed"    // the last attempt failed; the event is failed
	OutcomeDisabled  = "disabled"  // the portal answered 410; its endpoint is disabled
	OutcomeHeld      = "held"      // not sent: the portal's endpoint is disabled
)

// Portals is what the dispatcher needs of the portal store.
type Portals interface {
	// ByID returns the portal with its secrets, or a not_found fault.
	ByID(ctx context.Context, id string) (*portal.Portal, error)
}

// Dispatcher delivers events to their portals' webhook endpoints
// (PROTOCOL.md §8) from the events table, the outbox: an event is written in
// the transaction that makes the change it tells of, with the time it is due
// (next_attempt_at). The process that wrote it hands it to its own
// dispatcher once the transaction commits (Offer), and writes it due only a
// lease later; any dispatcher claims what is due (retries, and the events of
// a process that died or had no room) in batches. Each attempt's outcome is
// recorded with many others in one statement. A 2xx marks the event
// delivered; a 410 disables the portal's endpoint and holds its events; any
// other answer is a failed attempt, due again at the next step of the retry
// schedule, or failed after the last.
//
// Any number of gateway processes run one each: a claim skips the events
// another holds and moves their next attempt past the attempt's timeout (a
// lease), so the events of a process that died are due again when it ends.
// Delivery is at least once; portals deduplicate by webhook-id.
type Dispatcher struct {
	Pool     *pgxpool.Pool
	Portals  Portals
	Sender   *webhook.Sender
	Retry    webhook.RetryPolicy
	Log      *slog.Logger
	Outcomes *prometheus.CounterVec // by outcome; nil counts nothing
	Now      func() time.Time       // nil: time.Now
	// Workers bounds the attempts in flight (0: DispatchWorkers).
	Workers int
	// Poll is how often the dispatcher looks for due events (0: DispatchPoll).
	Poll time.Duration
	// PerPortal bounds one portal's attempts in flight (0: DispatchPerPortal),
	// so that a portal whose endpoint hangs cannot hold every worker while
	// the other portals' events wait.
	PerPortal int

	handoff chan postgres.Due
	running atomic.Bool
	portals portalCache
}

// Dispatcher defaults.
const (
	// DispatchWorkers: an attempt takes at most 10 s, so even with every
	// portal hanging a process still makes 5 attempts a second.
	DispatchWorkers = 50
	// DispatchPerPortal: one hanging endpoint holds at most half the
	// workers (each for at most the attempt's 10 s); a busy, healthy
	// portal still gets many deliveries at once.
	DispatchPerPortal = DispatchWorkers / 2
	// DispatchPoll bounds how long an event due now (written by a process
	// without a dispatcher, or due for a retry) waits for its attempt.
	DispatchPoll = 100 * time.Millisecond
	// Lease is how long a claimed or handed-off event is its dispatcher's:
	// the attempt's timeout and time to record it.
	Lease = webhook.AttemptTimeout + 20*time.Second
	// maxBatch bounds the events claimed, and the attempts recorded, at once.
	maxBatch = 200
	// handoffQueue bounds the events handed off and not yet attempted.
	handoffQueue = 4096
	// PortalTTL is how long a portal read for a delivery is used for the
	// next ones: a changed URL or secret is seen within it (a disabled
	// endpoint is read afresh before an event is held).
	PortalTTL = time.Second
)

// Offer hands a committed event to this dispatcher for its first attempt.
// It reports false when the dispatcher is not running or has no room; the
// event is then claimed once its lease ends.
func (d *Dispatcher) Offer(e postgres.Due) bool {
	if !d.running.Load() {
		return false
	}
	select {
	case d.handoff <- e:
		return true
	default:
		return false
	}
}

// Run dispatches until ctx ends, then lets the attempts in flight finish,
// records them, and returns. Events handed off and not yet attempted are
// left to their lease. Run once per Dispatcher.
func (d *Dispatcher) Run(ctx context.Context) {
	workers := d.Workers
	if workers <= 0 {
		workers = DispatchWorkers
	}
	poll := d.Poll
	if poll <= 0 {
		poll = DispatchPoll
	}
	if d.handoff == nil {
		d.handoff = make(chan postgres.Due, handoffQueue)
	}
	d.running.Store(true)
	defer d.running.Store(false)
	results := make(chan postgres.Attempt, workers)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.recordFrom(results)
	}()
	perPortal := d.PerPortal
	if perPortal <= 0 {
		perPortal = DispatchPerPortal
	}
	var inFlight sync.WaitGroup
	slots := make(chan struct{}, workers)
	busy := portalLoad{n: map[string]int{}}
	// Attempts run to their own timeout even as ctx ends: an attempt cut
	// short would be sent again after its lease.
	attemptCtx := context.WithoutCancel(ctx)
	start := func(e postgres.Due, p *portal.Portal) {
		busy.add(e.PortalID, 1)
		inFlight.Go(func() {
			defer func() { <-slots }()
			defer busy.add(e.PortalID, -1)
			if a, ok := d.attempt(attemptCtx, e, p); ok {
				results <- a
			}
		})
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	backoff := time.Duration(0)
	// Events of a portal at its bound, handed off or claimed, wait here for
	// room (a tick at most after it frees); handoffs past handoffQueue of
	// them wait for their lease.
	var deferred []postgres.Due
	for ctx.Err() == nil {
		select {
		case e := <-d.handoff:
			if busy.of(e.PortalID) >= perPortal {
				if len(deferred) < handoffQueue {
					deferred = append(deferred, e)
				}
				continue
			}
			select { // a slot, or stop
			case slots <- struct{}{}:
			case <-ctx.Done():
				continue
			}
			start(e, d.portal(ctx, e.PortalID))
		case <-ticker.C:
			if backoff > 0 {
				sleep(ctx, backoff)
			}
			kept := deferred[:0]
			for _, e := range deferred {
				if ctx.Err() != nil || len(slots) == workers || busy.of(e.PortalID) >= perPortal {
					kept = append(kept, e)
					continue
				}
				slots <- struct{}{}
				start(e, d.portal(ctx, e.PortalID))
			}
			deferred = kept
			// Claim what is due, as long as whole batches come back and
			// there is room.
			for ctx.Err() == nil {
				free := workers - len(slots)
				if free == 0 {
					break
				}
				batch, err := d.claim(ctx, postgres.Claim{Limit: min(free, maxBatch), PerPortal: perPortal, Skip: busy.atLeast(perPortal)})
				if err != nil {
					backoff = min(max(2*backoff, poll), 5*time.Second)
					if ctx.Err() == nil {
						d.Log.Warn("webhook dispatcher: claim failed", "error", err.Error(), "retry_in", backoff.String())
					}
					break
				}
				backoff = 0
				for _, e := range batch {
					if busy.of(e.due.PortalID) >= perPortal {
						deferred = append(deferred, e.due) // claimed beyond the portal's room
						continue
					}
					slots <- struct{}{}
					start(e.due, e.portal)
				}
				if len(batch) < min(free, maxBatch) {
					break
				}
			}
		case <-ctx.Done():
		}
	}
	inFlight.Wait()
	close(results)
	<-recorded
}

// DispatchDue makes one attempt of each event due now, up to limit, and
// records them before it returns: the dispatcher's work, step by step, for
// tests and tools. It returns how many events it attempted (held ones
// included).
func (d *Dispatcher) DispatchDue(ctx context.Context, limit int) (int, error) {
	batch, err := d.claim(ctx, postgres.Claim{Limit: limit})
	if err != nil {
		return 0, err
	}
	out := make([]postgres.Attempt, len(batch))
	ok := make([]bool, len(batch))
	var wg sync.WaitGroup
	for i, e := range batch {
		wg.Go(func() { out[i], ok[i] = d.attempt(ctx, e.due, e.portal) })
	}
	wg.Wait()
	var as []postgres.Attempt
	for i := range out {
		if ok[i] {
			as = append(as, out[i])
		}
	}
	_, err = postgres.RecordAttempts(ctx, d.Pool, as)
	return len(batch), err
}

// claimed is a due event with its portal, read once per claim.
type claimed struct {
	due    postgres.Due
	portal *portal.Portal // nil: the portal could not be read
}

func (d *Dispatcher) claim(ctx context.Context, c postgres.Claim) ([]claimed, error) {
	c.Lease = Lease
	due, err := postgres.ClaimDue(ctx, d.Pool, c)
	if err != nil {
		return nil, err
	}
	out := make([]claimed, len(due))
	for i, e := range due {
		out[i] = claimed{due: e, portal: d.portal(ctx, e.PortalID)}
	}
	return out, nil
}

// portal returns the portal with id, read at most PortalTTL ago; nil if it
// cannot be read (its events are then due again when their lease ends).
func (d *Dispatcher) portal(ctx context.Context, id string) *portal.Portal {
	if p, ok := d.portals.get(id, d.now()); ok {
		return p
	}
	p, err := d.Portals.ByID(ctx, id)
	if err != nil {
		d.Log.Warn("webhook dispatcher: cannot read portal", "portal_id", id, "error", err.Error())
		return nil
	}
	d.portals.put(id, p, d.now())
	return p
}

// portalLoad counts attempts in flight by portal.
type portalLoad struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *portalLoad) add(portalID string, d int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[portalID] += d; l.n[portalID] <= 0 {
		delete(l.n, portalID)
	}
}

func (l *portalLoad) of(portalID string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[portalID]
}

// atLeast lists the portals with at least max attempts in flight.
func (l *portalLoad) atLeast(max int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, n := range l.n {
		if n >= max {
			out = append(out, id)
		}
	}
	return out
}

// portalCache keeps portals read for deliveries for PortalTTL.
type portalCache struct {
	mu sync.Mutex
	m  map[string]cachedPortal
}

type cachedPortal struct {
	p  *portal.Portal
	at time.Time
}

func (c *portalCache) get(id string, now time.Time) (*portal.Portal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.at) > PortalTTL || now.Before(e.at) {
		return nil, false
	}
	return e.p, true
}

func (c *portalCache) put(id string, p *portal.Portal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedPortal{}
	}
	c.m[id] = cachedPortal{p, now}
}

func (c *portalCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// attempt makes one delivery attempt of e and returns the outcome to
// record; false when there is nothing to record in the batch (the portal
// could not be read, or a 410 or a hold was recorded at once).
func (d *Dispatcher) attempt(ctx context.Context, e postgres.Due, p *portal.Portal) (postgres.Attempt, bool) {
	if p == nil {
		return postgres.Attempt{}, false
	}
	if p.WebhookDisabledAt != nil {
		// Read afresh before holding: the endpoint may have been enabled
		// since the portal was cached, and a hold lasts until the next one.
		d.portals.forget(p.ID)
		if p = d.portal(ctx, e.PortalID); p == nil {
			return postgres.Attempt{}, false
		}
	}
	if p.WebhookDisabledAt != nil {
		// The event stays pending; enabling the endpoint puts it back in line.
		if err := postgres.Hold(ctx, d.Pool, e.EventID, e.Generation); err != nil {
			d.Log.Warn("webhook dispatcher: hold failed", "event_id", e.EventID, "error", err.Error())
			return postgres.Attempt{}, false
		}
		d.count(OutcomeHeld)
		d.Log.Info("webhook held: endpoint disabled", "event_id", e.EventID, "portal_id", p.ID)
		return postgres.Attempt{}, false
	}
	at := d.now() // the attempt's time: it is signed anew
	a := postgres.Attempt{EventID: e.EventID, Generation: e.Generation, At: at}
	secrets, err := signingSecrets(p, at)
	if err != nil {
		d.Log.Error("webhook dispatcher: no usable secret", "portal_id", p.ID, "error", err.Error())
		return postgres.Attempt{}, false // due again after the lease, once the operator fixes it
	}
	res := d.Sender.Send(ctx, p.WebhookURL, e.EventID, e.Payload, at, secrets...)
	log := d.Log.With("event_id", e.EventID, "portal_id", p.ID, "status", res.Status)
	switch {
	case res.Delivered():
		a.Status = postgres.DeliveryDelivered
		d.count(OutcomeDelivered)
		log.Debug("webhook delivered", "attempt", e.Attempts+1)
		return a, true
	case res.Gone():
		a.Status, a.Problem = postgres.DeliveryPending, res.Problem+": endpoint disabled"
		// Not the event's failure: it waits, held, for the endpoint.
		err := postgres.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			// The portal row first, as event sequencing locks it before
			// the events: the two never wait on each other in a cycle.
			if _, err := postgres.DisableWebhook(ctx, tx, p.ID, at); err != nil {
				return err
			}
			_, err := postgres.RecordAttempts(ctx, tx, []postgres.Attempt{a})
			return err
		})
		d.portals.forget(p.ID)
		if err != nil {
			log.Warn("webhook dispatcher: recording a 410 failed", "error", err.Error())
			return postgres.Attempt{}, false
		}
		d.count(OutcomeDisabled)
		log.Warn("webhook endpoint answered 410 Gone: disabled until the operator enables it")
		return postgres.Attempt{}, false
	}
	a.Problem = res.Problem
	failures := e.Attempts + 1
	wait, more := d.Retry.Next(failures, res.RetryAfter)
	if !more {
		a.Status = postgres.DeliveryFailed
		d.count(OutcomeFailed)
		log.Warn("webhook failed: no attempts left", "attempts", failures, "problem", res.Problem)
		return a, true
	}
	next := at.Add(wait)
	a.Status, a.NextAt = postgres.DeliveryPending, &next
	d.count(OutcomeRetry)
	log.Info("webhook attempt failed", "attempt", failures, "problem", res.Problem, "next_in", wait.String())
	return a, true
}

// recordFrom records attempts as they come, as many at once as are waiting,
// until results is closed.
func (d *Dispatcher) recordFrom(results <-chan postgres.Attempt) {
	batch := make([]postgres.Attempt, 0, maxBatch)
	for a := range results {
		batch = append(batch[:0], a)
	drain:
		for len(batch) < maxBatch {
			select {
			case a, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, a)
			default:
				break drain
			}
		}
		d.record(batch)
	}
}

// record writes a batch of outcomes, retrying a few times (a deadlock with
// event sequencing, a database that blinks). If it cannot, the events are
// due again when their lease ends and are sent once more: at least once.
func (d *Dispatcher) record(batch []postgres.Attempt) {
	var err error
	for try, wait := 0, 50*time.Millisecond; try < 5; try, wait = try+1, wait*4 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = postgres.RecordAttempts(ctx, d.Pool, batch)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(wait)
	}
	d.Log.Error("webhook dispatcher: attempts not recorded; they will be made again", "count", len(batch), "error", err.Error())
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// NewDeliveriesMetric returns the counter of delivery attempts by outcome,
// registered on reg if reg is not nil.
func NewDeliveriesMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome (delivered, retry, failed, disabled), and events held unsent while an endpoint is disabled (held).",
	}, []string{"outcome"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) count(outcome string) {
	if d.Outcomes != nil {
		d.Outcomes.WithLabelValues(outcome).Inc()
	}
}

// signingSecrets returns the portal's webhook secrets at now, the current one
// first: both during a rotation's grace (dual signing).
func signingSecrets(p *portal.Portal, now time.Time) ([]webhook.Secret, error) {
	texts := p.WebhookSecrets(now)
	out := make([]webhook.Secret, 0, len(texts))
	for _, t := range texts {
		s, err := webhook.ParseSecret(t)
		if err != nil {
			return nil, fmt.Errorf("webhook secret of portal %s: %w", p.ID, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("portal " + p.ID + " has no webhook secret")
	}
	return out, nil
}

// NewDispatcher builds the webhook dispatcher from c.
func NewDispatcher(c Config) *Dispatcher {
	return &Dispatcher{
		handoff: make(chan postgres.Due, handoffQueue),
		Pool:    c.Pool, Portals: c.Portals, Sender: webhook.NewSender(c.Development),
		Retry: webhook.RetryPolicy{Factor: c.WebhookRetryFactor}, Log: c.Log.With("component", "webhooks"),
		Outcomes: NewDeliveriesMetric(c.Registry),
	}
}
