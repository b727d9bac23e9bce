package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// bankctl runs gatewayctl bank … in environment gatewayEnv and decodes its
// JSON output into out.
func bankctl(t *testing.T, h *apitest.Harness, gatewayEnv string, out any, args ...string) error {
	t.Helper()
	env := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": gatewayEnv}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"bank"}, args...), func(k string) string { return env[k] },
		strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("gatewayctl bank %v printed %q: %v", args, stdout.String(), err)
	}
	return nil
}

// TestBankOnboardingEndToEnd onboards a sandbox bank with gatewayctl, gives
// the bank the secret it printed, and links an account there.
func TestBankOnboardingEndToEnd(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, apitest.WithEnv("GATEWAY_WORKERS", "true"))
	var sim *banksim.Server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sim.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)

	var created struct {
		BankCode string `json:"bank_code"`
		Secret   string `json:"secret"`
	}
	if err := bankctl(t, h, "development", &created, "create", "--by", "tester", "--code", "SBX", "--name", "Sandbox", "--base-url", srv.URL+"/api/gw/"); err != nil {
		t.Fatal(err)
	}
	if created.BankCode != "SBX" || !strings.HasPrefix(created.Secret, "bsk_") {
		t.Fatalf("create: %+v", created)
	}
	var sealed []byte
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT secret_sealed FROM banks WHERE code = 'SBX'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(created.Secret)) || bytes.Contains(sealed, []byte(created.Secret[4:20])) {
		t.Fatal("the secret is stored in clear")
	}

	c := idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, c)
	var err error
	sim, err = banksim.New(banksim.Config{BankCode: "SBX", Secret: created.Secret, BasePath: "/api/gw", Accounts: []banksim.Account{acc},
		CallbackURL: h.Server.URL + "/v1/bank-callbacks/SBX"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	r := h.AsCitizen(c.Token, http.MethodPost, "/v1/me/accounts", "link", map[string]string{"bank_code": "SBX", "account_number": acc.Number})
	if r.Status != http.StatusAccepted {
		t.Fatalf("link: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	testenv.Eventually(t, 15*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM linked_accounts WHERE id = $1 AND status = 'active'`, id) == 1
	}, "the account to become active")

	var list []map[string]any
	if err := bankctl(t, h, "development", &list, "list"); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0]["bank_code"] != "SBX" || list[0]["base_url"] != srv.URL+"/api/gw" || list[0]["secret"] != nil {
		t.Fatalf("list: %v", list)
	}
	var rotated map[string]any
	if err := bankctl(t, h, "development", &rotated, "rotate-secret", "--by", "tester", "--code", "SBX"); err != nil {
		t.Fatal(err)
	}
	if s, _ := rotated["secret"].(string); !strings.HasPrefix(s, "bsk_") || s == created.Secret || rotated["previous_secret_valid_until"] == nil {
		t.Fatalf("rotate: %v", rotated)
	}
	if err := bankctl(t, h, "development", &list, "list"); err != nil || list[0]["previous_secret_valid_until"] == nil {
		t.Fatalf("list after rotation: %v, %v", list, err)
	}
}

func TestBankCommandRefusals(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	var out map[string]any
	if err := bankctl(t, h, "production", &out, "create", "--by", "tester", "--code", "VCB", "--name", "Vietcombank", "--base-url", "https://10.0.0.8/gw"); err != nil {
		t.Fatalf("a private address over https: %v", err)
	}
	tests := []struct {
		name, env string
		args      []string
		says      string
	}{
		{"http in production", "production", []string{"create", "--by", "tester", "--code", "ACB", "--name", "A", "--base-url", "http://10.0.0.9/gw"}, "https"},
		{"bad code", "development", []string{"create", "--by", "tester", "--code", "acb", "--name", "A", "--base-url", "https://a.example"}, "code"},
		{"no name", "development", []string{"create", "--by", "tester", "--code", "ACB", "--base-url", "https://a.example"}, "name"},
		{"query in the URL", "development", []string{"create", "--by", "tester", "--code", "ACB", "--name", "A", "--base-url", "https://a.example/?x=1"}, "query"},
		{"taken code", "development", []string{"create", "--by", "tester", "--code", "VCB", "--name", "V", "--base-url", "https://b.example"}, "already"},
		{"rotate an unknown bank", "development", []string{"rotate-secret", "--by", "tester", "--code", "NOPE"}, "no bank"},
		{"rotate without a code", "development", []string{"rotate-secret", "--by", "tester"}, "--code"},
		{"unknown subcommand", "development", []string{"delete"}, "unknown command: delete"},
	}
	for _, tt := range tests {
		err := bankctl(t, h, tt.env, &out, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.says)
		}
	}
	if n := h.Count(`SELECT count(*) FROM banks`); n != 1 {
		t.Fatalf("%d banks", n)
	}
}
