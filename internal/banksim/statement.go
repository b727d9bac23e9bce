package banksim

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"time"

	"github.com/citizenpay/gateway/internal/money"
)

// handleStatement answers GET /v1/statements?date=YYYY-MM-DD: the bookings of
// that business day in Asia/Ho_Chi_Minh as RFC 4180 CSV.
func (s *Server) handleStatement(w http.ResponseWriter, r *http.Request) {
	date := r.URL.Query().Get("date")
	if _, err := time.ParseInLocation(time.DateOnly, date, s.loc); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "date must be YYYY-MM-DD.")
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	_ = cw.Write([]string{"bank_reference", "type", "id", "amount", "currency", "status", "booked_at"})
	for _, op := range s.ledger.statement(date) {
		_ = cw.Write([]string{
			op.bankReference, string(op.kind), op.id, money.Format(op.amount), op.currency,
			op.status, op.settledAt.UTC().Format(time.RFC3339),
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		writeProblem(w, http.StatusInternalServerError, "internal", "")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
