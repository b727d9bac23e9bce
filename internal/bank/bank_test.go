package bank

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code string
		ok   bool
	}{
		{"VCB", true}, {"SBX", true}, {"B2", true}, {"ABCDEFGHIJKLMNOP", true},
		{"", false}, {"V", false}, {"vcb", false}, {"ABCDEFGHIJKLMNOPQ", false}, {"V-CB", false}, {"VCB ", false},
	} {
		err := CheckCode(tt.code)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidCode)) {
			t.Errorf("CheckCode(%q) = %v, want ok=%v", tt.code, err, tt.ok)
		}
	}
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	if err := CheckName("Ngân hàng Sandbox"); err != nil {
		t.Error(err)
	}
	for _, n := range []string{"", "   ", strings.Repeat("x", 201)} {
		if err := CheckName(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

func TestNormalizeBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in    string
		development bool
		want        string // empty: refused
	}{
		{name: "https", in: "https://bank.example", want: "https://bank.example"},
		{name: "https with path", in: "https://bank.example/api/gw/", want: "https://bank.example/api/gw"},
		{name: "private address", in: "https://10.1.2.3:8443/gw", want: "https://10.1.2.3:8443/gw"},
		{name: "loopback", in: "https://127.0.0.1:9443", want: "https://127.0.0.1:9443"},
		{name: "http in development", in: "http://127.0.0.1:8091/api", development: true, want: "http://127.0.0.1:8091/api"},
		{name: "http in production", in: "http://bank.example"},
		{name: "ftp", in: "ftp://bank.example", development: true},
		{name: "relative", in: "/api/gw"},
		{name: "no host", in: "https:///gw"},
		{name: "user info", in: "https://user:pass@bank.example"},
		{name: "query", in: "https://bank.example/gw?x=1"},
		{name: "empty query", in: "https://bank.example/gw?"},
		{name: "fragment", in: "https://bank.example/gw#top"},
		{name: "garbage", in: "://"},
	}
	for _, tt := range tests {
		got, err := NormalizeBaseURL(tt.in, tt.development)
		switch {
		case tt.want == "" && !errors.Is(err, ErrInvalidBaseURL):
			t.Errorf("%s: NormalizeBaseURL(%q) = %q, %v; want ErrInvalidBaseURL", tt.name, tt.in, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("%s: NormalizeBaseURL(%q) = %q, %v; want %q", tt.name, tt.in, got, err, tt.want)
		}
	}
}

func TestSigningSecrets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	b := &Bank{Secret: "bsk_new", PreviousSecret: "bsk_old", PreviousSecretExpires: now.Add(time.Hour)}
	if got := b.SigningSecrets(now); len(got) != 2 || got[0] != "bsk_new" || got[1] != "bsk_old" {
		t.Errorf("during the grace: %v", got)
	}
	if got := b.SigningSecrets(now.Add(time.Hour)); len(got) != 1 || got[0] != "bsk_new" {
		t.Errorf("after the grace: %v", got)
	}
	b.PreviousSecret = ""
	if got := b.SigningSecrets(now); len(got) != 1 {
		t.Errorf("without a previous secret: %v", got)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(), NewSecret()
	if !strings.HasPrefix(a, SecretPrefix) || len(a) != len(SecretPrefix)+64 || a == b {
		t.Errorf("NewSecret() = %q, %q", a, b)
	}
}
