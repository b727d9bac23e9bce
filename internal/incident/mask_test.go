package incident_test

import (
	"encoding/json"
	"testing"

	"github.com/citizenpay/gateway/internal/incident"
)

func TestMaskJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"a pid in a string", `{"note":"holder 079203001234"}`, `{"note":"holder ************"}`},
		{"a pid with separators", `{"note":"079 203-001.234 ok"}`, `{"note":"*** ***-***.*** ok"}`},
		{"an account of 13 digits", `{"account":"9704000123456"}`, `{"account":"*************"}`},
		{"eight digits stay", `{"n":"12345678","d":"2026-03-01T08:00:00Z"}`, `{"n":"12345678","d":"2026-03-01T08:00:00Z"}`},
		{"a fee stays", `{"amount":"75000","currency":"VND"}`, `{"amount":"75000","currency":"VND"}`},
		{"a nine-digit amount is masked", `{"amount":"123456789"}`, `{"amount":"*********"}`},
		{"a number becomes a string", `{"amount": 123456789012, "n": 42}`, `{"amount": "************", "n": 42}`},
		{"escaped digits", `{"note":"\u0030\u00379203001234"}`, `{"note":"************"}`},
		{"an escaped quote does not end the string", `{"note":"a\"079203001234"}`, `{"note":"a\"************"}`},
		{"gateway ids stay", `{"debit_id":"pa_01m8teh1c3123456789gyxqb12"}`, `{"debit_id":"pa_01m8teh1c3123456789gyxqb12"}`},
		{"whitespace and order stay", "{\n  \"b\": \"x\",\n  \"a\": [1, 2]\n}", "{\n  \"b\": \"x\",\n  \"a\": [1, 2]\n}"},
		{"runs split by two separators are two", `{"t":"1234 - 56789"}`, `{"t":"1234 - 56789"}`},
	}
	for _, tc := range tests {
		got := string(incident.MaskJSON([]byte(tc.in)))
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		if json.Valid([]byte(tc.in)) && !json.Valid([]byte(got)) {
			t.Errorf("%s: %s is no longer JSON", tc.name, got)
		}
	}
	if got := incident.MaskText("no debit 079203001234 was sent to bank SBX"); got != "no debit ************ was sent to bank SBX" {
		t.Errorf("text: %s", got)
	}
}
