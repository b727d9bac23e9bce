package receipt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/citizenpay/gateway/internal/jcs"
)

const algEdDSA = "EdDSA"

// Verify's refusals. Each error wraps one of them and says what was wrong.
var (
	// ErrMalformed: not a compact JWS of a receipt with an EdDSA header
	// naming a kid.
	ErrMalformed = errors.New("receipt: malformed JWS")
	// ErrUnknownKey: the kid is not an Ed25519 signing key of the JWKS.
	ErrUnknownKey = errors.New("receipt: unknown signing key")
	// ErrSignature: the signature does not match the header and payload.
	ErrSignature = errors.New("receipt: bad signature")
	// ErrNotCanonical: the payload is signed but not the RFC 8785
	// canonical JSON of a receipt without verify_url.
	ErrNotCanonical = errors.New("receipt: payload is not canonical")
)

// header is the protected header of a receipt JWS. Crit is read only to
// refuse it: a receipt uses no extension a verifier would have to know.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

// Payload returns what is signed of r: the RFC 8785 canonical JSON of r
// without verify_url.
func Payload(r Receipt) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("marshal receipt %s: %w", r.ID, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("marshal receipt %s: %w", r.ID, err)
	}
	delete(fields, "verify_url")
	if b, err = json.Marshal(fields); err != nil {
		return nil, fmt.Errorf("marshal receipt %s: %w", r.ID, err)
	}
	return jcs.Transform(b)
}

// Sign returns r as a compact JWS under k: protected header
// {"alg":"EdDSA","kid":k.KID()}, payload Payload(r). Ed25519 signatures are
// deterministic, so signing the same receipt with the same key again (a
// re-signing after a revocation that comes back to a key) gives the same
// JWS.
func Sign(r Receipt, k *Key) (string, error) {
	payload, err := Payload(r)
	if err != nil {
		return "", err
	}
	h, err := json.Marshal(header{Alg: algEdDSA, Kid: k.KID()})
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(payload)
	return input + "." + b64(ed25519.Sign(k.priv, []byte(input))), nil
}

// Verify checks a receipt JWS against a JWKS document and returns the
// receipt it signs and the kid that signed it. It refuses any alg but
// EdDSA, a kid not in jwks, a bad signature and a payload that is not in
// canonical form, in that order. The receipt comes back with VerifyURL
// empty: it is not signed.
func Verify(jws string, jwks []byte) (Receipt, string, error) {
	parts := strings.Split(strings.TrimSpace(jws), ".")
	if len(parts) != 3 {
		return Receipt{}, "", fmt.Errorf("%w: %d parts, want 3 (header.payload.signature)", ErrMalformed, len(parts))
	}
	rawHeader, err1 := unb64(parts[0])
	payload, err2 := unb64(parts[1])
	sig, err3 := unb64(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return Receipt{}, "", fmt.Errorf("%w: not base64url: %v", ErrMalformed, err)
	}
	var h header
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return Receipt{}, "", fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	switch {
	case h.Alg != algEdDSA:
		return Receipt{}, "", fmt.Errorf("%w: alg %q, want EdDSA", ErrMalformed, h.Alg)
	case h.Kid == "":
		return Receipt{}, "", fmt.Errorf("%w: the header names no kid", ErrMalformed)
	case h.Crit != nil:
		return Receipt{}, "", fmt.Errorf("%w: crit %s is not understood", ErrMalformed, h.Crit)
	}
	pub, err := lookup(jwks, h.Kid)
	if err != nil {
		return Receipt{}, h.Kid, err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return Receipt{}, h.Kid, fmt.Errorf("%w: not signed by key %s", ErrSignature, h.Kid)
	}
	canonical, err := jcs.Transform(payload)
	if err != nil || !bytes.Equal(canonical, payload) {
		return Receipt{}, h.Kid, fmt.Errorf("%w: the signed bytes differ from their RFC 8785 form", ErrNotCanonical)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return Receipt{}, h.Kid, fmt.Errorf("%w: the signed payload is not a JSON object", ErrNotCanonical)
	}
	if _, ok := fields["verify_url"]; ok {
		return Receipt{}, h.Kid, fmt.Errorf("%w: it holds verify_url, which is never signed", ErrNotCanonical)
	}
	var r Receipt
	if err := json.Unmarshal(payload, &r); err != nil || r.ID == "" || r.Number == "" {
		return Receipt{}, h.Kid, fmt.Errorf("%w: the signed payload is not a receipt", ErrNotCanonical)
	}
	return r, h.Kid, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unb64 decodes base64url without padding, strictly: a trailing character
// with stray low bits would let two texts carry the same bytes.
func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }
