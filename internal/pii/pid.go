package pii

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PIDLength is the number of digits of a personal identification number.
const PIDLength = 12

// Errors returned by the pid checks. Wrapped messages say what is wrong and
// never repeat the pid or the birthdate.
var (
	// ErrInvalidPID means the pid is malformed, or contradicts the birthdate.
	ErrInvalidPID = errors.New("invalid personal identification number")
	// ErrInvalidBirthdate means the birthdate is not a YYYY-MM-DD date.
	ErrInvalidBirthdate = errors.New("invalid birthdate")
)

// provincesJSON is a copy of spec/provinces.json: the 63 province codes and
// the meaning of the century-and-sex digit.
//
//go:embed provinces.json
var provincesJSON []byte

// pidRules is provinces.json in the form the checks use.
type pidRules struct {
	provinces map[string]string // code → province name
	centuries [10]int           // century-and-sex digit → first year of the century; 0: unlisted
}

// loadPIDRules parses the embedded provinces.json once, on first use. The
// file is compiled in and its parsing is tested, so a failure is a build
// defect and panics.
var loadPIDRules = sync.OnceValue(func() pidRules {
	r, err := parsePIDRules(provincesJSON)
	if err != nil {
		panic("pii: embedded provinces.json: " + err.Error())
	}
	return r
})

func parsePIDRules(raw []byte) (pidRules, error) {
	var f struct {
		CenturySexDigit map[string]string `json:"century_sex_digit"`
		Provinces       []struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"provinces"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return pidRules{}, err
	}
	r := pidRules{provinces: make(map[string]string, len(f.Provinces))}
	for _, p := range f.Provinces {
		if len(p.Code) != 3 || !allDigits(p.Code) {
			return pidRules{}, fmt.Errorf("province code %q is not three digits", p.Code)
		}
		if _, dup := r.provinces[p.Code]; dup {
			return pidRules{}, fmt.Errorf("province code %q listed twice", p.Code)
		}
		r.provinces[p.Code] = p.Name
	}
	for digit, meaning := range f.CenturySexDigit {
		if len(digit) != 1 || !allDigits(digit) {
			return pidRules{}, fmt.Errorf("century digit %q is not one digit", digit)
		}
		// "1900s male" → 1900
		first, _, _ := strings.Cut(meaning, " ")
		year, ok := strings.CutSuffix(first, "s")
		start, err := strconv.Atoi(year)
		if !ok || err != nil || start <= 0 || start%100 != 0 {
			return pidRules{}, fmt.Errorf("century digit %s: %q does not start with a century such as 1900s", digit, meaning)
		}
		r.centuries[digit[0]-'0'] = start
	}
	return r, nil
}

// ValidatePID checks the structure of a personal identification number: 12
// ASCII digits, the first three one of the 63 province codes, the fourth a
// century-and-sex digit. It returns nil or an error wrapping ErrInvalidPID.
// It cannot tell whether the number was ever issued.
func ValidatePID(pid string) error {
	_, err := centuryOf(pid)
	return err
}

// CenturyOf returns the first year of the century the pid's holder was born
// in, read from its fourth digit (2 or 3 → 2000), after checking the pid as
// ValidatePID does.
func CenturyOf(pid string) (int, error) {
	return centuryOf(pid)
}

func centuryOf(pid string) (int, error) {
	n := 0
	for _, r := range pid {
		n++
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w: character %d is not a digit 0-9", ErrInvalidPID, n)
		}
	}
	if n != PIDLength {
		return 0, fmt.Errorf("%w: %d digits, want %d", ErrInvalidPID, n, PIDLength)
	}
	rules := loadPIDRules()
	if _, ok := rules.provinces[pid[:3]]; !ok {
		return 0, fmt.Errorf("%w: digits 1-3 are not a province code", ErrInvalidPID)
	}
	century := rules.centuries[pid[3]-'0']
	if century == 0 {
		return 0, fmt.Errorf("%w: digit 4 is not a century-and-sex code", ErrInvalidPID)
	}
	return century, nil
}

// ValidatePIDBirthdate checks pid as ValidatePID does and that it agrees with
// the holder's birthdate (YYYY-MM-DD, as in an identity token): its fourth
// digit names the century of the birth year and its fifth and sixth digits
// are the birth year's last two. A malformed birthdate gives an error wrapping
// ErrInvalidBirthdate; anything else wrong, ErrInvalidPID.
func ValidatePIDBirthdate(pid, birthdate string) error {
	century, err := centuryOf(pid)
	if err != nil {
		return err
	}
	born, err := time.Parse(time.DateOnly, birthdate)
	if err != nil || born.Format(time.DateOnly) != birthdate {
		return fmt.Errorf("%w: not a YYYY-MM-DD date", ErrInvalidBirthdate)
	}
	year := born.Year()
	if year < century || year >= century+100 {
		return fmt.Errorf("%w: digit 4 does not match the birth century", ErrInvalidPID)
	}
	if pid[4:6] != fmt.Sprintf("%02d", year%100) {
		return fmt.Errorf("%w: digits 5-6 do not match the birth year", ErrInvalidPID)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
