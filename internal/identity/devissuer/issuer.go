// Package devissuer is a development identity provider: it holds an Ed25519
// key, publishes it as a JWKS and mints citizen tokens of the shape
// PROTOCOL.md §2 describes. cmd/devidp serves it; tests and load generators
// use it in-process. It is never part of a production gateway.
package devissuer

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/citizenpay/gateway/internal/pii"
)

// Defaults for Claims fields left zero.
const (
	DefaultAudience = "citizenpay-gateway"
	DefaultLOA      = 2
	DefaultTTL      = time.Hour
	// MaxTTL is the longest lifetime Mint accepts.
	MaxTTL = 24 * time.Hour
)

// Errors returned by Mint.
var (
	// ErrInvalidPID means the pid breaks the CCCD rules or disagrees with the birthdate.
	ErrInvalidPID = errors.New("devissuer: invalid pid")
	// ErrInvalidClaims means another claim is missing or out of range.
	ErrInvalidClaims = errors.New("devissuer: invalid claims")
)

// Claims describe the citizen a token is minted for.
type Claims struct {
	PID       string
	Name      string
	Birthdate string        // YYYY-MM-DD
	LOA       int           // zero means DefaultLOA
	Audience  string        // empty means DefaultAudience
	TTL       time.Duration // zero means DefaultTTL
}

// Issuer mints tokens signed with one Ed25519 key. It is safe for concurrent use.
type Issuer struct {
	issuer string
	key    ed25519.PrivateKey
	kid    string
	jwks   []byte
	signer jose.Signer
	now    func() time.Time
}

// New returns an Issuer that signs with key and names issuer (an http or
// https URL, the value of IDP_ISSUER) in "iss".
func New(key ed25519.PrivateKey, issuer string) (*Issuer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("devissuer: key is not an Ed25519 private key")
	}
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("devissuer: issuer %q is not an http(s) URL", issuer)
	}
	pub := jose.JSONWebKey{Key: key.Public()}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devissuer: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	pub.KeyID, pub.Algorithm, pub.Use = kid, string(jose.EdDSA), "sig"
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, fmt.Errorf("devissuer: marshal jwks: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("devissuer: signer: %w", err)
	}
	return &Issuer{issuer: issuer, key: key, kid: kid, jwks: jwks, signer: signer, now: time.Now}, nil
}

// Generate returns an Issuer with a fresh in-memory key, for tests.
func Generate(issuer string) (*Issuer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devissuer: generate key: %w", err)
	}
	return New(key, issuer)
}

// Issuer returns the value the issuer puts in "iss".
func (i *Issuer) Issuer() string { return i.issuer }

// KeyID returns the signing key's id (its RFC 7638 thumbprint).
func (i *Issuer) KeyID() string { return i.kid }

// JWKS returns the public key set, ready to serve or to write to a file for
// a file:// IDP_JWKS_URL.
func (i *Issuer) JWKS() []byte {
	out := make([]byte, len(i.jwks))
	copy(out, i.jwks)
	return out
}

// Mint returns a signed token for c after applying defaults. It refuses a pid
// that pii.ValidatePIDBirthdate refuses (ErrInvalidPID) and other bad claims
// (ErrInvalidClaims); use Sign to make deliberately bad tokens.
func (i *Issuer) Mint(c Claims) (string, error) {
	return i.mint(c, i.now(), nil)
}

// MintAt is Mint as if it were at: a token for a relying party whose clock
// is not the wall clock (a test that moves the gateway's clock).
func (i *Issuer) MintAt(c Claims, at time.Time) (string, error) {
	return i.mint(c, at, nil)
}

// mint is Mint at a given time, with extra claims (an ID token's nonce,
// auth_time and azp) that may not replace the citizen's.
func (i *Issuer) mint(c Claims, at time.Time, extra map[string]any) (string, error) {
	if c.LOA == 0 {
		c.LOA = DefaultLOA
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	switch {
	case strings.TrimSpace(c.Name) == "":
		return "", fmt.Errorf("%w: name is required", ErrInvalidClaims)
	case c.LOA < 0:
		return "", fmt.Errorf("%w: loa must be positive", ErrInvalidClaims)
	case c.TTL < time.Second || c.TTL > MaxTTL:
		return "", fmt.Errorf("%w: ttl must be between 1s and %s", ErrInvalidClaims, MaxTTL)
	}
	if _, err := time.Parse(time.DateOnly, c.Birthdate); err != nil {
		return "", fmt.Errorf("%w: birthdate must be YYYY-MM-DD", ErrInvalidClaims)
	}
	if err := pii.ValidatePIDBirthdate(c.PID, c.Birthdate); err != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidPID, err.Error())
	}
	now := at.Truncate(time.Second)
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("devissuer: jti: %w", err)
	}
	claims := map[string]any{
		"iss":       i.issuer,
		"sub":       i.subject(c.PID),
		"aud":       c.Audience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(c.TTL).Unix(),
		"jti":       base64.RawURLEncoding.EncodeToString(jti),
		"pid":       c.PID,
		"name":      c.Name,
		"birthdate": c.Birthdate,
		"loa":       c.LOA,
	}
	for k, v := range extra {
		if _, taken := claims[k]; !taken {
			claims[k] = v
		}
	}
	return i.Sign(claims)
}

// Sign signs claims exactly as given, with no defaults and no checks, so that
// tests can make tokens the gateway must refuse (a bad pid, loa as a string…).
func (i *Issuer) Sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devissuer: marshal claims: %w", err)
	}
	jws, err := i.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devissuer: sign: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("devissuer: serialize: %w", err)
	}
	return token, nil
}

// subject derives a stable, opaque "sub" from the pid, keyed with the
// signing key so that it does not reveal the pid.
func (i *Issuer) subject(pid string) string {
	mac := hmac.New(sha256.New, i.key.Seed())
	mac.Write([]byte("sub\x00" + pid))
	return "dev-" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}
