package service

import (
	"context"
	"time"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
)

// BankFinder finds an onboarded bank (Banks does, cached).
type BankFinder interface {
	Bank(ctx context.Context, code string) (*bank.Bank, error)
}

// DefaultVerificationTimeout is how long a link waits for its bank's answer
// before it is rejected with bank_timeout (PROTOCOL.md §6).
const DefaultVerificationTimeout = 24 * time.Hour

// Citizens carries out what citizens ask about themselves and their linked
// accounts, and applies what banks answer about those accounts. A citizen
// is known by the blind index of their pid; the clear pid, account numbers
// and holder names are sealed at rest and opened only to be sent to a bank.
type Citizens struct {
	DB  *postgres.DB
	PII *pii.Protector
	// Names seals account holders' names, bound to their account's id.
	Names *keyring.Sealer
	Banks BankFinder
	// Enqueue inserts a job in tx, to run at runAt (zero: at once).
	Enqueue jobargs.Enqueue
	// VerificationTimeout: zero means DefaultVerificationTimeout.
	VerificationTimeout time.Duration
	Now                 func() time.Time
}

func (s *Citizens) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Citizens) verificationTimeout() time.Duration {
	if s.VerificationTimeout > 0 {
		return s.VerificationTimeout
	}
	return DefaultVerificationTimeout
}

// PIDIndex returns the blind index a citizen is known by. pid must be a
// validated pid (a verified token's).
func (s *Citizens) PIDIndex(pid string) []byte { return s.PII.Index(pii.KindPID, pid) }

// Ensure returns the id of the citizen with this pid, creating them on
// first sight. Only mutations call it: reading writes nothing.
func (s *Citizens) Ensure(ctx context.Context, pid string) (string, error) {
	newID, idx := id.New(id.Citizen), s.PIDIndex(pid)
	return postgres.EnsureCitizen(ctx, s.DB, newID, postgres.SealedPID{
		Index: idx, Sealed: s.PII.Seal(pii.KindPID, pid, postgres.CitizenPIDBinding(newID, idx)),
	})
}

// Find returns the id of the citizen with this pid index, or "" when the
// gateway has never seen them.
func (s *Citizens) Find(ctx context.Context, pidIndex []byte) (string, error) {
	return postgres.CitizenByIndex(ctx, s.DB, pidIndex)
}

func (s *Citizens) enqueue(ctx context.Context, tx *postgres.Tx, j jobargs.Job, at time.Time) error {
	if s.Enqueue == nil {
		return nil
	}
	return s.Enqueue(ctx, tx, j, at)
}
