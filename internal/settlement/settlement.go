// Package settlement is the domain of a portal's daily settlement
// (PROTOCOL.md §12): what the gateway owes an agency for one business day,
// per bank, and its states open → closed → settled. It knows nothing of
// HTTP or SQL.
package settlement

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/reconcile"
)

// Status is a settlement's state.
type Status string

// The states of a settlement.
const (
	// StatusOpen: some bank the portal had outcomes with that day has not
	// reconciled it matched yet; the figures follow the ledger.
	StatusOpen Status = "open"
	// StatusClosed: every such bank has; the figures never change again.
	StatusClosed Status = "closed"
	// StatusSettled: the operator transferred the net to the agency.
	StatusSettled Status = "settled"
)

// ValidStatus reports whether s names a state.
func ValidStatus(s string) bool {
	switch Status(s) {
	case StatusOpen, StatusClosed, StatusSettled:
		return true
	}
	return false
}

// Bank is one bank's part of a day: the debits it collected and the
// refunds it paid back.
type Bank struct {
	BankCode  string
	Count     int
	Collected decimal.Decimal
	Refunds   int
	Refunded  decimal.Decimal
}

// Net is what the bank's part adds to the agency's transfer; negative when
// its refunds exceed its collections.
func (b Bank) Net() decimal.Decimal { return b.Collected.Sub(b.Refunded) }

// Figures are a day's totals, per bank in bank code order, as the ledger's
// postings of that day give them.
type Figures struct {
	Banks []Bank
}

// Count is the number of succeeded debits.
func (f Figures) Count() int {
	n := 0
	for _, b := range f.Banks {
		n += b.Count
	}
	return n
}

// RefundCount is the number of succeeded refunds.
func (f Figures) RefundCount() int {
	n := 0
	for _, b := range f.Banks {
		n += b.Refunds
	}
	return n
}

// Collected is the sum of the succeeded debits.
func (f Figures) Collected() decimal.Decimal {
	sum := decimal.Zero
	for _, b := range f.Banks {
		sum = sum.Add(b.Collected)
	}
	return sum
}

// Refunded is the sum of the succeeded refunds.
func (f Figures) Refunded() decimal.Decimal {
	sum := decimal.Zero
	for _, b := range f.Banks {
		sum = sum.Add(b.Refunded)
	}
	return sum
}

// Net is what the agency is owed for the day.
func (f Figures) Net() decimal.Decimal { return f.Collected().Sub(f.Refunded()) }

// Equal reports whether f and g are the same figures.
func (f Figures) Equal(g Figures) bool {
	if len(f.Banks) != len(g.Banks) {
		return false
	}
	for i, b := range f.Banks {
		c := g.Banks[i]
		if b.BankCode != c.BankCode || b.Count != c.Count || b.Refunds != c.Refunds ||
			!b.Collected.Equal(c.Collected) || !b.Refunded.Equal(c.Refunded) {
			return false
		}
	}
	return true
}

// Settlement is a portal's business day. Its state changes only through
// Refresh, Close and Settle.
type Settlement struct {
	ID        string
	PortalID  string
	Day       reconcile.Day
	Status    Status
	Version   int
	Figures   Figures
	Reference string // the operator's transfer reference, once settled
	SettledBy string
	ClosedAt  *time.Time
	SettledAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Refresh sets an open settlement's figures to f and reports whether they
// changed (then its version goes up). A closed or settled one keeps its
// figures: they never change.
func (s *Settlement) Refresh(f Figures, now time.Time) bool {
	if s.Status != StatusOpen || s.Figures.Equal(f) {
		return false
	}
	s.Figures, s.Version, s.UpdatedAt = f, s.Version+1, now
	return true
}

// Close freezes an open settlement's figures once every bank it had
// outcomes with has reconciled the day matched.
func (s *Settlement) Close(now time.Time) error {
	if s.Status != StatusOpen {
		return fault.New(fault.InvalidState, "settlement %s is %s, not open", s.ID, s.Status)
	}
	s.Status, s.ClosedAt, s.Version, s.UpdatedAt = StatusClosed, &now, s.Version+1, now
	return nil
}

// MaxReference is the longest transfer reference kept.
const MaxReference = 140

// Settle records the operator's transfer of a closed settlement to the
// agency. An open one is refused (its day is not reconciled), and so is a
// settled one: a transfer is recorded once.
func (s *Settlement) Settle(reference, by string, now time.Time) error {
	reference = strings.TrimSpace(reference)
	switch {
	case reference == "":
		return fault.Field(fault.ValidationFailed, "reference", "the transfer reference is required")
	case utf8.RuneCountInString(reference) > MaxReference:
		return fault.Field(fault.ValidationFailed, "reference", "a transfer reference has at most 140 characters")
	case strings.TrimSpace(by) == "":
		return fault.Field(fault.ValidationFailed, "by", "say who recorded the transfer")
	case s.Status == StatusOpen:
		return fault.New(fault.InvalidState, "settlement %s is still open: its day is not reconciled with every bank, so nothing changed", s.ID)
	case s.Status == StatusSettled:
		return fault.New(fault.InvalidState, "settlement %s was already settled with reference %s: nothing changed", s.ID, s.Reference)
	}
	s.Status, s.Reference, s.SettledBy, s.SettledAt = StatusSettled, reference, by, &now
	s.Version, s.UpdatedAt = s.Version+1, now
	return nil
}
