package verify

import (
	"reflect"
	"testing"
)

func checks(hits []hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.check+"@"+h.where)
	}
	return out
}

func TestClearScanner(t *testing.T) {
	t.Parallel()
	s := newClearScanner([]string{"0071 000 123456", "not a number", "0071000123456"})
	if len(s.known) != 1 {
		t.Fatalf("known = %v, want the one valid number once", s.known)
	}
	tests := []struct {
		name         string
		value        string
		accountField bool
		want         []string
	}{
		{"a pid alone", "079203001234", false, []string{"clear_pid@v"}},
		{"a pid in a sentence", "holder 079203001234 refused", false, []string{"clear_pid@v"}},
		{"a pid in a URL path", "/v1/citizens/079203001234/accounts", false, []string{"clear_pid@v"}},
		{"a pid in JSON", `{"data":{"holder_pid":"079203001234"}}`, false, []string{"clear_pid@v.data.holder_pid"}},
		{"a pid as a JSON key", `{"079203001234":true}`, false, []string{"clear_pid@v.079203001234 (key)"}},
		{"a pid in JSON in a JSON string", `{"body":"{\"pid\":\"079203001234\"}"}`, false, []string{"clear_pid@v.body.pid"}},
		{"a pid in an array", `[1, "x", ["079203001234"]]`, false, []string{"clear_pid@v[2][0]"}},
		{"a masked pid", "079******234", false, nil},
		{"12 digits of no province", "999203001234", false, nil},
		{"13 digits", "0792030012345", false, nil},
		{"11 digits", "07920300123", false, nil},
		{"an amount", `{"amount":"100000000000"}`, false, nil},
		{"a UUID whose last group is digits", "6f1c2b9e-3a4d-4e5f-8a9b-079203001234", false, nil},
		{"a hash with a digit run", "ab079203001234cdef0123456789abcdef", false, nil},
		{"a unix time in ms", "1767225600000", false, nil},
		{"a known account number", "paid from 0071000123456", false, []string{"clear_account_number@v"}},
		{"a known account number with separators", "0071-000-123.456", false, []string{"clear_account_number@v"}},
		{"a known account number in an account field", `{"account_number":"0071000123456"}`, false, []string{"clear_account_number@v.account_number"}},
		{"an unknown number in an account field", `{"account_number":"9704 1234 5678"}`, false, []string{"account_like_digits@v.account_number"}},
		{"an unknown number in an account column", "970412345678", true, []string{"account_like_digits@v"}},
		{"a masked account", `{"account_number_masked":"******5678"}`, false, nil},
		{"an account id", `{"account_id":"acc_01jf9x8q2y3z412345678901"}`, false, nil},
		{"an id in an account field", "acc_01jf9x8q2y3z412345678901", true, nil},
		{"a ledger account naming a portal", "portal_payable:ptl_01m8cfh2cdyf0123456789j0pb74", true, nil},
		{"a ledger account beside a number", "portal_payable:970412345678", true, []string{"account_like_digits@v"}},
		{"a date in an account-named field", `{"accountVerifiedAt":"2026-01-01"}`, false, nil},
		{"an unknown number elsewhere", `{"reference":"970412345678"}`, false, nil},
		{"not JSON after all", `{"pid": 079203001234`, false, []string{"clear_pid@v"}},
	}
	for _, tt := range tests {
		got := checks(s.scan("v", tt.value, tt.accountField))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q → %v, want %v", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	s := newClearScanner([]string{"0071000123456"})
	got := s.redact("key 079203001234 and 0071000123456; 999203001234 stays")
	want := "key 079******234 and ******3456; 999203001234 stays"
	if got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}

func TestIsAccountField(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"account_number": true, "accountNumber": true, "account": true, "account_masked": true, "debit_acct": true,
		"account_id": false, "accountId": false, "account_ids": false, "account_index": false, "account_sealed": false,
		"account_created_at": false, "accountCount": false, "account_status": false, "amount": false, "holder_pid": false,
	} {
		if got := isAccountField(name); got != want {
			t.Errorf("isAccountField(%q) = %v", name, got)
		}
	}
}
