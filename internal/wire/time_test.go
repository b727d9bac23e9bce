package wire

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string // UTC, or "" for a refusal
	}{
		{"2026-12-02T08:00:00Z", "2026-12-02T08:00:00Z"},
		{"2026-12-02T15:00:00+07:00", "2026-12-02T08:00:00Z"},
		{"2026-12-02T08:00:00.123456789-02:30", "2026-12-02T10:30:00.123456789Z"},
		{"2026-12-02T8:00:00Z", ""},       // a one-digit hour
		{"2026-12-02T08:00:00,5Z", ""},    // a comma before the fraction
		{"2026-12-02T08:00:00+24:00", ""}, // an offset past ±23:59
		{"2026-12-02T08:00:00+00:60", ""},
		{"2026-12-02 08:00:00Z", ""},
		{"2026-12-02T08:00:00", ""},  // no offset
		{"2026-02-30T08:00:00Z", ""}, // no such day
		{"", ""},
	} {
		got, err := ParseTime(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseTime(%q) = %v, want a refusal", tc.in, got)
		case tc.want != "" && err != nil:
			t.Errorf("ParseTime(%q): %v", tc.in, err)
		case tc.want != "" && got.UTC().Format(time.RFC3339Nano) != tc.want:
			t.Errorf("ParseTime(%q) = %s, want %s", tc.in, got.UTC().Format(time.RFC3339Nano), tc.want)
		}
	}
}
