package idempotency

import (
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/fault"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	key := []byte("k1")
	a, err := Fingerprint(key, "POST", "/v1/payment-requests", []byte(`{"a":"1","b":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	same, _ := Fingerprint(key, "POST", "/v1/payment-requests", []byte(" {\"b\": [1, 2], \"a\": \"1\"}\n"))
	if a != same {
		t.Fatal("key order and white space changed the fingerprint")
	}
	for name, args := range map[string][]string{
		"method": {"PUT", "/v1/payment-requests", `{"a":"1","b":[1,2]}`},
		"path":   {"POST", "/v1/payment-requests/x", `{"a":"1","b":[1,2]}`},
		"body":   {"POST", "/v1/payment-requests", `{"a":"2","b":[1,2]}`},
		"order":  {"POST", "/v1/payment-requests", `{"a":"1","b":[2,1]}`},
	} {
		other, _ := Fingerprint(key, args[0], args[1], []byte(args[2]))
		if other == a {
			t.Errorf("%s did not change the fingerprint", name)
		}
	}
	if other, _ := Fingerprint([]byte("k2"), "POST", "/v1/payment-requests", []byte(`{"a":"1","b":[1,2]}`)); other == a {
		t.Error("the fingerprint is not keyed")
	}
	empty1, _ := Fingerprint(key, "POST", "/x", nil)
	empty2, _ := Fingerprint(key, "POST", "/x", []byte("  "))
	if empty1 != empty2 {
		t.Error("an empty body is not the empty string")
	}
	if _, err := Fingerprint(key, "POST", "/x", []byte("{")); err == nil {
		t.Error("malformed JSON fingerprinted")
	}
}

func TestCheckKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]fault.Code{
		"":                        fault.IdempotencyKeyMissing,
		strings.Repeat("k", 256):  fault.IdempotencyKeyInvalid,
		"tab\tkey":                fault.IdempotencyKeyInvalid,
		"ключ":                    fault.IdempotencyKeyInvalid,
		strings.Repeat("k", 255):  "",
		"dossier-HCM-2026-000123": "",
		"~!@#$%^&*() ":            "",
	} {
		err := CheckKey(key)
		if (want == "") != (err == nil) || (err != nil && fault.CodeOf(err) != want) {
			t.Errorf("CheckKey(%q) = %v, want %s", key, err, want)
		}
	}
}
