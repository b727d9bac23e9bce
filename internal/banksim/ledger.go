package banksim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/pii"
)

// Reason codes the sandbox bank fails an operation with.
const (
	ReasonAccountNotFound    = "ACCOUNT_NOT_FOUND"
	ReasonHolderMismatch     = "HOLDER_MISMATCH"
	ReasonInsufficientFunds  = "INSUFFICIENT_FUNDS"
	ReasonDebitNotFound      = "DEBIT_NOT_FOUND"
	ReasonDebitNotSucceeded  = "DEBIT_NOT_SUCCEEDED"
	ReasonRefundExceedsDebit = "REFUND_EXCEEDS_DEBIT"
	ReasonCurrencyMismatch   = "CURRENCY_MISMATCH"
)

func reasonMessage(code string) string {
	switch code {
	case ReasonAccountNotFound:
		return "No such account."
	case ReasonHolderMismatch:
		return "The account holder is not the person named."
	case ReasonInsufficientFunds:
		return "The balance does not cover the amount."
	case ReasonDebitNotFound:
		return "No such debit."
	case ReasonDebitNotSucceeded:
		return "The debit did not succeed."
	case ReasonRefundExceedsDebit:
		return "Refunds would exceed the debit."
	case ReasonCurrencyMismatch:
		return "The currency differs from the debit's."
	default:
		return "Rejected by the sandbox bank."
	}
}

// opKind is what an operation is; it also opens its callback event types.
type opKind string

const (
	kindVerification opKind = "account_verification"
	kindDebit        opKind = "debit"
	kindRefund       opKind = "refund"
)

// idField is the name of the gateway's id for the kind, in requests and
// callback data.
func (k opKind) idField() string {
	switch k {
	case kindVerification:
		return "verification_id"
	case kindRefund:
		return "refund_id"
	default:
		return "debit_id"
	}
}

func (k opKind) movesMoney() bool { return k != kindVerification }

const (
	statusPending   = "pending"
	statusSucceeded = "succeeded"
	statusFailed    = "failed"
)

// errKeyReused is a known Idempotency-Key presented with another request.
var errKeyReused = errors.New("idempotency key already used for another request")

type account struct {
	holderPID string
	balance   decimal.Decimal
}

// operation is one verification, debit or refund the bank received. Its id is
// also its Idempotency-Key.
type operation struct {
	kind        opKind
	id          string
	fingerprint [32]byte

	account   string          // normalised; for a refund, its debit's
	holderPID string          // verifications and debits
	debitID   string          // refunds
	amount    decimal.Decimal // debits and refunds
	currency  string
	refunded  decimal.Decimal // debits: the sum of their succeeded refunds

	status        string
	reasonCode    string
	reasonMessage string
	bankReference string
	eventID       string
	settledAt     time.Time
}

// ledger is the bank's books: accounts, every operation ever received, and
// the bookings that statements list. One mutex makes each step atomic.
type ledger struct {
	mu       sync.Mutex
	loc      *time.Location
	accounts map[string]*account
	ops      map[string]*operation
	booked   []*operation
	executed map[string]int
	// serial numbers the bank references; it starts at the time the ledger
	// was made (see newLedger).
	serial int64
}

// refSerialLen is the length of a bank reference's serial: FT, the booking
// day as yymmdd, then this many base-36 digits, 18 characters in all.
const refSerialLen = 10

// newLedger makes the bank's ledger. Its references' serials start at the
// wall clock's microsecond (not Config.Now's: a restarted bank must not
// repeat its last run's references, whatever clock its bookings read) and
// go up by one each: a later ledger starts past every serial an earlier
// one gave, unless that one booked more than once a microsecond on average.
func newLedger(accounts []Account, loc *time.Location) (*ledger, error) {
	l := &ledger{
		serial:   time.Now().UnixMicro(),
		loc:      loc,
		accounts: make(map[string]*account, len(accounts)),
		ops:      make(map[string]*operation),
		executed: make(map[string]int),
	}
	for i, a := range accounts {
		n, err := pii.NormalizeAccount(a.Number)
		switch {
		case err != nil:
			return nil, fmt.Errorf("account %d: %w", i+1, err)
		case l.accounts[n] != nil:
			return nil, fmt.Errorf("account %d (%s): the number appears twice", i+1, pii.MaskAccount(n))
		case a.HolderPID == "":
			return nil, fmt.Errorf("account %d (%s): holder pid is required", i+1, pii.MaskAccount(n))
		case a.Balance.IsNegative():
			return nil, fmt.Errorf("account %d (%s): balance is negative", i+1, pii.MaskAccount(n))
		}
		l.accounts[n] = &account{holderPID: a.HolderPID, balance: a.Balance}
	}
	return l, nil
}

