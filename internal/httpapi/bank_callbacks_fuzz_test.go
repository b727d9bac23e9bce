package httpapi

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/citizenpay/gateway/internal/fault"
)

// FuzzParseCallback feeds arbitrary bodies to the bank-callback reader of
// PROTOCOL.md §7. It never panics; a refusal is invalid_request or
// validation_failed (final 4xx, so the bank stops retrying); an accepted
// callback has an event id of 1–200 characters and a type, both UTF-8, an
// occurred_at and a data object.
func FuzzParseCallback(f *testing.F) {
	for _, typ := range []string{
		"account_verification.succeeded", "account_verification.failed",
		"debit.succeeded", "debit.failed", "refund.succeeded", "refund.failed",
	} {
		var data string
		switch typ {
		case "account_verification.succeeded":
			data = `{"verification_id":"av_01JDEMX0000000000000000000"}`
		case "account_verification.failed":
			data = `{"verification_id":"av_01JDEMX0000000000000000000","reason_code":"HOLDER_MISMATCH","reason_message":"Chủ tài khoản không khớp"}`
		case "debit.succeeded":
			data = `{"debit_id":"pa_01JDEMX0000000000000000000","amount":"75000","currency":"VND","bank_reference":"FT26330000001"}`
		case "debit.failed":
			data = `{"debit_id":"pa_01JDEMX0000000000000000000","reason_code":"INSUFFICIENT_FUNDS","reason_message":"Số dư không đủ"}`
		case "refund.succeeded":
			data = `{"refund_id":"rf_01JDEMX0000000000000000000","amount":"25000","currency":"VND","bank_reference":"FT26330000002"}`
		case "refund.failed":
			data = `{"refund_id":"rf_01JDEMX0000000000000000000","reason_code":"ACCOUNT_CLOSED"}`
		}
		f.Add([]byte(`{"event_id":"vcb-evt-000001","type":"` + typ + `","occurred_at":"2026-11-26T08:02:00Z","data":` + data + `}`))
	}
	for _, s := range []string{
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T15:02:00+07:00","data":{},"bank_extension":{"note":"ignored"}}`,
		`{"event_id":"e1","type":"debit.refunded_twice","occurred_at":"2026-11-26T08:02:00Z","data":{"debit_id":"pa_1"}}`,
		// NUL bytes, raw and escaped.
		"{\"event_id\":\"e\x00\",\"type\":\"debit.succeeded\",\"occurred_at\":\"2026-11-26T08:02:00Z\",\"data\":{}}",
		`{"event_id":"e\u0000","type":"debit.succeeded\u0000","occurred_at":"2026-11-26T08:02:00Z","data":{"debit_id":"pa_\u0000"}}`,
		"{\"event_id\":\"e1\",\"type\":\"debit.succeeded\",\"occurred_at\":\"2026-11-26T08:02:00Z\",\"data\":{}}\x00",
		// Invalid UTF-8, raw and as a lone surrogate.
		"{\"event_id\":\"\xff\xfe\",\"type\":\"debit.succeeded\",\"occurred_at\":\"2026-11-26T08:02:00Z\",\"data\":{}}",
		`{"event_id":"\ud800","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":{}}`,
		// Huge numbers, in data and where a string belongs.
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":{"debit_id":"pa_1","amount":1e999999,"currency":"VND"}}`,
		`{"event_id":123456789012345678901234567890,"type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":{}}`,
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":17956800000000000000000,"data":{}}`,
		// Duplicate keys: the last one counts, as in encoding/json.
		`{"event_id":"e1","event_id":"","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":{}}`,
		`{"event_id":"","event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":[],"data":{"debit_id":"pa_1"}}`,
		// data that is not an object.
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":null}`,
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":"{}"}`,
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z","data":[{}]}`,
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T08:02:00Z"}`,
		// Times.
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26 08:02:00","data":{}}`,
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"2026-11-26T8:02:00Z","data":{}}`,
		`{"event_id":"e1","type":"debit.succeeded","occurred_at":"","data":{}}`,
		// Not objects.
		`null`, `[]`, `"x"`, `{}`, ``, ` `, `{"event_id":"e1"} {}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := parseCallback("VCB", body)
		if err != nil {
			if c := fault.CodeOf(err); c != fault.InvalidRequest && c != fault.ValidationFailed {
				t.Fatalf("parseCallback(%q) = %v: code %s, want invalid_request or validation_failed", body, err, c)
			}
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("parseCallback accepted %q, which is not UTF-8 JSON", body)
		}
		if n := utf8.RuneCountInString(cb.EventID); n < 1 || n > 200 {
			t.Fatalf("parseCallback(%q) accepted event id %q", body, cb.EventID)
		}
		if cb.Type == "" {
			t.Fatalf("parseCallback(%q) accepted an empty type", body)
		}
		if cb.OccurredAt.IsZero() {
			t.Fatalf("parseCallback(%q) accepted without occurred_at", body)
		}
		var data map[string]json.RawMessage
		if err := json.Unmarshal(cb.Data, &data); err != nil || data == nil {
			t.Fatalf("parseCallback(%q) accepted data %q, not an object (%v)", body, cb.Data, err)
		}
		if cb.BankCode != "VCB" || len(cb.Body) == 0 {
			t.Fatalf("parseCallback(%q) lost the bank code or the body: %+v", body, cb)
		}
		if !utf8.ValidString(cb.EventID) || !utf8.ValidString(cb.Type) {
			t.Fatalf("parseCallback(%q) accepted event id %q, type %q: not UTF-8", body, cb.EventID, cb.Type)
		}
	})
}
