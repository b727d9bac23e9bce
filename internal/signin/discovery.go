package signin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/citizenpay/gateway/internal/identity"
)

// discovered is what discovery gives: the OAuth endpoints and an ID token
// verifier on the provider's JWKS.
type discovered struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// metadata is the part of the discovery document go-oidc does not check.
type metadata struct {
	JWKSURI               string   `json:"jwks_uri"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthKeys []string `json:"token_endpoint_auth_methods_supported"`
}

// discover returns the provider's configuration, fetching it the first time
// and after a failure has been remembered long enough. Callers that arrive
// during a fetch share it; a caller whose ctx ends stops waiting, the fetch
// goes on for the others.
func (rp *RelyingParty) discover(ctx context.Context) (*discovered, error) {
	rp.mu.Lock()
	d, failure, failedAt := rp.disc, rp.failure, rp.failedAt
	rp.mu.Unlock()
	if d != nil {
		return d, nil
	}
	if failure != nil && rp.cfg.Now().Sub(failedAt) < discoveryRetryInterval {
		return nil, failure
	}
	ch := rp.group.DoChan("discover", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rp.cfg.Timeout)
		defer cancel()
		d, err := rp.fetchDiscovery(fctx)
		rp.mu.Lock()
		defer rp.mu.Unlock()
		if err != nil {
			rp.failure, rp.failedAt = err, rp.cfg.Now()
			return nil, err
		}
		rp.disc, rp.failure = d, nil
		return d, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*discovered), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: discovery of %s: %w", ErrUnavailable, rp.cfg.Issuer, ctx.Err())
	}
}

// fetchDiscovery reads {issuer}/.well-known/openid-configuration and checks
// that the provider can run the flow §10 asks for.
func (rp *RelyingParty) fetchDiscovery(ctx context.Context) (*discovered, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: discovery of %s: %s", ErrUnavailable, rp.cfg.Issuer, clip(fmt.Sprintf(format, args...)))
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, rp.client), rp.cfg.Issuer)
	if err != nil {
		return nil, fail("%v", err)
	}
	var meta metadata
	if err := p.Claims(&meta); err != nil {
		return nil, fail("%v", err)
	}
	if !slices.Contains(meta.CodeChallengeMethods, "S256") {
		return nil, fail("the provider does not advertise PKCE S256")
	}
	if len(meta.TokenEndpointAuthKeys) > 0 && !slices.Contains(meta.TokenEndpointAuthKeys, "client_secret_basic") {
		return nil, fail("the provider does not accept client_secret_basic")
	}
	ep := p.Endpoint()
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL}, {"jwks_uri", meta.JWKSURI},
	} {
		if err := checkURL(e.name, e.url, rp.cfg.Development); err != nil {
			return nil, fail("%v", err)
		}
	}
	keys, err := identity.NewKeySet(identity.KeySetConfig{
		JWKSURL: meta.JWKSURI, Development: rp.cfg.Development, HTTPClient: rp.client, Now: rp.cfg.Now,
	})
	if err != nil {
		return nil, fail("jwks_uri: %v", err)
	}
	ep.AuthStyle = oauth2.AuthStyleInHeader // client_secret_basic, never probed
	return &discovered{
		oauth: oauth2.Config{
			ClientID:     rp.cfg.ClientID,
			ClientSecret: rp.cfg.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  rp.cfg.RedirectURL,
			Scopes:       []string{oidc.ScopeOpenID},
		},
		verifier: oidc.NewVerifier(rp.cfg.Issuer, keySet{keys}, &oidc.Config{
			ClientID:             rp.cfg.ClientID,
			SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256, oidc.EdDSA},
			// identity.ClaimRules checks exp, nbf and iat with §2's leeway.
			SkipExpiryCheck: true,
			Now:             rp.cfg.Now,
		}),
	}, nil
}

// keySet lets go-oidc verify signatures with identity's key rules. go-oidc
// flattens the error it gets back into text, so the error is also left in the
// slot the caller put in ctx, to keep ErrKeysUnavailable apart from a bad
// signature.
type keySet struct{ keys *identity.KeySet }

// keyErrorSlot is the context key of a *error that receives the key set's error.
type keyErrorSlot struct{}

// VerifySignature implements oidc.KeySet.
func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.keys.VerifySignature(ctx, jwt)
	if err != nil {
		if slot, ok := ctx.Value(keyErrorSlot{}).(*error); ok {
			*slot = err
		}
	}
	return payload, err
}

// clip shortens a reason that may quote a response body.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
