// Package account is the domain of linked bank accounts (PROTOCOL.md §6,
// DOMAIN.md): a citizen's account at a bank, confirmed by the bank before it
// can be used, and the rules of its states. It knows nothing of HTTP, SQL or
// Redis.
package account

import (
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// Status is a linked account's state.
type Status string

// The states of a linked account:
// pending_verification → active | rejected; pending_verification | active → unlinked.
const (
	StatusPending  Status = "pending_verification"
	StatusActive   Status = "active"
	StatusRejected Status = "rejected"
	StatusUnlinked Status = "unlinked"
)

// ValidStatus reports whether s names a state.
func ValidStatus(s string) bool {
	switch Status(s) {
	case StatusPending, StatusActive, StatusRejected, StatusUnlinked:
		return true
	}
	return false
}

// MaxLive is the most accounts a citizen may have active or awaiting their
// bank's answer. PROTOCOL.md §6 allows at most 10 active; counting pending
// links too keeps that bound without ever refusing a bank's confirmation,
// and stops a citizen from piling up verifications at banks.
const MaxLive = 10

// The reasons a citizen is shown for a rejected account (PROTOCOL.md §6):
// one for every refusal by the bank, whatever the bank's own code, and the
// gateway's own. Telling a holder mismatch from an unknown number would let
// anyone probe a bank's account numbers; the bank's code is kept in
// Account.BankReasonCode for the operator.
const (
	// ReasonNotVerified: the bank did not confirm this citizen as the holder.
	ReasonNotVerified = "not_verified"
	// ReasonBankTimeout: the bank gave no answer within the verification timeout.
	ReasonBankTimeout = "bank_timeout"
	// ReasonAccountTaken: the bank confirmed the holder, but meanwhile the
	// number became active for another citizen.
	ReasonAccountTaken = "account_taken"
)

// Outcome is what the bank said about a verification.
type Outcome string

// Verification outcomes.
const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeFailed    Outcome = "failed"
)

