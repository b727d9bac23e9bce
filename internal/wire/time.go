package wire

import (
	"errors"
	"regexp"
	"time"
)

// rfc3339Pattern is the shape of an RFC 3339 date-time (PROTOCOL.md §1):
// two-digit fields, a period before the fraction, an offset of at most
// ±23:59. time.Parse with time.RFC3339 alone also takes a one-digit hour, a
// comma before the fraction and offsets such as +24:00 or +00:60
// (go.dev/issue/54580); the ranges of the date and time fields it checks.
var rfc3339Pattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)

// ErrNotRFC3339 is ParseTime's refusal of anything but an RFC 3339 date-time.
var ErrNotRFC3339 = errors.New("not an RFC 3339 date-time")

// ParseTime reads an RFC 3339 date-time strictly, with any offset: the
// times portals, citizens and banks send. Time writes them.
func ParseTime(s string) (time.Time, error) {
	if !rfc3339Pattern.MatchString(s) {
		return time.Time{}, ErrNotRFC3339
	}
	return time.Parse(time.RFC3339, s)
}
