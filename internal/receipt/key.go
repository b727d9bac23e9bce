package receipt

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// ErrKey is the refusal of key bytes that are not an Ed25519 key.
var ErrKey = errors.New("receipt: not an Ed25519 key")

// Key is a receipt signing key: an Ed25519 private key and its kid. Its
// String, GoString and LogValue methods never reveal the key.
type Key struct {
	priv ed25519.PrivateKey
	pub  PublicKey
}

// PublicKey is the public half of a Key, as the JWKS publishes it.
type PublicKey struct {
	kid string
	key ed25519.PublicKey
}

// GenerateKey makes a new signing key from crypto/rand.
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("generate receipt key: %w", err)
	}
	return newKey(priv), nil
}

// ParseKey reads a key from the bytes Bytes wrote: its 32-byte seed (the
// private key of RFC 8032).
func ParseKey(seed []byte) (*Key, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: %d bytes of private key, want %d", ErrKey, len(seed), ed25519.SeedSize)
	}
	return newKey(ed25519.NewKeyFromSeed(seed)), nil
}

func newKey(priv ed25519.PrivateKey) *Key {
	pub := priv.Public().(ed25519.PublicKey)
	return &Key{priv: priv, pub: PublicKey{kid: thumbprint(pub), key: pub}}
}

// Bytes returns the private key's 32-byte seed, for the caller to seal at
// rest; ParseKey reads it back.
func (k *Key) Bytes() []byte { return append([]byte(nil), k.priv.Seed()...) }

// KID is the key's id: its RFC 7638 thumbprint.
func (k *Key) KID() string { return k.pub.kid }

// Public returns the public half of the key.
func (k *Key) Public() PublicKey { return k.pub }

// String returns a fixed text with the kid only, so that a Key printed by
// mistake shows no secret.
func (k *Key) String() string { return "receipt.Key{kid: " + k.pub.kid + ", REDACTED}" }

// GoString returns the same text as String, for %#v.
func (k *Key) GoString() string { return k.String() }

// LogValue returns the same text as String, for log/slog.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// NewPublicKey reads a 32-byte Ed25519 public key (what PublicKey.Bytes
// wrote), for a store that keeps the public halves of retired keys.
func NewPublicKey(raw []byte) (PublicKey, error) {
	if len(raw) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("%w: %d bytes of public key, want %d", ErrKey, len(raw), ed25519.PublicKeySize)
	}
	pub := ed25519.PublicKey(append([]byte(nil), raw...))
	return PublicKey{kid: thumbprint(pub), key: pub}, nil
}

// KID is the key's id: its RFC 7638 thumbprint.
func (p PublicKey) KID() string { return p.kid }

// Bytes returns the 32-byte public key.
func (p PublicKey) Bytes() []byte { return append([]byte(nil), p.key...) }

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 key (RFC 8037
// §2): SHA-256 of the JSON of its required members in lexical order, with
// no white space, base64url without padding. It names the key by its
// contents, so a kid can neither collide with another key's nor be reused.
func thumbprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwk is an Ed25519 public key in a JWKS (RFC 7517, RFC 8037). D is read
// only to refuse a private key published by mistake.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	X   string `json:"x"`
	D   string `json:"d,omitempty"`
}

type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// JWKS is the document served at /.well-known/receipt-keys: every key whose
// receipts must stay verifiable, each with kty OKP, crv Ed25519, its kid,
// alg EdDSA and use sig. Two keys with one kid are refused.
func JWKS(keys ...PublicKey) ([]byte, error) {
	set := jwkSet{Keys: make([]json.RawMessage, 0, len(keys))}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if len(k.key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: the zero PublicKey", ErrKey)
		}
		if seen[k.kid] {
			return nil, fmt.Errorf("receipt: key %s listed twice", k.kid)
		}
		seen[k.kid] = true
		b, err := json.Marshal(jwk{Kty: "OKP", Crv: "Ed25519", Kid: k.kid, Alg: algEdDSA, Use: "sig",
			X: base64.RawURLEncoding.EncodeToString(k.key)})
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, b)
	}
	return json.Marshal(set)
}

// lookup finds the key kid in a JWKS document. Keys of other kinds and kids
// are skipped unread, so a set that also lists, say, an RSA key still
// serves; the key found must be an Ed25519 public key for EdDSA signatures,
// and a kid listed twice is refused as ambiguous.
func lookup(jwks []byte, kid string) (ed25519.PublicKey, error) {
	var set jwkSet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("%w: the JWKS is not a JSON key set: %v", ErrUnknownKey, err)
	}
	var found *jwk
	for _, raw := range set.Keys {
		var k jwk
		if json.Unmarshal(raw, &k) != nil || k.Kid != kid {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: kid %s is listed twice in the JWKS", ErrUnknownKey, kid)
		}
		found = &k
	}
	if found == nil {
		return nil, fmt.Errorf("%w: kid %s is not in the JWKS", ErrUnknownKey, kid)
	}
	switch {
	case found.Kty != "OKP" || found.Crv != "Ed25519":
		return nil, fmt.Errorf("%w: key %s is %s/%s, not OKP/Ed25519", ErrUnknownKey, kid, found.Kty, found.Crv)
	case found.Alg != "" && found.Alg != algEdDSA:
		return nil, fmt.Errorf("%w: key %s is for %s, not EdDSA", ErrUnknownKey, kid, found.Alg)
	case found.Use != "" && found.Use != "sig":
		return nil, fmt.Errorf("%w: key %s is for use %q, not sig", ErrUnknownKey, kid, found.Use)
	case found.D != "":
		return nil, fmt.Errorf("%w: key %s is published with its private part", ErrUnknownKey, kid)
	}
	x, err := base64.RawURLEncoding.Strict().DecodeString(found.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: key %s has no 32-byte x", ErrUnknownKey, kid)
	}
	return ed25519.PublicKey(x), nil
}
