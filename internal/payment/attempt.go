package payment

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
)

// OutcomeStatus is where a debit or refund stands at its bank.
type OutcomeStatus string

// Outcomes. Pending covers "being sent", "accepted by the bank" and
// "outcome unknown" alike: only the bank's word ends it.
const (
	OutcomePending   OutcomeStatus = "pending"
	OutcomeSucceeded OutcomeStatus = "succeeded"
	OutcomeFailed    OutcomeStatus = "failed"
)

// Attempt is one try to pay a request from one account; its id is the
// bank's debit id.
type Attempt struct {
	ID             string
	RequestID      string
	AccountID      string
	BankCode       string
	Amount         decimal.Decimal
	Currency       string
	Status         OutcomeStatus
	BankReference  string
	FailureCode    string
	FailureMessage string
	SentAt         *time.Time
	OutcomeAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// BankOutcome is what a bank said about a debit or refund, by a final answer,
// a status query or a callback.
type BankOutcome struct {
	Succeeded     bool
	Amount        decimal.Decimal
	Currency      string
	BankReference string
	ReasonCode    string
	ReasonMessage string
}

// ErrAlreadyApplied says the same outcome was applied before: a duplicate.
var ErrAlreadyApplied = fault.New(fault.OutcomeConflict, "outcome already applied")

// settle moves a pending outcome to its final state. A repeat of the same
// outcome is ErrAlreadyApplied; the opposite outcome is outcome_conflict.
func settle(status *OutcomeStatus, o BankOutcome) error {
	want := OutcomeFailed
	if o.Succeeded {
		want = OutcomeSucceeded
	}
	switch *status {
	case OutcomePending:
		*status = want
		return nil
	case want:
		return ErrAlreadyApplied
	}
	return fault.New(fault.OutcomeConflict, "the bank already reported this as %s", *status)
}

// Apply records the bank's outcome. The amount and currency must be those
// sent (else amount_differs) and the outcome must not contradict one
// already applied (else outcome_conflict).
func (a *Attempt) Apply(o BankOutcome, now time.Time) error {
	if o.Succeeded && (!o.Amount.Equal(a.Amount) || o.Currency != a.Currency) {
		return fault.New(fault.AmountDiffers, "the bank reports %s %s for a debit of %s %s",
			o.Amount.StringFixed(0), o.Currency, a.Amount.StringFixed(0), a.Currency)
	}
	if err := settle(&a.Status, o); err != nil {
		return err
	}
	if o.Succeeded {
		a.BankReference = o.BankReference
	} else {
		a.FailureCode, a.FailureMessage = o.ReasonCode, o.ReasonMessage
	}
	a.OutcomeAt = &now
	a.UpdatedAt = now
	return nil
}

// Refund is money sent back for a paid request.
type Refund struct {
	ID            string
	RequestID     string
	AttemptID     string
	BankCode      string
	Amount        decimal.Decimal
	Currency      string
	Reason        string
	Status        OutcomeStatus
	FailureReason string
	BankReference string
	SentAt        *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Apply records the bank's outcome of a refund.
func (r *Refund) Apply(o BankOutcome, now time.Time) error {
	if o.Succeeded && (!o.Amount.Equal(r.Amount) || o.Currency != r.Currency) {
		return fault.New(fault.AmountDiffers, "the bank reports %s %s for a refund of %s %s",
			o.Amount.StringFixed(0), o.Currency, r.Amount.StringFixed(0), r.Currency)
	}
	if err := settle(&r.Status, o); err != nil {
		return err
	}
	if o.Succeeded {
		r.BankReference = o.BankReference
	} else {
		r.FailureReason = o.ReasonCode
		if o.ReasonMessage != "" {
			r.FailureReason += ": " + o.ReasonMessage
		}
	}
	r.UpdatedAt = now
	return nil
}
