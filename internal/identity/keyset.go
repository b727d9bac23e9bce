package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KeySet checks token signatures against an identity provider's JWKS under
// PROTOCOL.md §2's rules: RS256, ES256 or EdDSA only, by a key whose type and
// curve match the algorithm. It caches the set and refreshes it when a token
// names an unknown key, at most once per refresh interval. It is safe for
// concurrent use.
//
// Its VerifySignature has the shape of go-oidc's KeySet, so that the
// relying-party sign-in (internal/signin) verifies ID tokens with the same
// key rules as the Verifier uses for bearer tokens.
type KeySet struct {
	src *keySource
}

// KeySetConfig configures a KeySet.
type KeySetConfig struct {
	JWKSURL string // https://… or file://…; http://… only in development
	// Development allows an http:// JWKS URL.
	Development bool
	// HTTPClient fetches the JWKS; nil means a client with DefaultFetchTimeout.
	HTTPClient *http.Client
	// RefreshMinInterval is the least time between two fetches; zero means
	// DefaultRefreshMinInterval.
	RefreshMinInterval time.Duration
	// Now is the clock that ages the cached set; nil means time.Now.
	Now func() time.Time
}

// NewKeySet validates cfg and returns a KeySet. It fetches nothing: the first
// VerifySignature does.
func NewKeySet(cfg KeySetConfig) (*KeySet, error) {
	u, err := parseJWKSURL(cfg.JWKSURL, cfg.Development)
	if err != nil {
		return nil, err
	}
	if cfg.RefreshMinInterval < 0 {
		return nil, errors.New("identity: refresh interval must not be negative")
	}
	if cfg.RefreshMinInterval == 0 {
		cfg.RefreshMinInterval = DefaultRefreshMinInterval
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultFetchTimeout, CheckRedirect: refuseDowngrade(cfg.Development)}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &KeySet{src: &keySource{url: u, client: client, minInterval: cfg.RefreshMinInterval, now: now}}, nil
}

// VerifySignature checks the signature of a compact JWS and returns its
// payload, whose claims are still to be checked (ClaimRules). Errors wrap
// ErrInvalidToken or ErrKeysUnavailable, or are the context's error when ctx
// ends while the JWKS is being fetched.
func (k *KeySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	if token == "" {
		return nil, invalid("empty token")
	}
	if len(token) > maxTokenBytes {
		return nil, invalid("token too large")
	}
	// The only algorithms a token may name (PROTOCOL.md §2); go-jose refuses
	// any other before looking at a key.
	allowed := []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}
	jws, err := jose.ParseSignedCompact(token, allowed)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, invalid("algorithm not allowed")
		}
		return nil, invalid("malformed token")
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("expected exactly one signature")
	}
	header := jws.Signatures[0].Protected
	key, err := k.src.key(ctx, header.KeyID, jose.SignatureAlgorithm(header.Algorithm))
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, invalid("bad signature")
	}
	return payload, nil
}
