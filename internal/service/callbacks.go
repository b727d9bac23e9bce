package service

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Callback is a bank's signed callback (PROTOCOL.md §7), checked for form.
type Callback struct {
	BankCode   string
	EventID    string
	Type       string
	OccurredAt time.Time
	Data       json.RawMessage // the data object, as sent
	Body       []byte          // the whole body, as sent: kept as evidence
}

// CallbackHandler applies one kind of callback in tx. It returns
// ResultApplied or ResultDuplicate, or a refusal: not_found (an id never
// sent to this bank), outcome_conflict or amount_differs, which the
// dispatcher records as an incident while nothing else changes. Any other
// error rolls everything back.
type CallbackHandler func(ctx context.Context, tx *postgres.Tx, cb Callback) (Applied, error)

// callbackTypes are the callback types of PROTOCOL.md §7, with the data
// field that names the gateway's id.
var callbackTypes = map[string]string{
	"account_verification.succeeded": "verification_id",
	"account_verification.failed":    "verification_id",
	"debit.succeeded":                "debit_id",
	"debit.failed":                   "debit_id",
	"refund.succeeded":               "refund_id",
	"refund.failed":                  "refund_id",
}

// CallbackDedupe is the fast path of callback deduplication (Redis). Any
// error means "not known here".
type CallbackDedupe interface {
	Seen(ctx context.Context, bankCode, eventID string) (string, bool, error)
	Mark(ctx context.Context, bankCode, eventID, result string, ttl time.Duration) error
}

// DedupeTTL is how long the fast path remembers a callback's result.
const DedupeTTL = 72 * time.Hour

// Callbacks dispatches bank callbacks to their handlers, by the type's
// prefix ("account_verification", "debit", "refund"), and applies each
// (bank code, event id) at most once: the bank_events row is written first
// in the transaction that applies it, so a repeat waits and then finds the
// result. Register handlers before serving; a known type without a handler
// is answered not_found.
//
// What a bank sends is kept masked (incident.MaskJSON): the body of every
// event, and a refusal's incident. A bank records at most IncidentLimit
// refusals (an incident with its bank event) per IncidentWindow, counted in
// PostgreSQL under a per-bank lock so that the bound holds across every
// gateway process; a refusal beyond it is answered the same and recorded
// nowhere but in Dropped.
type Callbacks struct {
	DB     *postgres.DB
	Dedupe CallbackDedupe // nil: PostgreSQL only
	// IncidentLimit is the most refusals one bank's callbacks record per
	// IncidentWindow; 0 means DefaultIncidentLimit.
	IncidentLimit int
	// Dropped, if set, counts a refusal of bankCode's callback that was not
	// recorded because the bank reached IncidentLimit.
	Dropped  func(bankCode string)
	handlers map[string]CallbackHandler
}

// DefaultIncidentLimit is how many refusals a bank's callbacks record per
// IncidentWindow unless told otherwise: far above what a bank that follows
// the protocol ever causes, and low enough that a bank posting nonsense
// cannot grow the incidents table without bound.
const DefaultIncidentLimit = 60

// IncidentWindow is the window IncidentLimit counts in.
const IncidentWindow = time.Minute

func (c *Callbacks) incidentLimit() int {
	if c.IncidentLimit > 0 {
		return c.IncidentLimit
	}
	return DefaultIncidentLimit
}

// Handle registers h for callback types prefix.succeeded and prefix.failed.
func (c *Callbacks) Handle(prefix string, h CallbackHandler) {
	if c.handlers == nil {
		c.handlers = map[string]CallbackHandler{}
	}
	c.handlers[prefix] = h
}

// recordsIncident reports whether a refusal with code is recorded for the
// operator (incident.KindOf).
func recordsIncident(code fault.Code) bool {
	_, ok := incident.KindOf(code)
	return ok
}

