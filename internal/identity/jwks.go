package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

const (
	// maxJWKSBytes bounds what a JWKS fetch reads.
	maxJWKSBytes = 1 << 20
	// minRSABits is the smallest RSA modulus accepted for RS256.
	minRSABits = 2048
	// maxKeyAge is how long a key set is trusted before the next Verify tries
	// to refresh it, so that keys the provider withdraws stop verifying. A
	// failed refresh keeps the old set.
	maxKeyAge = time.Hour
)

// errRefreshTooSoon is returned inside keySource when the last fetch attempt
// is more recent than the minimum interval.
var errRefreshTooSoon = errors.New("identity: jwks refreshed too recently")

// verificationKey is one key of the provider's set, with the only algorithm
// it may verify. alg is empty when the key is present but unusable.
type verificationKey struct {
	kid    string
	alg    jose.SignatureAlgorithm
	key    any
	reason string // why alg is empty
}

// keySource caches the provider's JWKS and refreshes it on demand, at most
// once per minInterval; concurrent refreshes share one fetch.
type keySource struct {
	url         *url.URL
	client      *http.Client
	minInterval time.Duration
	now         func() time.Time

	group singleflight.Group

	mu          sync.Mutex
	keys        []verificationKey
	loaded      bool      // a fetch has succeeded at least once
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch attempt, successful or not
}

// lookupResult says what lookup found.
type lookupResult int

const (
	keyFound     lookupResult = iota
	keyUnknown                // no key with this kid (or, without kid, none of this type)
	keyMismatch               // a key exists but may not verify this alg
	keyAmbiguous              // no kid and several keys of this type
)

// key returns the public key that must verify a token with this kid and alg,
// refreshing the set when the kid is unknown or the set is stale.
func (s *keySource) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (any, error) {
	s.mu.Lock()
	loaded, stale := s.loaded, s.loaded && s.now().Sub(s.fetchedAt) >= maxKeyAge
	s.mu.Unlock()

	if !loaded || stale {
		if err := s.refresh(ctx); err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("identity: fetch jwks: %w", ctx.Err())
		}
	}
	k, res, reason, loaded := s.lookup(kid, alg)
	if res == keyUnknown && loaded {
		// A new key the provider has just started using; at most one fetch
		// per interval whatever the number of unknown kids.
		if err := s.refresh(ctx); err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("identity: fetch jwks: %w", ctx.Err())
		}
		k, res, reason, loaded = s.lookup(kid, alg)
	}
	if !loaded {
		return nil, fmt.Errorf("%w: no key set loaded from %s", ErrKeysUnavailable, s.url.Redacted())
	}
	switch res {
	case keyFound:
		return k, nil
	case keyMismatch:
		return nil, invalid("key does not match algorithm: " + reason)
	case keyAmbiguous:
		return nil, invalid("token has no kid and several keys could verify it")
	default:
		return nil, invalid("unknown key id")
	}
}

// lookup searches the cached set.
func (s *keySource) lookup(kid string, alg jose.SignatureAlgorithm) (any, lookupResult, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kid == "" {
		var found []verificationKey
		for _, k := range s.keys {
			if k.alg == alg {
				found = append(found, k)
			}
		}
		switch len(found) {
		case 0:
			return nil, keyUnknown, "", s.loaded
		case 1:
			return found[0].key, keyFound, "", s.loaded
		default:
			return nil, keyAmbiguous, "", s.loaded
		}
	}
	res, reason := keyUnknown, ""
	for _, k := range s.keys {
		if k.kid != kid {
			continue
		}
		if k.alg == alg {
			return k.key, keyFound, "", s.loaded
		}
		res = keyMismatch
		if k.reason != "" {
			reason = k.reason
		} else {
			reason = "key is for " + string(k.alg) + ", token says " + string(alg)
		}
	}
	return nil, res, reason, s.loaded
}

// refresh fetches the set unless the last attempt was less than minInterval
// ago. Callers that arrive during a fetch wait for it rather than start their
// own; a caller whose ctx ends stops waiting but the fetch runs on.
func (s *keySource) refresh(ctx context.Context) error {
	ch := s.group.DoChan("jwks", func() (any, error) {
		s.mu.Lock()
		now := s.now()
		if !s.attemptedAt.IsZero() && now.Sub(s.attemptedAt) < s.minInterval {
			s.mu.Unlock()
			return nil, errRefreshTooSoon
		}
		s.attemptedAt = now
		s.mu.Unlock()

		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultFetchTimeout)
		defer cancel()
		keys, err := s.fetch(fctx)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.keys, s.loaded, s.fetchedAt = keys, true, now
		s.mu.Unlock()
		return nil, nil
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch reads and parses the JWKS.
func (s *keySource) fetch(ctx context.Context) ([]verificationKey, error) {
	var (
		data []byte
		err  error
	)
	if s.url.Scheme == "file" {
		data, err = readFileLimited(s.url.Path)
	} else {
		data, err = s.get(ctx)
	}
	if err != nil {
		return nil, err
	}
	return parseJWKS(data)
}

// get fetches an http(s) JWKS.
func (s *keySource) get(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("identity: build jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("identity: fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSBytes))
		return nil, fmt.Errorf("identity: fetch jwks: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("identity: read jwks: %w", err)
	}
	if len(data) > maxJWKSBytes {
		return nil, errors.New("identity: jwks larger than 1 MiB")
	}
	return data, nil
}

// readFileLimited reads a file:// JWKS.
func readFileLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: open jwks file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("identity: read jwks file: %w", err)
	}
	if len(data) > maxJWKSBytes {
		return nil, errors.New("identity: jwks file larger than 1 MiB")
	}
	return data, nil
}

// parseJWKS parses a key set. Keys of types it cannot use are kept as
// unusable (so that a token naming them is refused without a refetch); keys
// it cannot parse at all are skipped, as RFC 7517 §5 asks. A set with no
// usable key is an error, so that a bad fetch does not replace a good set.
func parseJWKS(data []byte) ([]verificationKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("identity: parse jwks: %w", err)
	}
	var (
		keys   []verificationKey
		usable int
	)
	for _, raw := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			continue
		}
		k := classify(jwk)
		if k.alg != "" {
			usable++
		}
		keys = append(keys, k)
	}
	if usable == 0 {
		return nil, errors.New("identity: jwks has no usable signing key")
	}
	return keys, nil
}

// classify decides which single algorithm a JWK may verify: RS256 for RSA of
// at least 2048 bits, ES256 for EC P-256, EdDSA for OKP Ed25519. Anything
// else (symmetric keys, other curves, private keys, encryption keys, a
// declared "alg" that disagrees) verifies nothing.
func classify(jwk jose.JSONWebKey) verificationKey {
	k := verificationKey{kid: jwk.KeyID}
	unusable := func(reason string) verificationKey {
		k.reason = reason
		return k
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return unusable("key use is not sig")
	}
	if !jwk.IsPublic() {
		return unusable("private key published in jwks")
	}
	var alg jose.SignatureAlgorithm
	switch pub := jwk.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return unusable("RSA key shorter than 2048 bits")
		}
		alg = jose.RS256
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return unusable("EC key not on P-256")
		}
		alg = jose.ES256
	case ed25519.PublicKey:
		alg = jose.EdDSA
	default:
		return unusable("key type not allowed")
	}
	if jwk.Algorithm != "" && jwk.Algorithm != string(alg) {
		return unusable("key declares alg " + jwk.Algorithm)
	}
	k.alg, k.key = alg, jwk.Key
	return k
}
