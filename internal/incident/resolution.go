package incident

import (
	"strings"
	"unicode/utf8"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
)

// Action is what an operator does to resolve an incident.
type Action string

// The operator's actions.
const (
	// ActionNote closes the incident with a note and changes nothing else:
	// what was needed was done outside the gateway, or nothing was.
	ActionNote Action = "note"
	// ActionApplyPaid applies the incident's debit as succeeded, with the
	// amount sent and the bank's reference, after the operator confirmed it
	// with the bank.
	ActionApplyPaid Action = "apply-paid"
	// ActionRefund refunds what is still refundable of the paid request the
	// incident is about, through the bank that was paid.
	ActionRefund Action = "refund"
)

// MaxNote bounds the operator's note, in characters.
const MaxNote = 500

// maxBankReference bounds a bank reference, as the bank protocol does.
const maxBankReference = 128

// RefundReason is the reason of every refund an operator makes by resolving
// an incident: what the portal (and through it the citizen) is told. The
// operator's note stays internal, in the incident's resolution.
const RefundReason = "Refunded by the gateway operator"

// Resolution is what the operator decided about one incident.
type Resolution struct {
	Action        Action
	Note          string // why; kept in the incident's resolution only
	BankReference string // with ActionApplyPaid: the bank's reference of the debit
}

// Validate checks the resolution's form, before anything is read: a known
// action, a note of at most MaxNote characters, and a bank reference with
// apply-paid only.
func (r Resolution) Validate() error {
	switch r.Action {
	case ActionNote, ActionRefund:
		if r.BankReference != "" {
			return fault.Field(fault.ValidationFailed, "bank_reference", "a bank reference goes with apply-paid only")
		}
	case ActionApplyPaid:
		if strings.TrimSpace(r.BankReference) == "" {
			return fault.Field(fault.ValidationFailed, "bank_reference", "apply-paid needs the bank's reference of the debit")
		}
		if utf8.RuneCountInString(r.BankReference) > maxBankReference {
			return fault.Field(fault.ValidationFailed, "bank_reference", "a bank reference has at most 128 characters")
		}
	default:
		return fault.Field(fault.ValidationFailed, "action", "the action is note, apply-paid or refund")
	}
	if strings.TrimSpace(r.Note) == "" {
		return fault.Field(fault.ValidationFailed, "note", "say why: the note is kept with the incident")
	}
	if utf8.RuneCountInString(r.Note) > MaxNote {
		return fault.Field(fault.ValidationFailed, "note", "a note has at most 500 characters")
	}
	return nil
}

// Which actions fit which kind. A note fits every incident. The other two
// change money, so each fits only the kinds it is the remedy for, as a
// card network's operations desk would see it:
//
//   - apply-paid is the remedy where the gateway lacks the bank's readable
//     word that a debit it sent succeeded: unknown_object (the bank's word
//     named the debit but could not be read), amount_differs (the bank
//     confirms by another channel the amount that was sent),
//     outcome_unknown, reconciliation (the statement books the debit). It
//     is not for outcome_conflict: an outcome is already applied and
//     applying a success cannot undo it, nor for unknown_event_type.
//   - refund is the remedy where the citizen's money was taken for a fee
//     that should not keep it: outcome_conflict (the bank says the debit
//     that paid the request failed, or the request is disputed after a
//     contradiction), unknown_object (the paid bank's own unreadable word
//     about its debit), reconciliation (the statement shows money the
//     books do not). It is not for amount_differs (nothing was applied:
//     the remedy is the bank's confirmation, then apply-paid, or a note),
//     outcome_unknown (nothing is paid yet), unknown_event_type (the bank
//     named nothing), nor a kind the gateway does not know.
//
// On top of the kind, the object must fit the action (Fits) and a bank's
// incident may only move money of that same bank (CheckBank).
var remedies = map[Action]map[Kind]bool{
	ActionApplyPaid: {KindUnknownObject: true, KindAmountDiffers: true, KindOutcomeUnknown: true, KindReconciliation: true},
	ActionRefund:    {KindOutcomeConflict: true, KindUnknownObject: true, KindReconciliation: true},
}

// Remedies reports whether action a may resolve an incident of kind k.
func (k Kind) Remedies(a Action) bool {
	if a == ActionNote {
		return true
	}
	return remedies[a][k]
}

// Fits refuses (invalid_state) an action that cannot resolve this
// incident: apply-paid of an incident that names no debit, a refund of one
// that names no payment request, debit or refund, or an action that is not
// the remedy for the incident's kind (Remedies). The object is checked
// first: it is what the action would act on.
func (in *Incident) Fits(a Action) error {
	switch a {
	case ActionNote:
		return nil
	case ActionApplyPaid:
		if !id.HasPrefix(in.objectID, id.PaymentAttempt) {
			return fault.New(fault.InvalidState, "incident %s names no debit (pa_…) but %q: apply-paid applies a debit", in.id, in.objectID)
		}
	case ActionRefund:
		if !id.HasPrefix(in.objectID, id.PaymentRequest) && !id.HasPrefix(in.objectID, id.PaymentAttempt) &&
			!id.HasPrefix(in.objectID, id.Refund) {
			return fault.New(fault.InvalidState, "incident %s names no payment request, debit or refund but %q: a refund returns a paid fee",
				in.id, in.objectID)
		}
	default:
		return fault.New(fault.InvalidState, "no action %q", a)
	}
	if !in.kind.Remedies(a) {
		return fault.New(fault.InvalidState, "%s is not the remedy for an incident of kind %s (incident %s); close it with a note once settled",
			a, in.kind, in.id)
	}
	return nil
}

// CheckBank refuses (invalid_state) to move money of what (a debit,
// refund or payment request) held at bank objectBank on the word of
// another bank: an incident a bank raised may only settle or refund that
// bank's own debits. An incident the gateway raised itself (no bank) names
// the object's bank by the object.
func (in *Incident) CheckBank(what, objectBank string) error {
	if in.bankCode == "" || in.bankCode == objectBank {
		return nil
	}
	return fault.New(fault.InvalidState, "incident %s was raised by bank %s, but %s was paid through bank %s: "+
		"a bank's incident moves only that bank's money", in.id, in.bankCode, what, objectBank)
}

// CanResolve refuses what Resolve would refuse, before the action runs: a
// resolved incident, or an action that does not fit it.
func (in *Incident) CanResolve(r Resolution) error {
	if err := in.checkOpen(); err != nil {
		return err
	}
	return in.Fits(r.Action)
}
