package service

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
)

// LinkInput is a checked request to link an account: a known bank and an
// account number normalised by pii.NormalizeAccount.
type LinkInput struct {
	BankCode   string
	Number     string
	HolderName string // from the citizen's token, sent to the bank with the pid
}

// Link starts linking an account for citizenID in tx: the account is
// pending_verification, and the jobs that ask its bank and that give up
// after the verification timeout are created with it. Linking a number the
// citizen already has pending or active returns that account. A citizen
// whose links the banks kept refusing gets rate_limited (LinkPause); the
// number active for another citizen is account_taken; a citizen with
// MaxLive accounts pending or active gets account_limit.
func (s *Citizens) Link(ctx context.Context, tx *postgres.Tx, citizenID string, in LinkInput) (*account.Account, error) {
	if err := postgres.LockCitizen(ctx, tx, citizenID); err != nil {
		return nil, err
	}
	idx := s.PII.Index(pii.KindAccount, in.Number)
	if a, err := postgres.LiveAccountOf(ctx, tx, citizenID, in.BankCode, idx); err != nil || a != nil {
		return a, err
	}
	wait, err := s.linkPause(ctx, tx, citizenID)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, LinkPaused(wait)
	}
	taken, err := postgres.ActiveForAnother(ctx, tx, citizenID, in.BankCode, idx)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, fault.New(fault.AccountTaken, "this account number at %s is already linked to another citizen", in.BankCode)
	}
	n, err := postgres.CountLiveAccounts(ctx, tx, citizenID)
	if err != nil {
		return nil, err
	}
	if n >= account.MaxLive {
		return nil, fault.New(fault.AccountLimit, "you have %d accounts active or awaiting their bank: unlink one first", n)
	}
	now := s.now()
	a := &account.Account{
		ID: id.New(id.Account), CitizenID: citizenID, BankCode: in.BankCode, NumberMasked: pii.MaskAccount(in.Number),
		Status: account.StatusPending, VerificationID: id.New(id.AccountVerification), CreatedAt: now, UpdatedAt: now,
	}
	sealed := postgres.SealedAccount{
		Index: idx, Sealed: s.PII.Seal(pii.KindAccount, in.Number, postgres.AccountNumberBinding(a.ID, idx)),
		HolderNameSealed: s.Names.Seal([]byte(in.HolderName), []byte(a.ID)),
	}
	if err := postgres.InsertAccount(ctx, tx, a, sealed); err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, tx, jobargs.VerifyAccount{AccountID: a.ID}, time.Time{}); err != nil {
		return nil, fmt.Errorf("enqueue verification of %s: %w", a.ID, err)
	}
	if err := s.enqueue(ctx, tx, jobargs.ExpireVerification{AccountID: a.ID}, now.Add(s.verificationTimeout())); err != nil {
		return nil, fmt.Errorf("schedule verification timeout of %s: %w", a.ID, err)
	}
	return a, nil
}

// LinkPause returns how long citizenID must wait before linking again
// because their banks refused too many of their links lately
// (account.LinkPause); 0 when they may link now.
func (s *Citizens) LinkPause(ctx context.Context, citizenID string) (time.Duration, error) {
	return s.linkPause(ctx, s.DB, citizenID)
}

func (s *Citizens) linkPause(ctx context.Context, q postgres.Querier, citizenID string) (time.Duration, error) {
	now := s.now()
	refused, err := postgres.RecentBankRefusals(ctx, q, citizenID, now.Add(-account.BankRefusalWindow), account.MaxBankRefusals)
	if err != nil {
		return 0, err
	}
	return account.LinkPause(refused, now), nil
}

// LinkPaused is the refusal of a link during a pause of wait.
func LinkPaused(wait time.Duration) error {
	return fault.New(fault.RateLimited, "the banks refused %d of your links within %d minutes: you may link again in %d s",
		account.MaxBankRefusals, int(account.BankRefusalWindow.Minutes()), int(math.Ceil(wait.Seconds())))
}

// GetAccount returns the citizen's account accID, or not_found.
func (s *Citizens) GetAccount(ctx context.Context, citizenID, accID string) (*account.Account, error) {
	if citizenID == "" || !id.HasPrefix(accID, id.Account) {
		return nil, fault.New(fault.NotFound, "no account %s", accID)
	}
	return postgres.GetCitizenAccount(ctx, s.DB, citizenID, accID, false)
}

// ListAccounts lists the citizen's accounts, newest first, and says whether
// more follow. A citizen never seen (citizenID "") has none.
func (s *Citizens) ListAccounts(ctx context.Context, f account.Filter) ([]*account.Account, bool, error) {
	if f.CitizenID == "" {
		return nil, false, nil
	}
	return postgres.ListAccounts(ctx, s.DB, f)
}

// change locks the citizen, then their account accID, lets change decide,
// and saves the account if it changed.
func (s *Citizens) change(ctx context.Context, tx *postgres.Tx, citizenID, accID string,
	change func(a *account.Account) error) (*account.Account, error) {
	if !id.HasPrefix(accID, id.Account) {
		return nil, fault.New(fault.NotFound, "no account %s", accID)
	}
	if err := postgres.LockCitizen(ctx, tx, citizenID); err != nil {
		return nil, err
	}
	a, err := postgres.GetCitizenAccount(ctx, tx, citizenID, accID, true)
	if err != nil {
		return nil, err
	}
	before := *a
	if err := change(a); err != nil {
		return nil, err
	}
	if *a == before {
		return a, nil
	}
	if err := postgres.SaveAccount(ctx, tx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Unlink ends the citizen's account accID. An account already unlinked is
// returned as it is; one with a debit awaiting its bank is account_busy
// (the pay flow locks the account row when it starts a debit, so the two
// cannot cross).
func (s *Citizens) Unlink(ctx context.Context, tx *postgres.Tx, citizenID, accID string) (*account.Account, error) {
	now := s.now()
	return s.change(ctx, tx, citizenID, accID, func(a *account.Account) error {
		if a.Status == account.StatusUnlinked {
			return nil
		}
		busy, err := postgres.HasPendingDebit(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if busy {
			return fault.New(fault.AccountBusy, "a payment from account %s is still awaiting its bank", a.ID)
		}
		return a.Unlink(now)
	})
}

// SetDefault makes the citizen's active account accID their default; the
// previous default stops being one.
func (s *Citizens) SetDefault(ctx context.Context, tx *postgres.Tx, citizenID, accID string) (*account.Account, error) {
	now := s.now()
	return s.change(ctx, tx, citizenID, accID, func(a *account.Account) error {
		if err := a.MakeDefault(now); err != nil {
			return err
		}
		return postgres.ClearDefaultAccount(ctx, tx, citizenID, a.ID, now)
	})
}
