package statement_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/statement"
)

const (
	day  = "2026-11-26"
	head = "bank_reference,type,id,amount,currency,status,booked_at\r\n"
)

// tz is Asia/Ho_Chi_Minh, which keeps no daylight saving time.
var tz = time.FixedZone("ICT", 7*60*60)

// readAll reads a statement to its end or its first error.
func readAll(t *testing.T, body, contentType string) ([]statement.Line, error) {
	t.Helper()
	r, err := statement.NewReader(strings.NewReader(body), contentType, day)
	if err != nil {
		return nil, err
	}
	var lines []statement.Line
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, l)
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func line(n int, typ, id string, amount int64, reversed bool, booked, ref string) statement.Line {
	return statement.Line{N: n, Type: typ, ID: id, Amount: decimal.NewFromInt(amount), Currency: "VND",
		Reversed: reversed, BookedAt: at(booked), BankReference: ref}
}

func sameLines(t *testing.T, got, want []statement.Line) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.N != w.N || g.Type != w.Type || g.ID != w.ID || !g.Amount.Equal(w.Amount) || g.Currency != w.Currency ||
			g.Reversed != w.Reversed || !g.BookedAt.Equal(w.BookedAt) || g.BankReference != w.BankReference {
			t.Errorf("line %d: got %+v, want %+v", i, g, w)
		}
	}
}

