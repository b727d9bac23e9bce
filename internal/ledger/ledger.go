// Package ledger is the gateway's double-entry ledger (DOMAIN.md "The
// ledger"): its accounts, and the balanced transactions that a bank's
// outcome causes. It knows nothing of SQL; internal/postgres stores it.
//
// Two kinds of account exist: bank_clearing:{bank}, an asset (the bank owes
// the gateway the money it collected), and portal_payable:{portal}, a
// liability (the gateway owes the portal's agency its fees). A succeeded
// debit moves money into both; a succeeded refund moves it back out. Every
// transaction names the attempt or refund that caused it, and a cause is
// posted at most once, ever.
package ledger

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
)

// Errors of the ledger. Wrapped messages name the cause or account.
var (
	// ErrInvalidAmount means an amount is not a positive whole number of đồng.
	ErrInvalidAmount = errors.New("ledger amount must be a positive whole number of đồng")
	// ErrInvalidTransaction means a transaction is malformed: a cause or
	// account that is not one of the ledger's, or no postings.
	ErrInvalidTransaction = errors.New("invalid ledger transaction")
	// ErrUnbalanced means debits and credits differ: within a transaction,
	// or between all bank_clearing and all portal_payable balances.
	ErrUnbalanced = errors.New("ledger does not balance")
	// ErrAlreadyPosted means a transaction for the same cause is already in
	// the ledger: one posting per outcome, ever. Callers applying an outcome
	// a second time take it as "already applied".
	ErrAlreadyPosted = errors.New("ledger transaction already posted for this cause")
)

// AccountKind is what an account is: bank_clearing or portal_payable.
type AccountKind string

// The ledger's kinds of account.
const (
	// BankClearingKind is an asset: money a bank collected and owes.
	BankClearingKind AccountKind = "bank_clearing"
	// PortalPayableKind is a liability: fees owed to a portal's agency.
	PortalPayableKind AccountKind = "portal_payable"
)

// Normal is the side on which the kind's balance grows: debit for the
// bank_clearing asset, credit for the portal_payable liability.
func (k AccountKind) Normal() Direction {
	if k == BankClearingKind {
		return Debit
	}
	return Credit
}

// Account names one ledger account, "kind:owner".
type Account string

// BankClearing returns the clearing account of bank.
func BankClearing(bank string) Account { return Account(string(BankClearingKind) + ":" + bank) }

// PortalPayable returns the payable account of portal.
func PortalPayable(portal string) Account { return Account(string(PortalPayableKind) + ":" + portal) }

// ParseAccount checks that s names a bank_clearing or portal_payable account
// with a non-empty owner. The error wraps ErrInvalidTransaction.
func ParseAccount(s string) (Account, error) {
	kind, owner, ok := strings.Cut(s, ":")
	if !ok || owner == "" || strings.ContainsAny(owner, ": \t\n") ||
		(AccountKind(kind) != BankClearingKind && AccountKind(kind) != PortalPayableKind) {
		return "", fmt.Errorf("%w: %q is not a ledger account", ErrInvalidTransaction, s)
	}
	return Account(s), nil
}

// Kind returns the account's kind ("" when a is not a ledger account).
func (a Account) Kind() AccountKind {
	kind, _, _ := strings.Cut(string(a), ":")
	return AccountKind(kind)
}

// Owner returns the bank code or portal id the account belongs to.
func (a Account) Owner() string {
	_, owner, _ := strings.Cut(string(a), ":")
	return owner
}

// Direction is the side of a posting.
type Direction string

// The sides of a posting.
const (
	Debit  Direction = "debit"
	Credit Direction = "credit"
)

// Kind is what caused a transaction.
type Kind string

// The causes of ledger transactions (DOMAIN.md).
const (
	// KindDebitSucceeded is caused by a payment attempt (pa_…) the bank
	// reported succeeded.
	KindDebitSucceeded Kind = "debit_succeeded"
	// KindRefundSucceeded is caused by a refund (rf_…) the bank reported
	// succeeded.
	KindRefundSucceeded Kind = "refund_succeeded"
	// KindSettlement is caused by one bank's share of a settlement the
	// operator transferred to the portal's agency (stl_…:{bank}).
	KindSettlement Kind = "settlement"
)

// causePrefix is the id prefix of each kind's cause.
func (k Kind) causePrefix() string {
	switch k {
	case KindDebitSucceeded:
		return "pa_"
	case KindRefundSucceeded:
		return "rf_"
	case KindSettlement:
		return "stl_"
	}
	return ""
}

// Posting is one side of a transaction on one account.
type Posting struct {
	Account   Account
	Direction Direction
	Amount    decimal.Decimal
}

// Transaction is a balanced set of postings caused by one attempt or refund.
// Only DebitSucceeded and RefundSucceeded make one, so a Transaction other
// than the zero value always balances.
type Transaction struct {
	cause    string
	kind     Kind
	postings []Posting
	at       time.Time
}

// DebitSucceeded is the transaction of a succeeded debit: attemptID's amount
// debited to bank_clearing:{bank} and credited to portal_payable:{portal}.
func DebitSucceeded(attemptID, bank, portal string, amount decimal.Decimal) (Transaction, error) {
	return newTransaction(KindDebitSucceeded, attemptID, amount,
		Posting{Account: BankClearing(bank), Direction: Debit, Amount: amount},
		Posting{Account: PortalPayable(portal), Direction: Credit, Amount: amount})
}

