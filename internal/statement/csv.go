package statement

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/wire"
)

// csvHeader is the header row of PROTOCOL.md §7, exactly.
var csvHeader = []string{"bank_reference", "type", "id", "amount", "currency", "status", "booked_at"}

// csvReader reads the CSV of §7 row by row.
type csvReader struct {
	b      *budgetReader
	r      *csv.Reader
	day    dayCheck
	n      int
	header bool
}

func newCSV(b *budgetReader, day dayCheck) *csvReader {
	r := csv.NewReader(b)
	r.FieldsPerRecord = len(csvHeader)
	r.ReuseRecord = true
	return &csvReader{b: b, r: r, day: day}
}

func (c *csvReader) read() ([]string, error) {
	c.b.reset()
	return c.r.Read()
}

func (c *csvReader) next() (Line, error) {
	if !c.header {
		head, err := c.read()
		switch {
		case errors.Is(err, io.EOF):
			return Line{}, &FormatError{Reason: "the statement is empty, without its header row"}
		case err != nil || !slices.Equal(head, csvHeader):
			return Line{}, &FormatError{Reason: "the header row is not bank_reference,type,id,amount,currency,status,booked_at"}
		}
		c.header = true
	}
	rec, err := c.read()
	if errors.Is(err, io.EOF) {
		return Line{}, io.EOF
	}
	c.n++
	if err != nil {
		reason := "the row is not RFC 4180 CSV"
		switch {
		case errors.Is(err, csv.ErrFieldCount):
			reason = "the row does not have the 7 fields of the header"
		case errors.Is(err, errStepTooLong):
			reason = "the row is over 1 MiB"
		}
		return Line{}, &FormatError{Line: c.n, Reason: reason}
	}
	l := Line{N: c.n, BankReference: rec[0], Type: rec[1], ID: rec[2], Currency: rec[4]}
	fail := func(reason string) (Line, error) { return Line{}, &FormatError{Line: c.n, Reason: reason} }
	if l.Type != "debit" && l.Type != "refund" {
		return fail("the type is neither debit nor refund")
	}
	if l.ID == "" {
		return fail("the id is empty")
	}
	if l.Amount, err = money.Parse(rec[3]); err != nil {
		return fail("the amount is not an amount")
	}
	if l.Currency == "" {
		return fail("the currency is empty")
	}
	switch rec[5] {
	case "succeeded":
	case "reversed":
		l.Reversed = true
	default:
		return fail("the status is neither succeeded nor reversed")
	}
	if l.BookedAt, err = wire.ParseTime(rec[6]); err != nil {
		return fail("booked_at is not an RFC 3339 date-time")
	}
	if !c.day.on(l.BookedAt) {
		return fail("booked_at is a date that is not the asked date")
	}
	return l, nil
}