// Account is a linked account. The number itself is never held here: only
// its mask (the clear number lives sealed in the store and in memory only on
// its way to the bank).
type Account struct {
	ID                  string
	CitizenID           string
	BankCode            string
	NumberMasked        string
	Status              Status
	IsDefault           bool
	RejectionReason     string // one of the Reason constants; what the citizen sees
	BankReasonCode      string // the bank's code for a failed verification, for the operator only
	VerificationID      string
	VerificationOutcome Outcome // empty until the bank has answered
	VerificationSentAt  *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Live reports whether the account is active or awaiting its bank.
func (a *Account) Live() bool { return a.Status == StatusPending || a.Status == StatusActive }

// CanPay refuses (account_not_active, on account_id) paying from an account
// that is not active.
func (a *Account) CanPay() error {
	if a.Status != StatusActive {
		return fault.Field(fault.AccountNotActive, "account_id", "the account is "+string(a.Status))
	}
	return nil
}

func (a *Account) invalid(what string) error {
	return fault.New(fault.InvalidState, "account %s is %s: it cannot be %s", a.ID, a.Status, what)
}

// Activate makes a pending account active after the bank confirmed its
// holder; it becomes the default when the citizen has none.
func (a *Account) Activate(hasDefault bool, now time.Time) error {
	if a.Status != StatusPending {
		return a.invalid("activated")
	}
	a.Status, a.IsDefault, a.VerificationOutcome, a.UpdatedAt = StatusActive, !hasDefault, OutcomeSucceeded, now
	return nil
}

// Reject ends a pending account with a reason.
func (a *Account) Reject(reason string, now time.Time) error {
	if a.Status != StatusPending {
		return a.invalid("rejected")
	}
	a.Status, a.RejectionReason, a.UpdatedAt = StatusRejected, reason, now
	return nil
}

// Unlink ends a pending or active account. Unlinking the default leaves the
// citizen without one.
func (a *Account) Unlink(now time.Time) error {
	if !a.Live() {
		return a.invalid("unlinked")
	}
	a.Status, a.IsDefault, a.UpdatedAt = StatusUnlinked, false, now
	return nil
}

// MakeDefault makes an active account the default.
func (a *Account) MakeDefault(now time.Time) error {
	if a.Status != StatusActive {
		return fault.New(fault.AccountNotActive, "account %s is %s: only an active account can be the default", a.ID, a.Status)
	}
	if !a.IsDefault {
		a.IsDefault, a.UpdatedAt = true, now
	}
	return nil
}

// Decision is what a bank's verification outcome does to an account.
type Decision int

// Decisions, in the order Decide considers them.
const (
	// Duplicate: the same outcome was applied before; nothing changes.
	Duplicate Decision = iota + 1
	// Conflict: the outcome contradicts what was applied; nothing changes
	// and the operator is told.
	Conflict
	// Apply: the account awaits this outcome: activate or reject it.
	Apply
	// Record: the account has moved on (unlinked while pending, or given up
	// after the timeout with the same verdict): the outcome is kept, the
	// state stays.
	Record
)

// Decide says what outcome o does to a, applied at most once: a repeat is a
// duplicate, a contradiction a conflict. A success that arrives after the
// gateway gave up waiting contradicts the rejection it already announced.
func (a *Account) Decide(o Outcome) Decision {
	switch {
	case a.VerificationOutcome == o:
		return Duplicate
	case a.VerificationOutcome != "":
		return Conflict
	case a.Status == StatusPending:
		return Apply
	case a.Status == StatusUnlinked:
		return Record
	case a.Status == StatusRejected && o == OutcomeFailed:
		return Record
	}
	return Conflict
}

// Settle applies the bank's outcome o (with its reason code when failed) and
// returns what it did. hasDefault says whether the citizen already has a
// default account. Only Apply and Record change a. A failure rejects the
// account as not_verified whatever the bank's code, which is kept apart.
func (a *Account) Settle(o Outcome, reasonCode string, hasDefault bool, now time.Time) Decision {
	d := a.Decide(o)
	switch {
	case d == Apply && o == OutcomeSucceeded:
		_ = a.Activate(hasDefault, now) // Decide saw it pending
	case d == Apply:
		_ = a.Reject(ReasonNotVerified, now)
		a.VerificationOutcome = OutcomeFailed
	case d == Record:
		a.VerificationOutcome, a.UpdatedAt = o, now
	}
	if (d == Apply || d == Record) && o == OutcomeFailed {
		a.BankReasonCode = BankReason(reasonCode)
	}
	return d
}

// Taken rejects a pending account whose holder the bank confirmed but whose
// number became active for another citizen meanwhile.
func (a *Account) Taken(now time.Time) error {
	if err := a.Reject(ReasonAccountTaken, now); err != nil {
		return err
	}
	a.VerificationOutcome = OutcomeSucceeded
	return nil
}

// BankReason returns a bank's reason code as kept for the operator: the code
// as given, bounded to 64 printable ASCII characters; empty when there is
// none.
func BankReason(code string) string {
	code = strings.TrimSpace(code)
	b := make([]byte, 0, min(len(code), 64))
	for i := 0; i < len(code) && len(b) < 64; i++ {
		if c := code[i]; c > 0x20 && c < 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}

// A citizen whose links the banks refused MaxBankRefusals times within
// BankRefusalWindow may not link again until the oldest of those refusals
// leaves the window: each link asks a bank about a number under the
// citizen's pid, and a run of refusals is what probing account numbers looks
// like. A citizen who mistyped their number once or twice is not hindered.
const (
	MaxBankRefusals   = 5
	BankRefusalWindow = time.Hour
)

// LinkPause returns how long a citizen must wait before linking again,
// given when their links were last refused by the bank (newest first, at
// least the MaxBankRefusals newest within the window); 0 when they may link
// now.
func LinkPause(refusedAt []time.Time, now time.Time) time.Duration {
	if len(refusedAt) < MaxBankRefusals {
		return 0
	}
	// The window holds MaxBankRefusals refusals until the MaxBankRefusals-th
	// newest of them leaves it.
	return max(0, refusedAt[MaxBankRefusals-1].Add(BankRefusalWindow).Sub(now))
}

// Filter narrows a list of a citizen's accounts.
type Filter struct {
	CitizenID string
	Status    string
	Before    string // id: list those older than it
	Limit     int
}
