package identity

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// A citizen whose pid satisfies the CCCD rules: province 079, digit 2 (2000s,
// male), year 03.
const (
	testPID       = "079203001234"
	testBirthdate = "2003-05-01"
	testIssuer    = "https://idp.example.test"
	testAudience  = "citizenpay-gateway"
)

// testKey is a signing key and its public JWK.
type testKey struct {
	alg  jose.SignatureAlgorithm
	kid  string
	priv any
	pub  jose.JSONWebKey
}

func newRSAKey(t *testing.T, kid string, bits int) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: jose.RS256, kid: kid, priv: k, pub: jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "sig"}}
}

func newECKey(t *testing.T, kid string, curve elliptic.Curve) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: jose.ES256, kid: kid, priv: k, pub: jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "sig"}}
}

func newEdKey(t *testing.T, kid string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{alg: jose.EdDSA, kid: kid, priv: priv, pub: jose.JSONWebKey{Key: pub, KeyID: kid, Use: "sig"}}
}

// sign signs claims with k, naming kid in the header (no kid when empty).
func sign(t *testing.T, k testKey, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawToken assembles a compact JWS from a header, claims and signature
// computed by the caller, for tokens no honest library would produce.
func rawToken(t *testing.T, header map[string]any, claims map[string]any, signFn func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	return input + "." + enc.EncodeToString(signFn([]byte(input)))
}

// claimsAt returns valid claims for the test citizen, issued at now.
func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss":       testIssuer,
		"sub":       "subject-1",
		"aud":       testAudience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"pid":       testPID,
		"name":      "Nguyễn Văn A",
		"birthdate": testBirthdate,
		"loa":       2,
	}
}

// with returns a copy of claims with changes applied; a nil value deletes.
func with(claims map[string]any, changes map[string]any) map[string]any {
	out := make(map[string]any, len(claims))
	for k, v := range claims {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// jwksServer serves a JWKS that tests can change, counting fetches.
type jwksServer struct {
	srv     *httptest.Server
	fetches atomic.Int64
	status  atomic.Int64 // 0 means 200

	mu   sync.Mutex
	keys []jose.JSONWebKey
}

func newJWKSServer(t *testing.T, keys ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(keys...)
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if st := s.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		s.mu.Lock()
		body, err := json.Marshal(jose.JSONWebKeySet{Keys: s.keys})
		s.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(keys ...testKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[:0]
	for _, k := range keys {
		s.keys = append(s.keys, k.pub)
	}
}

// writeJWKSFile writes keys to a file and returns its file:// URL.
func writeJWKSFile(t *testing.T, keys ...testKey) string {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.pub)
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newVerifier builds a Verifier on srv with a settable clock.
func newVerifier(t *testing.T, srv *jwksServer, interval time.Duration) (*Verifier, *clock) {
	t.Helper()
	v, err := NewVerifier(Config{
		Issuer:             testIssuer,
		Audience:           testAudience,
		JWKSURL:            srv.srv.URL + "/jwks.json",
		HTTPClient:         srv.srv.Client(),
		RefreshMinInterval: interval,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	v.now = c.Now
	return v, c
}
