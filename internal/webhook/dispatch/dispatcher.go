// Package dispatch delivers the gateway's events to portals' webhook
// endpoints (PROTOCOL.md §8): it claims due events from the events table,
// attempts them with internal/webhook's sender, and records each outcome
// through the delivery state machine (internal/delivery). It also holds the
// operator's redeliveries and the re-enabling of a disabled endpoint.
package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizenpay/gateway/internal/keycache"
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
	DB       *postgres.DB
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

	handoff     chan postgres.Due
	running     atomic.Bool
	portals     *keycache.Cache[*portal.Portal]
	portalsOnce sync.Once
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
	if d.handoff == nil {
		d.handoff = make(chan postgres.Due, handoffQueue)
	}
	d.running.Store(true)
	defer d.running.Store(false)
	l := d.newLoop(ctx)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.recordFrom(l.results)
	}()
	l.run(ctx)
	l.inFlight.Wait()
	close(l.results)
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
	_, err = postgres.RecordAttempts(ctx, d.DB, as)
	return len(batch), err
}

// claimed is a due event with its portal, read once per claim.
type claimed struct {
	due    postgres.Due
	portal *portal.Portal // nil: the portal could not be read
}

func (d *Dispatcher) claim(ctx context.Context, c postgres.Claim) ([]claimed, error) {
	c.Lease = Lease
	due, err := postgres.ClaimDue(ctx, d.DB, c)
	if err != nil {
		return nil, err
	}
	out := make([]claimed, len(due))
	for i, e := range due {
		out[i] = claimed{due: e, portal: d.portal(ctx, e.PortalID)}
	}
	return out, nil
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

// Config is what New needs.
type Config struct {
	DB                 *postgres.DB
	Portals            Portals // the portal store, which opens webhook secrets
	Log                *slog.Logger
	Development        bool                  // also deliver to http:// and private addresses
	WebhookRetryFactor float64               // scales the retry schedule (WEBHOOK_RETRY_FACTOR)
	Registry           prometheus.Registerer // gets the deliveries metric; nil: not registered
	Now                func() time.Time      // nil: time.Now
}

// New builds the webhook dispatcher from c.
func New(c Config) *Dispatcher {
	return &Dispatcher{
		handoff: make(chan postgres.Due, handoffQueue),
		DB:      c.DB, Portals: c.Portals, Sender: webhook.NewSender(c.Development),
		Retry: webhook.RetryPolicy{Factor: c.WebhookRetryFactor}, Log: c.Log.With("component", "webhooks"),
		Outcomes: NewDeliveriesMetric(c.Registry), Now: c.Now,
	}
}
