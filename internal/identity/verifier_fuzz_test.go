package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/citizenpay/gateway/internal/pii"
)

// fuzzKey builds a key deterministically from seed, so that the fuzzing
// workers, each a process of its own, hold the same keys as the process that
// signed the seeds. RSA keys cannot be made so: the RSA key differs between
// processes and only the seed run checks RS256 acceptance end to end.
func fuzzEdKey(kid string, seed byte) testKey {
	priv := ed25519.NewKeyFromSeed(bytesOf(seed, ed25519.SeedSize))
	return testKey{alg: jose.EdDSA, kid: kid, priv: priv, pub: jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Use: "sig"}}
}

func fuzzECKey(tb testing.TB, kid string, seed byte) testKey {
	tb.Helper()
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytesOf(seed, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return testKey{alg: jose.ES256, kid: kid, priv: priv, pub: jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Use: "sig"}}
}

func fuzzRSAKey(tb testing.TB, kid string) testKey {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return testKey{alg: jose.RS256, kid: kid, priv: priv, pub: jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Use: "sig"}}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b + byte(i)
	}
	return out
}

// fuzzSigner signs tokens and remembers what was signed by a key of the
// provider's set, the oracle of FuzzVerify.
type fuzzSigner struct {
	tb      testing.TB
	trusted map[string]bool // header.payload signing inputs, and decoded "header\x00payload"
}

func (s *fuzzSigner) remember(token string) {
	input := token[:strings.LastIndexByte(token, '.')]
	s.trusted[input] = true
	if h, p, ok := decodeSegments(input); ok {
		s.trusted[h+"\x00"+p] = true
	}
}

// sign is helpers_test.go's sign for a testing.TB; trusted says k is in the JWKS.
func (s *fuzzSigner) sign(k testKey, opts *jose.SignerOptions, claims map[string]any, trusted bool) string {
	s.tb.Helper()
	if opts == nil {
		opts = (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		s.tb.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		s.tb.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		s.tb.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		s.tb.Fatal(err)
	}
	if trusted {
		s.remember(tok)
	}
	return tok
}

// raw is helpers_test.go's rawToken for a testing.TB: any header, any
// signature; never trusted.
func (s *fuzzSigner) raw(header, claims map[string]any, signFn func([]byte) []byte) string {
	s.tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		s.tb.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		s.tb.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	return input + "." + enc.EncodeToString(signFn([]byte(input)))
}

func decodeSegments(input string) (header, payload string, ok bool) {
	hs, ps, found := strings.Cut(input, ".")
	if !found {
		return "", "", false
	}
	h, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(hs, "="))
	p, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(ps, "="))
	return string(h), string(p), err1 == nil && err2 == nil
}

