package devissuer

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizenpay/gateway/internal/pii"
)

// Lifetimes of what a Provider hands out.
const (
	// CodeTTL is how long an authorization code may be exchanged.
	CodeTTL = 60 * time.Second
	// IDTokenTTL is the lifetime of an ID token: it is read once, at sign-in.
	IDTokenTTL = 5 * time.Minute
	// AccessTokenTTL is the lifetime of the access token, a §2 bearer token.
	AccessTokenTTL = DefaultTTL
	// maxLiveCodes bounds the codes held in memory at once.
	maxLiveCodes = 10000
	// minSecretLength is the shortest client secret accepted.
	minSecretLength = 16
)

// Client is a relying party registered with the provider: a confidential
// client that authenticates with client_secret_basic.
type Client struct {
	ID           string   // client_id; letters, digits, '.', '_' and '-'
	Secret       string   // at least 16 characters
	RedirectURIs []string // absolute http(s) URLs, matched exactly
}

// Citizen is a test citizen offered on the sign-in page.
type Citizen struct {
	PID       string
	Name      string
	Birthdate string // YYYY-MM-DD
	LOA       int    // zero means DefaultLOA
	Note      string // shown beside the name, e.g. which bank holds accounts of theirs
}

// ProviderConfig configures a Provider.
type ProviderConfig struct {
	Clients []Client
	// Citizens are offered on the sign-in page in this order; the tester may
	// also type any other.
	Citizens []Citizen
	// AccessTokenAudience is the "aud" of access tokens; empty means
	// DefaultAudience (the gateway's IDP_AUDIENCE).
	AccessTokenAudience string
	// Now is the clock of codes and tokens; nil means time.Now.
	Now func() time.Time
}

// Provider is the issuer as an OpenID Connect provider: the authorization
// code flow with PKCE (S256 only) for registered confidential clients, as
// PROTOCOL.md §10 has the gateway's checkout sign in. The authorization page
// authenticates nobody: the tester picks the citizen to be. Codes live in
// memory, so one devidp process serves the whole flow.
//
// Decisions:
//   - state, nonce and code_challenge are required, and the method must be
//     S256, so that a relying party that forgets one fails here and not in
//     production;
//   - errors go back to the redirect URI only once the client and the exact
//     redirect URI are known; before that they are shown on a page (RFC 6749
//     §4.1.2.1), so that the provider never redirects anywhere unregistered;
//   - the sign-in form POSTs, the redirect carries only code and state (or
//     error, error_description and state): no personal data in a URL;
//   - a code is spent by its first presentation by an authenticated client,
//     whatever the outcome, so that neither a replay nor a second guess at
//     the verifier succeeds;
//   - the page has no CSRF token: it signs in as whoever the tester names, and
//     the relying party's state already binds a code to its own session;
//   - the ID token is signed like every other token of the issuer (same key,
//     same §2 claims) with "aud" the client id, "azp", "nonce" and
//     "auth_time"; the access token is a §2 bearer token for the gateway.
type Provider struct {
	iss            *Issuer
	clients        map[string]registeredClient
	citizens       []Citizen
	accessAudience string
	now            func() time.Time
	codes          *codeStore
	pages          *pages
}

// registeredClient is a Client with its secret kept as a digest, so that
// comparing it takes the same time whatever its length.
type registeredClient struct {
	id           string
	secretDigest [sha256.Size]byte
	redirectURIs []string
}

// NewProvider validates cfg and returns a Provider signing with iss.
func NewProvider(iss *Issuer, cfg ProviderConfig) (*Provider, error) {
	if iss == nil {
		return nil, errors.New("devissuer: provider needs an issuer")
	}
	p := &Provider{
		iss:            iss,
		clients:        make(map[string]registeredClient, len(cfg.Clients)),
		accessAudience: cfg.AccessTokenAudience,
		now:            cfg.Now,
	}
	if p.accessAudience == "" {
		p.accessAudience = DefaultAudience
	}
	if p.now == nil {
		p.now = time.Now
	}
	for n, c := range cfg.Clients {
		rc, err := registerClient(c)
		if err != nil {
			return nil, fmt.Errorf("devissuer: client %d: %w", n+1, err)
		}
		if _, dup := p.clients[rc.id]; dup {
			return nil, fmt.Errorf("devissuer: client %q registered twice", rc.id)
		}
		p.clients[rc.id] = rc
	}
	for n, c := range cfg.Citizens {
		if c.LOA == 0 {
			c.LOA = DefaultLOA
		}
		if err := checkCitizen(c); err != nil {
			// The error names the entry, never its pid.
			return nil, fmt.Errorf("devissuer: citizen %d: %w", n+1, err)
		}
		p.citizens = append(p.citizens, c)
	}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	p.pages = pg
	p.codes = newCodeStore(CodeTTL, maxLiveCodes)
	return p, nil
}

