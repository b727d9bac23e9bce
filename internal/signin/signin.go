// Package signin is the gateway's OpenID Connect relying party: the sign-in
// of the hosted checkout (PROTOCOL.md §10). It runs the authorization code
// flow with PKCE (S256), state and nonce against the identity provider of §2,
// as the confidential client IDP_CLIENT_ID / IDP_CLIENT_SECRET
// (client_secret_basic), and returns the citizen the ID token names.
//
// Begin gives the authorization URL and a Pending (state, nonce, PKCE
// verifier: 256 random bits each) that the caller keeps in its server-side
// session, with where the citizen should land afterwards; Finish takes it back
// with the callback's query. Nothing of a sign-in is kept here, so any
// gateway process can finish a sign-in another began.
//
// Decisions:
//   - Discovery ({IDP_ISSUER}/.well-known/openid-configuration) is lazy: New
//     makes no request, so the gateway starts while the provider is down. The
//     first Begin or Finish discovers, within Config.Timeout; a failure is
//     ErrUnavailable, remembered for a few seconds so that a provider that is
//     down is not asked again by every page view, then tried anew.
//   - The provider must advertise PKCE S256 and, when it lists them,
//     client_secret_basic: a provider that would ignore the challenge is
//     refused rather than trusted to check it.
//   - ID tokens are checked by go-oidc (signature, iss, aud) with the key
//     rules of §2 (identity.KeySet: RS256, ES256 or EdDSA by a key whose type
//     matches), then by identity.ClaimRules with aud = the client id: exp,
//     nbf and iat with §2's leeway, and pid, name, birthdate and loa exactly
//     as a bearer token's. go-oidc's own expiry check is off because it knows
//     no leeway; ClaimRules does it. The nonce is compared in constant time.
//   - A citizen with loa below 2 signs in: §2 lets loa 1 read. The checkout
//     shows what level paying needs; the citizen API refuses the payment.
//   - Errors: ErrCallback (a callback that is not this sign-in's: state,
//     age, issuer), ErrDenied (the provider sent an error; CallbackError has
//     its code), ErrExchange (the token endpoint refused the code),
//     identity.ErrInvalidToken and identity.ErrInvalidIdentity (the ID token),
//     ErrUnavailable (the provider could not be reached). None carries
//     personal data or the provider's free text.
package signin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/citizenpay/gateway/internal/identity"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultTimeout bounds discovery and the code exchange.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxPendingAge is how long a begun sign-in may take.
	DefaultMaxPendingAge = 10 * time.Minute
	// discoveryRetryInterval is how long a failed discovery is remembered.
	discoveryRetryInterval = 5 * time.Second
)

// Errors returned by Begin and Finish; match them with errors.Is.
var (
	// ErrCallback means the callback does not belong to the sign-in kept:
	// another state, too old, from another issuer, or malformed. Start again.
	ErrCallback = errors.New("signin: callback does not match the sign-in")
	// ErrDenied means the provider answered with an error (the citizen
	// cancelled, or the request was refused); see CallbackError.
	ErrDenied = errors.New("signin: the identity provider refused the sign-in")
	// ErrExchange means the token endpoint refused the code: spent, expired,
	// another verifier, or the client's credentials are wrong.
	ErrExchange = errors.New("signin: the code exchange was refused")
	// ErrUnavailable means the provider (discovery, token endpoint or JWKS)
	// could not be reached or answered with a server error (503).
	ErrUnavailable = errors.New("signin: identity provider unavailable")
)

// CallbackError is the error the provider sent to the redirect URI (RFC 6749
// §4.1.2.1). It matches ErrDenied.
type CallbackError struct {
	// Code is the OAuth error code, e.g. access_denied; only characters that
	// OAuth allows in a code are kept, at most 64 of them.
	Code string
}

// Error names the code.
func (e *CallbackError) Error() string { return ErrDenied.Error() + ": " + e.Code }

// Is reports whether target is ErrDenied.
func (e *CallbackError) Is(target error) bool { return target == ErrDenied }