func hs256(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// FuzzVerify feeds arbitrary compact JWS to a Verifier whose JWKS holds an
// RSA, an EC P-256 and an Ed25519 key. It never panics; a refusal wraps
// ErrInvalidToken or ErrInvalidIdentity; and a token is accepted only when
// what it signs (header and claims) was signed by a key of the set with an
// allowed algorithm, and carries a pid that agrees with its birthdate.
func FuzzVerify(f *testing.F) {
	rsaKey := fuzzRSAKey(f, "rsa-1")
	ecKey := fuzzECKey(f, "ec-1", 1)
	edKey := fuzzEdKey("ed-1", 2)
	outsiderEd := fuzzEdKey("ed-1", 3) // same kid, not in the set
	outsiderEC := fuzzECKey(f, "ec-1", 4)

	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{rsaKey.pub, ecKey.pub, edKey.pub}}
	body, err := json.Marshal(set)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "jwks.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: "file://" + path})
	if err != nil {
		f.Fatal(err)
	}
	// A fixed clock: the seeds stay current whenever the fuzzer runs, and
	// the key set, once read, is never read again.
	now := time.Unix(1795680000, 0)
	v.now = func() time.Time { return now }

	s := &fuzzSigner{tb: f, trusted: map[string]bool{}}
	good := claimsAt(now)
	rsaPubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.priv.(*rsa.PrivateKey).PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	edPubJWK, err := edKey.pub.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	outsiderJWK, err := outsiderEC.pub.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	var embedded map[string]any
	if err := json.Unmarshal(outsiderJWK, &embedded); err != nil {
		f.Fatal(err)
	}
	noKid := (&jose.SignerOptions{}).WithType("JWT")
	signBy := func(k testKey) func([]byte) []byte {
		return func(input []byte) []byte {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, nil)
			if err != nil {
				f.Fatal(err)
			}
			jws, err := signer.Sign(input) // a signature over the wrong input: junk of the right length
			if err != nil {
				f.Fatal(err)
			}
			return jws.Signatures[0].Signature
		}
	}

	seeds := []string{
		s.sign(rsaKey, nil, good, true),
		s.sign(ecKey, nil, good, true),
		s.sign(edKey, nil, good, true),
		s.sign(edKey, noKid, good, true),
		s.sign(edKey, nil, with(good, map[string]any{"aud": []string{"other", testAudience}, "loa": 1}), true),
		s.sign(edKey, nil, with(good, map[string]any{"pid": "079204001234"}), true),      // pid disagrees with birthdate
		s.sign(edKey, nil, with(good, map[string]any{"exp": now.Unix() - 61}), true),     // expired
		s.sign(edKey, nil, with(good, map[string]any{"aud": "someone-else"}), true),      // not for us
		s.sign(edKey, nil, with(good, map[string]any{"loa": "2"}), true),                 // loa not an integer
		s.sign(edKey, nil, with(good, map[string]any{"exp": 1e300}), true),               // absurd date
		s.sign(edKey, nil, with(good, map[string]any{"pid": "07920300123\u0000"}), true), // NUL in pid
		// Not signed by a key of the set.
		s.sign(outsiderEd, nil, good, false),
		s.sign(outsiderEC, nil, good, false),
		s.raw(map[string]any{"alg": "none", "typ": "JWT"}, good, func([]byte) []byte { return nil }),
		s.raw(map[string]any{"alg": "None", "kid": "ed-1"}, good, func([]byte) []byte { return nil }),
		s.raw(map[string]any{"alg": "HS256", "kid": "rsa-1"}, good, hs256(rsaPubPEM)),
		s.raw(map[string]any{"alg": "HS256", "kid": "ed-1"}, good, hs256(edPubJWK)),
		s.raw(map[string]any{"alg": "HS256"}, good, hs256([]byte(""))),
		// Mismatched kty: the alg names one kind of key, the kid another.
		s.raw(map[string]any{"alg": "ES256", "kid": "rsa-1"}, good, signBy(ecKey)),
		s.raw(map[string]any{"alg": "RS256", "kid": "ec-1"}, good, signBy(rsaKey)),
		s.raw(map[string]any{"alg": "EdDSA", "kid": "ec-1"}, good, signBy(edKey)),
		s.raw(map[string]any{"alg": "ES384", "kid": "ec-1"}, good, signBy(ecKey)),
		s.raw(map[string]any{"alg": "PS256", "kid": "rsa-1"}, good, signBy(rsaKey)),
		// The attacker's own key in the header.
		s.raw(map[string]any{"alg": "ES256", "jwk": embedded}, good, signBy(outsiderEC)),
		s.raw(map[string]any{"alg": "EdDSA", "kid": "ed-1", "crit": []string{"b64"}, "b64": false}, good, signBy(edKey)),
		"", ".", "..", "...", "a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		"a.b.c.d.e", `{"payload":"e30","signatures":[]}`, strings.Repeat("A", 300) + ".." + strings.Repeat("A", 300),
	}
	for _, tok := range seeds {
		f.Add(tok)
	}
	// The same claims with the signature of another token, and a token with
	// white space or padding around its parts.
	valid := seeds[2]
	i := strings.LastIndexByte(valid, '.')
	f.Add(valid[:i] + seeds[1][strings.LastIndexByte(seeds[1], '.'):])
	f.Add(valid + "=")
	f.Add(" " + valid)
	f.Add(strings.Replace(valid, ".", "=.", 1))

	ctx := context.Background()
	// The oracle is only as good as its seeds: the first five are genuine
	// and current, the outsiders' are not.
	for i, tok := range seeds[:5] {
		if _, err := v.Verify(ctx, tok); err != nil {
			f.Fatalf("seed %d, signed by a key of the set, refused: %v", i, err)
		}
	}
	for _, tok := range seeds[11:13] {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			f.Fatalf("a token signed by a key outside the set: %v, want ErrInvalidToken", err)
		}
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(ctx, token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("Verify(%q) = %v: not ErrInvalidToken or ErrInvalidIdentity", token, err)
			}
			return
		}
		dot := strings.LastIndexByte(token, '.')
		if dot < 0 {
			t.Fatalf("Verify accepted %q, which has no signature part", token)
		}
		input := token[:dot]
		h, p, ok := decodeSegments(input)
		if !s.trusted[input] && !(ok && s.trusted[h+"\x00"+p]) {
			t.Fatalf("Verify accepted %q, which no key of the set signed", token)
		}
		var header struct {
			Alg string `json:"alg"`
		}
		if err := json.Unmarshal([]byte(h), &header); err != nil || (header.Alg != "RS256" && header.Alg != "ES256" && header.Alg != "EdDSA") {
			t.Fatalf("Verify accepted %q with header %q", token, h)
		}
		if err := pii.ValidatePIDBirthdate(c.PID, c.Birthdate); err != nil || c.LOA < 0 || strings.TrimSpace(c.Name) == "" || c.Issuer != testIssuer {
			t.Fatalf("Verify accepted %q as %+v", token, c)
		}
	})
}
