package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/testenv"
)

// noEnv is an empty environment.
func noEnv(string) string { return "" }

func TestTokenVerifiesAgainstPrintedJWKS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.json")
	ctx := context.Background()

	var tok, stderr bytes.Buffer
	err := run(ctx, []string{"token", "--key-file", keyFile, "--pid", "079203001234", "--name", "Nguyen Van A",
		"--birthdate", "2003-05-01", "--loa", "1", "--ttl", "10m"}, noEnv, &tok, &stderr)
	if err != nil {
		t.Fatalf("token: %v (%s)", err, stderr.String())
	}
	var jwks bytes.Buffer
	if err := run(ctx, []string{"jwks", "--key-file", keyFile}, noEnv, &jwks, &stderr); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	jwksPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, jwks.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewVerifier(identity.Config{Issuer: "http://127.0.0.1:8091", Audience: "citizenpay-gateway", JWKSURL: "file://" + jwksPath})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, strings.TrimSpace(tok.String()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.PID != "079203001234" || c.LOA != 1 || c.Name != "Nguyen Van A" {
		t.Errorf("citizen = %+v", c)
	}
	if d := time.Until(c.ExpiresAt); d <= 9*time.Minute || d > 10*time.Minute {
		t.Errorf("expires in %s, want about 10m", d)
	}
}

func TestTokenRefusesBadInput(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key.json")
	tests := []struct {
		name string
		args []string
	}{
		{"bad pid", []string{"--pid", "003203001234", "--name", "A", "--birthdate", "2003-05-01"}},
		{"pid disagrees with birthdate", []string{"--pid", "079203001234", "--name", "A", "--birthdate", "2004-05-01"}},
		{"no name", []string{"--pid", "079203001234", "--birthdate", "2003-05-01"}},
		{"loa zero", []string{"--pid", "079203001234", "--name", "A", "--birthdate", "2003-05-01", "--loa", "0"}},
		{"stray argument", []string{"--pid", "079203001234", "--name", "A", "--birthdate", "2003-05-01", "extra"}},
		{"unknown flag", []string{"--admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			args := append([]string{"token", "--key-file", keyFile}, tt.args...)
			if err := run(context.Background(), args, noEnv, &stdout, &stderr); err == nil {
				t.Fatal("run accepted it")
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestRunRefusesUnknownSubcommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{nil, {"mint"}} {
		if err := run(context.Background(), args, noEnv, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) accepted it", args)
		}
	}
}

// syncBuffer lets the test read what serve logs while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "key.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--issuer", "http://devidp.test", "--key-file", keyFile}, noEnv, &stdout, &stderr)
	}()

	addrRE := regexp.MustCompile(`devidp serving" addr=(127\.0\.0\.1:\d+)`)
	var base string
	testenv.Eventually(t, 5*time.Second, func() bool {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
		}
		return base != ""
	}, "serve did not start")

	resp, err := http.Post(base+"/token", "application/json",
		strings.NewReader(`{"pid":"079203001234","name":"Nguyen Van A","birthdate":"2003-05-01"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /token: %d %v", resp.StatusCode, err)
	}
	v, err := identity.NewVerifier(identity.Config{
		Issuer: "http://devidp.test", Audience: "citizenpay-gateway",
		JWKSURL: base + "/.well-known/jwks.json", Development: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok.AccessToken); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	// The CLI signs with the same key file, so its tokens verify too.
	var cliTok bytes.Buffer
	if err := run(context.Background(), []string{"token", "--key-file", keyFile, "--issuer", "http://devidp.test",
		"--pid", "079203001234", "--name", "A", "--birthdate", "2003-05-01"}, noEnv, &cliTok, &stderr); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), strings.TrimSpace(cliTok.String())); err != nil {
		t.Fatalf("Verify CLI token: %v", err)
	}

	// serve is an OpenID Connect provider too.
	resp, err = http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if err != nil || disc.AuthorizationEndpoint != "http://devidp.test/oauth2/authorize" || disc.TokenEndpoint != "http://devidp.test/oauth2/token" {
		t.Errorf("discovery = %+v (%v)", disc, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get(base + "/.well-known/jwks.json"); err == nil {
		t.Errorf("server still answers after shutdown: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"127.0.0.1:8091": true, "localhost:8091": true, "[::1]:8091": true,
		":8091": false, "0.0.0.0:8091": false, "10.0.0.5:8091": false, "nonsense": false,
	}
	for addr, want := range tests {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
