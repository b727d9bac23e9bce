package money_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
)

// isAmountText is ^[1-9][0-9]{0,17}$ written out by hand, so that the fuzz
// oracle does not share the code it checks.
func isAmountText(s string) bool {
	if len(s) < 1 || len(s) > 18 || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FuzzParse checks that Parse accepts exactly ^[1-9][0-9]{0,17}$, refuses
// everything else with ErrInvalidAmount, and that an accepted amount is the
// exact whole number written (no float on the way) and formats back to the
// same text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1", "9", "10", "75000", "999999999999999999", "100000000000000000",
		// PROTOCOL.md §1's refusals and their neighbours.
		"75000.0", "7.5e4", "-1", "075000", "0", "", "+1", " 1", "1 ", "1\n", "\n1",
		"1000000000000000000", "9999999999999999999", "1e3", "1E3", "0x10", "1_000",
		"１２", "٣", "75000\x00", "1.", ".1", "Infinity", "NaN", "75,000",
		"12345678901234567.5", "9007199254740993", // 2^53+1: a float would lose it
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := money.Parse(s)
		if want := isAmountText(s); (err == nil) != want {
			t.Fatalf("Parse(%q) error %v, want accepted=%v", s, err, want)
		}
		if err != nil {
			if !errors.Is(err, money.ErrInvalidAmount) {
				t.Fatalf("Parse(%q) = %v, want ErrInvalidAmount", s, err)
			}
			return
		}
		if got := money.Format(d); got != s {
			t.Fatalf("Format(Parse(%q)) = %q", s, got)
		}
		if !d.IsInteger() || !d.IsPositive() {
			t.Fatalf("Parse(%q) = %s, want a positive whole number", s, d)
		}
		if got := d.BigInt().String(); got != s {
			t.Fatalf("Parse(%q) holds %s: not exact", s, got)
		}
		n, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil || !d.Equal(decimal.NewFromUint64(n)) {
			t.Fatalf("Parse(%q) = %s, want %d", s, d, n)
		}
		again, err := money.Parse(money.Format(d))
		if err != nil || !again.Equal(d) {
			t.Fatalf("Parse(Format(%s)) = %s, %v", d, again, err)
		}
	})
}

// FuzzFormat checks, for every whole amount in range, that Format writes the
// plain decimal digits and Parse reads them back to the same number, and that
// amounts at or past 10^18 do not make it back through Parse.
func FuzzFormat(f *testing.F) {
	for _, n := range []uint64{1, 9, 10, 75000, 999999999999999999, 1000000000000000000, 1 << 53, 1<<53 + 1, 1<<64 - 1} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n uint64) {
		d := decimal.NewFromUint64(n)
		s := money.Format(d)
		if want := strconv.FormatUint(n, 10); s != want {
			t.Fatalf("Format(%d) = %q", n, s)
		}
		back, err := money.Parse(s)
		inRange := n >= 1 && n <= 999999999999999999
		if (err == nil) != inRange {
			t.Fatalf("Parse(Format(%d)) error %v, want accepted=%v", n, err, inRange)
		}
		if err == nil && !back.Equal(d) {
			t.Fatalf("Parse(Format(%d)) = %s", n, back)
		}
	})
}
