// Package service carries out what portals and citizens ask: it loads
// domain objects, lets the domain decide, and persists the result with its
// events in one transaction. Handlers translate; this package decides
// nothing the domain can decide itself.
package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/wire"
)

// Event types (PROTOCOL.md §8).
const (
	EventRequestCreated       = "payment_request.created"
	EventRequestPaid          = "payment_request.paid"
	EventRequestPaymentFailed = "payment_request.payment_failed"
	EventRequestExpired       = "payment_request.expired"
	EventRequestCanceled      = "payment_request.canceled"
	EventRequestRefunded      = "payment_request.refunded"
	EventRefundSucceeded      = "refund.succeeded"
	EventRefundFailed         = "refund.failed"
)

// Service is the gateway's application core.
type Service struct {
	DB  *postgres.DB
	PII *pii.Protector
	Now func() time.Time
	// Handoff, if set, takes a committed event for delivery in this process
	// (the webhook dispatcher's Offer): the event then goes out as soon as
	// its transaction commits, with no claim. It is written due only
	// HandoffLease later, so that other processes' dispatchers leave it
	// alone unless this one dies first or cannot take it (Handoff false).
	Handoff      func(postgres.Due) bool
	HandoffLease time.Duration
	// Enqueue inserts a job in tx (River's InsertTx).
	Enqueue jobargs.Enqueue
	// PublicURL is GATEWAY_PUBLIC_URL, the base of a request's checkout_url
	// in event snapshots.
	PublicURL string
	// Development allows http:// return URLs (GATEWAY_ENV=development).
	Development bool
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// emit writes an event with a snapshot of r (and rf, if any) in tx.
func (s *Service) emit(ctx context.Context, tx *postgres.Tx, typ string, r *payment.Request, rf *wire.Refund) error {
	evID, body, err := eventBody(s.PublicURL, typ, r, rf)
	if err != nil {
		return err
	}
	return postgres.InsertEvent(ctx, tx, s.newEvent(tx, evID, typ, r, body))
}

// newEvent is the row of event evID about r, arranged for delivery.
func (s *Service) newEvent(tx *postgres.Tx, evID, typ string, r *payment.Request, body []byte) postgres.NewEvent {
	return postgres.NewEvent{ID: evID, PortalID: r.PortalID, Type: typ, Payload: body, At: r.UpdatedAt,
		DueIn: s.deliver(tx, evID, r.PortalID, body)}
}

// deliver arranges the delivery of an event written in tx: handed to this
// process's dispatcher once tx commits, or due at once for any dispatcher.
// It returns how long from now the event is to be written due.
func (s *Service) deliver(tx *postgres.Tx, evID, portalID string, body []byte) time.Duration {
	if s.Handoff == nil {
		return 0
	}
	due := postgres.Due{EventID: evID, PortalID: portalID, Payload: body}
	if !tx.AfterCommit(func() { s.Handoff(due) }) {
		return 0
	}
	return s.HandoffLease
}

// eventBody gives a new event its id and body: a snapshot of r (and rf).
func eventBody(publicURL, typ string, r *payment.Request, rf *wire.Refund) (string, []byte, error) {
	evID := id.New(id.Event)
	snap := wire.ToPaymentRequest(r, publicURL)
	ev := wire.Event{ID: evID, Type: typ, CreatedAt: wire.Time(r.UpdatedAt), Data: wire.EventData{PaymentRequest: &snap, Refund: rf}}
	body, err := json.Marshal(ev)
	if err != nil {
		return "", nil, fmt.Errorf("encode event: %w", err)
	}
	return evID, body, nil
}
