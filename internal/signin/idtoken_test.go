package signin_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
	"github.com/citizenpay/gateway/internal/signin"
)

func TestIDTokenRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	forger, err := devissuer.Generate(b.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(iss *devissuer.Issuer, change map[string]any) func(map[string]any) string {
		return func(claims map[string]any) string {
			c := maps.Clone(claims)
			for k, v := range change {
				if v == nil {
					delete(c, k)
					continue
				}
				c[k] = v
			}
			tok, err := iss.Sign(c)
			if err != nil {
				t.Error(err)
			}
			return tok
		}
	}
	past := b.clock.Now().Add(-2 * time.Minute).Unix()
	tests := []struct {
		name    string
		reissue func(map[string]any) string
		want    error
	}{
		{"as issued", sign(b.issuer, nil), nil},
		{"signed by another key", sign(forger, nil), identity.ErrInvalidToken},
		{"for another client", sign(b.issuer, map[string]any{"aud": "console", "azp": "console"}), identity.ErrInvalidToken},
		{"several audiences without azp", sign(b.issuer, map[string]any{"aud": []string{clientID, "console"}, "azp": nil}), identity.ErrInvalidToken},
		{"several audiences, azp ours", sign(b.issuer, map[string]any{"aud": []string{clientID, "console"}}), nil},
		{"from another issuer", sign(b.issuer, map[string]any{"iss": "https://evil.example"}), identity.ErrInvalidToken},
		{"expired past the leeway", sign(b.issuer, map[string]any{"exp": past}), identity.ErrInvalidToken},
		{"expired within the leeway", sign(b.issuer, map[string]any{"exp": b.clock.Now().Add(-30 * time.Second).Unix()}), nil},
		{"no nonce", sign(b.issuer, map[string]any{"nonce": nil}), identity.ErrInvalidToken},
		{"loa as a string", sign(b.issuer, map[string]any{"loa": "2"}), identity.ErrInvalidToken},
		{"pid of an unknown province", sign(b.issuer, map[string]any{"pid": "003203001234"}), identity.ErrInvalidIdentity},
		{"pid disagrees with birthdate", sign(b.issuer, map[string]any{"birthdate": "2004-05-17"}), identity.ErrInvalidIdentity},
	}
	for _, tt := range tests {
		b.faults.setReissue(tt.reissue)
		kept, back := b.signIn(t, chooseFirst)
		c, err := b.rp.Finish(context.Background(), kept, back.Query())
		if tt.want == nil {
			if err != nil || c.PID != sandboxCitizen.PID {
				t.Errorf("%s: Finish = %v (pid as signed in: %v)", tt.name, err, c.PID == sandboxCitizen.PID)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Finish = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestJWKSUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.faults.jwksDown.Store(true)
	kept, back := b.signIn(t, chooseFirst)
	_, err := b.rp.Finish(context.Background(), kept, back.Query())
	if !errors.Is(err, signin.ErrUnavailable) || !errors.Is(err, identity.ErrKeysUnavailable) || errors.Is(err, identity.ErrInvalidToken) {
		t.Fatalf("Finish with the JWKS down = %v, want ErrUnavailable, not an invalid token", err)
	}
}

func TestPendingSurvivesJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, chooseFirst)
	stored, err := json.Marshal(kept)
	if err != nil {
		t.Fatal(err)
	}
	var restored signin.Pending
	if err := json.Unmarshal(stored, &restored); err != nil {
		t.Fatal(err)
	}
	if _, err := b.rp.Finish(context.Background(), restored, back.Query()); err != nil {
		t.Fatalf("Finish with the stored Pending: %v", err)
	}
}
