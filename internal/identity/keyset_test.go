package identity

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestClaimRulesCitizen(t *testing.T) {
	t.Parallel()
	now := time.Now()
	rules := ClaimRules{Issuer: testIssuer, Audience: "client-1"}
	good := with(claimsAt(now), map[string]any{"aud": "client-1"})
	payload := func(c map[string]any) []byte {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	c, err := rules.Citizen(payload(good), now)
	if err != nil {
		t.Fatalf("Citizen: %v", err)
	}
	if c.PID != testPID || c.LOA != 2 || c.Subject != "subject-1" {
		t.Errorf("citizen = %+v", c)
	}

	tests := []struct {
		name    string
		rules   ClaimRules
		claims  map[string]any
		at      time.Time
		wantErr error
	}{
		{"audience is the rules' own", rules, claimsAt(now), now, ErrInvalidToken},
		{"no issuer configured", ClaimRules{Audience: "client-1"}, with(good, map[string]any{"iss": ""}), now, ErrInvalidToken},
		{"no audience configured", ClaimRules{Issuer: testIssuer}, with(good, map[string]any{"aud": ""}), now, ErrInvalidToken},
		{"zero leeway means the default", rules, good, now.Add(time.Hour + 30*time.Second), nil},
		{"expired past the leeway", rules, good, now.Add(time.Hour + 2*time.Minute), ErrInvalidToken},
		{"explicit leeway", ClaimRules{Issuer: testIssuer, Audience: "client-1", Leeway: 5 * time.Minute}, good, now.Add(time.Hour + 2*time.Minute), nil},
		{"bad pid", rules, with(good, map[string]any{"pid": "003203001234"}), now, ErrInvalidIdentity},
		{"not JSON", rules, nil, now, ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := []byte("not json")
			if tt.claims != nil {
				p = payload(tt.claims)
			}
			_, err := tt.rules.Citizen(p, tt.at)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Citizen: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Citizen error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestKeySetVerifySignature(t *testing.T) {
	t.Parallel()
	edKey := newEdKey(t, "ed-1")
	ecKey := newECKey(t, "ec-1", elliptic.P256())
	srv := newJWKSServer(t, edKey, ecKey)
	ks, err := NewKeySet(KeySetConfig{JWKSURL: srv.srv.URL + "/jwks.json", HTTPClient: srv.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	claims := claimsAt(time.Now())

	payload, err := ks.VerifySignature(ctx, sign(t, edKey, edKey.kid, claims))
	if err != nil {
		t.Fatalf("VerifySignature: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil || got["pid"] != testPID {
		t.Errorf("payload = %s (%v)", payload, err)
	}
	if _, err := ks.VerifySignature(ctx, sign(t, ecKey, edKey.kid, claims)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("ES256 under an Ed25519 kid: %v, want ErrInvalidToken", err)
	}
	if _, err := ks.VerifySignature(ctx, tamper(t, sign(t, edKey, edKey.kid, claims))); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("tampered: %v, want ErrInvalidToken", err)
	}
}

func TestKeySetUnavailable(t *testing.T) {
	t.Parallel()
	edKey := newEdKey(t, "ed-1")
	srv := newJWKSServer(t, edKey)
	srv.status.Store(http.StatusServiceUnavailable)
	ks, err := NewKeySet(KeySetConfig{JWKSURL: srv.srv.URL + "/jwks.json", HTTPClient: srv.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ks.VerifySignature(context.Background(), sign(t, edKey, edKey.kid, claimsAt(time.Now())))
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifySignature with the JWKS down: %v, want ErrKeysUnavailable only", err)
	}
}

func TestNewKeySetConfig(t *testing.T) {
	t.Parallel()
	if _, err := NewKeySet(KeySetConfig{JWKSURL: "http://idp.example/jwks.json"}); err == nil {
		t.Error("http JWKS accepted outside development")
	}
	if _, err := NewKeySet(KeySetConfig{JWKSURL: "http://idp.example/jwks.json", Development: true}); err != nil {
		t.Errorf("http JWKS in development: %v", err)
	}
	if _, err := NewKeySet(KeySetConfig{JWKSURL: "https://idp.example/jwks.json", RefreshMinInterval: -time.Second}); err == nil {
		t.Error("negative refresh interval accepted")
	}
}
