package payment

import (
	"errors"
	"testing"
	"time"
)

func TestTimeRangeCheck(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name string
		r    TimeRange
		want error
	}{
		{"open at both ends", TimeRange{}, nil},
		{"from only", TimeRange{From: ptr(day)}, nil},
		{"to only", TimeRange{To: ptr(day)}, nil},
		{"a day", TimeRange{From: ptr(day), To: ptr(day.AddDate(0, 0, 1))}, nil},
		{"a nanosecond", TimeRange{From: ptr(day), To: ptr(day.Add(time.Nanosecond))}, nil},
		{"empty", TimeRange{From: ptr(day), To: ptr(day)}, ErrEmptyRange},
		{"ending at the zero time", TimeRange{From: ptr(day), To: ptr(time.Time{})}, ErrEmptyRange},
		{"from the zero time", TimeRange{From: ptr(time.Time{}), To: ptr(day)}, nil},
		{"the same instant in another offset", TimeRange{From: ptr(day), To: ptr(day.UTC())}, ErrEmptyRange},
		{"backwards", TimeRange{From: ptr(day), To: ptr(day.Add(-time.Nanosecond))}, ErrEmptyRange},
	}
	for _, tt := range tests {
		if err := tt.r.Check(); !errors.Is(err, tt.want) {
			t.Errorf("%s: Check() = %v, want %v", tt.name, err, tt.want)
		}
	}
}
