// Package delivery is the domain of webhook deliveries (PROTOCOL.md §8): the
// state of one event's delivery to its portal, which outcome follows from an
// attempt, and which changes of state are possible. It knows nothing of
// HTTP, SQL or Redis: the webhook package sends and signs, the postgres
// store records, the dispatcher in jobs puts them together.
package delivery

import (
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// Status is an event's delivery state: pending → delivered, or pending →
// failed once the retry schedule is used up. A redelivery puts any state
// back to pending in a new generation.
type Status string

// The delivery states of an event.
const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
	StatusFailed    Status = "failed"
)

// Valid reports whether s names a delivery state.
func (s Status) Valid() bool { return s == StatusPending || s == StatusDelivered || s == StatusFailed }

// Delivery is one event's delivery as the store has it. Its state changes
// only through Record, Hold and Redeliver.
type Delivery struct {
	eventID    string
	generation int
	status     Status
	attempts   int
	// held: pending with no attempt due, while the portal's endpoint is
	// disabled; enabling it puts the event back in line.
	held bool
}

// Restore returns the delivery of event eventID as stored: its generation
// (one more at each redelivery), state, failed attempts in this generation,
// and whether it is held. It refuses a state that cannot be.
func Restore(eventID string, generation int, status Status, attempts int, held bool) (Delivery, error) {
	switch {
	case eventID == "":
		return Delivery{}, fault.New(fault.Internal, "a delivery without an event")
	case !status.Valid():
		return Delivery{}, fault.New(fault.Internal, "delivery of %s is stored as %q", eventID, status)
	case generation < 0 || attempts < 0:
		return Delivery{}, fault.New(fault.Internal, "delivery of %s is stored with generation %d and %d attempts", eventID, generation, attempts)
	case held && status != StatusPending:
		return Delivery{}, fault.New(fault.Internal, "delivery of %s is stored as held but %s", eventID, status)
	}
	return Delivery{eventID: eventID, generation: generation, status: status, attempts: attempts, held: held}, nil
}

// EventID is the id of the event delivered.
func (d Delivery) EventID() string { return d.eventID }

// Generation is the delivery's series of attempts: an outcome is recorded
// only in the generation its attempt was made in.
func (d Delivery) Generation() int { return d.generation }

// Status is the delivery's state.
func (d Delivery) Status() Status { return d.status }

// Attempts is how many attempts were recorded in this generation.
func (d Delivery) Attempts() int { return d.attempts }

// Held reports whether the delivery is pending with no attempt due, waiting
// for its portal's endpoint to be enabled.
func (d Delivery) Held() bool { return d.held }

// Record applies the outcome of an attempt: the attempt counts, and the
// delivery takes the outcome's state. It refuses an outcome for a delivery
// that is no longer pending (a delivered delivery is not retried, a failed
// one not delivered: only a redelivery starts again), or held (a held
// delivery is not attempted), and an outcome that is not one.
func (d *Delivery) Record(o Outcome) error {
	switch {
	case o.kind == "":
		return fault.New(fault.Internal, "delivery of %s: an attempt without an outcome", d.eventID)
	case d.status != StatusPending:
		return fault.New(fault.InvalidState, "delivery of %s is already %s: a %s attempt is not recorded", d.eventID, d.status, o.kind)
	case d.held:
		return fault.New(fault.InvalidState, "delivery of %s is held: a %s attempt is not recorded", d.eventID, o.kind)
	case o.kind == KindRetry && o.next.Before(o.at):
		return fault.New(fault.Internal, "delivery of %s: a retry at %s before the attempt at %s",
			d.eventID, o.next.Format(time.RFC3339Nano), o.at.Format(time.RFC3339Nano))
	}
	d.attempts++
	d.status = o.Status()
	d.held = o.kind == KindDisabled
	return nil
}

// Hold leaves a pending delivery pending with no attempt due, unsent: its
// portal's endpoint is disabled. It refuses a delivery that is not pending.
// Holding a held delivery changes nothing.
func (d *Delivery) Hold() error {
	if d.status != StatusPending {
		return fault.New(fault.InvalidState, "delivery of %s is already %s: it is not held", d.eventID, d.status)
	}
	d.held = true
	return nil
}

// Redeliver puts the delivery, whatever its state, back to pending in a new
// generation with no attempts, due now: a fresh retry schedule.
func (d *Delivery) Redeliver() {
	d.generation++
	d.status, d.attempts, d.held = StatusPending, 0, false
}

// String names the delivery for logs and errors.
func (d Delivery) String() string {
	s := fmt.Sprintf("%s/%d %s after %d attempts", d.eventID, d.generation, d.status, d.attempts)
	if d.held {
		s += " (held)"
	}
	return s
}
