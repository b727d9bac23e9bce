package service

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/keycache"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Banks onboards banks and finds them. Lookups are cached for a short
// while (keycache), so that a callback or a call to a bank costs no
// database round trip; a code that names no bank is remembered as such for
// keycache.DefaultMissTTL, so a flood of callbacks for made-up banks costs
// one lookup per code per interval. Reload rereads a bank whose secret may
// have been rotated, at most once per keycache.DefaultReloadEvery.
type Banks struct {
	Store *postgres.BankStore
	// TTL is how long a lookup is trusted; zero means 30 s.
	TTL time.Duration
	Now func() time.Time

	once  sync.Once
	cache *keycache.Cache[*bank.Bank]
}

func (s *Banks) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Banks) byCode() *keycache.Cache[*bank.Bank] {
	s.once.Do(func() {
		s.cache = &keycache.Cache[*bank.Bank]{
			Lookup:   s.Store.ByCode,
			NotFound: func(err error) bool { return fault.Is(err, fault.NotFound) },
			TTL:      s.TTL,
			Max:      1000,
		}
	})
	return s.cache
}

// Forget drops what the cache holds of bank code, for a process told that
// the bank changed (postgres.ListenKeyChanges): its next callback reads it.
func (s *Banks) Forget(code string) { s.byCode().Forget(code) }

// ForgetAll empties the cache, for a process that may have missed changes.
func (s *Banks) ForgetAll() { s.byCode().ForgetAll() }

// Bank returns bank code, from the cache when it is recent; a not_found
// fault when there is no such bank.
func (s *Banks) Bank(ctx context.Context, code string) (*bank.Bank, error) {
	b, _, err := s.byCode().Get(ctx, code, s.now())
	return b, err
}

// Fresh returns bank code read from the database now, for a caller that
// has just changed it.
func (s *Banks) Fresh(ctx context.Context, code string) (*bank.Bank, error) {
	b, err := s.Store.ByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	s.byCode().Put(code, b, s.now())
	return b, nil
}

// Lookup returns bank code and whether it was read from the database just
// now (so that a caller seeing a stale secret knows whether to ask again).
func (s *Banks) Lookup(ctx context.Context, code string) (*bank.Bank, bool, error) {
	return s.byCode().Get(ctx, code, s.now())
}

// Reload rereads bank code for a caller whose signature did not verify
// under the cached secrets; reloaded is false when the bank was read less
// than keycache.DefaultReloadEvery ago, and the cached bank is returned.
// Concurrent callers share one read.
func (s *Banks) Reload(ctx context.Context, code string) (b *bank.Bank, reloaded bool, err error) {
	return s.byCode().Reload(ctx, code, s.now())
}

// Onboard creates a bank with a new secret. The base URL may hold a path
// and name a private address; it must be https unless development.
func (s *Banks) Onboard(ctx context.Context, code, name, baseURL string, development bool) (*bank.Bank, error) {
	if err := bank.CheckCode(code); err != nil {
		return nil, err
	}
	if err := bank.CheckName(name); err != nil {
		return nil, err
	}
	base, err := bank.NormalizeBaseURL(baseURL, development)
	if err != nil {
		return nil, err
	}
	now := s.now()
	b := &bank.Bank{Code: code, Name: strings.TrimSpace(name), BaseURL: base, Secret: bank.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := s.Store.Create(ctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// RotateSecret gives bank code a new secret; the old one keeps verifying
// its callbacks for bank.RotationGrace. It returns the bank as it is now.
func (s *Banks) RotateSecret(ctx context.Context, code string) (*bank.Bank, error) {
	grace := s.now().Add(bank.RotationGrace)
	if err := s.Store.RotateSecret(ctx, code, bank.NewSecret(), grace); err != nil {
		return nil, fmt.Errorf("rotate secret of bank %s: %w", code, err)
	}
	return s.Fresh(ctx, code)
}

// List returns every bank by code.
func (s *Banks) List(ctx context.Context) ([]*bank.Bank, error) {
	return s.Store.List(ctx)
}
