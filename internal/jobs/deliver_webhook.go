package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/webhook"
)

// QueueWebhooks is the queue of webhook deliveries, apart from the default
// queue so that slow portals never hold up payments.
const QueueWebhooks = "webhooks"

// Delivery outcomes, the label of the deliveries metric.
const (
	OutcomeDelivered = "delivered" // the portal answered 2xx
	OutcomeRetry     = "retry"     // the attempt failed; another is scheduled
	OutcomeFailed    = "failed"    // the last attempt failed; the event is failed
	OutcomeDisabled  = "disabled"  // the portal answered 410; its endpoint is disabled
	OutcomeHeld      = "held"      // not sent: the portal's endpoint is disabled
)

// DeliverWebhookArgs asks for one event to be delivered to its portal. It
// holds the event's id and delivery generation only: the body is read from
// the events table, so no personal data sits in the job queue.
type DeliverWebhookArgs struct {
	EventID string `json:"event_id"`
	// Generation is the event's delivery generation the job was queued for:
	// 0 when the event was written, one more at each redelivery. A job of an
	// older generation does nothing.
	Generation int `json:"generation,omitempty"`
}

// Kind implements river.JobArgs.
func (DeliverWebhookArgs) Kind() string { return "deliver_webhook" }

// InsertOpts implements river.JobArgsWithInsertOpts: one job per event and
// generation, in the webhooks queue.
func (DeliverWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhooks, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnqueueDelivery inserts the delivery job of a new event in tx, the
// transaction that writes the event, so that an event is never without its
// delivery and a rolled-back change leaves no job behind.
func EnqueueDelivery(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, eventID string) error {
	if _, err := client.InsertTx(ctx, tx, DeliverWebhookArgs{EventID: eventID}, nil); err != nil {
		return fmt.Errorf("queue delivery of %s: %w", eventID, err)
	}
	return nil
}

// Portals is what the delivery worker needs of the portal store.
type Portals interface {
	// ByID returns the portal with its secrets, or a not_found fault.
	ByID(ctx context.Context, id string) (*portal.Portal, error)
}

// DeliverWebhookWorker makes one delivery attempt of an event per run
// (PROTOCOL.md §8). A 2xx marks it delivered; a 410 disables the portal's
// endpoint; any other answer is a failed attempt, and the job snoozes until
// the next step of the retry schedule, or marks the event failed after the
// last. Snoozing does not use up River's attempts, which are left for the
// worker's own errors (PostgreSQL unreachable): those are retried by River
// without counting as delivery attempts.
type DeliverWebhookWorker struct {
	river.WorkerDefaults[DeliverWebhookArgs]
	Pool     *pgxpool.Pool
	Portals  Portals
	Sender   *webhook.Sender
	Retry    webhook.RetryPolicy
	Log      *slog.Logger
	Outcomes *prometheus.CounterVec // by outcome; nil counts nothing
	Now      func() time.Time       // nil: time.Now
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

// Timeout implements river.Worker: the attempt's 10 s and the bookkeeping.
func (w *DeliverWebhookWorker) Timeout(*river.Job[DeliverWebhookArgs]) time.Duration {
	return webhook.AttemptTimeout + 20*time.Second
}

// Work implements river.Worker.
func (w *DeliverWebhookWorker) Work(ctx context.Context, job *river.Job[DeliverWebhookArgs]) error {
	eventID, gen := job.Args.EventID, job.Args.Generation
	d, err := postgres.DeliveryByEventID(ctx, w.Pool, eventID)
	if fault.Is(err, fault.NotFound) {
		return river.JobCancel(err) // written with its job: cannot happen, and retrying will not help
	}
	if err != nil {
		return err
	}
	if d.Generation != gen || d.Status != postgres.DeliveryPending {
		return nil // replaced by a redelivery's job, or done
	}
	p, err := w.Portals.ByID(ctx, d.PortalID)
	if err != nil {
		return fmt.Errorf("load portal %s: %w", d.PortalID, err)
	}
	if p.WebhookDisabledAt != nil {
		// The event stays pending; enabling the endpoint queues it again.
		w.count(OutcomeHeld)
		w.Log.Info("webhook held: endpoint disabled", "event_id", eventID, "portal_id", p.ID)
		return nil
	}
	at := w.now() // the attempt's time: it is signed anew
	secrets, err := signingSecrets(p, at)
	if err != nil {
		return river.JobCancel(err)
	}
	res := w.Sender.Send(ctx, p.WebhookURL, eventID, d.Payload, at, secrets...)
	if ctx.Err() != nil {
		return ctx.Err() // stopping or timed out: not the portal's failure
	}
	log := w.Log.With("event_id", eventID, "portal_id", p.ID, "status", res.Status)
	switch {
	case res.Delivered():
		if _, err := postgres.MarkDelivered(ctx, w.Pool, eventID, gen, at); err != nil {
			return err
		}
		w.count(OutcomeDelivered)
		log.Debug("webhook delivered", "attempt", d.Attempts+1)
		return nil
	case res.Gone():
		err := postgres.InTx(ctx, w.Pool, func(tx pgx.Tx) error {
			// The portal row first, as event sequencing locks it before
			// the events: the two never wait on each other in a cycle.
			if _, err := postgres.DisableWebhook(ctx, tx, p.ID, at); err != nil {
				return err
			}
			// Not the event's failure: it waits, pending, for the endpoint.
			_, err := postgres.RecordFailedAttempt(ctx, tx, eventID, gen, at, res.Problem+": endpoint disabled", math.MaxInt32)
			return err
		})
		if err != nil {
			return err
		}
		w.count(OutcomeDisabled)
		log.Warn("webhook endpoint answered 410 Gone: disabled until the operator enables it")
		return nil
	}
	f, err := postgres.RecordFailedAttempt(ctx, w.Pool, eventID, gen, at, res.Problem, webhook.MaxAttempts)
	switch {
	case err != nil:
		return err
	case !f.Recorded:
		return nil // redelivered meanwhile: the new job carries on
	case f.Failed:
		w.count(OutcomeFailed)
		log.Warn("webhook failed: no attempts left", "attempts", f.Attempts, "problem", res.Problem)
		return nil
	}
	wait, _ := w.Retry.Next(f.Attempts, res.RetryAfter)
	w.count(OutcomeRetry)
	log.Info("webhook attempt failed", "attempt", f.Attempts, "problem", res.Problem, "next_in", wait.String())
	return river.JobSnooze(wait)
}

func (w *DeliverWebhookWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *DeliverWebhookWorker) count(outcome string) {
	if w.Outcomes != nil {
		w.Outcomes.WithLabelValues(outcome).Inc()
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

// webhookWorkers is how many deliveries one process makes at once. An
// attempt takes at most 10 s, so even with every portal hanging a process
// still makes 5 attempts a second.
const webhookWorkers = 50

// addDeliveryWorker registers the delivery worker built from c.
func addDeliveryWorker(workers *river.Workers, c Config) {
	river.AddWorker(workers, &DeliverWebhookWorker{
		Pool: c.Pool, Portals: c.Portals, Sender: webhook.NewSender(c.Development),
		Retry: webhook.RetryPolicy{Factor: c.WebhookRetryFactor}, Log: c.Log,
		Outcomes: NewDeliveriesMetric(c.Registry),
	})
}
