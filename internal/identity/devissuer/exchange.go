package devissuer

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
)

// oidcTokenResponse is the token endpoint's answer (OIDC Core §3.1.3.3).
type oidcTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token"`
	Scope       string `json:"scope"`
}

// tokenError is an error of the token endpoint (RFC 6749 §5.2).
type tokenError struct {
	status      int
	code        string
	description string
}

// serveToken is the token endpoint: client_secret_basic, the
// authorization_code grant, PKCE S256.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	resp, terr := p.exchange(w, r)
	if terr != nil {
		if terr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
		}
		w.Header().Set("Pragma", "no-cache")
		writeError(w, terr.status, terr.code, terr.description)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// exchange checks a token request and answers it. The client is
// authenticated before the code is looked at, so that a caller without the
// secret cannot spend someone's code.
func (p *Provider) exchange(w http.ResponseWriter, r *http.Request) (oidcTokenResponse, *tokenError) {
	bad := func(code, description string) *tokenError {
		return &tokenError{http.StatusBadRequest, code, description}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return oidcTokenResponse{}, bad("invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		return oidcTokenResponse{}, bad("invalid_request", "the body could not be read")
	}
	form := r.PostForm
	for name, vs := range form {
		if len(vs) > 1 {
			return oidcTokenResponse{}, bad("invalid_request", name+" given more than once")
		}
	}

	client, terr := p.authenticateRequest(r, form)
	if terr != nil {
		return oidcTokenResponse{}, terr
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
	case "":
		return oidcTokenResponse{}, bad("invalid_request", "grant_type is required")
	default:
		return oidcTokenResponse{}, bad("unsupported_grant_type", "only authorization_code is supported")
	}
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		return oidcTokenResponse{}, bad("invalid_request", "code is required")
	case redirectURI == "":
		return oidcTokenResponse{}, bad("invalid_request", "redirect_uri is required")
	case verifier == "":
		return oidcTokenResponse{}, bad("invalid_request", "code_verifier is required")
	}

	now := p.now()
	g, err := p.codes.redeem(code, now)
	if err != nil {
		return oidcTokenResponse{}, bad("invalid_grant", err.Error())
	}
	switch {
	case g.clientID != client.id:
		return oidcTokenResponse{}, bad("invalid_grant", "the code was issued to another client")
	case g.redirectURI != redirectURI:
		return oidcTokenResponse{}, bad("invalid_grant", "redirect_uri differs from the authorization request's")
	case !verifierMatches(verifier, g.challenge):
		return oidcTokenResponse{}, bad("invalid_grant", "code_verifier does not match the code_challenge")
	}

	c := g.citizen
	idToken, err := p.iss.mint(Claims{
		PID: c.PID, Name: c.Name, Birthdate: c.Birthdate, LOA: c.LOA,
		Audience: client.id, TTL: IDTokenTTL,
	}, now, map[string]any{"nonce": g.nonce, "azp": client.id, "auth_time": g.authTime.Unix()})
	if err != nil {
		return oidcTokenResponse{}, &tokenError{http.StatusInternalServerError, "server_error", "could not sign the ID token"}
	}
	access, err := p.iss.mint(Claims{
		PID: c.PID, Name: c.Name, Birthdate: c.Birthdate, LOA: c.LOA,
		Audience: p.accessAudience, TTL: AccessTokenTTL,
	}, now, nil)
	if err != nil {
		return oidcTokenResponse{}, &tokenError{http.StatusInternalServerError, "server_error", "could not sign the access token"}
	}
	return oidcTokenResponse{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(AccessTokenTTL.Seconds()),
		IDToken: idToken, Scope: "openid",
	}, nil
}

// authenticateRequest checks client_secret_basic (RFC 6749 §2.3.1: id and
// secret are form-encoded before they are joined). Credentials in the body
// are refused: the provider registers clients for client_secret_basic only.
func (p *Provider) authenticateRequest(r *http.Request, form url.Values) (registeredClient, *tokenError) {
	unauthorized := func(description string) *tokenError {
		return &tokenError{http.StatusUnauthorized, "invalid_client", description}
	}
	rawID, rawSecret, ok := r.BasicAuth()
	if form.Has("client_secret") {
		if ok {
			return registeredClient{}, &tokenError{http.StatusBadRequest, "invalid_request", "use one client authentication method"}
		}
		return registeredClient{}, unauthorized("client_secret_post is not supported: use client_secret_basic")
	}
	if !ok {
		return registeredClient{}, unauthorized("client authentication (client_secret_basic) is required")
	}
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err := errors.Join(err1, err2); err != nil {
		return registeredClient{}, unauthorized("the credentials are not form-encoded")
	}
	client, ok := p.authenticate(id, secret)
	if !ok {
		return registeredClient{}, unauthorized("unknown client or wrong secret")
	}
	if cid := form.Get("client_id"); cid != "" && cid != client.id {
		return registeredClient{}, &tokenError{http.StatusBadRequest, "invalid_request", "client_id differs from the authenticated client"}
	}
	return client, nil
}

// verifierMatches checks a PKCE verifier (RFC 7636 §4.1: 43 to 128
// unreserved characters) against an S256 challenge, in constant time.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
