package config

import (
	"strings"
	"testing"
	"time"
)

const goodKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func env(over map[string]string) func(string) string {
	base := map[string]string{
		"DATABASE_URL":       "postgres://gateway@127.0.0.1:5432/gateway",
		"REDIS_URL":          "redis://127.0.0.1:6379/0",
		"GATEWAY_MASTER_KEY": goodKey,
		"GATEWAY_PUBLIC_URL": "https://pay.example.test",
	}
	for k, v := range over {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.Env != EnvProduction || c.IdempotencyTTL != 24*time.Hour || c.BankCallbackTimeout != 90*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if c.IdentityConfigured() {
		t.Fatal("identity should not be configured")
	}
	if len(c.MasterKey) != 32 {
		t.Fatal("master key not decoded")
	}
}

func TestLoadRefusesBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		setting string
	}{
		{"missing database", map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{"database not postgres", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"missing redis", map[string]string{"REDIS_URL": ""}, "REDIS_URL"},
		{"redis both", map[string]string{"REDIS_ADDRS": "a:1,b:2"}, "REDIS_URL"},
		{"redis addrs bad", map[string]string{"REDIS_URL": "", "REDIS_ADDRS": "a:1,,b"}, "REDIS_ADDRS"},
		{"redis url scheme", map[string]string{"REDIS_URL": "http://x"}, "REDIS_URL"},
		{"missing key", map[string]string{"GATEWAY_MASTER_KEY": ""}, "GATEWAY_MASTER_KEY"},
		{"short key", map[string]string{"GATEWAY_MASTER_KEY": "AAEC"}, "GATEWAY_MASTER_KEY"},
		{"key not base64", map[string]string{"GATEWAY_MASTER_KEY": "%%%"}, "GATEWAY_MASTER_KEY"},
		{"ttl not duration", map[string]string{"IDEMPOTENCY_TTL": "1 day"}, "IDEMPOTENCY_TTL"},
		{"ttl too short", map[string]string{"IDEMPOTENCY_TTL": "1h"}, "IDEMPOTENCY_TTL"},
		{"callback timeout", map[string]string{"BANK_CALLBACK_TIMEOUT": "-5s"}, "BANK_CALLBACK_TIMEOUT"},
		{"env", map[string]string{"GATEWAY_ENV": "staging"}, "GATEWAY_ENV"},
		{"addr", map[string]string{"GATEWAY_ADDR": "8080"}, "GATEWAY_ADDR"},
		{"idp partial", map[string]string{"IDP_ISSUER": "https://id.example"}, "IDP_AUDIENCE"},
		{"jwks http in production", map[string]string{"IDP_ISSUER": "i", "IDP_AUDIENCE": "a", "IDP_JWKS_URL": "http://127.0.0.1/jwks"}, "IDP_JWKS_URL"},
		{"jwks ftp", map[string]string{"IDP_ISSUER": "i", "IDP_AUDIENCE": "a", "IDP_JWKS_URL": "ftp://x/jwks", "GATEWAY_ENV": "development"}, "IDP_JWKS_URL"},
		{"max conns", map[string]string{"DATABASE_MAX_CONNS": "zero"}, "DATABASE_MAX_CONNS"},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.setting+":") {
				t.Fatalf("error %q does not name %s", err, tt.setting)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestLoadIdentityInDevelopment(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"GATEWAY_ENV": "development", "IDP_ISSUER": "http://127.0.0.1:8091", "IDP_AUDIENCE": "citizenpay-gateway", "IDP_JWKS_URL": "http://127.0.0.1:8091/.well-known/jwks.json"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.IdentityConfigured() || !c.Development() {
		t.Fatalf("%+v", c)
	}
}

func TestReconcileSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReconcileAt != 2*time.Hour || c.BankStatementTimeout != 5*time.Minute {
		t.Fatalf("defaults: %v %v", c.ReconcileAt, c.BankStatementTimeout)
	}
	c, err = Load(env(map[string]string{"RECONCILE_AT": "03:30", "BANK_STATEMENT_TIMEOUT": "90s"}))
	if err != nil || c.ReconcileAt != 3*time.Hour+30*time.Minute || c.BankStatementTimeout != 90*time.Second {
		t.Fatalf("set: %v %v %v", c.ReconcileAt, c.BankStatementTimeout, err)
	}
	if c, err := Load(env(map[string]string{"RECONCILE_AT": "off"})); err != nil || c.ReconcileAt != ReconcileOff {
		t.Fatalf("off: %v %v", c.ReconcileAt, err)
	}
	for _, tc := range []struct{ name, value string }{{"RECONCILE_AT", "2am"}, {"RECONCILE_AT", "25:00"},
		{"BANK_STATEMENT_TIMEOUT", "5"}, {"BANK_STATEMENT_TIMEOUT", "-1m"}} {
		_, err := Load(env(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.HasPrefix(err.Error(), tc.name+":") {
			t.Errorf("%s=%q: %v, want a refusal naming %s", tc.name, tc.value, err, tc.name)
		}
	}
}
