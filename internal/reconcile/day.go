// Package reconcile is the domain of reconciliation (PROTOCOL.md §12): the
// business day a statement covers, how each of a bank's statement lines
// compares with the gateway's own view of the id it names, and what a run
// comes to. It knows nothing of HTTP, SQL or a statement's file format.
package reconcile

import (
	"fmt"
	"time"
)

// Location is Asia/Ho_Chi_Minh, whose calendar days are the business days.
// Without tzdata it is the same fixed +07:00: Vietnam keeps no daylight
// saving time.
var Location = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
}()

// Day is a business day: a calendar day in Asia/Ho_Chi_Minh. The zero Day
// is no day.
type Day struct {
	start time.Time // midnight at its start, in Location
}

// ParseDay reads YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, Location)
	if err != nil {
		return Day{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return Day{start: t}, nil
}

// DayOf is the business day t falls on.
func DayOf(t time.Time) Day {
	y, m, d := t.In(Location).Date()
	return Day{start: time.Date(y, m, d, 0, 0, 0, 0, Location)}
}

// DayOfDate is the business day of a calendar date as PostgreSQL's date
// type gives it (midnight UTC of that date).
func DayOfDate(t time.Time) Day {
	y, m, d := t.Date()
	return Day{start: time.Date(y, m, d, 0, 0, 0, 0, Location)}
}

// IsZero reports whether d is no day.
func (d Day) IsZero() bool { return d.start.IsZero() }

// String is YYYY-MM-DD.
func (d Day) String() string { return d.start.Format(time.DateOnly) }

// Start is the first instant of the day.
func (d Day) Start() time.Time { return d.start }

// End is the first instant of the next day: a day is [Start, End).
func (d Day) End() time.Time { return d.Add(1).start }

// Add is the day n days after d (before it, for a negative n).
func (d Day) Add(n int) Day {
	y, m, dd := d.start.Date()
	return Day{start: time.Date(y, m, dd+n, 0, 0, 0, 0, Location)}
}

// Date is the day as a calendar date at midnight UTC, as a date column
// stores it.
func (d Day) Date() time.Time {
	y, m, dd := d.start.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}

// Contains reports whether t falls on d.
func (d Day) Contains(t time.Time) bool { return !t.Before(d.start) && t.Before(d.End()) }

// Within reports whether t falls on d, the day before or the day after: the
// window in which a statement line matches the gateway's outcome, so that
// midnight never makes a false difference.
func (d Day) Within(t time.Time) bool { return !t.Before(d.Add(-1).start) && t.Before(d.Add(2).start) }

// Due is the day whose reconciliation is due at now, when runs start at
// clock time at (hours and minutes past midnight) on the day after: the
// day before now's business day once at has passed, else the one before
// that.
func Due(now time.Time, at time.Duration) Day {
	today := DayOf(now)
	if now.Before(today.Start().Add(at)) {
		return today.Add(-2)
	}
	return today.Add(-1)
}
