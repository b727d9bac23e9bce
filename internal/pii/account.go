package pii

import (
	"errors"
	"fmt"
)

// Bounds on the length of a normalised account number, in digits.
const (
	// MinAccountDigits is the fewest digits an account number may have.
	MinAccountDigits = 6
	// MaxAccountDigits is the most digits an account number may have.
	MaxAccountDigits = 19
)

// ErrInvalidAccount is returned by NormalizeAccount for a value that is not an
// account number. Its wrapped message says why and never repeats the number.
var ErrInvalidAccount = errors.New("invalid account number")

// NormalizeAccount returns the canonical form of an account number: its ASCII
// digits only. Spaces, dashes and dots are taken as separators and dropped
// ("0071 000-123.456" → "0071000123456"); any other character, non-ASCII
// digits included, is an error, as is a result outside 6–19 digits. The result
// is what Protector.Index and Protector.Seal must be given.
func NormalizeAccount(s string) (string, error) {
	digits := make([]byte, 0, len(s))
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == ' ' || r == '-' || r == '.':
		default:
			return "", fmt.Errorf("%w: character at byte %d is not a digit or separator", ErrInvalidAccount, i)
		}
	}
	if n := len(digits); n < MinAccountDigits || n > MaxAccountDigits {
		return "", fmt.Errorf("%w: %d digits, want %d to %d", ErrInvalidAccount, n, MinAccountDigits, MaxAccountDigits)
	}
	return string(digits), nil
}
