package banksim

import (
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
)

// Statement line types and statuses (PROTOCOL §7).
const (
	BookingDebit     = "debit"
	BookingRefund    = "refund"
	BookingSucceeded = "succeeded"
	BookingReversed  = "reversed"
)

// alteredBy is what Knobs.StatementAlterAmount adds to a debit line.
var alteredBy = decimal.NewFromInt(1000)

// phantomAmount is the amount of each Knobs.StatementPhantom line.
var phantomAmount = decimal.NewFromInt(50000)

// notAnAmount is what Knobs.StatementGarbage "amount" writes instead of an
// amount: a number, but not in the protocol's format (§1).
const notAnAmount = "7.5e4"

// csvHeader is the statement's header row (PROTOCOL §7).
var csvHeader = []string{"bank_reference", "type", "id", "amount", "currency", "status", "booked_at"}

// Booking is one line of a statement: a debit or refund the bank executed,
// or, with the statement knobs, a line it shows instead.
type Booking struct {
	BankReference string
	// Type is BookingDebit or BookingRefund.
	Type string
	// ID is the gateway's debit_id or refund_id.
	ID       string
	Amount   decimal.Decimal
	Currency string
	// Status is BookingSucceeded, or BookingReversed for a reversal of the
	// line before it with the same id.
	Status   string
	BookedAt time.Time
}

// Statement returns the lines of the business day (YYYY-MM-DD, in
// Asia/Ho_Chi_Minh) as GET /v1/statements would serve them under the knobs in
// force: StatementOmit, StatementPhantom, StatementAlterAmount and
// StatementReverse applied; the format, outage and garbage knobs aside. It
// returns nil for a day that is not a date.
func (s *Server) Statement(day string) []Booking {
	start, err := time.ParseInLocation(time.DateOnly, day, s.loc)
	if err != nil {
		return nil
	}
	return s.statementLines(start, s.Knobs())
}

// statementLines builds the statement of the day starting at start: the
// ledger's bookings in order, then the faults k asks for, each choosing the
// first lines in booking order so that every fetch shows the same.
func (s *Server) statementLines(start time.Time, k Knobs) []Booking {
	ops := s.ledger.statement(start.Format(time.DateOnly))
	ops = ops[min(max(k.StatementOmit, 0), len(ops)):]
	lines := make([]Booking, 0, len(ops)+max(k.StatementReverse, 0)+max(k.StatementPhantom, 0))
	debits := 0
	for _, op := range ops {
		b := Booking{
			BankReference: op.bankReference, Type: string(op.kind), ID: op.id,
			Amount: op.amount, Currency: op.currency, Status: BookingSucceeded, BookedAt: op.settledAt,
		}
		if op.kind != kindDebit {
			lines = append(lines, b)
			continue
		}
		debits++
		if debits <= k.StatementAlterAmount {
			b.Amount = b.Amount.Add(alteredBy)
		}
		lines = append(lines, b)
		if debits <= k.StatementReverse {
			r := b
			r.BankReference = "RV" + strings.TrimPrefix(b.BankReference, "FT")
			r.Status = BookingReversed
			lines = append(lines, r)
		}
	}
	compact := start.Format("20060102")
	for i := range max(k.StatementPhantom, 0) {
		lines = append(lines, Booking{
			BankReference: fmt.Sprintf("PH%s%08d", start.Format("060102"), i+1),
			Type:          BookingDebit,
			ID:            fmt.Sprintf("pa_phantom_%s_%d", compact, i+1),
			Amount:        phantomAmount,
			Currency:      "VND",
			Status:        BookingSucceeded,
			BookedAt:      start.Add(time.Duration(i+1) * time.Minute),
		})
	}
	return lines
}

// handleStatement answers GET /v1/statements?date=YYYY-MM-DD: the bookings of
// that business day in Asia/Ho_Chi_Minh, as RFC 4180 CSV or camt.053 XML,
// with the statement knobs the request arrived under.
func (s *Server) handleStatement(w http.ResponseWriter, r *http.Request) {
	k := knobsFrom(r.Context())
	start, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("date"), s.loc)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "date must be YYYY-MM-DD.")
		return
	}
	switch {
	case k.StatementUnavailableFor > 0:
		w.Header().Set("Retry-After", "60")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "Statements are unavailable for now.")
		return
	case k.StatementNotReady:
		writeProblem(w, http.StatusNotFound, "not_found", "The statement of this day is not ready yet.")
		return
	case k.StatementGarbage == GarbageHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, maintenancePage)
		return
	}
	lines := s.statementLines(start, k)
	if k.StatementGarbage == GarbageAmount && len(lines) == 0 {
		// A day without lines still gets one whose amount is wrong.
		lines = append(lines, Booking{
			BankReference: "BA" + start.Format("060102") + "00000001", Type: BookingDebit,
			ID: "pa_badamount_" + start.Format("20060102"), Amount: phantomAmount, Currency: "VND",
			Status: BookingSucceeded, BookedAt: start,
		})
	}
	if k.StatementFormat == StatementCamt053 || acceptsOnlyXML(r.Header.Values("Accept")) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if err := s.writeCamt053(w, start, lines, k); err != nil {
			s.log.Warn("statement not written", "date", start.Format(time.DateOnly), "error", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if err := writeCSV(w, lines, k.StatementGarbage); err != nil {
		s.log.Warn("statement not written", "date", start.Format(time.DateOnly), "error", err)
	}
}

// writeCSV streams lines as the CSV of PROTOCOL §7; garbage "header" changes
// the header row and "amount" the first line's amount.
func writeCSV(w io.Writer, lines []Booking, garbage string) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := csvHeader
	if garbage == GarbageHeader {
		header = []string{"reference", "kind", "transaction_id", "value", "ccy", "state", "posted"}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for i, b := range lines {
		amount := money.Format(b.Amount)
		if garbage == GarbageAmount && i == 0 {
			amount = notAnAmount
		}
		if err := cw.Write([]string{
			b.BankReference, b.Type, b.ID, amount, b.Currency, b.Status, b.BookedAt.UTC().Format(time.RFC3339),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// acceptsOnlyXML reports whether the Accept header values name
// application/xml and nothing else.
func acceptsOnlyXML(values []string) bool {
	seen := false
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			mt, _, err := mime.ParseMediaType(part)
			if err != nil || mt != "application/xml" {
				return false
			}
			seen = true
		}
	}
	return seen
}

// maintenancePage is what Knobs.StatementGarbage "html" answers.
const maintenancePage = `<!DOCTYPE html>
<html lang="vi"><head><title>Bảo trì hệ thống</title></head>
<body><h1>Hệ thống đang bảo trì</h1><p>Vui lòng thử lại sau.</p></body></html>
`