// wantFormatError checks that err is a *FormatError at line n whose reason
// holds reason.
func wantFormatError(t *testing.T, err error, n int, reason string) {
	t.Helper()
	var fe *statement.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *FormatError", err)
	}
	if fe.Line != n || !strings.Contains(fe.Reason, reason) {
		t.Fatalf("got %q (line %d), want line %d with %q", fe.Error(), fe.Line, n, reason)
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       []statement.Line
		errLine    int
		errReason  string
	}{
		{name: "only the header is an empty day", body: head},
		{name: "a header without its CRLF", body: strings.TrimSuffix(head, "\r\n")},
		{name: "debits, refunds and reversals", body: head +
			"FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n" +
			"FT2,refund,rf_1,25000,VND,succeeded,2026-11-26T15:02:00+07:00\n" +
			"\"FT,3\",debit,pa_2,999999999999999999,VND,reversed,2026-11-25T17:00:00Z\r\n",
			want: []statement.Line{
				line(1, "debit", "pa_1", 75000, false, "2026-11-26T08:02:00Z", "FT1"),
				line(2, "refund", "rf_1", 25000, false, "2026-11-26T08:02:00Z", "FT2"),
				{N: 3, Type: "debit", ID: "pa_2", Amount: decimal.RequireFromString("999999999999999999"), Currency: "VND",
					Reversed: true, BookedAt: at("2026-11-25T17:00:00Z"), BankReference: "FT,3"},
			}},
		{name: "an empty body", body: "", errReason: "empty"},
		{name: "a header that differs", body: "type,bank_reference,id,amount,currency,status,booked_at\r\n", errReason: "header"},
		{name: "a header with a BOM", body: "\ufeff" + head, errReason: "header"},
		{name: "a header with a column more", body: "bank_reference,type,id,amount,currency,status,booked_at,x\r\n", errReason: "header"},
		{name: "not CSV but XML", body: "<Document/>", errReason: "header"},
		{name: "a decimal amount", body: head + "FT1,debit,pa_1,75000.0,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "the amount is not an amount"},
		{name: "a leading zero", body: head + "FT1,debit,pa_1,075000,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "amount"},
		{name: "a negative amount", body: head + "FT1,debit,pa_1,-1,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "amount"},
		{name: "a zero amount", body: head + "FT1,debit,pa_1,0,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "amount"},
		{name: "an amount over 18 digits", body: head + "FT1,debit,pa_1,1000000000000000000,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "amount"},
		{name: "an unknown type", body: head + "FT1,Debit,pa_1,1,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "type"},
		{name: "an unknown status", body: head + "FT1,debit,pa_1,1,VND,pending,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "status"},
		{name: "no currency", body: head + "FT1,debit,pa_1,1,,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "currency"},
		{name: "no id", body: head + "FT1,debit,,1,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "id"},
		{name: "a time without offset", body: head + "FT1,debit,pa_1,1,VND,succeeded,2026-11-26T08:02:00\r\n", errLine: 1, errReason: "RFC 3339"},
		{name: "a one-digit hour", body: head + "FT1,debit,pa_1,1,VND,succeeded,2026-11-26T8:02:00Z\r\n", errLine: 1, errReason: "RFC 3339"},
		{name: "the day before in Ho Chi Minh City", body: head +
			"FT1,debit,pa_1,1,VND,succeeded,2026-11-26T08:02:00Z\r\n" +
			"FT2,debit,pa_2,1,VND,succeeded,2026-11-25T16:59:59Z\r\n", errLine: 2, errReason: "a date that is not the asked date"},
		{name: "the day after in Ho Chi Minh City", body: head + "FT1,debit,pa_1,1,VND,succeeded,2026-11-26T17:00:00Z\r\n", errLine: 1, errReason: "not the asked date"},
		{name: "a field missing", body: head + "FT1,debit,pa_1,1,VND,succeeded\r\n", errLine: 1, errReason: "7 fields"},
		{name: "a field more", body: head + "FT1,debit,pa_1,1,VND,succeeded,2026-11-26T08:02:00Z,x\r\n", errLine: 1, errReason: "7 fields"},
		{name: "an unclosed quote", body: head + "\"FT1,debit,pa_1,1,VND,succeeded,2026-11-26T08:02:00Z\r\n", errLine: 1, errReason: "RFC 4180"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, ct := range []string{"text/csv", "text/csv; charset=utf-8", "Text/CSV; header=present"} {
				got, err := readAll(t, tc.body, ct)
				if tc.errReason != "" {
					wantFormatError(t, err, tc.errLine, tc.errReason)
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", ct, err)
				}
				sameLines(t, got, tc.want)
			}
		})
	}
}

func TestNewReaderRefuses(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"", "application/json", "text/plain", "application/pdf", "text/csv;;", "application/xml+zip"} {
		_, err := statement.NewReader(strings.NewReader(head), ct, day)
		wantFormatError(t, err, 0, "content type")
	}
	for _, date := range []string{"", "26/11/2026", "2026-13-01", "2026-11-26T00:00:00Z"} {
		_, err := statement.NewReader(strings.NewReader(head), "text/csv", date)
		var fe *statement.FormatError
		if err == nil || errors.As(err, &fe) {
			t.Errorf("date %q: got %v, want the caller's error", date, err)
		}
	}
}

func TestErrorIsSticky(t *testing.T) {
	t.Parallel()
	r, err := statement.NewReader(strings.NewReader(head+"FT1,debit,pa_1,x,VND,succeeded,2026-11-26T08:02:00Z\r\n"+
		"FT2,debit,pa_2,1,VND,succeeded,2026-11-26T08:02:00Z\r\n"), "text/csv", day)
	if err != nil {
		t.Fatal(err)
	}
	_, first := r.Next()
	if _, again := r.Next(); first == nil || again != first {
		t.Fatalf("first %v, then %v", first, again)
	}
	if got := first.Error(); got != "statement line 1: the amount is not an amount" {
		t.Fatalf("message %q", got)
	}
}

func TestWritersRoundTrip(t *testing.T) {
	t.Parallel()
	lines := []statement.Line{
		line(1, "debit", "pa_1", 75000, false, "2026-11-26T01:02:03Z", "FT<1>&"),
		line(2, "refund", "rf_1", 25000, false, "2026-11-26T16:59:59Z", "FT2"),
		line(3, "debit", "pa_2", 1, true, "2026-11-25T17:00:00Z", "FT3"),
		line(4, "refund", "rf_2", 999999999999999999, true, "2026-11-26T08:00:00.5Z", "FT,\"4\""),
	}
	var csvBody, camtBody bytes.Buffer
	if err := statement.WriteCSV(&csvBody, lines); err != nil {
		t.Fatal(err)
	}
	if err := statement.WriteCamt(&camtBody, "0071000999999", day, lines); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ct, body string }{{statement.ContentTypeCSV, csvBody.String()}, {statement.ContentTypeCamt, camtBody.String()}} {
		got, err := readAll(t, tc.body, tc.ct)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.ct, err, tc.body)
		}
		sameLines(t, got, lines)
	}
	var empty bytes.Buffer
	if err := statement.WriteCSV(&empty, nil); err != nil || empty.String() != head {
		t.Fatalf("empty CSV %q, %v", empty.String(), err)
	}
	empty.Reset()
	if err := statement.WriteCamt(&empty, "0071000999999", day, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, empty.String(), "text/xml"); err != nil || len(got) != 0 {
		t.Fatalf("empty camt: %v, %v", got, err)
	}
}
