package jobs

import (
	"context"
	"errors"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
)

// BankClients is the clearing workers' Banks, on the gateway's bank clients.
type BankClients struct{ *bankclient.Clients }

var _ Banks = BankClients{}

// Debit implements Banks.
func (b BankClients) Debit(ctx context.Context, bankCode string, o DebitOrder) BankAnswer {
	amount, err := money.Parse(o.Amount)
	if err != nil {
		return BankAnswer{Kind: AnswerUnknown}
	}
	return toBankAnswer(b.Clients.Debit(ctx, bankCode, bankclient.Debit{
		DebitID: o.DebitID, AccountNumber: o.AccountNumber, HolderPID: o.HolderPID, Amount: amount, Currency: o.Currency,
		Description: o.Description, DescriptionASCII: o.DescriptionASCII, Reference: o.Reference,
	}))
}

// GetDebit implements Banks.
func (b BankClients) GetDebit(ctx context.Context, bankCode, debitID string) BankAnswer {
	return toBankAnswer(b.Clients.GetDebit(ctx, bankCode, debitID))
}

// Refund implements Banks.
func (b BankClients) Refund(ctx context.Context, bankCode string, o RefundOrder) BankAnswer {
	amount, err := money.Parse(o.Amount)
	if err != nil {
		return BankAnswer{Kind: AnswerUnknown}
	}
	return toBankAnswer(b.Clients.Refund(ctx, bankCode, bankclient.Refund{
		RefundID: o.RefundID, DebitID: o.DebitID, Amount: amount, Currency: o.Currency,
	}))
}

// GetRefund implements Banks.
func (b BankClients) GetRefund(ctx context.Context, bankCode, refundID string) BankAnswer {
	return toBankAnswer(b.Clients.GetRefund(ctx, bankCode, refundID))
}

// toBankAnswer converts a client's Result: only the bank's final word is
// final, and a 404 to a status query is "never received", never failed.
func toBankAnswer(r bankclient.Result) BankAnswer {
	switch {
	case r.Outcome == bankclient.Succeeded || r.Outcome == bankclient.Failed:
		return BankAnswer{Kind: AnswerFinal, Outcome: payment.BankOutcome{
			Succeeded: r.Outcome == bankclient.Succeeded, Amount: r.Amount, Currency: r.Currency,
			BankReference: r.BankReference, ReasonCode: r.ReasonCode, ReasonMessage: r.ReasonMessage,
		}}
	case r.Outcome == bankclient.Pending:
		return BankAnswer{Kind: AnswerPending}
	case r.NotFound:
		return BankAnswer{Kind: AnswerNotFound}
	case errors.Is(r.Err, bankclient.ErrBusy) || errors.Is(r.Err, bankclient.ErrCircuitOpen):
		return BankAnswer{Kind: AnswerNotSent}
	}
	return BankAnswer{Kind: AnswerUnknown}
}