// registerClient checks c.
func registerClient(c Client) (registeredClient, error) {
	if c.ID == "" || strings.TrimLeft(c.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		return registeredClient{}, errors.New("client id must be letters, digits, '.', '_' or '-'")
	}
	if len(c.Secret) < minSecretLength {
		return registeredClient{}, fmt.Errorf("client %q: secret must be at least %d characters", c.ID, minSecretLength)
	}
	if len(c.RedirectURIs) == 0 {
		return registeredClient{}, fmt.Errorf("client %q: at least one redirect URI is required", c.ID)
	}
	for _, raw := range c.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") {
			return registeredClient{}, fmt.Errorf("client %q: redirect URI %q must be an absolute http(s) URL without a fragment", c.ID, raw)
		}
	}
	return registeredClient{
		id:           c.ID,
		secretDigest: sha256.Sum256([]byte(c.Secret)),
		redirectURIs: append([]string(nil), c.RedirectURIs...),
	}, nil
}

// authenticate reports whether secret is the client's, in constant time.
// An unknown client costs the same comparison.
func (p *Provider) authenticate(id, secret string) (registeredClient, bool) {
	c, known := p.clients[id]
	given := sha256.Sum256([]byte(secret))
	match := subtle.ConstantTimeCompare(given[:], c.secretDigest[:]) == 1
	return c, known && match
}

// checkCitizen applies Mint's rules to a citizen before anyone picks it.
func checkCitizen(c Citizen) error {
	switch {
	case strings.TrimSpace(c.Name) == "" || utf8.RuneCountInString(c.Name) > maxNameRunes:
		return fmt.Errorf("name must be 1 to %d characters", maxNameRunes)
	case c.LOA < 1 || c.LOA > maxLOA:
		return fmt.Errorf("loa must be between 1 and %d", maxLOA)
	}
	if err := pii.ValidatePIDBirthdate(c.PID, c.Birthdate); err != nil {
		return err
	}
	return nil
}

// Handler serves the provider: everything Issuer.Handler serves, and
//
//	GET  /.well-known/openid-configuration    OpenID Connect discovery
//	GET  /oauth2/authorize                    the sign-in page
//	POST /oauth2/authorize                    its form
//	POST /oauth2/token                        the token endpoint
//	GET  /assets/…                            the page's style sheet
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	p.iss.routes(mux)
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET "+authorizePath, p.serveAuthorize)
	mux.HandleFunc("POST "+authorizePath, p.serveSignIn)
	mux.HandleFunc("POST "+tokenPath, p.serveToken)
	mux.HandleFunc("GET "+p.pages.cssPath, p.pages.serveCSS)
	return mux
}

// Endpoint paths, below the issuer URL.
const (
	authorizePath = "/oauth2/authorize"
	tokenPath     = "/oauth2/token"
	jwksPath      = "/.well-known/jwks.json"
)

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	base := strings.TrimSuffix(p.iss.issuer, "/")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.iss.issuer,
		"authorization_endpoint":                base + authorizePath,
		"token_endpoint":                        base + tokenPath,
		"jwks_uri":                              base + jwksPath,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"id_token_signing_alg_values_supported": []string{"EdDSA"},
		"subject_types_supported":               []string{"public"},
		"scopes_supported":                      []string{"openid"},
		"claims_supported": []string{"iss", "sub", "aud", "azp", "exp", "nbf", "iat", "auth_time", "jti", "nonce",
			"pid", "name", "birthdate", "loa"},
		"claims_parameter_supported":      false,
		"request_parameter_supported":     false,
		"request_uri_parameter_supported": false,
	})
}
