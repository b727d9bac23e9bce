package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/portal"
)

// ctlJSON runs gatewayctl with args against h's database and decodes its JSON
// output into out.
func ctlJSON(t *testing.T, h *apitest.Harness, out any, args ...string) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": "development"}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("gatewayctl %v: %v (%s)", args, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("gatewayctl %v printed %q: %v", args, stdout.String(), err)
	}
}

// listAs sends a signed GET as p with secret and returns the status.
func listAs(h *apitest.Harness, p *portal.Portal, secret string) int {
	h.T.Helper()
	return h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Portal: p, Secret: secret}).Status
}

func TestPortalRotateSecret(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx := context.Background()

	// Without --revoke-old the old secret keeps working for the grace.
	kept := h.NewPortal("Kept")
	var rotated struct {
		Secret  string     `json:"secret"`
		Revoked bool       `json:"previous_secret_revoked"`
		Until   *time.Time `json:"previous_secret_valid_until"`
	}
	ctlJSON(t, h, &rotated, "portal", "rotate-secret", "--by", "tester", "--portal", kept.ID)
	if rotated.Revoked || rotated.Until == nil || time.Until(*rotated.Until) < 23*time.Hour {
		t.Fatalf("rotate: %+v", rotated)
	}
	for _, secret := range []string{rotated.Secret, kept.Secret} {
		if got := listAs(h, kept, secret); got != http.StatusOK {
			t.Errorf("grace: a request signed with %s…: %d, want 200", secret[:8], got)
		}
	}

	// With --revoke-old only the new secret works, at once; the one still
	// in an earlier rotation's grace stops too.
	p := h.NewPortal("Compromised")
	var first, second struct {
		Secret  string     `json:"secret"`
		Revoked bool       `json:"previous_secret_revoked"`
		Until   *time.Time `json:"previous_secret_valid_until"`
	}
	ctlJSON(t, h, &first, "portal", "rotate-secret", "--by", "tester", "--portal", p.ID)
	ctlJSON(t, h, &second, "portal", "rotate-secret", "--by", "tester", "--portal", p.KeyID, "--revoke-old")
	if !second.Revoked || second.Until != nil || second.Secret == first.Secret || !strings.HasPrefix(second.Secret, "psk_") {
		t.Fatalf("rotate --revoke-old: %+v", second)
	}
	read, err := h.App.Portals.ByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := read.SigningSecrets(time.Now()); !slices.Equal(got, []string{second.Secret}) {
		t.Fatalf("signing secrets after --revoke-old: %d of them, want the new one only", len(got))
	}
	for _, old := range []string{p.Secret, first.Secret} {
		if got := listAs(h, p, old); got != http.StatusUnauthorized {
			t.Errorf("a request signed with a revoked secret %s…: %d, want 401", old[:8], got)
		}
	}
	if got := listAs(h, p, second.Secret); got != http.StatusOK {
		t.Errorf("a request signed with the new secret: %d, want 200", got)
	}
}

func TestPortalRotateWebhookSecret(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx := context.Background()
	type rotation struct {
		Secret  string     `json:"webhook_secret"`
		Revoked bool       `json:"previous_webhook_secret_revoked"`
		Until   *time.Time `json:"dual_signing_until"`
	}

	var dual rotation
	ctlJSON(t, h, &dual, "portal", "rotate-webhook-secret", "--by", "tester", "--portal", h.Portal.ID)
	read, err := h.App.Portals.ByID(ctx, h.Portal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dual.Revoked || dual.Until == nil || !slices.Equal(read.WebhookSecrets(time.Now()), []string{dual.Secret, h.Portal.WebhookSecret}) {
		t.Fatalf("rotate: %+v; webhooks not signed with both secrets", dual)
	}

	var revoked rotation
	ctlJSON(t, h, &revoked, "portal", "rotate-webhook-secret", "--by", "tester", "--portal", h.Portal.ID, "--revoke-old")
	if read, err = h.App.Portals.ByID(ctx, h.Portal.ID); err != nil {
		t.Fatal(err)
	}
	if !revoked.Revoked || revoked.Until != nil || !strings.HasPrefix(revoked.Secret, "whsec_") {
		t.Fatalf("rotate --revoke-old: %+v", revoked)
	}
	if got := read.WebhookSecrets(time.Now()); !slices.Equal(got, []string{revoked.Secret}) {
		t.Fatalf("webhooks signed with %d secrets after --revoke-old, want the new one only", len(got))
	}
}

func TestBankRotateSecretRevokeOld(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx := context.Background()
	callback := func(b *apitest.Bank, secret string) *apitest.Response {
		return h.Callback(b, secret, time.Time{}, map[string]any{
			"event_id": "evt_" + secret[4:20], "type": "statement_ready", "occurred_at": time.Now().UTC().Format(time.RFC3339), "data": map[string]any{},
		})
	}
	type rotation struct {
		Secret  string     `json:"secret"`
		Revoked bool       `json:"previous_secret_revoked"`
		Until   *time.Time `json:"previous_secret_valid_until"`
	}

	kept := h.NewBank("KEPT")
	var graced rotation
	ctlJSON(t, h, &graced, "bank", "rotate-secret", "--by", "tester", "--code", kept.Code)
	if graced.Revoked || graced.Until == nil {
		t.Fatalf("rotate: %+v", graced)
	}
	if r := callback(kept, kept.Secret); r.Status == http.StatusUnauthorized {
		t.Errorf("grace: a callback signed with the old secret: %d %s", r.Status, r.Body)
	}

	b := h.NewBank("LEAK")
	var first, second rotation
	ctlJSON(t, h, &first, "bank", "rotate-secret", "--by", "tester", "--code", b.Code)
	ctlJSON(t, h, &second, "bank", "rotate-secret", "--by", "tester", "--code", b.Code, "--revoke-old")
	if !second.Revoked || second.Until != nil || !strings.HasPrefix(second.Secret, "bsk_") || second.Secret == first.Secret {
		t.Fatalf("rotate --revoke-old: %+v", second)
	}
	read, err := h.App.Banks.Fresh(ctx, b.Code)
	if err != nil {
		t.Fatal(err)
	}
	if got := read.SigningSecrets(time.Now()); !slices.Equal(got, []string{second.Secret}) {
		t.Fatalf("signing secrets after --revoke-old: %d of them, want the new one only", len(got))
	}
	for _, old := range []string{b.Secret, first.Secret} {
		if r := callback(b, old); r.Status != http.StatusUnauthorized || r.Code() != "invalid_signature" {
			t.Errorf("a callback signed with a revoked secret: %d %s, want 401 invalid_signature", r.Status, r.Body)
		}
	}
	if r := callback(b, second.Secret); r.Status == http.StatusUnauthorized {
		t.Errorf("a callback signed with the new secret: %d %s", r.Status, r.Body)
	}
}
