package bankclient

import (
	"errors"
	"regexp"
	"time"
)

// rfc3339Pattern is the shape of an RFC 3339 date-time as a bank writes it:
// two-digit fields, a period before the fraction, an offset of at most
// ±23:59. time.Parse with time.RFC3339 alone also takes a one-digit hour, a
// comma before the fraction and offsets such as +24:00 or +00:60
// (go.dev/issue/54580); the ranges of the date and time fields it checks.
var rfc3339Pattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)

var errNotRFC3339 = errors.New("not an RFC 3339 date-time")

// parseRFC3339 reads an RFC 3339 date-time strictly.
func parseRFC3339(s string) (time.Time, error) {
	if !rfc3339Pattern.MatchString(s) {
		return time.Time{}, errNotRFC3339
	}
	return time.Parse(time.RFC3339, s)
}
