package pii

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		reason         string // for errors: a substring of the message
	}{
		{name: "digits", in: "0071000123456", want: "0071000123456"},
		{name: "spaces", in: "0071 0001 23456", want: "0071000123456"},
		{name: "dashes and dots", in: "0071-000.123-456", want: "0071000123456"},
		{name: "leading and trailing separators", in: " 123456 ", want: "123456"},
		{name: "six digits", in: "123456", want: "123456"},
		{name: "nineteen digits", in: "1234567890123456789", want: "1234567890123456789"},
		{name: "five digits", in: "12345", reason: "5 digits, want 6 to 19"},
		{name: "five digits padded", in: "1-2-3-4-5", reason: "5 digits"},
		{name: "twenty digits", in: "12345678901234567890", reason: "20 digits"},
		{name: "empty", in: "", reason: "0 digits"},
		{name: "only separators", in: " - . ", reason: "0 digits"},
		{name: "letter", in: "0071000A23456", reason: "byte 7"},
		{name: "tab", in: "0071\t000123456", reason: "byte 4"},
		{name: "slash", in: "0071/000123456", reason: "not a digit"},
		{name: "plus", in: "+0071000123456", reason: "byte 0"},
		{name: "fullwidth digit", in: "007100０123456", reason: "not a digit"},
		{name: "arabic-indic digit", in: "٠071000123456", reason: "not a digit"},
		{name: "non-breaking space", in: "0071\u00a0000123456", reason: "not a digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeAccount(tt.in)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("NormalizeAccount(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidAccount) {
				t.Fatalf("NormalizeAccount(%q) = %q, %v; want ErrInvalidAccount", tt.in, got, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if len(tt.in) >= 6 && strings.Contains(err.Error(), tt.in[:6]) {
				t.Errorf("error %q repeats the number", err)
			}
		})
	}
}
