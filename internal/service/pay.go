package service

import (
	"context"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Payer is the citizen paying: their id, the blind index of their pid and
// the name in their identity token, which their receipt shows (kept sealed
// on the attempt until the receipt is issued).
type Payer struct {
	CitizenID string
	PIDIndex  []byte
	Name      string
}

// BankOpen reports whether a bank's circuit breaker is open.
type BankOpen func(bankCode string) bool

// Pay starts paying request reqID from the payer's account (their default
// when accountID is empty): the attempt and the job that sends its debit are
// created in tx, and the request becomes processing. PostgreSQL makes a
// second live attempt impossible. The request is checked first (404, 409),
// then the account (422), then the bank's circuit (503, nothing made).
func (s *Service) Pay(ctx context.Context, tx *postgres.Tx, p Payer, reqID, accountID string, open BankOpen) (*payment.Request, error) {
	now := s.now()
	var attempt *payment.Attempt
	r, err := s.UpdatePaymentRequest(ctx, tx, payment.CitizenScope(p.PIDIndex), reqID, func(r *payment.Request) (string, error) {
		if err := r.CanPay(now); err != nil {
			return "", err
		}
		acc, err := postgres.AccountForPayment(ctx, tx, p.CitizenID, accountID)
		switch {
		case err != nil:
			return "", err
		case acc == nil && accountID == "":
			return "", fault.New(fault.AccountRequired, "choose an account_id: you have no default account")
		case acc == nil:
			return "", fault.Field(fault.AccountNotActive, "account_id", "no such account of yours")
		}
		if err := toAccount(acc).CanPay(); err != nil {
			return "", err
		}
		if open != nil && open(acc.BankCode) {
			return "", fault.New(fault.BankUnavailable, "bank %s is not answering just now; try another account or retry later", acc.BankCode)
		}
		if err := r.StartPayment(now); err != nil {
			return "", err
		}
		attempt = &payment.Attempt{ID: id.New(id.PaymentAttempt), RequestID: r.ID, AccountID: acc.ID, BankCode: acc.BankCode,
			Amount: r.Amount, Currency: r.Currency, Status: payment.OutcomePending, CreatedAt: now, UpdatedAt: now}
		return "", nil
	})
	if err != nil {
		return nil, err
	}
	if err := postgres.InsertAttempt(ctx, tx, attempt); err != nil {
		return nil, err
	}
	if s.Receipts != nil && strings.TrimSpace(p.Name) != "" {
		if err := postgres.SetAttemptPayerName(ctx, tx, attempt.ID, s.Receipts.sealPayerName(attempt.ID, p.Name)); err != nil {
			return nil, err
		}
	}
	if err := s.enqueue(ctx, tx, jobargs.SendDebit{AttemptID: attempt.ID}); err != nil {
		return nil, err
	}
	return r, nil
}

// toAccount is the account domain's view of the account a payment reads.
func toAccount(a *postgres.PayAccount) *account.Account {
	return &account.Account{ID: a.ID, BankCode: a.BankCode, Status: account.Status(a.Status)}
}

func (s *Service) enqueue(ctx context.Context, tx *postgres.Tx, j jobargs.Job) error {
	if s.Enqueue == nil {
		return nil
	}
	return s.Enqueue(ctx, tx, j, time.Time{})
}