// submit records op, pending, under its id and, if settleNow, settles it at
// once. If the id is known it returns the operation as it stands and true, or
// errKeyReused when op is not the same request.
func (l *ledger) submit(op *operation, settleNow bool, reject string, now time.Time) (operation, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.ops[op.id]; ok {
		if prev.kind != op.kind || prev.fingerprint != op.fingerprint {
			return operation{}, true, errKeyReused
		}
		return *prev, true, nil
	}
	op.status = statusPending
	l.ops[op.id] = op
	if settleNow {
		l.settleLocked(op, reject, now)
	}
	return *op, false, nil
}

// settle decides a pending operation. It reports false if the operation is
// unknown or already settled.
func (l *ledger) settle(id, reject string, now time.Time) (operation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	op := l.ops[id]
	if op == nil || op.status != statusPending {
		return operation{}, false
	}
	l.settleLocked(op, reject, now)
	return *op, true
}

func (l *ledger) settleLocked(op *operation, reject string, now time.Time) {
	var reason string
	switch op.kind {
	case kindVerification:
		reason = l.verify(op)
	case kindDebit:
		reason = l.debit(op, reject)
	case kindRefund:
		reason = l.refund(op)
	}
	op.settledAt = now
	op.eventID = "evt_" + strings.ToLower(rand.Text())
	if reason != "" {
		op.status = statusFailed
		op.reasonCode = reason
		op.reasonMessage = reasonMessage(reason)
		return
	}
	op.status = statusSucceeded
	if op.kind.movesMoney() {
		l.serial++
		op.bankReference = "FT" + now.In(l.loc).Format("060102") + refSerial(l.serial)
		l.booked = append(l.booked, op)
		l.executed[op.id]++
	}
}

func (l *ledger) verify(op *operation) string {
	acc := l.accounts[op.account]
	switch {
	case acc == nil:
		return ReasonAccountNotFound
	case acc.holderPID != op.holderPID:
		return ReasonHolderMismatch
	}
	return ""
}

func (l *ledger) debit(op *operation, reject string) string {
	if reject != "" {
		return reject
	}
	if reason := l.verify(op); reason != "" {
		return reason
	}
	acc := l.accounts[op.account]
	if acc.balance.LessThan(op.amount) {
		return ReasonInsufficientFunds
	}
	acc.balance = acc.balance.Sub(op.amount)
	return ""
}

func (l *ledger) refund(op *operation) string {
	d := l.ops[op.debitID]
	switch {
	case d == nil || d.kind != kindDebit:
		return ReasonDebitNotFound
	case d.status != statusSucceeded:
		return ReasonDebitNotSucceeded
	case d.currency != op.currency:
		return ReasonCurrencyMismatch
	case d.refunded.Add(op.amount).GreaterThan(d.amount):
		return ReasonRefundExceedsDebit
	}
	acc := l.accounts[d.account]
	acc.balance = acc.balance.Add(op.amount)
	d.refunded = d.refunded.Add(op.amount)
	op.account = d.account
	return ""
}

// get returns the operation of the given kind and id.
func (l *ledger) get(kind opKind, id string) (operation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	op := l.ops[id]
	if op == nil || op.kind != kind {
		return operation{}, false
	}
	return *op, true
}

// statement returns the bookings of the business day (YYYY-MM-DD), in order.
func (l *ledger) statement(day string) []operation {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []operation
	for _, op := range l.booked {
		if op.settledAt.In(l.loc).Format(time.DateOnly) == day {
			out = append(out, *op)
		}
	}
	return out
}

func (l *ledger) balance(number string) (decimal.Decimal, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acc := l.accounts[number]
	if acc == nil {
		return decimal.Zero, false
	}
	return acc.balance, true
}

func (l *ledger) executions(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.executed[id]
}

func (l *ledger) executedCopy() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.executed)
}

// refSerial writes n as refSerialLen upper-case base-36 digits, keeping the
// last ones should n ever need more (microseconds do from the year 2086).
func refSerial(n int64) string {
	s := strings.ToUpper(strconv.FormatInt(n, 36))
	if len(s) >= refSerialLen {
		return s[len(s)-refSerialLen:]
	}
	return strings.Repeat("0", refSerialLen-len(s)) + s
}
