package service

import (
	"context"
	"encoding/json"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// outcomeData is the data of a debit.* or refund.* callback.
type outcomeData struct {
	DebitID       string `json:"debit_id"`
	RefundID      string `json:"refund_id"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	BankReference string `json:"bank_reference"`
	ReasonCode    string `json:"reason_code"`
	ReasonMessage string `json:"reason_message"`
}

// outcomeOf reads a callback's outcome. A success must state the amount and
// currency; one that does not is treated as differing from what was sent.
func outcomeOf(cb Callback) (outcomeData, payment.BankOutcome, error) {
	var d outcomeData
	if err := json.Unmarshal(cb.Data, &d); err != nil {
		return d, payment.BankOutcome{}, fault.New(fault.NotFound, "the callback's data names no object")
	}
	o := payment.BankOutcome{
		Succeeded: cb.Type == "debit.succeeded" || cb.Type == "refund.succeeded",
		Currency:  d.Currency, BankReference: d.BankReference, ReasonCode: d.ReasonCode, ReasonMessage: d.ReasonMessage,
	}
	if d.Amount != "" {
		amt, err := money.Parse(d.Amount)
		if err != nil {
			return d, o, fault.New(fault.AmountDiffers, "the callback's amount %q is not a whole number of đồng", d.Amount)
		}
		o.Amount = amt
	} else {
		o.Amount = decimal.Zero
	}
	return d, o, nil
}

// DebitCallback applies a debit.succeeded or debit.failed callback. Its
// writes go with COMMIT: the dispatcher (Callbacks.Apply) only records the
// bank event's result after it, and reads nothing back.
func (s *Service) DebitCallback(ctx context.Context, tx *postgres.Tx, cb Callback) (Applied, error) {
	d, o, err := outcomeOf(cb)
	if err != nil {
		return "", err
	}
	tx.HoldWrites()
	return s.ApplyDebitOutcome(ctx, tx, cb.BankCode, d.DebitID, o)
}

// RefundCallback applies a refund.succeeded or refund.failed callback.
func (s *Service) RefundCallback(ctx context.Context, tx *postgres.Tx, cb Callback) (Applied, error) {
	d, o, err := outcomeOf(cb)
	if err != nil {
		return "", err
	}
	return s.ApplyRefundOutcome(ctx, tx, cb.BankCode, d.RefundID, o)
}
