package config

import (
	"strings"
	"testing"
)

func TestCheckoutSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"GATEWAY_PUBLIC_URL": "https://pay.example.test/citizen/", "IDP_ISSUER": "https://id.example.test",
		"IDP_AUDIENCE": "gw", "IDP_JWKS_URL": "https://id.example.test/jwks", "IDP_CLIENT_ID": "checkout", "IDP_CLIENT_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://pay.example.test/citizen" || c.CheckoutRedirectURL() != "https://pay.example.test/citizen/auth/callback" {
		t.Fatalf("public URL %q, redirect %q", c.PublicURL, c.CheckoutRedirectURL())
	}
	if m := c.CheckoutMissing(); m != "" {
		t.Fatalf("checkout should be configured, missing %q", m)
	}

	dev, err := Load(env(map[string]string{"GATEWAY_ENV": "development", "GATEWAY_PUBLIC_URL": "", "GATEWAY_ADDR": "127.0.0.1:8181"}))
	if err != nil {
		t.Fatal(err)
	}
	if dev.PublicURL != "http://localhost:8181" || dev.CheckoutMissing() != "IDP_ISSUER" {
		t.Fatalf("development default %q, missing %q", dev.PublicURL, dev.CheckoutMissing())
	}
}

func TestCheckoutSettingsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		setting string
	}{
		{"production without public URL", map[string]string{"GATEWAY_PUBLIC_URL": ""}, "GATEWAY_PUBLIC_URL"},
		{"http in production", map[string]string{"GATEWAY_PUBLIC_URL": "http://pay.example.test"}, "GATEWAY_PUBLIC_URL"},
		{"relative", map[string]string{"GATEWAY_PUBLIC_URL": "/pay"}, "GATEWAY_PUBLIC_URL"},
		{"query", map[string]string{"GATEWAY_PUBLIC_URL": "https://pay.example.test/?a=1"}, "GATEWAY_PUBLIC_URL"},
		{"user info", map[string]string{"GATEWAY_PUBLIC_URL": "https://u:p@pay.example.test"}, "GATEWAY_PUBLIC_URL"},
		{"client without secret", map[string]string{"IDP_CLIENT_ID": "checkout"}, "IDP_CLIENT_SECRET"},
		{"secret without client", map[string]string{"IDP_CLIENT_SECRET": "s"}, "IDP_CLIENT_ID"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.HasPrefix(err.Error(), tc.setting+":") {
			t.Errorf("%s: got %v, want an error naming %s", tc.name, err, tc.setting)
		}
	}
}

func TestOperatorPublicURL(t *testing.T) {
	t.Parallel()
	prod, err := LoadOperator(env(map[string]string{"GATEWAY_PUBLIC_URL": ""}), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prod.RequirePublicURL(); err == nil || !strings.HasPrefix(err.Error(), "GATEWAY_PUBLIC_URL:") {
		t.Fatalf("production without GATEWAY_PUBLIC_URL: %q, %v", prod.PublicURL, err)
	}
	set, err := LoadOperator(env(map[string]string{"GATEWAY_PUBLIC_URL": "https://pay.example.test/"}), false)
	if err != nil || set.PublicURL != "https://pay.example.test" {
		t.Fatalf("set: %q, %v", set.PublicURL, err)
	}
	dev, err := LoadOperator(env(map[string]string{"GATEWAY_PUBLIC_URL": "", "GATEWAY_ENV": "development", "GATEWAY_ADDR": ":8181"}), false)
	if err != nil || dev.PublicURL != "http://localhost:8181" {
		t.Fatalf("development default: %q, %v", dev.PublicURL, err)
	}
	if _, err := LoadOperator(env(map[string]string{"GATEWAY_PUBLIC_URL": "http://pay.example.test"}), false); err == nil {
		t.Fatal("http:// accepted in production")
	}
}
