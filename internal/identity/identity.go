// Package identity verifies citizens' bearer tokens (PROTOCOL.md §2). The
// gateway is a resource server: it never issues tokens, it checks that a token
// was signed by a key in the identity provider's JWKS, that it was meant for
// the gateway and is current, and that the identity it carries is well formed.
package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Errors returned by Verifier.Verify. They are wrapped with a reason meant for
// logs; match them with errors.Is. The reason never carries personal data.
var (
	// ErrInvalidToken means the token must be refused: malformed, signed with a
	// disallowed algorithm or an unknown key, expired, meant for someone else,
	// or missing a claim (401 invalid_token).
	ErrInvalidToken = errors.New("identity: invalid token")
	// ErrInvalidIdentity means the token is genuine and current but its pid
	// breaks the CCCD rules or disagrees with its birthdate (401 invalid_identity).
	ErrInvalidIdentity = errors.New("identity: invalid identity")
	// ErrKeysUnavailable means no key set could be loaded from IDP_JWKS_URL, so
	// no token can be judged either way (503).
	ErrKeysUnavailable = errors.New("identity: signing keys unavailable")
)

// Defaults applied by NewVerifier to zero Config fields.
const (
	DefaultLeeway             = 60 * time.Second
	DefaultRefreshMinInterval = 30 * time.Second
	// DefaultFetchTimeout bounds one JWKS fetch, whoever asked for it.
	DefaultFetchTimeout = 10 * time.Second
)

// maxTokenBytes refuses absurd tokens before any parsing work.
const maxTokenBytes = 16 << 10

// Citizen is the identity a verified token carries.
type Citizen struct {
	PID       string // CCCD number, 12 digits; personal data, never log it
	Name      string
	Birthdate string // YYYY-MM-DD
	LOA       int    // level of assurance; mutations need 2 or more
	Issuer    string
	Subject   string // the provider's subject id; empty when the token has none
	ExpiresAt time.Time
}

// Config configures a Verifier. Issuer, Audience and JWKSURL come from
// IDP_ISSUER, IDP_AUDIENCE and IDP_JWKS_URL.
type Config struct {
	Issuer   string // exact value required in "iss"
	Audience string // value "aud" must contain
	JWKSURL  string // https://… or file://…; http://… only in development
	// Development allows an http:// JWKS URL.
	Development bool
	// HTTPClient fetches the JWKS; nil means a client with DefaultFetchTimeout.
	HTTPClient *http.Client
	// Leeway is the clock skew tolerated on exp, nbf and iat; zero means DefaultLeeway.
	Leeway time.Duration
	// RefreshMinInterval is the least time between two JWKS fetches, so that a
	// flood of tokens with unknown key ids cannot turn into a flood of fetches;
	// zero means DefaultRefreshMinInterval.
	RefreshMinInterval time.Duration
	// Now is the clock tokens' times and the keys' age are checked by; nil
	// is time.Now.
	Now func() time.Time
}

// Verifier checks citizens' tokens. It is safe for concurrent use; build one
// per process and share it.
type Verifier struct {
	rules ClaimRules
	keys  *KeySet
	now   func() time.Time
}

// NewVerifier validates cfg and returns a Verifier. It does not fetch the
// JWKS: the first Verify does, so a gateway can start while the provider is
// down.
func NewVerifier(cfg Config) (*Verifier, error) {
	if strings.TrimSpace(cfg.Issuer) == "" {
		return nil, errors.New("IDP_ISSUER is required")
	}
	if strings.TrimSpace(cfg.Audience) == "" {
		return nil, errors.New("IDP_AUDIENCE is required")
	}
	if cfg.Leeway < 0 {
		return nil, errors.New("identity: leeway must not be negative")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	v := &Verifier{
		rules: ClaimRules{Issuer: cfg.Issuer, Audience: cfg.Audience, Leeway: cfg.Leeway},
		now:   cfg.Now,
	}
	if v.now == nil {
		v.now = time.Now
	}
	keys, err := NewKeySet(KeySetConfig{
		JWKSURL:            cfg.JWKSURL,
		Development:        cfg.Development,
		HTTPClient:         cfg.HTTPClient,
		RefreshMinInterval: cfg.RefreshMinInterval,
		// Tests move v.now after construction; the key cache follows it.
		Now: func() time.Time { return v.now() },
	})
	if err != nil {
		return nil, err
	}
	v.keys = keys
	return v, nil
}

// parseJWKSURL accepts https:// and file:// URLs, and http:// in development.
func parseJWKSURL(raw string, development bool) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("IDP_JWKS_URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("IDP_JWKS_URL is not a valid URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !development {
			return nil, errors.New("IDP_JWKS_URL must be https:// or file:// (http:// only when GATEWAY_ENV=development)")
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, errors.New("IDP_JWKS_URL: a file:// URL must name a local absolute path (file:///path/jwks.json)")
		}
		if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, errors.New("IDP_JWKS_URL: a file:// URL must name an absolute path (file:///path/jwks.json)")
		}
		return u, nil
	default:
		return nil, errors.New("IDP_JWKS_URL must be https:// or file://")
	}
	if u.Host == "" {
		return nil, errors.New("IDP_JWKS_URL has no host")
	}
	return u, nil
}

// refuseDowngrade keeps redirects of a JWKS fetch on https unless in development.
func refuseDowngrade(development bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if req.URL.Scheme != "https" && !development {
			return errors.New("redirect away from https refused")
		}
		return nil
	}
}

// Verify checks token and returns the citizen it identifies. Errors wrap
// ErrInvalidToken, ErrInvalidIdentity or ErrKeysUnavailable, or are the
// context's error when ctx ends while the JWKS is being fetched.
func (v *Verifier) Verify(ctx context.Context, token string) (Citizen, error) {
	payload, err := v.keys.VerifySignature(ctx, token)
	if err != nil {
		return Citizen{}, err
	}
	return v.rules.Citizen(payload, v.now())
}

// invalid wraps ErrInvalidToken with a reason for logs.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}
