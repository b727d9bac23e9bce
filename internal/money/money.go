// Package money parses and formats amounts of đồng exactly (PROTOCOL.md §1):
// a JSON string of whole units, never a float.
package money

import (
	"errors"
	"regexp"

	"github.com/shopspring/decimal"
)

// Currency is the only currency the gateway takes for now (ISO 4217
// exponent 0).
const Currency = "VND"

var amountPattern = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)

// ErrInvalidAmount means the text is not a positive whole number of đồng.
var ErrInvalidAmount = errors.New(`amount must be a string of whole đồng such as "75000"`)

// Parse reads an amount such as "75000".
func Parse(s string) (decimal.Decimal, error) {
	if !amountPattern.MatchString(s) {
		return decimal.Decimal{}, ErrInvalidAmount
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, ErrInvalidAmount
	}
	return d, nil
}

// Format writes an amount as its wire string.
func Format(d decimal.Decimal) string { return d.StringFixed(0) }