// RefundSucceeded is the transaction of a succeeded refund, the reverse of a
// debit's: refundID's amount debited to portal_payable:{portal} and credited
// to bank_clearing:{bank}.
func RefundSucceeded(refundID, bank, portal string, amount decimal.Decimal) (Transaction, error) {
	return newTransaction(KindRefundSucceeded, refundID, amount,
		Posting{Account: PortalPayable(portal), Direction: Debit, Amount: amount},
		Posting{Account: BankClearing(bank), Direction: Credit, Amount: amount})
}

// SettlementCause names the posting of settlementID's share of bank:
// "stl_…:{bank}" (DOMAIN.md).
func SettlementCause(settlementID, bank string) string { return settlementID + ":" + bank }

// SettlementShare is the transaction of bank's share of a settlement paid
// out to portal's agency: a positive net is debited to
// portal_payable:{portal} and credited to bank_clearing:{bank}; a negative
// one (the day's refunds at that bank exceeded its collections) the other
// way round. A zero share has no transaction (ErrInvalidAmount).
func SettlementShare(settlementID, bank, portal string, net decimal.Decimal) (Transaction, error) {
	from, to := PortalPayable(portal), BankClearing(bank)
	if net.IsNegative() {
		from, to, net = to, from, net.Neg()
	}
	return newTransaction(KindSettlement, SettlementCause(settlementID, bank), net,
		Posting{Account: from, Direction: Debit, Amount: net},
		Posting{Account: to, Direction: Credit, Amount: net})
}

// At returns t booked at the gateway's time of the outcome that caused it:
// the business day it belongs to (PROTOCOL.md §12). The zero time leaves
// the booking to the store's clock.
func (t Transaction) At(at time.Time) Transaction {
	t.at = at
	return t
}

// BookedAt returns when t is booked, or the zero time (see At).
func (t Transaction) BookedAt() time.Time { return t.at }

func newTransaction(kind Kind, cause string, amount decimal.Decimal, postings ...Posting) (Transaction, error) {
	if err := checkAmount(amount); err != nil {
		return Transaction{}, fmt.Errorf("%s %s: %w", kind, cause, err)
	}
	t := Transaction{cause: cause, kind: kind, postings: postings}
	if err := t.Check(); err != nil {
		return Transaction{}, err
	}
	return t, nil
}

// checkAmount accepts positive whole đồng only: the ledger's NUMERIC(20, 0)
// columns would otherwise round a fraction away without a word.
func checkAmount(amount decimal.Decimal) error {
	if !amount.IsPositive() || !amount.IsInteger() {
		return ErrInvalidAmount
	}
	return nil
}

// Cause returns the id of the attempt or refund that caused t.
func (t Transaction) Cause() string { return t.cause }

// Kind returns what caused t.
func (t Transaction) Kind() Kind { return t.kind }

// Currency returns the currency of t's amounts.
func (t Transaction) Currency() string { return money.Currency }

// Postings returns a copy of t's postings.
func (t Transaction) Postings() []Posting {
	return append([]Posting(nil), t.postings...)
}

// Check verifies that t is well formed and balances: a cause of its kind's
// id prefix, ledger accounts, positive whole amounts, and debits equal to
// credits. The error wraps ErrInvalidTransaction, ErrInvalidAmount or
// ErrUnbalanced. The zero Transaction fails it.
func (t Transaction) Check() error {
	prefix := t.kind.causePrefix()
	if prefix == "" {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalidTransaction, t.kind)
	}
	if !strings.HasPrefix(t.cause, prefix) || len(t.cause) == len(prefix) ||
		(t.kind == KindSettlement) != strings.Contains(t.cause, ":") {
		return fmt.Errorf("%w: %s cause %q is not a %s… id", ErrInvalidTransaction, t.kind, t.cause, prefix)
	}
	if len(t.postings) < 2 {
		return fmt.Errorf("%w: %s has %d postings", ErrInvalidTransaction, t.cause, len(t.postings))
	}
	net := decimal.Zero
	for _, p := range t.postings {
		if _, err := ParseAccount(string(p.Account)); err != nil {
			return fmt.Errorf("%s: %w", t.cause, err)
		}
		if err := checkAmount(p.Amount); err != nil {
			return fmt.Errorf("%s: %w", t.cause, err)
		}
		switch p.Direction {
		case Debit:
			net = net.Add(p.Amount)
		case Credit:
			net = net.Sub(p.Amount)
		default:
			return fmt.Errorf("%w: %s: direction %q", ErrInvalidTransaction, t.cause, p.Direction)
		}
	}
	if !net.IsZero() {
		return fmt.Errorf("%w: %s: debits exceed credits by %s", ErrUnbalanced, t.cause, net.String())
	}
	return nil
}

// SamePostings reports whether a and b hold the same postings, in any order.
func SamePostings(a, b []Posting) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, p := range a {
		for j, q := range b {
			if !used[j] && p.Account == q.Account && p.Direction == q.Direction && p.Amount.Equal(q.Amount) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}