// Apply applies cb once. It returns ResultApplied the first time and
// ResultDuplicate for a repeated event id or a second report of an applied
// outcome; or the refusal, the same one each time the event id comes back,
// recorded as an incident once (unless the bank is at its IncidentLimit:
// then it is recorded nowhere, and its repeat is refused anew).
func (c *Callbacks) Apply(ctx context.Context, cb Callback) (Applied, error) {
	if c.Dedupe != nil {
		if prev, ok, err := c.Dedupe.Seen(ctx, cb.BankCode, cb.EventID); err == nil && ok && prev != postgres.ResultProcessing {
			return replayed(cb, prev)
		}
	}
	field, known := callbackTypes[cb.Type]
	ev := postgres.BankEvent{BankCode: cb.BankCode, EventID: cb.EventID, Type: cb.Type,
		ObjectID: incident.MaskText(objectID(cb.Data, field)), Body: incident.MaskJSON(cb.Body)}
	var result string
	var refusal *fault.Error
	repeat := false
	// claim records the event first in tx, so a concurrent copy waits on its
	// key and then finds the result; it reports false for a repeat.
	claim := func(tx *postgres.Tx) (bool, error) {
		claimed, err := postgres.ClaimBankEvent(ctx, tx, ev)
		if err != nil || claimed {
			return claimed, err
		}
		repeat = true
		result, err = postgres.BankEventResult(ctx, tx, cb.BankCode, cb.EventID)
		return false, err
	}
	err := c.DB.InTx(ctx, func(tx *postgres.Tx) error {
		if claimed, err := claim(tx); err != nil || !claimed {
			return err
		}
		if !known {
			refusal = fault.New(fault.UnknownEventType, "unknown callback type %q", cb.Type)
			return errRefused
		}
		res, err := c.dispatch(ctx, tx, cb)
		if f, ok := fault.As(err); ok && recordsIncident(f.Code) {
			refusal = f
			return errRefused
		}
		if err != nil {
			return err
		}
		result = string(res)
		return postgres.SetBankEventResult(ctx, tx, cb.BankCode, cb.EventID, result)
	})
	if errors.Is(err, errRefused) {
		// The refusal changed nothing: its work is rolled back, and the
		// event is recorded with the refusal, and an incident, on its own.
		result = string(refusal.Code)
		kind, _ := incident.KindOf(refusal.Code)
		err = c.DB.InTx(ctx, func(tx *postgres.Tx) error {
			if claimed, err := claim(tx); err != nil || !claimed {
				return err
			}
			recent, err := postgres.RecentBankIncidents(ctx, tx, cb.BankCode, IncidentWindow)
			if err != nil {
				return err
			}
			if recent >= c.incidentLimit() {
				return errDropped // the claim is rolled back with it
			}
			if err := postgres.InsertIncident(ctx, tx, kind, cb.BankCode, ev.ObjectID,
				incident.MaskText(refusal.Message),
				map[string]any{"event_id": cb.EventID, "type": cb.Type, "callback": json.RawMessage(ev.Body)}); err != nil {
				return err
			}
			return postgres.SetBankEventResult(ctx, tx, cb.BankCode, cb.EventID, result)
		})
		if errors.Is(err, errDropped) {
			if c.Dropped != nil {
				c.Dropped(cb.BankCode)
			}
			return "", refusal
		}
	}
	if err != nil {
		return "", err
	}
	if c.Dedupe != nil {
		_ = c.Dedupe.Mark(context.WithoutCancel(ctx), cb.BankCode, cb.EventID, result, DedupeTTL)
	}
	switch {
	case repeat:
		return replayed(cb, result)
	case refusal != nil:
		return "", refusal
	}
	return Applied(result), nil
}

// errRefused rolls back a callback's work when it is refused.
var errRefused = errors.New("callback refused")

// errDropped rolls back the record of a refusal beyond the bank's limit.
var errDropped = errors.New("incident limit reached")

// dispatch runs the type's handler in tx. A known type without a handler is
// not_found.
func (c *Callbacks) dispatch(ctx context.Context, tx *postgres.Tx, cb Callback) (Applied, error) {
	prefix, _, _ := strings.Cut(cb.Type, ".")
	h := c.handlers[prefix]
	if h == nil {
		return "", fault.New(fault.NotFound, "no %s named by this callback was sent to bank %s", prefix, cb.BankCode)
	}
	return h(ctx, tx, cb)
}

// replayed answers an event id seen before with what it came to then.
func replayed(cb Callback, result string) (Applied, error) {
	if code := fault.Code(result); recordsIncident(code) {
		return "", fault.New(code, "callback %s from bank %s was refused before (%s) and recorded as an incident",
			cb.EventID, cb.BankCode, result)
	}
	return ResultDuplicate, nil
}

// objectID reads the gateway's id from a callback's data, or "".
func objectID(data json.RawMessage, field string) string {
	if field == "" {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[field], &s) != nil || len(s) > 64 {
		return ""
	}
	return s
}
