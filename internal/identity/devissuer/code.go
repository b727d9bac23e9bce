package devissuer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// Reasons a code cannot be redeemed. The token endpoint answers invalid_grant
// for each; they differ only for tests and for the description.
var (
	errCodeUnknown = errors.New("code unknown")
	errCodeUsed    = errors.New("code already used")
	errCodeExpired = errors.New("code expired")
	errCodesFull   = errors.New("too many codes outstanding")
)

// grant is what a code stands for: who signed in, for which client, redirect
// URI, PKCE challenge and nonce.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string // base64url(SHA-256(verifier))
	nonce       string
	citizen     Citizen
	authTime    time.Time
}

// codeEntry is a grant with its life.
type codeEntry struct {
	grant     grant
	expiresAt time.Time
	used      bool
}

// codeStore holds authorization codes, single use and short-lived. Codes are
// kept by their SHA-256 digest; a spent code stays, marked used, until it
// expires, so that its replay is told apart from a typo.
type codeStore struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	codes map[[sha256.Size]byte]*codeEntry
}

func newCodeStore(ttl time.Duration, max int) *codeStore {
	return &codeStore{ttl: ttl, max: max, codes: make(map[[sha256.Size]byte]*codeEntry)}
}

// issue stores g and returns a new code for it: 256 random bits, base64url.
func (s *codeStore) issue(g grant, now time.Time) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	code := base64.RawURLEncoding.EncodeToString(raw)

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.codes) >= s.max {
		s.sweepLocked(now)
		if len(s.codes) >= s.max {
			return "", errCodesFull
		}
	}
	s.codes[sha256.Sum256([]byte(code))] = &codeEntry{grant: g, expiresAt: now.Add(s.ttl)}
	return code, nil
}

// redeem spends code and returns its grant. A code is spent by its first
// presentation: a second one gets errCodeUsed whatever the first's outcome.
func (s *codeStore) redeem(code string, now time.Time) (grant, error) {
	key := sha256.Sum256([]byte(code))
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[key]
	switch {
	case !ok:
		return grant{}, errCodeUnknown
	case !now.Before(e.expiresAt):
		delete(s.codes, key)
		return grant{}, errCodeExpired
	case e.used:
		return grant{}, errCodeUsed
	}
	e.used = true
	return e.grant, nil
}

// sweepLocked forgets expired codes; s.mu is held.
func (s *codeStore) sweepLocked(now time.Time) {
	for k, e := range s.codes {
		if !now.Before(e.expiresAt) {
			delete(s.codes, k)
		}
	}
}
