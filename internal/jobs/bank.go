package jobs

import (
	"context"
	"time"

	"github.com/citizenpay/gateway/internal/payment"
)

// AnswerKind says what a bank's answer means for the gateway.
type AnswerKind int

// Kinds of answers (PROTOCOL.md §7).
const (
	// AnswerFinal: 200 with succeeded or failed.
	AnswerFinal AnswerKind = iota + 1
	// AnswerPending: 202, or a status of pending; the outcome comes later.
	AnswerPending
	// AnswerUnknown: anything else — a timeout, a 5xx, an unreadable body.
	// Never taken as failed.
	AnswerUnknown
	// AnswerNotFound: a status query's 404, "never received": send again
	// with the same key.
	AnswerNotFound
	// AnswerNotSent: the request never left the gateway (the bank's circuit
	// is open, or it has as many calls in flight as it may): try again soon.
	AnswerNotSent
)

// BankAnswer is a bank's answer to a send or a status query.
type BankAnswer struct {
	Kind    AnswerKind
	Outcome payment.BankOutcome // when Final
}

// DebitOrder is a debit as sent to a bank.
type DebitOrder struct {
	DebitID, AccountNumber, HolderPID, Amount, Currency, Description, DescriptionASCII, Reference string
}

// RefundOrder is a refund as sent to a bank.
type RefundOrder struct {
	RefundID, DebitID, Amount, Currency string
}

// Banks is what the senders need of the bank clients.
type Banks interface {
	Debit(ctx context.Context, bankCode string, o DebitOrder) BankAnswer
	GetDebit(ctx context.Context, bankCode, debitID string) BankAnswer
	Refund(ctx context.Context, bankCode string, o RefundOrder) BankAnswer
	GetRefund(ctx context.Context, bankCode, refundID string) BankAnswer
	// Open reports whether the bank's circuit breaker is open.
	Open(bankCode string) bool
}

// StatusSchedule is when, after a send, the gateway asks a bank about an
// outcome it has not heard (PROTOCOL.md §7): first after callbackTimeout, at
// most three times in the first two hours, then hourly until 24 h. scale
// shrinks every step but the first (tests run the day in seconds).
func StatusSchedule(callbackTimeout time.Duration, scale float64) []time.Duration {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	out := []time.Duration{callbackTimeout}
	for _, d := range []time.Duration{time.Hour, 2 * time.Hour} {
		if s(d) > callbackTimeout {
			out = append(out, s(d))
		}
	}
	for h := 3; h <= 24; h++ {
		if d := s(time.Duration(h) * time.Hour); d > out[len(out)-1] {
			out = append(out, d)
		}
	}
	return out
}
