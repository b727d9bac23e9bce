// Package statement reads a bank's daily statement (PROTOCOL.md §7 and §12)
// as a stream: the CSV of §7 or an ISO 20022 camt.053 document, one line at
// a time and in bounded memory, so that a bank's million bookings of a day
// never sit in the gateway's memory at once. It also writes statements in
// both formats, for the sandbox bank and the gateway's benchmarks.
package statement

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"time"

	"github.com/citizenpay/gateway/internal/reconcile"
)

// Line is one booking of a bank's statement, as the reconciliation's
// domain knows it (reconcile.Line): N its 1-based position (the CSV data row,
// or the n-th transaction of the camt.053 document, an entry without
// transaction details counting as one), Type "debit" or "refund", ID the
// gateway's id, Amount exact and positive, Reversed for a reversal (CSV
// status "reversed", camt.053 RvslInd true), BookedAt on the statement's
// business day (a camt.053 entry booked with a date only is booked at that
// day's midnight).
type Line = reconcile.Line

// FormatError says why a statement cannot be read; a reconciliation run
// that meets one is "unavailable" with this reason. Reasons never quote the
// statement's content.
type FormatError struct {
	// Line is the position (Line.N) of the line at fault; 0 when the fault
	// is the statement's as a whole (its header, its root element).
	Line   int
	Reason string
}

// Error reads "statement line 5: the amount is not an amount".
func (e *FormatError) Error() string {
	if e.Line == 0 {
		return "statement: " + e.Reason
	}
	return fmt.Sprintf("statement line %d: %s", e.Line, e.Reason)
}

// Content types of the two formats, as the writers' users should send them.
const (
	ContentTypeCSV  = "text/csv; charset=utf-8"
	ContentTypeCamt = "application/xml"
)

// maxStep bounds the bytes of input one step of a reader may consume: a
// CSV row, or one XML token or element it decodes. A statement with a larger
// step is refused rather than held in memory.
const maxStep = 1 << 20

// errStepTooLong is budgetReader's refusal to read past maxStep.
var errStepTooLong = errors.New("statement: step over the size limit")

// businessDay is Asia/Ho_Chi_Minh (reconcile.Location).
func businessDay() *time.Location { return reconcile.Location }

// format is one statement format's line reader.
type format interface {
	next() (Line, error)
}

// Reader reads a statement line by line, in bounded memory. It is not safe
// for concurrent use.
type Reader struct {
	f   format
	err error // sticky: once refused or ended, always the same answer
}

// NewReader reads a statement of business day date (YYYY-MM-DD,
// Asia/Ho_Chi_Minh) in the format named by contentType: "text/csv…" is the
// CSV of PROTOCOL.md §7, "application/xml" and "text/xml" a camt.053
// document (§12). Any other content type is a *FormatError; a date that is
// not YYYY-MM-DD is a plain error (the caller's, not the bank's).
func NewReader(r io.Reader, contentType string, date string) (*Reader, error) {
	loc := businessDay()
	day, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return nil, fmt.Errorf("statement date %q is not YYYY-MM-DD", date)
	}
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		media = ""
	}
	b := &budgetReader{r: r}
	d := dayCheck{date: date, loc: loc, start: day}
	switch media {
	case "text/csv":
		return &Reader{f: newCSV(b, d)}, nil
	case "application/xml", "text/xml":
		return &Reader{f: newCamt(b, d)}, nil
	}
	return nil, &FormatError{Reason: "the content type is neither text/csv nor application/xml"}
}

// Next returns the next line, io.EOF at the end, or a *FormatError. After
// an error it returns the same error again.
func (r *Reader) Next() (Line, error) {
	if r.err != nil {
		return Line{}, r.err
	}
	l, err := r.f.next()
	if err != nil {
		r.err = err
		return Line{}, err
	}
	return l, nil
}

// dayCheck tells whether a booking falls on the asked business day.
type dayCheck struct {
	date  string
	loc   *time.Location
	start time.Time
}

func (d dayCheck) on(t time.Time) bool { return t.In(d.loc).Format(time.DateOnly) == d.date }

// budgetReader lets a reader consume at most left bytes before its next
// reset, so that no single row, token or element can grow without bound.
type budgetReader struct {
	r    io.Reader
	left int
}

func (b *budgetReader) reset() { b.left = maxStep }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errStepTooLong
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}
