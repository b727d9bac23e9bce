package pii

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// provinceCodes is the list of circular 07/2016/TT-BCA, written out here
// independently of provinces.json.
const provinceCodes = "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 " +
	"033 034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 " +
	"064 066 067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 " +
	"094 095 096"

func TestValidatePID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pid string
		reason    string // empty: valid; else a substring of the error
	}{
		{name: "HCMC 2000s male", pid: "079203001234"},
		{name: "Ha Noi 1900s male", pid: "001090012345"},
		{name: "Ca Mau 1900s female", pid: "096185000001"},
		{name: "2100s", pid: "048400000001"},
		{name: "2300s female", pid: "001999999999"},
		{name: "eleven digits", pid: "07920300123", reason: "11 digits, want 12"},
		{name: "thirteen digits", pid: "0792030012345", reason: "13 digits"},
		{name: "empty", pid: "", reason: "0 digits"},
		{name: "letter", pid: "07920300123A", reason: "character 12 is not a digit"},
		{name: "letter O for zero", pid: "O79203001234", reason: "character 1 is not a digit"},
		{name: "province 000", pid: "000203001234", reason: "province"},
		{name: "province 003", pid: "003203001234", reason: "province"},
		{name: "province 097", pid: "097203001234", reason: "province"},
		{name: "province 999", pid: "999203001234", reason: "province"},
		{name: "fullwidth digit", pid: "079２03001234", reason: "character 4 is not a digit"},
		{name: "arabic-indic digit", pid: "٠79203001234", reason: "character 1 is not a digit"},
		{name: "devanagari digits", pid: "०७९२०३००१२३४", reason: "character 1 is not a digit"},
		{name: "leading plus", pid: "+79203001234", reason: "not a digit"},
		{name: "trailing newline", pid: "079203001234\n", reason: "not a digit"},
		{name: "leading space", pid: " 079203001234", reason: "not a digit"},
		{name: "dashes", pid: "079-203-001234", reason: "not a digit"},
		{name: "invalid UTF-8", pid: "079203\xff01234", reason: "not a digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePID(tt.pid)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("ValidatePID(%q) = %v", tt.pid, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPID) {
				t.Fatalf("ValidatePID(%q) = %v, want ErrInvalidPID", tt.pid, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if len(tt.pid) >= 6 && strings.Contains(err.Error(), tt.pid[3:]) {
				t.Errorf("error %q repeats the pid", err)
			}
		})
	}
}

// TestProvinceCodes tries every three-digit prefix: exactly the 63 codes of
// the circular pass, whatever the fourth digit.
func TestProvinceCodes(t *testing.T) {
	t.Parallel()
	want := map[string]bool{}
	for _, c := range strings.Fields(provinceCodes) {
		want[c] = true
	}
	if len(want) != 63 {
		t.Fatalf("the test's own list has %d codes", len(want))
	}
	for n := range 1000 {
		code := fmt.Sprintf("%03d", n)
		for digit := range 10 {
			pid := fmt.Sprintf("%s%d00000000", code, digit)
			err := ValidatePID(pid)
			if want[code] && err != nil {
				t.Errorf("ValidatePID(%s) = %v, want nil", pid, err)
			}
			if !want[code] && !errors.Is(err, ErrInvalidPID) {
				t.Errorf("ValidatePID(%s) = %v, want ErrInvalidPID", pid, err)
			}
		}
	}
}

func TestCenturyOf(t *testing.T) {
	t.Parallel()
	for digit := range 10 {
		pid := fmt.Sprintf("079%d03001234", digit)
		want := 1900 + digit/2*100
		got, err := CenturyOf(pid)
		if err != nil || got != want {
			t.Errorf("CenturyOf(%s) = %d, %v; want %d", pid, got, err, want)
		}
	}
	if got, err := CenturyOf("003203001234"); !errors.Is(err, ErrInvalidPID) || got != 0 {
		t.Errorf("CenturyOf(bad province) = %d, %v; want 0, ErrInvalidPID", got, err)
	}
}

func TestValidatePIDBirthdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pid, birthdate string
		wantErr              error
		reason               string
	}{
		{name: "2003 male", pid: "079203001234", birthdate: "2003-05-17"},
		{name: "2003 female", pid: "079303001234", birthdate: "2003-12-31"},
		{name: "1990 male", pid: "001090012345", birthdate: "1990-01-01"},
		{name: "1985 female", pid: "096185000001", birthdate: "1985-02-28"},
		{name: "1900", pid: "001000000001", birthdate: "1900-06-15"},
		{name: "1999", pid: "001199000001", birthdate: "1999-12-31"},
		{name: "2000 leap day", pid: "001200000001", birthdate: "2000-02-29"},
		{name: "2100", pid: "001400000001", birthdate: "2100-03-01"},
		{name: "2250", pid: "001750000001", birthdate: "2250-07-07"},
		{name: "2399", pid: "001999000001", birthdate: "2399-01-01"},
		{name: "birth year mismatch", pid: "079203001234", birthdate: "2004-05-17", wantErr: ErrInvalidPID, reason: "digits 5-6"},
		{name: "birth year digits swapped", pid: "079230001234", birthdate: "2003-05-17", wantErr: ErrInvalidPID, reason: "digits 5-6"},
		{name: "century mismatch 1903", pid: "079203001234", birthdate: "1903-05-17", wantErr: ErrInvalidPID, reason: "century"},
		{name: "century mismatch 2103", pid: "079303001234", birthdate: "2103-05-17", wantErr: ErrInvalidPID, reason: "century"},
		{name: "1900s digit, 2000s birth", pid: "001099000001", birthdate: "2099-01-01", wantErr: ErrInvalidPID, reason: "century"},
		{name: "bad pid first", pid: "07920300123", birthdate: "2003-05-17", wantErr: ErrInvalidPID, reason: "11 digits"},
		{name: "bad pid and bad date", pid: "003203001234", birthdate: "nope", wantErr: ErrInvalidPID, reason: "province"},
		{name: "february 30", pid: "079203001234", birthdate: "2003-02-30", wantErr: ErrInvalidBirthdate},
		{name: "not a leap year", pid: "079203001234", birthdate: "2003-02-29", wantErr: ErrInvalidBirthdate},
		{name: "month 13", pid: "079203001234", birthdate: "2003-13-01", wantErr: ErrInvalidBirthdate},
		{name: "no zero padding", pid: "079203001234", birthdate: "2003-5-17", wantErr: ErrInvalidBirthdate},
		{name: "day first", pid: "079203001234", birthdate: "17/05/2003", wantErr: ErrInvalidBirthdate},
		{name: "compact", pid: "079203001234", birthdate: "20030517", wantErr: ErrInvalidBirthdate},
		{name: "with time", pid: "079203001234", birthdate: "2003-05-17T00:00:00Z", wantErr: ErrInvalidBirthdate},
		{name: "leading space", pid: "079203001234", birthdate: " 2003-05-17", wantErr: ErrInvalidBirthdate},
		{name: "empty", pid: "079203001234", birthdate: "", wantErr: ErrInvalidBirthdate},
		{name: "fullwidth digits", pid: "079203001234", birthdate: "２003-05-17", wantErr: ErrInvalidBirthdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePIDBirthdate(tt.pid, tt.birthdate)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidatePIDBirthdate(%q, %q) = %v", tt.pid, tt.birthdate, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidatePIDBirthdate(%q, %q) = %v, want %v", tt.pid, tt.birthdate, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if strings.Contains(err.Error(), tt.pid[3:]) || (tt.birthdate != "" && strings.Contains(err.Error(), tt.birthdate)) {
				t.Errorf("error %q repeats personal data", err)
			}
		})
	}
}

// TestEmbeddedProvinces checks the embedded copy: 63 codes, ten century
// digits following 0/1 → 1900s, 2/3 → 2000s, …, and, when the shared spec is
// beside this repository, byte-equality with it so the copy cannot drift.
func TestEmbeddedProvinces(t *testing.T) {
	t.Parallel()
	rules := loadPIDRules()
	if len(rules.provinces) != 63 {
		t.Errorf("%d provinces, want 63", len(rules.provinces))
	}
	for _, c := range strings.Fields(provinceCodes) {
		if rules.provinces[c] == "" {
			t.Errorf("province %s missing or unnamed", c)
		}
	}
	if got := rules.provinces["079"]; got != "Hồ Chí Minh" {
		t.Errorf("province 079 = %q, want Ho Chi Minh City", got)
	}
	for d, start := range rules.centuries {
		if want := 1900 + d/2*100; start != want {
			t.Errorf("century digit %d → %d, want %d", d, start, want)
		}
	}
	shared, err := os.ReadFile("../../../shared/spec/provinces.json")
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Log("shared spec not beside the repository; checked the embedded copy alone")
	case err != nil:
		t.Fatal(err)
	case !bytes.Equal(shared, provincesJSON):
		t.Error("internal/pii/provinces.json differs from spec/provinces.json: copy it again")
	}
}

func TestParsePIDRulesRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json, reason string }{
		{"not json", `{`, "unexpected end"},
		{"two-digit code", `{"provinces":[{"code":"79","name":"x"}]}`, "not three digits"},
		{"letter code", `{"provinces":[{"code":"07a","name":"x"}]}`, "not three digits"},
		{"duplicate code", `{"provinces":[{"code":"079","name":"x"},{"code":"079","name":"y"}]}`, "twice"},
		{"two-digit century key", `{"century_sex_digit":{"10":"1900s male"}}`, "not one digit"},
		{"century without s", `{"century_sex_digit":{"0":"1900 male"}}`, "does not start with a century"},
		{"century not round", `{"century_sex_digit":{"0":"1950s male"}}`, "does not start with a century"},
		{"century empty", `{"century_sex_digit":{"0":""}}`, "does not start with a century"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parsePIDRules([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("parsePIDRules = %v, want an error saying %q", err, tt.reason)
			}
		})
	}
}
