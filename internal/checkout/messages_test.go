package checkout

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// TestMessageTables: both languages have the same keys, none empty, and
// every key a template names exists.
func TestMessageTables(t *testing.T) {
	t.Parallel()
	for k, v := range vietnamese {
		if english[k] == "" || v == "" {
			t.Errorf("key %q: vi %q, en %q", k, v, english[k])
		}
	}
	for k := range english {
		if _, ok := vietnamese[k]; !ok {
			t.Errorf("key %q only in English", k)
		}
	}
	used := regexp.MustCompile(`\.T\.([a-z_]+)`)
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFiles.ReadFile(p)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := vietnamese[m[1]]; !ok {
				t.Errorf("%s names unknown message %q", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Keys built from codes: every status shown, final state, notice and reason.
	for _, s := range []string{"pending", "processing", "paid", "failed", "unknown", "expired", "canceled", "refunded", "partially_refunded"} {
		if vietnamese["status_"+s] == "" {
			t.Errorf("no label for status %s", s)
		}
	}
	for _, s := range []string{"expired", "canceled", "refunded", "partially_refunded"} {
		if vietnamese["final_"+s] == "" {
			t.Errorf("no lead for final state %s", s)
		}
	}
	for _, n := range []string{"account_not_active", "account_required", "payment_in_progress", "invalid_state", "bank_unavailable",
		"account_taken", "account_limit", "unavailable", "rate_limited", "form_stale", "bank_code", "account_number", "link_paused", "linked"} {
		if vietnamese["notice_"+n] == "" {
			t.Errorf("no notice %s", n)
		}
	}
	for _, c := range []string{"csrf_invalid", "signin_invalid", "signin_failed", "session_expired"} {
		if vietnamese["err_"+c] == "" {
			t.Errorf("no error text for %s", c)
		}
	}
}

func TestFormatVND(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0": "0 ₫", "5": "5 ₫", "999": "999 ₫", "1000": "1.000 ₫", "150000": "150.000 ₫", "75000": "75.000 ₫",
		"1234567": "1.234.567 ₫", "100000000": "100.000.000 ₫", "999999999999999999": "999.999.999.999.999.999 ₫",
	} {
		if got := formatVND(decimal.RequireFromString(in)); got != want {
			t.Errorf("formatVND(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestBankReason(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{
		"INSUFFICIENT_FUNDS": "Tài khoản không đủ số dư.", "": "Ngân hàng đã từ chối giao dịch.",
		"SOMETHING_ELSE": "Ngân hàng đã từ chối giao dịch.", "other": "Ngân hàng đã từ chối giao dịch.",
	} {
		if got := bankReason(vietnamese, code); got != want {
			t.Errorf("bankReason(%q) = %q", code, got)
		}
	}
}

func TestValidIDs(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"pr_01m8veensy80dbtbcc3zxbaare": true, "pr_": false, "acc_1": false, "pr_a/../x": false, "pr_a?x=1": false,
		"//evil.example": false, "pr_" + strings.Repeat("a", 70): false,
	} {
		if got := validReqID(s); got != want {
			t.Errorf("validReqID(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"acc_01abc": true, "acc_": false, "pr_1": false, "acc_a b": false} {
		if got := validAccountID(s); got != want {
			t.Errorf("validAccountID(%q) = %v", s, got)
		}
	}
}
