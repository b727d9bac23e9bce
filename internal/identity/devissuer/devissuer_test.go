package devissuer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

const (
	goodPID       = "079203001234"
	goodBirthdate = "2003-05-01"
)

// bundle is a devidp handler served over HTTP, with a verifier that trusts it.
type bundle struct {
	issuer *devissuer.Issuer
	url    string
}

func setup(t *testing.T) bundle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devissuer.Generate("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: iss.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return bundle{issuer: iss, url: srv.URL}
}

func (b bundle) verifier(t *testing.T, audience string) *identity.Verifier {
	t.Helper()
	// Discover the JWKS the way an operator would configure the gateway.
	resp, err := http.Get(b.url + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != b.url || disc.JWKSURI != b.url+"/.well-known/jwks.json" {
		t.Fatalf("discovery = %+v", disc)
	}
	v, err := identity.NewVerifier(identity.Config{
		Issuer: disc.Issuer, Audience: audience, JWKSURL: disc.JWKSURI, Development: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// postToken posts body to /token and decodes the answer into out.
func (b bundle) postToken(t *testing.T, body string, out any) int {
	t.Helper()
	resp, err := http.Post(b.url+"/token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func TestHandlerMintsTokensTheVerifierAccepts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		body     string
		audience string
		wantLOA  int
		wantTTL  int64
	}{
		{"defaults", `{"pid":"079203001234","name":"Nguyen Van A","birthdate":"2003-05-01"}`, devissuer.DefaultAudience, 2, 3600},
		{"explicit", `{"pid":"079203001234","name":"Nguyen Van A","birthdate":"2003-05-01","loa":1,"audience":"other-gw","ttl_seconds":60}`, "other-gw", 1, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got tokenResponse
			if status := b.postToken(t, tt.body, &got); status != http.StatusOK {
				t.Fatalf("status = %d", status)
			}
			if got.TokenType != "Bearer" || got.ExpiresIn != tt.wantTTL || got.AccessToken == "" {
				t.Fatalf("response = %+v", got)
			}
			c, err := b.verifier(t, tt.audience).Verify(context.Background(), got.AccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.PID != goodPID || c.Name != "Nguyen Van A" || c.Birthdate != goodBirthdate || c.LOA != tt.wantLOA || c.Issuer != b.url {
				t.Errorf("citizen = %+v", c)
			}
			if c.Subject == "" || strings.Contains(c.Subject, goodPID) {
				t.Errorf("subject = %q", c.Subject)
			}
			if d := time.Until(c.ExpiresAt); d <= 0 || d > time.Duration(tt.wantTTL)*time.Second {
				t.Errorf("expires in %s, want ≤ %ds", d, tt.wantTTL)
			}
			// A verifier expecting another audience refuses it.
			if _, err := b.verifier(t, "not-"+tt.audience).Verify(context.Background(), got.AccessToken); !errors.Is(err, identity.ErrInvalidToken) {
				t.Errorf("Verify with another audience = %v", err)
			}
		})
	}
}

func TestHandlerRefusesBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		body     string
		wantCode string
	}{
		{"unknown province", `{"pid":"003203001234","name":"A","birthdate":"2003-05-01"}`, "invalid_pid"},
		{"pid disagrees with birthdate", `{"pid":"079203001234","name":"A","birthdate":"2004-05-01"}`, "invalid_pid"},
		{"pid too short", `{"pid":"07920300123","name":"A","birthdate":"2003-05-01"}`, "invalid_pid"},
		{"birthdate malformed", `{"pid":"079203001234","name":"A","birthdate":"01/05/2003"}`, "invalid_request"},
		{"name missing", `{"pid":"079203001234","birthdate":"2003-05-01"}`, "invalid_request"},
		{"loa zero", `{"pid":"079203001234","name":"A","birthdate":"2003-05-01","loa":0}`, "invalid_request"},
		{"loa as string", `{"pid":"079203001234","name":"A","birthdate":"2003-05-01","loa":"2"}`, "invalid_request"},
		{"ttl zero", `{"pid":"079203001234","name":"A","birthdate":"2003-05-01","ttl_seconds":0}`, "invalid_request"},
		{"ttl over a day", `{"pid":"079203001234","name":"A","birthdate":"2003-05-01","ttl_seconds":86401}`, "invalid_request"},
		{"unknown field", `{"pid":"079203001234","name":"A","birthdate":"2003-05-01","admin":true}`, "invalid_request"},
		{"two objects", `{"pid":"079203001234","name":"A","birthdate":"2003-05-01"}{}`, "invalid_request"},
		{"not JSON", `pid=079203001234`, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got errorResponse
			if status := b.postToken(t, tt.body, &got); status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", status)
			}
			if got.Error != tt.wantCode || got.Description == "" {
				t.Errorf("error = %+v, want code %s", got, tt.wantCode)
			}
			if strings.Contains(got.Description, "079203001234") || strings.Contains(got.Description, "003203001234") {
				t.Errorf("description quotes the pid: %q", got.Description)
			}
		})
	}
}

func TestHandlerRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.url + "/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token = %d, want 405", resp.StatusCode)
	}
	resp, err = http.Get(b.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body.Bytes(), b.issuer.JWKS()) {
		t.Errorf("jwks = %d %s", resp.StatusCode, body.String())
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("keys = %v", set.Keys)
	}
	k := set.Keys[0]
	if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" || k["kid"] != b.issuer.KeyID() {
		t.Errorf("jwk = %v", k)
	}
	if _, private := k["d"]; private {
		t.Error("JWKS publishes the private key")
	}
}

func TestMint(t *testing.T) {
	t.Parallel()
	iss, err := devissuer.Generate("https://idp.dev.test")
	if err != nil {
		t.Fatal(err)
	}
	good := devissuer.Claims{PID: goodPID, Name: "Nguyen Van A", Birthdate: goodBirthdate}
	tests := []struct {
		name    string
		change  func(*devissuer.Claims)
		wantErr error
	}{
		{"defaults", func(*devissuer.Claims) {}, nil},
		{"bad pid", func(c *devissuer.Claims) { c.PID = "003203001234" }, devissuer.ErrInvalidPID},
		{"pid disagrees with birthdate", func(c *devissuer.Claims) { c.Birthdate = "2004-05-01" }, devissuer.ErrInvalidPID},
		{"no name", func(c *devissuer.Claims) { c.Name = " " }, devissuer.ErrInvalidClaims},
		{"bad birthdate", func(c *devissuer.Claims) { c.Birthdate = "2003-5-1" }, devissuer.ErrInvalidClaims},
		{"negative loa", func(c *devissuer.Claims) { c.LOA = -1 }, devissuer.ErrInvalidClaims},
		{"ttl too long", func(c *devissuer.Claims) { c.TTL = 25 * time.Hour }, devissuer.ErrInvalidClaims},
		{"ttl negative", func(c *devissuer.Claims) { c.TTL = -time.Minute }, devissuer.ErrInvalidClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.change(&c)
			tok, err := iss.Mint(c)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Mint error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && strings.Count(tok, ".") != 2 {
				t.Errorf("token = %q", tok)
			}
		})
	}
}

func TestSignMakesTokensTheGatewayRefuses(t *testing.T) {
	t.Parallel()
	iss, err := devissuer.Generate("https://idp.dev.test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, iss.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewVerifier(identity.Config{Issuer: iss.Issuer(), Audience: devissuer.DefaultAudience, JWKSURL: "file://" + path})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	claims := map[string]any{
		"iss": iss.Issuer(), "aud": devissuer.DefaultAudience, "exp": now + 60,
		"pid": "003203001234", "name": "A", "birthdate": goodBirthdate, "loa": 2,
	}
	tok, err := iss.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, identity.ErrInvalidIdentity) {
		t.Errorf("bad pid: %v, want ErrInvalidIdentity", err)
	}
	claims["pid"], claims["loa"] = goodPID, "2"
	if tok, err = iss.Sign(claims); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, identity.ErrInvalidToken) {
		t.Errorf("loa as string: %v, want ErrInvalidToken", err)
	}
}

func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nested", "devidp", "key.json")

	// Many processes' worth of callers racing on a missing file agree on one key.
	kids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range kids {
		wg.Go(func() {
			iss, err := devissuer.LoadOrCreate(path, "http://127.0.0.1:8091")
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = iss.KeyID()
		})
	}
	wg.Wait()
	for _, kid := range kids {
		if kid == "" || kid != kids[0] {
			t.Fatalf("kids = %v", kids)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key", len(entries))
	}

	again, err := devissuer.LoadOrCreate(path, "https://other.example")
	if err != nil {
		t.Fatal(err)
	}
	if again.KeyID() != kids[0] || again.Issuer() != "https://other.example" {
		t.Errorf("reloaded kid %s issuer %s", again.KeyID(), again.Issuer())
	}
}

func TestLoadOrCreateRefusesBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
	}{
		{"not JSON", "nope"},
		{"public key only", `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`},
		{"symmetric key", `{"kty":"oct","k":"c2VjcmV0"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := devissuer.LoadOrCreate(path, "http://127.0.0.1:8091"); err == nil {
				t.Fatal("LoadOrCreate accepted it")
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Error("LoadOrCreate replaced an existing file")
			}
		})
	}
}

func TestNewRefusesBadInput(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, issuer := range []string{"", "127.0.0.1:8091", "ftp://idp", "http://"} {
		if _, err := devissuer.New(key, issuer); err == nil {
			t.Errorf("New accepted issuer %q", issuer)
		}
	}
	if _, err := devissuer.New(key[:10], "http://127.0.0.1:8091"); err == nil {
		t.Error("New accepted a short key")
	}
}
