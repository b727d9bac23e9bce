package signin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/citizenpay/gateway/internal/identity"
)

// Finish completes the sign-in that kept began, with the query of the
// request to the redirect URI. It checks the state (in constant time), the
// provider's error, exchanges the code with the PKCE verifier, verifies the
// ID token and returns the citizen it names. The caller drops kept whatever
// the outcome: a sign-in is finished once.
//
// Errors wrap ErrCallback, ErrDenied (as a *CallbackError), ErrExchange,
// ErrUnavailable, identity.ErrInvalidToken or identity.ErrInvalidIdentity.
func (rp *RelyingParty) Finish(ctx context.Context, kept Pending, query url.Values) (identity.Citizen, error) {
	state, ok := single(query, "state")
	if !ok || kept.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(kept.State)) != 1 {
		return identity.Citizen{}, fmt.Errorf("%w: state differs from the one sent", ErrCallback)
	}
	if age := rp.cfg.Now().Sub(kept.Started); kept.Started.IsZero() || age > rp.cfg.MaxPendingAge {
		return identity.Citizen{}, fmt.Errorf("%w: the sign-in began too long ago", ErrCallback)
	}
	// RFC 9207: a provider that names itself must be the one asked.
	if iss, present := query["iss"]; present && (len(iss) != 1 || iss[0] != rp.cfg.Issuer) {
		return identity.Citizen{}, fmt.Errorf("%w: the callback names another issuer", ErrCallback)
	}
	if _, present := query["error"]; present {
		code, _ := single(query, "error")
		return identity.Citizen{}, &CallbackError{Code: oauthCode(code)}
	}
	code, ok := single(query, "code")
	if !ok || code == "" {
		return identity.Citizen{}, fmt.Errorf("%w: the callback has no code", ErrCallback)
	}

	d, err := rp.discover(ctx)
	if err != nil {
		return identity.Citizen{}, err
	}
	xctx, cancel := context.WithTimeout(oauth2ClientContext(ctx, rp.client), rp.cfg.Timeout)
	defer cancel()
	tok, err := d.oauth.Exchange(xctx, code, oauth2.VerifierOption(kept.Verifier))
	if err != nil {
		return identity.Citizen{}, exchangeError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return identity.Citizen{}, fmt.Errorf("%w: the token response has no id_token", ErrExchange)
	}
	return rp.verify(ctx, d, raw, kept.Nonce)
}

// verify checks the ID token: go-oidc for the signature (with §2's key
// rules), issuer and audience; then the nonce, azp, and §2's claim rules.
func (rp *RelyingParty) verify(ctx context.Context, d *discovered, raw, nonce string) (identity.Citizen, error) {
	var keyErr error
	idt, err := d.verifier.Verify(context.WithValue(ctx, keyErrorSlot{}, &keyErr), raw)
	switch {
	case keyErr != nil && errors.Is(keyErr, identity.ErrKeysUnavailable):
		return identity.Citizen{}, fmt.Errorf("%w: %w", ErrUnavailable, keyErr)
	case keyErr != nil:
		return identity.Citizen{}, fmt.Errorf("id token: %w", keyErr)
	case err != nil:
		return identity.Citizen{}, fmt.Errorf("%w: id token: %s", identity.ErrInvalidToken, clip(err.Error()))
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return identity.Citizen{}, fmt.Errorf("%w: id token: nonce differs from the one sent", identity.ErrInvalidToken)
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		return identity.Citizen{}, fmt.Errorf("%w: id token: claims unreadable", identity.ErrInvalidToken)
	}
	var azp struct {
		AZP *string `json:"azp"`
	}
	if err := json.Unmarshal(payload, &azp); err != nil {
		return identity.Citizen{}, fmt.Errorf("%w: id token: claims unreadable", identity.ErrInvalidToken)
	}
	// OIDC Core §3.1.3.7: with several audiences, azp names the client.
	if (azp.AZP != nil || len(idt.Audience) > 1) && (azp.AZP == nil || *azp.AZP != rp.cfg.ClientID) {
		return identity.Citizen{}, fmt.Errorf("%w: id token: azp is not this client", identity.ErrInvalidToken)
	}
	c, err := rp.rules.Citizen(payload, rp.cfg.Now())
	if err != nil {
		return identity.Citizen{}, fmt.Errorf("id token: %w", err)
	}
	return c, nil
}

// exchangeError sorts a failed exchange: an OAuth error is the provider's
// refusal; a server error, a timeout or no answer is unavailability.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && re.Response.StatusCode >= http.StatusInternalServerError {
			return fmt.Errorf("%w: token endpoint answered %d", ErrUnavailable, re.Response.StatusCode)
		}
		if re.ErrorCode != "" {
			return fmt.Errorf("%w: token endpoint answered %s", ErrExchange, oauthCode(re.ErrorCode))
		}
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%w: token endpoint answered %d", ErrExchange, status)
	}
	return fmt.Errorf("%w: token endpoint: %s", ErrUnavailable, clip(err.Error()))
}

// oauth2ClientContext makes x/oauth2 use client.
func oauth2ClientContext(ctx context.Context, client *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, client)
}

// single returns a parameter given exactly once.
func single(q url.Values, name string) (string, bool) {
	v := q[name]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// oauthCode keeps what RFC 6749 allows in an error code (%x20-21 / %x23-5B /
// %x5D-7E), minus spaces, at most 64 characters; anything else becomes
// "invalid".
func oauthCode(s string) string {
	if s == "" || len(s) > 64 {
		return "invalid"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c == '"' || c == '\\' || c > 0x7e {
			return "invalid"
		}
	}
	return s
}
