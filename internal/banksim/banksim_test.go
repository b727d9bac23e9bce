package banksim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/signature"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	good := func() Config {
		return Config{BankCode: "SBX", Secret: testSecret, Accounts: []Account{{Number: testAccount, HolderPID: testPID}}}
	}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no secret", func(c *Config) { c.Secret = "" }},
		{"no bank code", func(c *Config) { c.BankCode = "" }},
		{"relative callback URL", func(c *Config) { c.CallbackURL = "/v1/bank-callbacks/SBX" }},
		{"short account number", func(c *Config) { c.Accounts[0].Number = "12345" }},
		{"letters in account number", func(c *Config) { c.Accounts[0].Number = "00710001234x" }},
		{"duplicate account", func(c *Config) {
			c.Accounts = append(c.Accounts, Account{Number: "0071-000-123456", HolderPID: poorPID})
		}},
		{"no holder pid", func(c *Config) { c.Accounts[0].HolderPID = "" }},
		{"negative balance", func(c *Config) { c.Accounts[0].Balance = decimal.NewFromInt(-1) }},
		{"failure rate over 1", func(c *Config) { c.Knobs.FailureRate = 1.5 }},
		{"base path with a wildcard", func(c *Config) { c.BasePath = "/api/{x}" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good()
			tt.edit(&cfg)
			if _, err := New(cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	if _, err := New(good()); err != nil {
		t.Fatalf("the good config: %v", err)
	}
}

func TestSignatureRequired(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	body := debitBody("pa_sig", testAccount, testPID, "1000")
	target := b.srv.URL + "/v1/debits"
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set(signature.HeaderIdempotencyKey, "pa_sig")
		return req
	}
	tests := []struct {
		name string
		sign func(*http.Request)
	}{
		{"unsigned", func(*http.Request) {}},
		{"wrong secret", func(r *http.Request) { signature.SignRequest(r, "bsk_forged", []byte(body), time.Now()) }},
		{"stale timestamp", func(r *http.Request) {
			signature.SignRequest(r, testSecret, []byte(body), time.Now().Add(-signature.MaxSkew-time.Minute))
		}},
		{"signed another body", func(r *http.Request) { signature.SignRequest(r, testSecret, []byte(body+" "), time.Now()) }},
		{"signed another key", func(r *http.Request) {
			r.Header.Set(signature.HeaderIdempotencyKey, "pa_other")
			signature.SignRequest(r, testSecret, []byte(body), time.Now())
			r.Header.Set(signature.HeaderIdempotencyKey, "pa_sig")
		}},
	}
	for _, tt := range tests {
		req := newReq()
		tt.sign(req)
		status, _, out := send(t, req)
		if status != http.StatusUnauthorized || problemCode(t, out) != "invalid_signature" {
			t.Errorf("%s: got %d %s, want 401 invalid_signature", tt.name, status, out)
		}
	}
	// A signed status GET is the control: the refused POSTs never arrived.
	if status, _, _ := b.do(t, http.MethodGet, "/v1/debits/pa_sig", "", ""); status != http.StatusNotFound {
		t.Fatalf("status GET: %d, want 404", status)
	}
	if got := b.bank.Balance(testAccount); !got.Equal(decimal.NewFromInt(1000000)) {
		t.Fatalf("balance %s changed", got)
	}
	if st := b.bank.Stats(); st.Unauthorized != len(tests) {
		t.Fatalf("unauthorized = %d, want %d", st.Unauthorized, len(tests))
	}
}

func TestBasePath(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BasePath = "/api/gw/"; c.Knobs.Sync = true })
	if status, _, out := b.do(t, http.MethodPost, "/v1/debits", "pa_bp", debitBody("pa_bp", testAccount, testPID, "1")); status != http.StatusNotFound {
		t.Fatalf("without the base path: %d %s", status, out)
	}
	if status, _, out := b.debit(t, "pa_bp", testAccount, testPID, "1"); status != http.StatusOK {
		t.Fatalf("under the base path: %d %s", status, out)
	}
	if status, _, _ := b.do(t, http.MethodGet, "/api/gw/v1/debits/pa_bp", "", ""); status != http.StatusOK {
		t.Fatalf("status GET: %d", status)
	}
	// The signature covers the base path: one made without it fails.
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/v1/debits/pa_bp", nil)
	signature.SignRequest(req, testSecret, nil, time.Now())
	req.URL.Path = "/api/gw/v1/debits/pa_bp"
	if status, _, _ := send(t, req); status != http.StatusUnauthorized {
		t.Fatalf("a signature without the base path: %d", status)
	}
	// The admin routes stay at the root.
	resp, err := http.Get(b.srv.URL + "/_sim/knobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin: %d", resp.StatusCode)
	}
}
