package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
)

// Status is what a reconciliation run came to.
type Status string

// The results of a run (PROTOCOL.md §12).
const (
	// StatusMatched: every line matched, or every difference found is
	// resolved.
	StatusMatched Status = "matched"
	// StatusDifferences: some difference's incident is still open.
	StatusDifferences Status = "differences"
	// StatusUnavailable: the statement could not be fetched or read; nothing
	// was applied from it.
	StatusUnavailable Status = "unavailable"
)

// The types of a statement line, and of the gateway's objects they name.
const (
	TypeDebit  = "debit"
	TypeRefund = "refund"
)

// Line is one booking of a bank's statement, as read from either format.
type Line struct {
	N             int // its position in the statement, for the evidence
	Type          string
	ID            string
	Amount        decimal.Decimal
	Currency      string
	Reversed      bool
	BookedAt      time.Time
	BankReference string
}

// The gateway's states of a debit or refund, as View carries them.
const (
	OutcomePending   = "pending"
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// View is the gateway's own view of the id a line names.
type View struct {
	Found     bool // the gateway sent a debit or refund with this id to this bank
	Type      string
	Status    string // pending, succeeded or failed
	Amount    decimal.Decimal
	Currency  string
	BookedAt  time.Time // when a succeeded outcome was applied (its ledger posting)
	RequestID string
}

// Prior is the statement line an outcome was matched to before: an outcome
// stays matched to it on every re-run.
type Prior struct {
	Day           Day
	BankReference string
	Applied       bool // the line applied the outcome, which was pending
}

// Verdict is what a line comes to.
type Verdict string

// The verdicts of a line.
const (
	// VerdictMatched: the gateway's outcome agrees with the line.
	VerdictMatched Verdict = "matched"
	// VerdictApply: the gateway still waits for the bank's word; the line is
	// it, applied as its callback would be, then matched.
	VerdictApply Verdict = "apply"
	// VerdictDifference: an incident for the operator.
	VerdictDifference Verdict = "difference"
)

// DifferenceKind says how a line or an outcome differs.
type DifferenceKind string

// The kinds of difference.
const (
	// UnknownID: the line names an id the gateway never sent to this bank.
	UnknownID DifferenceKind = "unknown_id"
	// TypeDiffers: the line books a debit as a refund, or the reverse.
	TypeDiffers DifferenceKind = "type_differs"
	// AmountDiffers: the line's amount or currency is not the gateway's.
	AmountDiffers DifferenceKind = "amount_differs"
	// FailedAtGateway: the gateway took the debit or refund as failed.
	FailedAtGateway DifferenceKind = "failed_at_gateway"
	// Reversal: the bank reversed a booking.
	Reversal DifferenceKind = "reversal"
	// OutsideWindow: the gateway applied the outcome on a day other than
	// the line's, the day before or the day after.
	OutsideWindow DifferenceKind = "outside_window"
	// SecondLine: the outcome was matched to another line before.
	SecondLine DifferenceKind = "second_line"
	// MissingLine: a succeeded outcome of the gateway's that no statement of
	// its day or the next lists.
	MissingLine DifferenceKind = "missing_line"
)

// Decision is a line's verdict and, for a difference, its kind and a
// sentence for the operator.
type Decision struct {
	Verdict Verdict
	Kind    DifferenceKind
	Summary string
	Applied bool // matched to a line that applied the outcome, on this run or before
}

func difference(k DifferenceKind, format string, args ...any) Decision {
	return Decision{Verdict: VerdictDifference, Kind: k, Summary: fmt.Sprintf(format, args...)}
}

// Decide compares line l of bank's statement of day with the gateway's
// view v of the id it names, and prior, the line that id was matched to
// before (nil if none), exactly as PROTOCOL.md §12 says.
func Decide(bank string, day Day, l Line, v View, prior *Prior) Decision {
	what := l.Type + " " + l.ID
	switch {
	case l.Reversed:
		return difference(Reversal, "bank %s's statement of %s reverses %s (%s %s)", bank, day, what,
			money.Format(l.Amount), l.Currency)
	case !v.Found:
		return difference(UnknownID, "bank %s's statement of %s books %s, which the gateway never sent to it", bank, day, what)
	case prior != nil && (prior.Day != day || prior.BankReference != l.BankReference):
		return difference(SecondLine, "bank %s's statement of %s books %s again: it was matched to the statement of %s (reference %s)",
			bank, day, what, prior.Day, prior.BankReference)
	case v.Type != l.Type:
		return difference(TypeDiffers, "bank %s's statement of %s books %s as a %s", bank, day, l.ID, l.Type)
	case !v.Amount.Equal(l.Amount) || v.Currency != l.Currency:
		return difference(AmountDiffers, "bank %s's statement of %s books %s for %s %s; the gateway sent %s %s", bank, day, what,
			money.Format(l.Amount), l.Currency, money.Format(v.Amount), v.Currency)
	case prior != nil:
		// The line it was matched to before, unchanged: matched again,
		// wherever the window now stands.
		return Decision{Verdict: VerdictMatched, Applied: prior.Applied}
	case v.Status == OutcomeFailed:
		return difference(FailedAtGateway, "bank %s's statement of %s books %s, which the gateway took as failed", bank, day, what)
	case v.Status == OutcomePending:
		return Decision{Verdict: VerdictApply, Applied: true}
	case !day.Within(v.BookedAt):
		return difference(OutsideWindow, "bank %s's statement of %s books %s, which the gateway applied on %s", bank, day, what,
			DayOf(v.BookedAt))
	}
	return Decision{Verdict: VerdictMatched}
}

// Missing is the difference of a succeeded outcome of the gateway's that
// neither the statement of its day nor the next day's lists.
func Missing(bank string, typ, objectID string, bookedOn Day) Decision {
	return difference(MissingLine, "the gateway's succeeded %s %s of %s is on neither bank %s's statement of that day nor of the next",
		typ, objectID, bookedOn, bank)
}

// Key names a difference within its reconciliation, the same on every
// re-run, so that it is recorded once.
func Key(d Decision, l Line) string {
	if d.Kind == MissingLine {
		return string(d.Kind) + ":" + l.ID
	}
	parts := []string{string(d.Kind), l.Type, l.ID, l.BankReference, money.Format(l.Amount), l.Currency}
	k := strings.Join(parts, ":")
	if len(k) > 300 {
		k = k[:300]
	}
	return k
}

// Tally is what a run counts as it reads a statement.
type Tally struct {
	Lines       int
	Matched     int // applied lines included
	Applied     int
	Differences int
	DebitTotal  decimal.Decimal
	RefundTotal decimal.Decimal
}

// Add counts line l and its decision. Reversals are counted as lines but
// not in the totals, which are what the bank booked for the gateway.
func (t *Tally) Add(l Line, d Decision) {
	t.Lines++
	if !l.Reversed {
		switch l.Type {
		case TypeDebit:
			t.DebitTotal = t.DebitTotal.Add(l.Amount)
		case TypeRefund:
			t.RefundTotal = t.RefundTotal.Add(l.Amount)
		}
	}
	switch d.Verdict {
	case VerdictMatched, VerdictApply:
		t.Matched++
		if d.Applied {
			t.Applied++
		}
	case VerdictDifference:
		t.Differences++
	}
}

// Result is a reconciliation as PROTOCOL.md §12 shows it.
type Result struct {
	ID        string
	BankCode  string
	Day       Day
	Status    Status
	Tally     Tally
	Reason    string // why it is unavailable
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UnavailableIncidentAfter is how long a statement may stay unavailable
// before the operator is told (PROTOCOL.md §12: an incident only after a
// day of trying).
const UnavailableIncidentAfter = 24 * time.Hour
