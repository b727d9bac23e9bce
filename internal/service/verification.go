package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
)

// VerificationOrder is what a bank is sent to verify an account. It holds
// personal data in clear, in memory only: its String and LogValue show ids
// alone.
type VerificationOrder struct {
	AccountID      string
	BankCode       string
	VerificationID string
	AccountNumber  string
	HolderPID      string
	HolderName     string
	SentAt         time.Time // when it was first sent
}

// String shows the order's ids, never its personal data.
func (o *VerificationOrder) String() string {
	return "verification " + o.VerificationID + " of " + o.AccountID + " at " + o.BankCode
}

// LogValue shows the order's ids, never its personal data.
func (o *VerificationOrder) LogValue() slog.Value { return slog.StringValue(o.String()) }

// NextVerification returns the order to send for account accID; nil when
// the account no longer awaits its bank (answered, unlinked, timed out) or
// does not exist. Call MarkSent just before sending it.
func (s *Citizens) NextVerification(ctx context.Context, accID string) (*VerificationOrder, error) {
	d, err := postgres.GetVerificationDetails(ctx, s.DB, accID)
	if err != nil || d == nil || d.Account.Status != account.StatusPending {
		return nil, err
	}
	a := d.Account
	o := &VerificationOrder{AccountID: a.ID, BankCode: a.BankCode, VerificationID: a.VerificationID}
	if o.AccountNumber, err = s.PII.Open(pii.KindAccount, d.AccountSealed, d.AccountBinding); err != nil {
		return nil, fmt.Errorf("open account number of %s: %w", a.ID, err)
	}
	if o.HolderPID, err = s.PII.Open(pii.KindPID, d.HolderPIDSealed, d.HolderPIDBinding); err != nil {
		return nil, fmt.Errorf("open holder of %s: %w", a.ID, err)
	}
	name, err := s.Names.Open(d.HolderNameSealed, []byte(a.ID))
	if err != nil {
		return nil, fmt.Errorf("open holder name of %s: %w", a.ID, err)
	}
	o.HolderName = string(name)
	if a.VerificationSentAt != nil {
		o.SentAt = *a.VerificationSentAt
	}
	return o, nil
}

// MarkSent records that o is being sent, before the send: a callback for a
// verification never sent is refused, and a crash after the send leaves the
// mark. It sets o.SentAt to when o was first sent.
func (s *Citizens) MarkSent(ctx context.Context, o *VerificationOrder) error {
	at, err := postgres.MarkVerificationSent(ctx, s.DB, o.AccountID, s.now())
	if err != nil {
		return err
	}
	o.SentAt = at
	return nil
}

// ApplyVerification applies bank bankCode's outcome o of verification vid
// in tx, exactly once: pending → active (the default if the citizen has
// none) or rejected with the bank's reason code. The same outcome again is
// a duplicate; a contradiction is outcome_conflict; a verification never
// sent to this bank is not_found. If the number became active for another
// citizen meanwhile, the account is rejected with account_taken.
func (s *Citizens) ApplyVerification(ctx context.Context, tx *postgres.Tx, bankCode, vid string, o account.Outcome, reasonCode string) (Applied, error) {
	peek, err := postgres.AccountByVerification(ctx, tx, vid)
	if err != nil {
		return "", err
	}
	if peek == nil || peek.BankCode != bankCode || peek.VerificationSentAt == nil {
		return "", fault.New(fault.NotFound, "no account verification %s was sent to bank %s", vid, bankCode)
	}
	// The citizen first, then the account: the order every account change takes.
	if err := postgres.LockCitizen(ctx, tx, peek.CitizenID); err != nil {
		return "", err
	}
	a, err := postgres.GetAccount(ctx, tx, peek.ID, true)
	if err != nil {
		return "", err
	}
	hasDefault, err := postgres.HasDefaultAccount(ctx, tx, a.CitizenID)
	if err != nil {
		return "", err
	}
	before, now := *a, s.now()
	switch a.Settle(o, reasonCode, hasDefault, now) {
	case account.Duplicate:
		return ResultDuplicate, nil
	case account.Conflict:
		was := string(a.VerificationOutcome)
		if was == "" {
			was = string(a.Status) + " (" + a.RejectionReason + ")"
		}
		return "", fault.New(fault.OutcomeConflict, "verification %s was already settled as %s; the bank now says %s", vid, was, o)
	}
	err = tx.Savepoint(ctx, func(sp *postgres.Tx) error { return postgres.SaveAccount(ctx, sp, a) })
	if fault.Is(err, fault.AccountTaken) {
		*a = before
		if err := a.Taken(now); err != nil {
			return "", err
		}
		return ResultApplied, postgres.SaveAccount(ctx, tx, a)
	}
	if err != nil {
		return "", err
	}
	return ResultApplied, nil
}

// ApplyVerificationAnswer applies a bank's final answer to a verification
// request in a transaction of its own. A contradiction, or an answer about a
// verification the gateway cannot place, is recorded as an incident.
func (s *Citizens) ApplyVerificationAnswer(ctx context.Context, bankCode, vid string, o account.Outcome, reasonCode string) error {
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		_, err := s.ApplyVerification(ctx, tx, bankCode, vid, o, reasonCode)
		return err
	})
	f, ok := fault.As(err)
	if !ok {
		return err
	}
	kind := incident.KindOutcomeConflict
	if f.Code == fault.NotFound {
		kind = incident.KindUnknownObject
	}
	return postgres.InsertIncident(ctx, s.DB, kind, bankCode, vid, f.Message,
		map[string]any{"source": "bank answer", "outcome": string(o), "reason_code": reasonCode})
}

// ExpireVerification rejects account accID with bank_timeout if it still
// awaits its bank. It runs as a job scheduled when the link was made.
func (s *Citizens) ExpireVerification(ctx context.Context, accID string) error {
	return s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		peek, err := postgres.GetAccount(ctx, tx, accID, false)
		if err != nil || peek == nil || peek.Status != account.StatusPending {
			return err
		}
		if err := postgres.LockCitizen(ctx, tx, peek.CitizenID); err != nil {
			return err
		}
		a, err := postgres.GetAccount(ctx, tx, accID, true)
		if err != nil || a.Status != account.StatusPending {
			return err
		}
		if err := a.Reject(account.ReasonBankTimeout, s.now()); err != nil {
			return err
		}
		return postgres.SaveAccount(ctx, tx, a)
	})
}

// verificationData is the data of an account_verification.* callback.
type verificationData struct {
	VerificationID string `json:"verification_id"`
	ReasonCode     string `json:"reason_code"`
}

// VerificationCallback handles account_verification.succeeded and
// account_verification.failed callbacks.
func (s *Citizens) VerificationCallback(ctx context.Context, tx *postgres.Tx, cb Callback) (Applied, error) {
	var d verificationData
	if err := json.Unmarshal(cb.Data, &d); err != nil {
		return "", fault.Field(fault.ValidationFailed, "data", "data is not the expected object")
	}
	o := account.OutcomeSucceeded
	if strings.HasSuffix(cb.Type, ".failed") {
		o = account.OutcomeFailed
	}
	return s.ApplyVerification(ctx, tx, cb.BankCode, d.VerificationID, o, d.ReasonCode)
}
