package devissuer

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxRequestBytes bounds a /token request body.
const maxRequestBytes = 64 << 10

// tokenRequest is the body of POST /token.
type tokenRequest struct {
	PID        string `json:"pid"`
	Name       string `json:"name"`
	Birthdate  string `json:"birthdate"`
	LOA        *int   `json:"loa"`
	Audience   string `json:"audience"`
	TTLSeconds *int64 `json:"ttl_seconds"`
}

// tokenResponse is the answer to POST /token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// errorResponse is an OAuth-style error body.
type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Handler serves the provider:
//
//	GET  /.well-known/jwks.json               the public key set
//	GET  /.well-known/openid-configuration    issuer and jwks_uri
//	POST /token                               mint a token (JSON in, JSON out)
//
// There is no authentication: anyone who can reach it can mint any identity,
// which is why cmd/devidp listens on loopback by default.
//
// A Provider serves these too, with a full OpenID Connect discovery document.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	i.routes(mux)
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	return mux
}

// routes registers the key set and the minting endpoint.
func (i *Issuer) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/jwks.json", i.serveJWKS)
	mux.HandleFunc("POST /token", i.serveToken)
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(i.jwks)
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	base := strings.TrimSuffix(i.issuer, "/")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.issuer,
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"token_endpoint":                        base + "/token",
		"id_token_signing_alg_values_supported": []string{"EdDSA"},
		"subject_types_supported":               []string{"public"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "pid", "name", "birthdate", "loa"},
	})
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	var req tokenRequest
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "body must be one JSON object with known fields")
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "invalid_request", "body must be one JSON object")
		return
	}
	c := Claims{PID: req.PID, Name: req.Name, Birthdate: req.Birthdate, Audience: req.Audience}
	if req.LOA != nil {
		if *req.LOA < 1 {
			writeError(w, http.StatusBadRequest, "invalid_request", "loa must be at least 1")
			return
		}
		c.LOA = *req.LOA
	}
	if req.TTLSeconds != nil {
		if *req.TTLSeconds < 1 || *req.TTLSeconds > int64(MaxTTL/time.Second) {
			writeError(w, http.StatusBadRequest, "invalid_request", "ttl_seconds must be between 1 and 86400")
			return
		}
		c.TTL = time.Duration(*req.TTLSeconds) * time.Second
	}
	token, err := i.Mint(c)
	switch {
	case errors.Is(err, ErrInvalidPID):
		writeError(w, http.StatusBadRequest, "invalid_pid", strings.TrimPrefix(err.Error(), ErrInvalidPID.Error()+": "))
		return
	case errors.Is(err, ErrInvalidClaims):
		writeError(w, http.StatusBadRequest, "invalid_request", strings.TrimPrefix(err.Error(), ErrInvalidClaims.Error()+": "))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "server_error", "could not mint a token")
		return
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second)})
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, errorResponse{Error: code, Description: description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
