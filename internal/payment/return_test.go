package payment

import (
	"errors"
	"strings"
	"testing"
)

func TestOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, want string
		dev       bool
	}{
		{"https://Portal.Example.VN/done?x=1", "https://portal.example.vn", false},
		{"https://portal.example.vn:443/done", "https://portal.example.vn", false},
		{"https://portal.example.vn:8443/done", "https://portal.example.vn:8443", false},
		{"http://localhost:8099/return", "http://localhost:8099", true},
		{"http://localhost:80/", "http://localhost", true},
		{"https://[2001:DB8::1]:9443/", "https://[2001:db8::1]:9443", false},
		{"https://portal.example.vn:0443/", "https://portal.example.vn", false},
		{"HTTPS://portal.example.vn:08443", "https://portal.example.vn:8443", false},
	} {
		got, err := Origin(tc.raw, tc.dev)
		if err != nil || got != tc.want {
			t.Errorf("Origin(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
		}
	}
	for _, raw := range []string{"", "/done", "portal.example.vn/done", "http://portal.example.vn/", "ftp://portal.example.vn/",
		"https://user:pw@portal.example.vn/", "https://portal.example.vn/#frag", "javascript:alert(1)", "https:///path", "mailto:a@b",
		"https://portal.example.vn:99999/", "https://portal.example.vn:0/", "https://portal.example.vn/a b",
		"https://portal.example.vn/\u202e", "https://cổng.example.vn/", "https://evil.test\\.portal.example.vn/", "https://[fe80::1%25eth0]/",
		"https://portal.example.vn/" + strings.Repeat("a", MaxReturnURL)} {
		if _, err := Origin(raw, false); !errors.Is(err, ErrInvalidReturnURL) {
			t.Errorf("Origin(%q) accepted", raw)
		}
	}
}

func TestCheckReturnURL(t *testing.T) {
	t.Parallel()
	origins := []string{"https://portal.example.vn", "https://dvc.example.vn:8443"}
	for raw, ok := range map[string]bool{
		"https://portal.example.vn/ho-so/123?tab=fee": true,
		"https://dvc.example.vn:8443/x":               true,
		"https://dvc.example.vn/x":                    false,
		"https://portal.example.vn.evil.test/":        false,
		"http://portal.example.vn/":                   false,
	} {
		if err := CheckReturnURL(raw, origins, false); (err == nil) != ok {
			t.Errorf("CheckReturnURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestReturnTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://p.example.vn/done", "https://p.example.vn/done?payment_request_id=pr_1&status=paid"},
		{"https://p.example.vn/done?tab=fee&lang=vi", "https://p.example.vn/done?tab=fee&lang=vi&payment_request_id=pr_1&status=paid"},
		{"https://p.example.vn/done?status=forged&payment_request_id=pr_9&a=b", "https://p.example.vn/done?a=b&payment_request_id=pr_1&status=paid"},
	} {
		if got := ReturnTo(tc.in, "pr_1", StatusPaid); got != tc.want {
			t.Errorf("ReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckoutURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://pay.gateway.test", "https://pay.gateway.test/"} {
		if got := CheckoutURL(base, "pr_01J"); got != "https://pay.gateway.test/pay/pr_01J" {
			t.Errorf("CheckoutURL(%q) = %q", base, got)
		}
	}
}