// Config configures a RelyingParty.
type Config struct {
	Issuer       string // IDP_ISSUER, exactly as the provider names itself
	ClientID     string // IDP_CLIENT_ID
	ClientSecret string // IDP_CLIENT_SECRET
	RedirectURL  string // {GATEWAY_PUBLIC_URL}/auth/callback
	// Development allows http:// for the issuer, its endpoints and the
	// redirect URL (GATEWAY_ENV=development).
	Development bool
	// HTTPClient talks to the provider; nil means a client with Timeout that
	// follows no redirect.
	HTTPClient *http.Client
	// Timeout bounds discovery and the code exchange; zero means DefaultTimeout.
	Timeout time.Duration
	// Leeway is §2's clock skew on exp, nbf and iat; zero means identity.DefaultLeeway.
	Leeway time.Duration
	// MaxPendingAge is how long a begun sign-in may take; zero means DefaultMaxPendingAge.
	MaxPendingAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Pending is what the caller keeps server-side between Begin and Finish.
// Its fields are plain values so that any encoding (JSON, gob) stores it;
// it holds no personal data, but it is a secret: never put it in a URL or a
// cookie in clear.
type Pending struct {
	State    string
	Nonce    string
	Verifier string // PKCE code_verifier
	Started  time.Time
}

// RelyingParty signs citizens in. It is safe for concurrent use; build one
// per process.
type RelyingParty struct {
	cfg    Config
	client *http.Client
	rules  identity.ClaimRules

	group singleflight.Group
	mu    sync.Mutex
	disc  *discovered // nil until discovery succeeds
	// failure and failedAt remember the last failed discovery.
	failure  error
	failedAt time.Time
}

// New validates cfg and returns a RelyingParty. It makes no request. Its
// errors name the setting at fault.
func New(cfg Config) (*RelyingParty, error) {
	if err := checkURL("IDP_ISSUER", cfg.Issuer, cfg.Development); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("IDP_CLIENT_ID is required")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("IDP_CLIENT_SECRET is required")
	}
	if err := checkURL("the redirect URL ({GATEWAY_PUBLIC_URL}/auth/callback)", cfg.RedirectURL, cfg.Development); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 || cfg.Leeway < 0 || cfg.MaxPendingAge < 0 {
		return nil, errors.New("signin: timeout, leeway and pending age must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = identity.DefaultLeeway
	}
	if cfg.MaxPendingAge == 0 {
		cfg.MaxPendingAge = DefaultMaxPendingAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout: cfg.Timeout,
			// The provider's endpoints answer where they are; a redirect
			// could only lead away from the issuer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &RelyingParty{
		cfg:    cfg,
		client: client,
		rules:  identity.ClaimRules{Issuer: cfg.Issuer, Audience: cfg.ClientID, Leeway: cfg.Leeway},
	}, nil
}

// checkURL accepts an absolute https URL, or http in development.
func checkURL(name, raw string, development bool) error {
	if raw == "" {
		return fmt.Errorf("%s is required", name)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("%s is not an absolute URL", name)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && development:
	case u.Scheme == "http":
		return fmt.Errorf("%s must be https:// (http:// only when GATEWAY_ENV=development)", name)
	default:
		return fmt.Errorf("%s must be https://", name)
	}
	return nil
}

// Begin starts a sign-in: it returns the URL to send the browser to and what
// to keep for Finish. It discovers the provider on first use; errors wrap
// ErrUnavailable.
func (rp *RelyingParty) Begin(ctx context.Context) (string, Pending, error) {
	d, err := rp.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	p := Pending{
		State:    randomString(),
		Nonce:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		Started:  rp.cfg.Now(),
	}
	authURL := d.oauth.AuthCodeURL(p.State,
		oauth2.S256ChallengeOption(p.Verifier),
		oauth2.SetAuthURLParam("nonce", p.Nonce),
		oauth2.SetAuthURLParam("response_mode", "query"),
	)
	return authURL, p, nil
}

// randomString returns 256 random bits, base64url.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
