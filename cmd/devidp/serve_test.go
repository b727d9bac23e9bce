package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// env returns a getenv reading m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseServeOptionsClientFromTheGatewaySettings(t *testing.T) {
	t.Parallel()
	o, err := parseServeOptions(nil, env(map[string]string{
		"IDP_CLIENT_ID": "citizenpay-checkout", "IDP_CLIENT_SECRET": "env-secret-0123456789",
		"GATEWAY_PUBLIC_URL": "http://127.0.0.1:8080/",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := devissuer.Client{ID: "citizenpay-checkout", Secret: "env-secret-0123456789", RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"}}
	if len(o.provider.Clients) != 1 || o.provider.Clients[0].ID != want.ID || o.provider.Clients[0].Secret != want.Secret ||
		!slices.Equal(o.provider.Clients[0].RedirectURIs, want.RedirectURIs) {
		t.Errorf("clients = %+v, want %+v", o.provider.Clients, want)
	}
	if o.issuer != "http://"+defaultAddr || o.provider.AccessTokenAudience != devissuer.DefaultAudience {
		t.Errorf("options = %+v", o)
	}
	// Only the built-in citizens without --citizen.
	if len(o.provider.Citizens) != len(builtinCitizens) {
		t.Errorf("citizens = %d, want the %d built in", len(o.provider.Citizens), len(builtinCitizens))
	}
}

func TestParseServeOptionsFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("file-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clients := filepath.Join(dir, "clients.json")
	if err := os.WriteFile(clients, []byte(`[{"client_id":"console","client_secret":"console-secret-0123456789","redirect_uris":["http://127.0.0.1:8081/auth/callback"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseServeOptions([]string{
		"--client-id", "checkout", "--client-secret-file", secretFile,
		"--redirect-uri", "http://a.test/cb", "--redirect-uri", "http://b.test/cb", "--clients", clients,
		"--citizen", "079203001234:Nguyen Van An:2003-05-17",
		"--citizen", "001090012345:Tran: Thi Binh:1990-02-03:3",
	}, env(map[string]string{"IDP_CLIENT_ID": "ignored", "IDP_CLIENT_SECRET": "ignored-0123456789"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.provider.Clients) != 2 || o.provider.Clients[0].ID != "checkout" || o.provider.Clients[0].Secret != "file-secret-0123456789" ||
		len(o.provider.Clients[0].RedirectURIs) != 2 || o.provider.Clients[1].ID != "console" {
		t.Errorf("clients = %+v", o.provider.Clients)
	}
	cs := o.provider.Citizens
	if len(cs) != 2+len(builtinCitizens) {
		t.Fatalf("citizens = %+v", cs)
	}
	if cs[0] != (devissuer.Citizen{PID: "079203001234", Name: "Nguyen Van An", Birthdate: "2003-05-17", LOA: 2}) ||
		cs[1] != (devissuer.Citizen{PID: "001090012345", Name: "Tran: Thi Binh", Birthdate: "1990-02-03", LOA: 3}) {
		t.Errorf("flag citizens = %+v, want them first and as given", cs[:2])
	}
	iss, err := devissuer.Generate("http://127.0.0.1:8091")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := devissuer.NewProvider(iss, o.provider); err != nil {
		t.Errorf("the provider refuses the options: %v", err)
	}
}

func TestParseServeOptionsRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"client without secret", []string{"--client-id", "c", "--redirect-uri", "http://a.test/cb"}, nil, "secret"},
		{"client without redirect", []string{"--client-id", "c", "--client-secret", "s-0123456789abcdef"}, nil, "GATEWAY_PUBLIC_URL"},
		{"secret without client", []string{"--client-secret", "s-0123456789abcdef"}, nil, "--client-id"},
		{"two secrets", []string{"--client-id", "c", "--client-secret", "s", "--client-secret-file", "f", "--redirect-uri", "http://a.test/cb"}, nil, "not both"},
		{"citizen without birthdate", []string{"--citizen", "079203001234:Nguyen Van An"}, nil, "--citizen #1"},
		{"missing clients file", []string{"--clients", "/nonexistent/clients.json"}, nil, "clients"},
		{"stray argument", []string{"extra"}, nil, "unexpected"},
	}
	for _, tt := range tests {
		_, err := parseServeOptions(tt.args, env(tt.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "079203001234") {
			t.Errorf("%s: the error quotes the pid: %v", tt.name, err)
		}
	}
}
