package identity

import (
	"context"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	rsaKey := newRSAKey(t, "rsa-1", 2048)
	ecKey := newECKey(t, "ec-1", elliptic.P256())
	edKey := newEdKey(t, "ed-1")
	weakRSA := newRSAKey(t, "rsa-weak", 1024)
	p384 := newECKey(t, "ec-384", elliptic.P384())
	stranger := newEdKey(t, "ed-1")

	srv := newJWKSServer(t, rsaKey, ecKey, edKey, weakRSA, p384)
	v, clk := newVerifier(t, srv, time.Minute)
	now := clk.Now()
	good := claimsAt(now)

	rsaPubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.priv.(*rsa.PrivateKey).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	hs256With := func(secret []byte) func([]byte) []byte {
		return func(input []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(input)
			return m.Sum(nil)
		}
	}
	// An RS256 header naming the EC key, signed by the RSA key.
	rs256AsEC := rsaKey
	ec256AsRSA := ecKey

	tests := []struct {
		name    string
		token   string
		wantErr error // nil: accepted
	}{
		{"RS256 accepted", sign(t, rsaKey, rsaKey.kid, good), nil},
		{"ES256 accepted", sign(t, ecKey, ecKey.kid, good), nil},
		{"EdDSA accepted", sign(t, edKey, edKey.kid, good), nil},
		{"aud as array accepted", sign(t, edKey, edKey.kid, with(good, map[string]any{"aud": []string{"other", testAudience}})), nil},
		{"no kid, one key of the type", sign(t, edKey, "", good), nil},
		{"expired within leeway accepted", sign(t, edKey, edKey.kid, with(good, map[string]any{"exp": now.Add(-30 * time.Second).Unix()})), nil},
		{"nbf within leeway accepted", sign(t, edKey, edKey.kid, with(good, map[string]any{"nbf": now.Add(30 * time.Second).Unix()})), nil},
		{"no nbf, no iat, no sub accepted", sign(t, edKey, edKey.kid, with(good, map[string]any{"nbf": nil, "iat": nil, "sub": nil})), nil},
		{"loa 1 accepted", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": 1})), nil},

		{"expired", sign(t, edKey, edKey.kid, with(good, map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), ErrInvalidToken},
		{"exp missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"exp": nil})), ErrInvalidToken},
		{"exp as string", sign(t, edKey, edKey.kid, with(good, map[string]any{"exp": "9999999999"})), ErrInvalidToken},
		{"not yet valid", sign(t, edKey, edKey.kid, with(good, map[string]any{"nbf": now.Add(2 * time.Minute).Unix()})), ErrInvalidToken},
		{"iat in the future", sign(t, edKey, edKey.kid, with(good, map[string]any{"iat": now.Add(2 * time.Minute).Unix()})), ErrInvalidToken},
		{"wrong iss", sign(t, edKey, edKey.kid, with(good, map[string]any{"iss": "https://evil.example"})), ErrInvalidToken},
		{"iss missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"iss": nil})), ErrInvalidToken},
		{"wrong aud", sign(t, edKey, edKey.kid, with(good, map[string]any{"aud": "someone-else"})), ErrInvalidToken},
		{"wrong aud array", sign(t, edKey, edKey.kid, with(good, map[string]any{"aud": []string{"a", "b"}})), ErrInvalidToken},
		{"aud missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"aud": nil})), ErrInvalidToken},
		{"alg none", rawToken(t, map[string]any{"alg": "none", "kid": edKey.kid}, good, func([]byte) []byte { return nil }), ErrInvalidToken},
		{"HS256 signed with the RSA public key PEM", rawToken(t, map[string]any{"alg": "HS256", "kid": rsaKey.kid}, good, hs256With(rsaPubPEM)), ErrInvalidToken},
		{"HS256 signed with the RSA public key DER", rawToken(t, map[string]any{"alg": "HS256", "kid": rsaKey.kid}, good, hs256With(rsaPubDER)), ErrInvalidToken},
		{"RS256 header with EC key", sign(t, rs256AsEC, ecKey.kid, good), ErrInvalidToken},
		{"ES256 header with RSA key", sign(t, ec256AsRSA, rsaKey.kid, good), ErrInvalidToken},
		{"RSA key under 2048 bits", sign(t, weakRSA, weakRSA.kid, good), ErrInvalidToken},
		{"ES256 header, kid of a P-384 key", sign(t, ecKey, p384.kid, good), ErrInvalidToken},
		{"ES384 refused", rawToken(t, map[string]any{"alg": "ES384", "kid": p384.kid}, good, func([]byte) []byte { return make([]byte, 96) }), ErrInvalidToken},
		{"unknown kid", sign(t, edKey, "nobody", good), ErrInvalidToken},
		{"signed by another key with a known kid", sign(t, stranger, edKey.kid, good), ErrInvalidToken},
		{"tampered payload", tamper(t, sign(t, edKey, edKey.kid, good)), ErrInvalidToken},
		{"not a JWT", "hello", ErrInvalidToken},
		{"empty", "", ErrInvalidToken},
		{"too large", strings.Repeat("a", maxTokenBytes+1), ErrInvalidToken},

		{"pid missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"pid": nil})), ErrInvalidToken},
		{"pid as number", sign(t, edKey, edKey.kid, with(good, map[string]any{"pid": 79203001234})), ErrInvalidToken},
		{"pid of 11 digits", sign(t, edKey, edKey.kid, with(good, map[string]any{"pid": "07920300123"})), ErrInvalidToken},
		{"pid with a letter", sign(t, edKey, edKey.kid, with(good, map[string]any{"pid": "07920300123A"})), ErrInvalidToken},
		{"name missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"name": nil})), ErrInvalidToken},
		{"name blank", sign(t, edKey, edKey.kid, with(good, map[string]any{"name": "  "})), ErrInvalidToken},
		{"name not a string", sign(t, edKey, edKey.kid, with(good, map[string]any{"name": 7})), ErrInvalidToken},
		{"birthdate missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"birthdate": nil})), ErrInvalidToken},
		{"birthdate not YYYY-MM-DD", sign(t, edKey, edKey.kid, with(good, map[string]any{"birthdate": "01/05/2003"})), ErrInvalidToken},
		{"birthdate not a date", sign(t, edKey, edKey.kid, with(good, map[string]any{"birthdate": "2003-02-30"})), ErrInvalidToken},
		{"loa missing", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": nil})), ErrInvalidToken},
		{"loa as string", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": "2"})), ErrInvalidToken},
		{"loa 2.5", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": 2.5})), ErrInvalidToken},
		{"loa 2.0", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": json.RawMessage("2.0")})), ErrInvalidToken},
		{"loa 2e0", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": json.RawMessage("2e0")})), ErrInvalidToken},
		{"loa negative", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": -1})), ErrInvalidToken},
		{"loa true", sign(t, edKey, edKey.kid, with(good, map[string]any{"loa": true})), ErrInvalidToken},

		{"pid with unknown province", sign(t, edKey, edKey.kid, with(good, map[string]any{"pid": "003203001234"})), ErrInvalidIdentity},
		{"pid year disagrees with birthdate", sign(t, edKey, edKey.kid, with(good, map[string]any{"birthdate": "2004-05-01"})), ErrInvalidIdentity},
		{"pid century disagrees with birthdate", sign(t, edKey, edKey.kid, with(good, map[string]any{"birthdate": "1903-05-01"})), ErrInvalidIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Verify(context.Background(), tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got.PID != testPID || got.Birthdate != testBirthdate || got.Name != "Nguyễn Văn A" || got.Issuer != testIssuer {
					t.Errorf("citizen = %+v", got)
				}
				if got.LOA < 1 || got.ExpiresAt.IsZero() {
					t.Errorf("citizen = %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if other := otherSentinel(tt.wantErr); errors.Is(err, other) {
				t.Errorf("error %v is also %v", err, other)
			}
			if strings.Contains(err.Error(), testPID) || strings.Contains(err.Error(), "003203001234") {
				t.Errorf("error text carries the pid: %v", err)
			}
		})
	}
}

func otherSentinel(err error) error {
	if err == ErrInvalidToken {
		return ErrInvalidIdentity
	}
	return ErrInvalidToken
}

// tamper changes one character of the payload.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatal("not compact")
	}
	b := []byte(parts[1])
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return parts[0] + "." + string(b) + "." + parts[2]
}

func TestVerifyCitizenFields(t *testing.T) {
	t.Parallel()
	key := newEdKey(t, "ed")
	srv := newJWKSServer(t, key)
	v, clk := newVerifier(t, srv, time.Minute)
	claims := with(claimsAt(clk.Now()), map[string]any{"loa": 3, "exp": float64(clk.Now().Add(time.Hour).Unix()) + 0.5})
	got, err := v.Verify(context.Background(), sign(t, key, key.kid, claims))
	if err != nil {
		t.Fatal(err)
	}
	want := Citizen{
		PID: testPID, Name: "Nguyễn Văn A", Birthdate: testBirthdate, LOA: 3,
		Issuer: testIssuer, Subject: "subject-1",
		ExpiresAt: time.Unix(clk.Now().Add(time.Hour).Unix(), 5e8).UTC(),
	}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestVerifyFileJWKS(t *testing.T) {
	t.Parallel()
	rsaKey := newRSAKey(t, "rsa", 2048)
	ecKey := newECKey(t, "ec", elliptic.P256())
	edKey := newEdKey(t, "ed")
	v, err := NewVerifier(Config{Issuer: testIssuer, Audience: testAudience, JWKSURL: writeJWKSFile(t, rsaKey, ecKey, edKey)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, k := range []testKey{rsaKey, ecKey, edKey} {
		if _, err := v.Verify(context.Background(), sign(t, k, k.kid, claimsAt(now))); err != nil {
			t.Errorf("%s: %v", k.alg, err)
		}
	}
	if _, err := v.Verify(context.Background(), sign(t, edKey, "other", claimsAt(now))); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("unknown kid: %v", err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		url         string
		development bool
		issuer      string
		audience    string
		wantErr     string // substring; empty: accepted
	}{
		{"https", "https://idp.example/jwks.json", false, testIssuer, testAudience, ""},
		{"file", "file:///etc/idp/jwks.json", false, testIssuer, testAudience, ""},
		{"http in development", "http://127.0.0.1:8091/.well-known/jwks.json", true, testIssuer, testAudience, ""},
		{"http refused in production", "http://idp.example/jwks.json", false, testIssuer, testAudience, "IDP_JWKS_URL"},
		{"ftp refused", "ftp://idp.example/jwks.json", true, testIssuer, testAudience, "IDP_JWKS_URL"},
		{"relative file refused", "file://jwks.json", false, testIssuer, testAudience, "IDP_JWKS_URL"},
		{"opaque file refused", "file:jwks.json", false, testIssuer, testAudience, "IDP_JWKS_URL"},
		{"https without host", "https:///jwks.json", false, testIssuer, testAudience, "IDP_JWKS_URL"},
		{"missing url", "", false, testIssuer, testAudience, "IDP_JWKS_URL"},
		{"missing issuer", "https://idp.example/jwks.json", false, "", testAudience, "IDP_ISSUER"},
		{"missing audience", "https://idp.example/jwks.json", false, testIssuer, "", "IDP_AUDIENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewVerifier(Config{Issuer: tt.issuer, Audience: tt.audience, JWKSURL: tt.url, Development: tt.development})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewVerifier: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewVerifier error = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}
