package receipt

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/citizenpay/gateway/internal/jcs"
)

// RFC 8037 appendix A: the Ed25519 key, its thumbprint (A.3) and the JWS of
// "Example of Ed25519 signing" (A.4).
const (
	rfcSeed       = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfcX          = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfcThumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
	rfcJWS        = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc." +
		"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

func rfcKey(t *testing.T) *Key {
	t.Helper()
	seed, _ := base64.RawURLEncoding.DecodeString(rfcSeed)
	k, err := ParseKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyRFC8037(t *testing.T) {
	t.Parallel()
	k := rfcKey(t)
	if got := base64.RawURLEncoding.EncodeToString(k.Public().Bytes()); got != rfcX {
		t.Errorf("x = %s, want %s", got, rfcX)
	}
	if k.KID() != rfcThumbprint {
		t.Errorf("kid = %s, want the RFC 7638 thumbprint %s", k.KID(), rfcThumbprint)
	}
	// The signing primitive under Sign gives RFC 8037's signature.
	input := rfcJWS[:strings.LastIndexByte(rfcJWS, '.')]
	if got := input + "." + b64(ed25519.Sign(k.priv, []byte(input))); got != rfcJWS {
		t.Errorf("signature of the RFC's input:\n got %s\nwant %s", got, rfcJWS)
	}
}

func TestKeyBytes(t *testing.T) {
	t.Parallel()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKey(k.Bytes())
	if err != nil || back.KID() != k.KID() || len(k.Bytes()) != 32 {
		t.Fatalf("ParseKey(Bytes()) = %v, %v; want kid %s from 32 bytes", back, err, k.KID())
	}
	other, _ := GenerateKey()
	if other.KID() == k.KID() {
		t.Error("two generated keys share a kid")
	}
	pub, err := NewPublicKey(k.Public().Bytes())
	if err != nil || pub.KID() != k.KID() {
		t.Errorf("NewPublicKey: kid %s, %v; want %s", pub.KID(), err, k.KID())
	}
	if _, err := ParseKey(make([]byte, 31)); !errors.Is(err, ErrKey) {
		t.Errorf("ParseKey of 31 bytes: %v, want ErrKey", err)
	}
	if _, err := NewPublicKey(make([]byte, 33)); !errors.Is(err, ErrKey) {
		t.Errorf("NewPublicKey of 33 bytes: %v, want ErrKey", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(k.Bytes())
	for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v", k, k, k)} {
		if strings.Contains(s, secret) || !strings.Contains(s, "REDACTED") {
			t.Errorf("printed key %q shows its seed or is not redacted", s)
		}
	}
}

// TestJWKSGoJose: go-jose reads the JWKS, finds each key by kid with the
// members §11 asks for, and computes the same thumbprint.
func TestJWKSGoJose(t *testing.T) {
	t.Parallel()
	k1, k2 := rfcKey(t), mustKey(t)
	doc, err := JWKS(k1.Public(), k2.Public())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("go-jose cannot read %s: %v", doc, err)
	}
	for _, k := range []*Key{k1, k2} {
		found := set.Key(k.KID())
		if len(found) != 1 || found[0].Algorithm != "EdDSA" || found[0].Use != "sig" || !found[0].IsPublic() {
			t.Fatalf("key %s in the JWKS: %+v", k.KID(), found)
		}
		tp, err := found[0].Thumbprint(crypto.SHA256)
		if err != nil || base64.RawURLEncoding.EncodeToString(tp) != k.KID() {
			t.Errorf("go-jose thumbprint %x, %v; kid %s", tp, err, k.KID())
		}
	}
	var members struct {
		Keys []map[string]string `json:"keys"`
	}
	_ = json.Unmarshal(doc, &members)
	if m := members.Keys[0]; m["kty"] != "OKP" || m["crv"] != "Ed25519" || m["kid"] != rfcThumbprint || m["x"] != rfcX || m["d"] != "" {
		t.Errorf("first key's members: %v", m)
	}
	if _, err := JWKS(k1.Public(), k1.Public()); err == nil {
		t.Error("JWKS listed one key twice")
	}
}

func mustKey(t *testing.T) *Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	r, k := sampleReceipt(t), mustKey(t)
	jws, err := Sign(r, k)
	if err != nil {
		t.Fatal(err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	if want := `{"alg":"EdDSA","kid":"` + k.KID() + `"}`; string(header) != want {
		t.Errorf("header %s, want %s", header, want)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
	if strings.Contains(string(payload), "verify_url") || strings.Contains(string(payload), "?c=") {
		t.Errorf("the payload holds verify_url: %s", payload)
	}
	if canon, _ := jcs.Transform(payload); string(canon) != string(payload) {
		t.Errorf("payload not canonical: %s", payload)
	}
	old := mustKey(t) // a retired key stays in the JWKS
	doc, _ := JWKS(old.Public(), k.Public())
	got, kid, err := Verify(jws, doc)
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.VerifyURL = ""
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if kid != k.KID() || string(gj) != string(wj) {
		t.Errorf("Verify = %s, kid %s\nwant %s, kid %s", gj, kid, wj, k.KID())
	}
	// A receipt signed by the retired key still verifies.
	oldJWS, _ := Sign(r, old)
	if _, kid, err := Verify(oldJWS, doc); err != nil || kid != old.KID() {
		t.Errorf("the retired key's receipt: kid %s, %v", kid, err)
	}
	// Signing is deterministic.
	if again, _ := Sign(r, k); again != jws {
		t.Error("signing the same receipt twice gave two JWS")
	}
}

// TestGoJoseVerifiesOurs and TestWeVerifyGoJose check Sign and Verify
// against an independent JOSE implementation.
func TestGoJoseVerifiesOurs(t *testing.T) {
	t.Parallel()
	r, k := sampleReceipt(t), mustKey(t)
	jws, _ := Sign(r, k)
	doc, _ := JWKS(k.Public())
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	kid := parsed.Signatures[0].Header.KeyID
	payload, err := parsed.Verify(set.Key(kid)[0].Key)
	if err != nil || kid != k.KID() {
		t.Fatalf("go-jose: kid %s, %v", kid, err)
	}
	want, _ := Payload(r)
	if string(payload) != string(want) {
		t.Errorf("go-jose payload %s, want %s", payload, want)
	}
}

func TestWeVerifyGoJose(t *testing.T) {
	t.Parallel()
	r, k := sampleReceipt(t), mustKey(t)
	payload, _ := Payload(r)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.KID()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := obj.CompactSerialize()
	doc, _ := JWKS(k.Public())
	got, kid, err := Verify(jws, doc)
	if err != nil || kid != k.KID() || got.Number != r.Number || got.Amount != "75000" {
		t.Errorf("Verify of go-jose's JWS: %+v, %s, %v", got, kid, err)
	}
}

// handJWS signs any header and payload with k, as a forger holding the key
// (or a buggy signer) would.
func handJWS(k *Key, header, payload string) string {
	in := b64([]byte(header)) + "." + b64([]byte(payload))
	return in + "." + b64(ed25519.Sign(k.priv, []byte(in)))
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	r, k := sampleReceipt(t), mustKey(t)
	jws, _ := Sign(r, k)
	doc, _ := JWKS(k.Public())
	parts := strings.Split(jws, ".")
	payload, _ := Payload(r)
	hdr := `{"alg":"EdDSA","kid":"` + k.KID() + `"}`
	tampered := strings.Replace(string(payload), `"amount":"75000"`, `"amount":"7500"`, 1)
	spaced := strings.Replace(string(payload), `{"amount"`, `{ "amount"`, 1)
	// verify_url sorts last, so this payload is canonical but for it.
	withURL := string(payload[:len(payload)-1]) + `,"verify_url":"https://x/r/rc?c=y"}`
	other := mustKey(t)
	otherDoc, _ := JWKS(other.Public())
	privDoc := `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"` + k.KID() + `","x":"` +
		b64(k.Public().Bytes()) + `","d":"` + b64(k.Bytes()) + `"}]}`
	twiceDoc := `{"keys":[` + string(doc[9:len(doc)-2]) + `,` + string(doc[9:len(doc)-2]) + `]}`
	for name, tc := range map[string]struct {
		jws, jwks string
		want      error
	}{
		"tampered payload":      {parts[0] + "." + b64([]byte(tampered)) + "." + parts[2], string(doc), ErrSignature},
		"truncated signature":   {parts[0] + "." + parts[1] + "." + parts[2][:20], string(doc), ErrSignature},
		"unknown kid":           {jws, string(otherDoc), ErrUnknownKey},
		"empty JWKS":            {jws, `{"keys":[]}`, ErrUnknownKey},
		"not a JWKS":            {jws, `<html>`, ErrUnknownKey},
		"JWKS with d":           {jws, privDoc, ErrUnknownKey},
		"kid listed twice":      {jws, twiceDoc, ErrUnknownKey},
		"alg none":              {b64([]byte(`{"alg":"none","kid":"`+k.KID()+`"}`)) + "." + parts[1] + ".", string(doc), ErrMalformed},
		"alg HS256":             {handJWS(k, `{"alg":"HS256","kid":"`+k.KID()+`"}`, string(payload)), string(doc), ErrMalformed},
		"no kid":                {handJWS(k, `{"alg":"EdDSA"}`, string(payload)), string(doc), ErrMalformed},
		"crit":                  {handJWS(k, `{"alg":"EdDSA","b64":false,"crit":["b64"],"kid":"`+k.KID()+`"}`, string(payload)), string(doc), ErrMalformed},
		"two parts":             {parts[0] + "." + parts[1], string(doc), ErrMalformed},
		"padded base64":         {parts[0] + "." + parts[1] + "=." + parts[2], string(doc), ErrMalformed},
		"signed, not canonical": {handJWS(k, hdr, spaced), string(doc), ErrNotCanonical},
		"signed verify_url":     {handJWS(k, hdr, withURL), string(doc), ErrNotCanonical},
		"signed null":           {handJWS(k, hdr, `null`), string(doc), ErrNotCanonical},
		"signed other object":   {handJWS(k, hdr, `{"a":1}`), string(doc), ErrNotCanonical},
	} {
		if _, _, err := Verify(tc.jws, []byte(tc.jwks)); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify: %v, want %v", name, err, tc.want)
		}
	}
}
