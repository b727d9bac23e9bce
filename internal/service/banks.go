package service

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Banks onboards banks and finds them. Lookups are cached for a short
// while, so that a callback or a call to a bank costs no database round
// trip; Fresh rereads a bank whose secret may have been rotated.
type Banks struct {
	Store *postgres.BankStore
	// TTL is how long a lookup is trusted; zero means 30 s.
	TTL time.Duration
	Now func() time.Time

	mu     sync.RWMutex
	byCode map[string]cachedBank
}

type cachedBank struct {
	b  *bank.Bank
	at time.Time
}

func (s *Banks) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Bank returns bank code, from the cache when it is recent; a not_found
// fault when there is no such bank.
func (s *Banks) Bank(ctx context.Context, code string) (*bank.Bank, error) {
	b, _, err := s.lookup(ctx, code, false)
	return b, err
}

// Fresh returns bank code read from the database now.
func (s *Banks) Fresh(ctx context.Context, code string) (*bank.Bank, error) {
	b, _, err := s.lookup(ctx, code, true)
	return b, err
}

// Lookup returns bank code and whether it was read from the database just
// now (so that a caller seeing a stale secret knows whether to ask again).
func (s *Banks) Lookup(ctx context.Context, code string) (*bank.Bank, bool, error) {
	return s.lookup(ctx, code, false)
}

func (s *Banks) lookup(ctx context.Context, code string, reload bool) (*bank.Bank, bool, error) {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	if !reload {
		s.mu.RLock()
		e, ok := s.byCode[code]
		s.mu.RUnlock()
		if ok && time.Since(e.at) < ttl {
			return e.b, false, nil
		}
	}
	b, err := s.Store.ByCode(ctx, code)
	if err != nil {
		return nil, true, err
	}
	s.mu.Lock()
	if s.byCode == nil || len(s.byCode) > 1000 {
		s.byCode = map[string]cachedBank{}
	}
	s.byCode[code] = cachedBank{b: b, at: time.Now()}
	s.mu.Unlock()
	return b, true, nil
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
