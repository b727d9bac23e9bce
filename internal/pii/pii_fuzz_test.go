package pii_test

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/citizenpay/gateway/internal/pii"
)

// provinceCodes reads provinces.json itself, so that the oracle does not
// share the package's parsing of it.
func provinceCodes(f *testing.F) map[string]bool {
	f.Helper()
	raw, err := os.ReadFile("provinces.json")
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Provinces []struct {
			Code string `json:"code"`
		} `json:"provinces"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		f.Fatal(err)
	}
	codes := map[string]bool{}
	for _, p := range file.Provinces {
		codes[p.Code] = true
	}
	if len(codes) != 63 {
		f.Fatalf("%d province codes, want 63", len(codes))
	}
	return codes
}

// pidRule is PROTOCOL.md §2 written out: 12 ASCII digits, digits 1–3 a
// province code, digit 4 the century (0/1 1900s, 2/3 2000s, …). It returns
// the first year of the century.
func pidRule(codes map[string]bool, pid string) (int, bool) {
	if len(pid) != 12 {
		return 0, false
	}
	for i := 0; i < len(pid); i++ {
		if pid[i] < '0' || pid[i] > '9' {
			return 0, false
		}
	}
	if !codes[pid[:3]] {
		return 0, false
	}
	return 1900 + 100*int((pid[3]-'0')/2), true
}

// FuzzPID checks ValidatePID, CenturyOf and ValidatePIDBirthdate against the
// rules written out, and that MaskPID shows at most the first three and last
// three characters of anything.
func FuzzPID(f *testing.F) {
	codes := provinceCodes(f)
	for _, s := range [][2]string{
		{"079203001234", "2003-05-01"},
		{"001099012345", "1999-12-31"},
		{"096300000000", "2000-01-01"},
		{"001499123456", "2199-02-28"},
		{"079203001234", "2004-05-01"}, // year digits disagree
		{"079003001234", "2003-05-01"}, // century disagrees
		{"079203001234", "2003-02-30"},
		{"079203001234", "2003-5-1"},
		{"003203001234", "2003-05-01"}, // 003 is no province
		{"000000000000", ""},
		{"07920300123", ""},
		{"0792030012345", ""},
		{"079203001234\n", ""},
		{"０７９203001234", ""},
		{"079-203-001234", ""},
		{"07920300123\x00", ""},
		{"\xff\xfe\xfd079203001234", ""},
		{"", ""},
		{"079203001234", "+2003-05-01"},
		{"079203001234", "2003-05-01T00:00:00Z"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pid, birthdate string) {
		century, ok := pidRule(codes, pid)
		err := pii.ValidatePID(pid)
		if (err == nil) != ok {
			t.Fatalf("ValidatePID(%q) = %v, want accepted=%v", pid, err, ok)
		}
		if err != nil && !errors.Is(err, pii.ErrInvalidPID) {
			t.Fatalf("ValidatePID(%q) = %v, want ErrInvalidPID", pid, err)
		}
		if err != nil && strings.Contains(err.Error(), pid) && len(pid) >= 6 {
			t.Fatalf("ValidatePID's error %q repeats the pid", err)
		}
		if c, err := pii.CenturyOf(pid); (err == nil) != ok || c != century {
			t.Fatalf("CenturyOf(%q) = %d, %v; want %d, accepted=%v", pid, c, err, century, ok)
		}

		bdErr := pii.ValidatePIDBirthdate(pid, birthdate)
		born, perr := time.Parse(time.DateOnly, birthdate)
		realDate := perr == nil && born.Format(time.DateOnly) == birthdate
		agrees := ok && realDate && born.Year() >= century && born.Year() < century+100 &&
			pid[4:6] == strconv.Itoa(born.Year()%100/10)+strconv.Itoa(born.Year()%10)
		if (bdErr == nil) != agrees {
			t.Fatalf("ValidatePIDBirthdate(%q, %q) = %v, want accepted=%v", pid, birthdate, bdErr, agrees)
		}
		if bdErr != nil && !errors.Is(bdErr, pii.ErrInvalidPID) && !errors.Is(bdErr, pii.ErrInvalidBirthdate) {
			t.Fatalf("ValidatePIDBirthdate(%q, %q) = %v: not a documented error", pid, birthdate, bdErr)
		}

		in := []rune(pid)
		out := []rune(pii.MaskPID(pid))
		if len(out) != len(in) {
			t.Fatalf("MaskPID(%q) = %q: %d characters, want %d", pid, string(out), len(out), len(in))
		}
		for i, r := range out {
			shown := len(in) >= 12 && (i < 3 || i >= len(in)-3)
			if shown && r != in[i] {
				t.Fatalf("MaskPID(%q) = %q: character %d altered", pid, string(out), i)
			}
			if !shown && r != '*' {
				t.Fatalf("MaskPID(%q) = %q: character %d shown", pid, string(out), i)
			}
		}
	})
}

// FuzzAccount checks NormalizeAccount against the rule written out (ASCII
// digits with space, dash or dot separators; 6–19 digits) and that
// MaskAccount shows only six stars and, from eight digits on, the last four,
// whatever the separators.
func FuzzAccount(f *testing.F) {
	for _, s := range []string{
		"0071000123456", "0071 000-123.456", "123456", "12345", "1234567890123456789", "12345678901234567890",
		"1234567", "12345678", "  1 2 3 4 5 6  ", "------", "", "0071\t000123456", "0071_000123456",
		"٠١٢٣٤٥٦٧", "１２３４５６７", "0071000123456\x00", "\xff0071000123456", "+84 0071000123", "12.34,56",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var digits []byte
		ok := true
		for _, r := range s {
			switch {
			case r >= '0' && r <= '9':
				digits = append(digits, byte(r))
			case r == ' ' || r == '-' || r == '.':
			default:
				ok = false
			}
		}
		ok = ok && len(digits) >= 6 && len(digits) <= 19
		got, err := pii.NormalizeAccount(s)
		if (err == nil) != ok {
			t.Fatalf("NormalizeAccount(%q) = %q, %v; want accepted=%v", s, got, err, ok)
		}
		if err != nil {
			if !errors.Is(err, pii.ErrInvalidAccount) {
				t.Fatalf("NormalizeAccount(%q) = %v, want ErrInvalidAccount", s, err)
			}
			if len(digits) >= 6 && strings.Contains(err.Error(), string(digits)) {
				t.Fatalf("NormalizeAccount's error %q repeats the number", err)
			}
		} else if got != string(digits) {
			t.Fatalf("NormalizeAccount(%q) = %q, want %q", s, got, digits)
		}

		// MaskAccount counts only ASCII digits, whatever else s holds.
		var all []byte
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				all = append(all, s[i])
			}
		}
		m := pii.MaskAccount(s)
		want := "******"
		switch {
		case s == "":
			want = ""
		case len(all) >= 8:
			want += string(all[len(all)-4:])
		}
		if m != want {
			t.Fatalf("MaskAccount(%q) = %q, want %q", s, m, want)
		}
		if !utf8.ValidString(m) {
			t.Fatalf("MaskAccount(%q) = %q: not UTF-8", s, m)
		}
		if err == nil && pii.MaskAccount(got) != m {
			t.Fatalf("MaskAccount of %q and of its normal form %q differ", s, got)
		}
	})
}
