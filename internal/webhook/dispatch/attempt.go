package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/webhook"
)

// attempt makes one delivery attempt of e and returns the outcome to
// record; false when there is nothing to record in the batch (the portal
// could not be read, or a 410 or a hold was recorded at once).
func (d *Dispatcher) attempt(ctx context.Context, e postgres.Due, p *portal.Portal) (postgres.Attempt, bool) {
	if p == nil {
		return postgres.Attempt{}, false
	}
	dl, err := e.Delivery()
	if err != nil {
		d.Log.Error("webhook dispatcher: cannot restore delivery", "event_id", e.EventID, "error", err.Error())
		return postgres.Attempt{}, false
	}
	if p.WebhooksHeld() {
		// Read afresh before holding: the endpoint (or the portal) may
		// have been enabled since the portal was cached, and a hold lasts
		// until the next one.
		d.forgetPortal(p.ID)
		if p = d.portal(ctx, e.PortalID); p == nil {
			return postgres.Attempt{}, false
		}
	}
	if p.WebhooksHeld() {
		d.hold(ctx, &dl, p)
		return postgres.Attempt{}, false
	}
	at := d.now() // the attempt's time: it is signed anew
	secrets, err := signingSecrets(p, at)
	if err != nil {
		d.Log.Error("webhook dispatcher: no usable secret", "portal_id", p.ID, "error", err.Error())
		return postgres.Attempt{}, false // due again after the lease, once the operator fixes it
	}
	res := d.Sender.Send(ctx, p.WebhookURL, e.EventID, e.Payload, at, secrets...)
	log := d.Log.With("event_id", e.EventID, "portal_id", p.ID, "status", res.Status)
	o := dl.Decide(at, answerOf(res), d.Retry)
	if err := dl.Record(o); err != nil {
		log.Error("webhook dispatcher: outcome refused", "delivery", dl.String(), "error", err.Error())
		return postgres.Attempt{}, false
	}
	a := postgres.Attempt{EventID: dl.EventID(), Generation: dl.Generation(), Outcome: o}
	if o.Kind() == delivery.KindDisabled {
		d.disable(ctx, a, p, log)
		return postgres.Attempt{}, false
	}
	d.count(outcomeLabel(o.Kind()))
	switch o.Kind() {
	case delivery.KindDelivered:
		log.Debug("webhook delivered", "attempt", dl.Attempts())
	case delivery.KindFailed:
		log.Warn("webhook failed: no attempts left", "attempts", dl.Attempts(), "problem", res.Problem)
	case delivery.KindRetry:
		next, _ := o.Next()
		log.Info("webhook attempt failed", "attempt", dl.Attempts(), "problem", res.Problem, "next_in", next.Sub(at).String())
	}
	return a, true
}

// hold leaves dl pending with no attempt due, unsent: the portal's endpoint
// is disabled, and enabling it puts the event back in line.
func (d *Dispatcher) hold(ctx context.Context, dl *delivery.Delivery, p *portal.Portal) {
	if err := dl.Hold(); err != nil {
		d.Log.Error("webhook dispatcher: hold refused", "delivery", dl.String(), "error", err.Error())
		return
	}
	if err := postgres.Hold(ctx, d.DB, dl.EventID(), dl.Generation()); err != nil {
		d.Log.Warn("webhook dispatcher: hold failed", "event_id", dl.EventID(), "error", err.Error())
		return
	}
	d.count(OutcomeHeld)
	d.Log.Info("webhook held: endpoint disabled", "event_id", dl.EventID(), "portal_id", p.ID, "portal_disabled", p.Disabled())
}

// disable records a 410 at once, with the portal's endpoint disabled in the
// same transaction: not the event's failure, it waits, held, for the
// endpoint.
func (d *Dispatcher) disable(ctx context.Context, a postgres.Attempt, p *portal.Portal, log *slog.Logger) {
	err := d.DB.InTx(ctx, func(tx *postgres.Tx) error {
		// The portal row first, as event sequencing locks it before
		// the events: the two never wait on each other in a cycle.
		if _, err := postgres.DisableWebhook(ctx, tx, p.ID, a.Outcome.At()); err != nil {
			return err
		}
		_, err := postgres.RecordAttempts(ctx, tx, []postgres.Attempt{a})
		return err
	})
	d.forgetPortal(p.ID)
	if err != nil {
		log.Warn("webhook dispatcher: recording a 410 failed", "error", err.Error())
		return
	}
	d.count(OutcomeDisabled)
	log.Warn("webhook endpoint answered 410 Gone: disabled until the operator enables it")
}

// answerOf is the domain's view of a sent attempt.
func answerOf(r webhook.Result) delivery.Answer {
	return delivery.Answer{Status: r.Status, RetryAfter: r.RetryAfter, Problem: r.Problem}
}

// outcomeLabel is the deliveries metric's label for an outcome of kind k.
func outcomeLabel(k delivery.Kind) string {
	switch k {
	case delivery.KindDelivered:
		return OutcomeDelivered
	case delivery.KindRetry:
		return OutcomeRetry
	case delivery.KindFailed:
		return OutcomeFailed
	case delivery.KindDisabled:
		return OutcomeDisabled
	}
	return string(k)
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
