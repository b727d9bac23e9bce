package reconcile_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/reconcile"
)

func day(t *testing.T, s string) reconcile.Day {
	t.Helper()
	d, err := reconcile.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDayIsTheCalendarDayInHoChiMinhCity(t *testing.T) {
	d := day(t, "2026-12-01")
	if got := d.Start().UTC().Format(time.RFC3339); got != "2026-11-30T17:00:00Z" {
		t.Fatalf("start %s", got)
	}
	if got := d.End().UTC().Format(time.RFC3339); got != "2026-12-01T17:00:00Z" {
		t.Fatalf("end %s", got)
	}
	// 23:59:59 and 00:00:00 in Ho Chi Minh City fall on two days.
	late := time.Date(2026, 12, 1, 16, 59, 59, 0, time.UTC)
	if reconcile.DayOf(late) != d || reconcile.DayOf(late.Add(time.Second)) != d.Add(1) {
		t.Fatalf("midnight: %s %s", reconcile.DayOf(late), reconcile.DayOf(late.Add(time.Second)))
	}
	if d.Add(31).String() != "2027-01-01" || d.Add(-1).String() != "2026-11-30" {
		t.Fatalf("add: %s %s", d.Add(31), d.Add(-1))
	}
	if reconcile.DayOfDate(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) != d || d.Date().Format(time.DateOnly) != "2026-12-01" {
		t.Fatal("date round trip")
	}
	for _, bad := range []string{"", "2026-13-01", "01/12/2026", "2026-12-01T00:00:00Z"} {
		if _, err := reconcile.ParseDay(bad); err == nil {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
}

func TestWithinIsTheDayAndItsNeighbours(t *testing.T) {
	d := day(t, "2026-12-02")
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{d.Add(-1).Start(), true},
		{d.Add(-1).Start().Add(-time.Nanosecond), false},
		{d.Add(2).Start().Add(-time.Nanosecond), true},
		{d.Add(2).Start(), false},
	} {
		if got := d.Within(tc.at); got != tc.want {
			t.Errorf("Within(%s) = %v", tc.at, got)
		}
	}
}

func TestDueFollowsReconcileAt(t *testing.T) {
	at := 2 * time.Hour
	loc := reconcile.Location
	if got := reconcile.Due(time.Date(2026, 12, 2, 1, 59, 0, 0, loc), at); got.String() != "2026-11-30" {
		t.Fatalf("before RECONCILE_AT: %s", got)
	}
	if got := reconcile.Due(time.Date(2026, 12, 2, 2, 0, 0, 0, loc), at); got.String() != "2026-12-01" {
		t.Fatalf("at RECONCILE_AT: %s", got)
	}
}

func TestDecide(t *testing.T) {
	d := day(t, "2026-12-02")
	amt := decimal.NewFromInt(75000)
	line := reconcile.Line{Type: "debit", ID: "pa_1", Amount: amt, Currency: "VND", BookedAt: d.Start().Add(time.Hour), BankReference: "R1"}
	paid := reconcile.View{Found: true, Type: "debit", Status: reconcile.OutcomeSucceeded, Amount: amt, Currency: "VND",
		BookedAt: d.Start().Add(-time.Minute)} // the gateway applied it just before midnight
	with := func(edit func(l *reconcile.Line, v *reconcile.View)) (reconcile.Line, reconcile.View) {
		l, v := line, paid
		edit(&l, &v)
		return l, v
	}
	cases := []struct {
		name  string
		edit  func(l *reconcile.Line, v *reconcile.View)
		prior *reconcile.Prior
		want  reconcile.Verdict
		kind  reconcile.DifferenceKind
	}{
		{"matched across midnight", func(*reconcile.Line, *reconcile.View) {}, nil, reconcile.VerdictMatched, ""},
		{"pending is applied", func(_ *reconcile.Line, v *reconcile.View) {
			v.Status, v.BookedAt = reconcile.OutcomePending, time.Time{}
		}, nil, reconcile.VerdictApply, ""},
		{"never sent", func(_ *reconcile.Line, v *reconcile.View) { *v = reconcile.View{} }, nil, reconcile.VerdictDifference, reconcile.UnknownID},
		{"amount", func(l *reconcile.Line, _ *reconcile.View) { l.Amount = amt.Add(decimal.NewFromInt(1000)) }, nil, reconcile.VerdictDifference, reconcile.AmountDiffers},
		{"currency", func(l *reconcile.Line, _ *reconcile.View) { l.Currency = "USD" }, nil, reconcile.VerdictDifference, reconcile.AmountDiffers},
		{"pending with another amount is not applied", func(l *reconcile.Line, v *reconcile.View) {
			v.Status, l.Amount = reconcile.OutcomePending, amt.Add(decimal.NewFromInt(1))
		}, nil, reconcile.VerdictDifference, reconcile.AmountDiffers},
		{"failed at the gateway", func(_ *reconcile.Line, v *reconcile.View) { v.Status = reconcile.OutcomeFailed }, nil, reconcile.VerdictDifference, reconcile.FailedAtGateway},
		{"reversal", func(l *reconcile.Line, _ *reconcile.View) { l.Reversed = true }, nil, reconcile.VerdictDifference, reconcile.Reversal},
		{"type", func(l *reconcile.Line, _ *reconcile.View) { l.Type = "refund" }, nil, reconcile.VerdictDifference, reconcile.TypeDiffers},
		{"two days out", func(_ *reconcile.Line, v *reconcile.View) { v.BookedAt = d.Add(-2).Start() }, nil, reconcile.VerdictDifference, reconcile.OutsideWindow},
		{"the line it matched before", func(_ *reconcile.Line, v *reconcile.View) { v.BookedAt = d.Add(-5).Start() },
			&reconcile.Prior{Day: d, BankReference: "R1", Applied: true}, reconcile.VerdictMatched, ""},
		{"the line it matched before, now with another amount", func(l *reconcile.Line, _ *reconcile.View) {
			l.Amount = amt.Add(decimal.NewFromInt(1000))
		}, &reconcile.Prior{Day: d, BankReference: "R1"}, reconcile.VerdictDifference, reconcile.AmountDiffers},
		{"a second line", func(*reconcile.Line, *reconcile.View) {}, &reconcile.Prior{Day: d.Add(-1), BankReference: "R0"}, reconcile.VerdictDifference, reconcile.SecondLine},
	}
	for _, tc := range cases {
		l, v := with(tc.edit)
		got := reconcile.Decide("SBX", d, l, v, tc.prior)
		if got.Verdict != tc.want || got.Kind != tc.kind {
			t.Errorf("%s: %+v, want %s %s", tc.name, got, tc.want, tc.kind)
		}
		if got.Verdict == reconcile.VerdictDifference && got.Summary == "" {
			t.Errorf("%s: a difference without a summary", tc.name)
		}
	}
}

func TestKeyIsStableAndDistinct(t *testing.T) {
	d := day(t, "2026-12-02")
	l := reconcile.Line{Type: "debit", ID: "pa_1", Amount: decimal.NewFromInt(5), Currency: "VND", BankReference: "R1", N: 3}
	a := reconcile.Decide("SBX", d, l, reconcile.View{}, nil)
	moved := l
	moved.N = 9 // the same line, elsewhere in a re-sent statement
	if reconcile.Key(a, l) != reconcile.Key(a, moved) {
		t.Fatal("the key depends on the line's position")
	}
	other := l
	other.Amount = decimal.NewFromInt(6)
	if reconcile.Key(a, l) == reconcile.Key(a, other) {
		t.Fatal("two lines share a key")
	}
}

func TestTally(t *testing.T) {
	var tl reconcile.Tally
	debit := reconcile.Line{Type: "debit", Amount: decimal.NewFromInt(100)}
	refund := reconcile.Line{Type: "refund", Amount: decimal.NewFromInt(40)}
	reversal := reconcile.Line{Type: "debit", Amount: decimal.NewFromInt(100), Reversed: true}
	tl.Add(debit, reconcile.Decision{Verdict: reconcile.VerdictMatched})
	tl.Add(debit, reconcile.Decision{Verdict: reconcile.VerdictApply, Applied: true})
	tl.Add(refund, reconcile.Decision{Verdict: reconcile.VerdictMatched})
	tl.Add(reversal, reconcile.Decision{Verdict: reconcile.VerdictDifference})
	if tl.Lines != 4 || tl.Matched != 3 || tl.Applied != 1 || tl.Differences != 1 ||
		!tl.DebitTotal.Equal(decimal.NewFromInt(200)) || !tl.RefundTotal.Equal(decimal.NewFromInt(40)) {
		t.Fatalf("%+v", tl)
	}
}
