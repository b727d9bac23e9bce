// Package incident is the domain of incidents (DOMAIN.md, "Incident"):
// something the gateway will not decide alone, kept with its evidence until
// an operator resolves it, and the rules of how it may be resolved. It
// knows nothing of HTTP, SQL or Redis.
package incident

import (
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// Status is an incident's state: open → resolved, once.
type Status string

// The states of an incident.
const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
)

// ValidStatus reports whether s names a state.
func ValidStatus(s string) bool {
	return Status(s) == StatusOpen || Status(s) == StatusResolved
}

// Kind says what the gateway would not decide alone. The gateway records
// the kinds below; a kind it does not know can only be closed with a note.
type Kind string

// The kinds of incident.
const (
	// KindUnknownObject: a bank named an id the gateway never sent to that
	// bank (PROTOCOL.md §7, 404), or a callback whose data names nothing
	// the gateway can read.
	KindUnknownObject Kind = "unknown_object"
	// KindOutcomeConflict: a bank's word contradicts an outcome already
	// applied — a success after the gateway took the debit as failed, a
	// failure of a debit that paid the request, a second debit of a
	// request already paid.
	KindOutcomeConflict Kind = "outcome_conflict"
	// KindAmountDiffers: a bank reports an amount or currency other than
	// the one sent.
	KindAmountDiffers Kind = "amount_differs"
	// KindUnknownEventType: a bank posted a callback type the protocol
	// does not have.
	KindUnknownEventType Kind = "unknown_event_type"
	// KindOutcomeUnknown: a debit's or refund's outcome is still unknown
	// 24 h after the send.
	KindOutcomeUnknown Kind = "outcome_unknown"
	// KindReconciliation: a bank's statement differs from the gateway's
	// books (PROTOCOL.md §12).
	KindReconciliation Kind = "reconciliation_difference"
	// KindStatementUnavailable: a bank's statement of a day could still not
	// be fetched or read after a day of trying.
	KindStatementUnavailable Kind = "statement_unavailable"
)

// refusalKinds are a bank's refusals that the operator must look at, by the
// refusal's code: the same whether a callback carried the bank's word or
// the gateway asked for it.
var refusalKinds = map[fault.Code]Kind{
	fault.NotFound:         KindUnknownObject,
	fault.OutcomeConflict:  KindOutcomeConflict,
	fault.AmountDiffers:    KindAmountDiffers,
	fault.UnknownEventType: KindUnknownEventType,
}

// KindOf returns the kind of incident a bank's refusal with code is
// recorded as, and false for a refusal that is no incident.
func KindOf(code fault.Code) (Kind, bool) {
	k, ok := refusalKinds[code]
	return k, ok
}

// Incident is an incident as the operator sees it. Its state changes only
// through Resolve.
type Incident struct {
	id         string
	kind       Kind
	status     Status
	bankCode   string
	objectID   string
	summary    string
	evidence   []byte
	resolution string
	createdAt  time.Time
	resolvedAt *time.Time
}

// Restore rebuilds an incident as stored. It is for the store only: a
// status other than open or resolved, or a resolved incident without its
// resolution, is refused.
func Restore(id string, kind Kind, status Status, bankCode, objectID, summary string, evidence []byte,
	resolution string, createdAt time.Time, resolvedAt *time.Time) (*Incident, error) {
	if !ValidStatus(string(status)) || (status == StatusResolved) != (resolvedAt != nil) {
		return nil, fault.New(fault.Internal, "incident %s is stored as %q (resolved at %v)", id, status, resolvedAt)
	}
	return &Incident{id: id, kind: kind, status: status, bankCode: bankCode, objectID: objectID, summary: summary,
		evidence: evidence, resolution: resolution, createdAt: createdAt, resolvedAt: resolvedAt}, nil
}

// ID returns the incident's id (inc_…).
func (in *Incident) ID() string { return in.id }

// Kind returns what the incident is about.
func (in *Incident) Kind() Kind { return in.kind }

// Status returns whether the incident is open or resolved.
func (in *Incident) Status() Status { return in.status }

// BankCode returns the bank whose word raised the incident, or "" when the
// gateway raised it itself.
func (in *Incident) BankCode() string { return in.bankCode }

// ObjectID returns the gateway's id the incident is about, or "".
func (in *Incident) ObjectID() string { return in.objectID }

// Summary returns one line saying what happened.
func (in *Incident) Summary() string { return in.summary }

// Evidence returns what the gateway kept (JSON), masked (MaskJSON).
func (in *Incident) Evidence() []byte { return in.evidence }

// Resolution returns what the operator decided, or "" while open.
func (in *Incident) Resolution() string { return in.resolution }

// CreatedAt returns when the incident was recorded.
func (in *Incident) CreatedAt() time.Time { return in.createdAt }

// ResolvedAt returns when the incident was resolved, or nil while open.
func (in *Incident) ResolvedAt() *time.Time { return in.resolvedAt }

// Open reports whether the incident still waits for the operator.
func (in *Incident) Open() bool { return in.status == StatusOpen }

// checkOpen refuses a resolved incident: an incident is resolved once.
func (in *Incident) checkOpen() error {
	if in.Open() {
		return nil
	}
	at := ""
	if in.resolvedAt != nil {
		at = " at " + in.resolvedAt.UTC().Format(time.RFC3339)
	}
	return fault.New(fault.InvalidState, "incident %s is already resolved%s (%s): nothing changed", in.id, at, in.resolution)
}

// Resolve closes an open incident with r, whose action has done what done
// says ("" for a note). A resolved incident is refused (invalid_state) and
// stays as it was.
func (in *Incident) Resolve(r Resolution, done string, now time.Time) error {
	if err := in.checkOpen(); err != nil {
		return err
	}
	if err := in.Fits(r.Action); err != nil {
		return err
	}
	text := string(r.Action) + ": " + r.Note
	if done != "" {
		text = string(r.Action) + ": " + done + ": " + r.Note
	}
	in.status, in.resolution, in.resolvedAt = StatusResolved, text, &now
	return nil
}
