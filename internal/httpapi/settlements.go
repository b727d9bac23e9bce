package httpapi

import (
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/settlement"
	"github.com/citizenpay/gateway/internal/wire"
)

// listSettlements answers GET /v1/settlements?date=&status=: the portal's
// business days, newest first (PROTOCOL.md §12).
func (s *Server) listSettlements(c *gin.Context) {
	q, err := parseQuery(c, "stl", "date", "status")
	if err != nil {
		s.fail(c, err)
		return
	}
	f := postgres.SettlementFilter{PortalID: portalOf(c).ID, Limit: q.limit + 1}
	if v, ok := q.params["date"]; ok {
		if f.Day, err = reconcile.ParseDay(v); err != nil {
			s.fail(c, fault.Field(fault.InvalidRequest, "date", "date must be a day, YYYY-MM-DD"))
			return
		}
	}
	if v, ok := q.params["status"]; ok {
		if !settlement.ValidStatus(v) {
			s.fail(c, fault.Field(fault.InvalidRequest, "status", "status is open, closed or settled"))
			return
		}
		f.Status = settlement.Status(v)
	}
	if q.cursor != "" {
		day, stlID, ok := strings.Cut(q.cursor, "|")
		if f.AfterDay, err = reconcile.ParseDay(day); err != nil || !ok || stlID == "" {
			s.fail(c, fault.Field(fault.InvalidRequest, "cursor", "cursor is not one this list gave"))
			return
		}
		f.AfterID = stlID
	}
	list, err := s.Service.ListSettlements(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	more := len(list) > q.limit
	if more {
		list = list[:q.limit]
	}
	writePage(c, list, more, "stl", func(st *settlement.Settlement) string { return st.Day.String() + "|" + st.ID }, wire.ToSettlement)
}

// settlementOf reads the settlement the path names, of the calling portal:
// another portal's is not_found.
func (s *Server) settlementOf(c *gin.Context) (*settlement.Settlement, error) {
	stlID, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.Service.Settlement(c.Request.Context(), portalOf(c).ID, stlID)
}

func (s *Server) getSettlement(c *gin.Context) {
	st, err := s.settlementOf(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.ToSettlement(st))
}

// settlementCSVHeader is the header row of a settlement's lines as CSV.
var settlementCSVHeader = []string{"type", "id", "payment_request_id", "dossier_code", "amount", "booked_at", "bank_code", "bank_reference"}

// listSettlementLines answers GET /v1/settlements/{id}/lines: the day's
// debits and refunds, paged as every list, or with Accept: text/csv the
// whole day as one CSV, written as it is read.
func (s *Server) listSettlementLines(c *gin.Context) {
	st, err := s.settlementOf(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if wantsCSV(c.GetHeader("Accept")) {
		s.writeSettlementCSV(c, st)
		return
	}
	q, err := parseQuery(c, "stll")
	if err != nil {
		s.fail(c, err)
		return
	}
	var afterAt time.Time
	afterID := ""
	if q.cursor != "" {
		at, lineID, ok := strings.Cut(q.cursor, "|")
		if afterAt, err = time.Parse(time.RFC3339Nano, at); err != nil || !ok || lineID == "" {
			s.fail(c, fault.Field(fault.InvalidRequest, "cursor", "cursor is not one this list gave"))
			return
		}
		afterID = lineID
	}
	lines, err := s.Service.SettlementLines(c.Request.Context(), st, afterAt, afterID, q.limit+1)
	if err != nil {
		s.fail(c, err)
		return
	}
	more := len(lines) > q.limit
	if more {
		lines = lines[:q.limit]
	}
	writePage(c, lines, more, "stll", func(l postgres.SettlementLine) string {
		return l.BookedAt.UTC().Format(time.RFC3339Nano) + "|" + l.ID
	}, toSettlementLine)
}

func toSettlementLine(l postgres.SettlementLine) wire.SettlementLine {
	return wire.SettlementLine{Type: l.Type, ID: l.ID, PaymentRequestID: l.RequestID, DossierCode: l.DossierCode,
		Amount: money.Format(l.Amount), BookedAt: wire.Time(l.BookedAt), BankCode: l.BankCode, BankReference: l.BankReference}
}

// wantsCSV reports whether an Accept header asks for text/csv before JSON.
func wantsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		media, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(media)) {
		case "text/csv":
			return true
		case "application/json", "application/*", "*/*":
			return false
		}
	}
	return false
}

// csvPage is how many lines the CSV of a day reads at a time.
const csvPage = 1000

func (s *Server) writeSettlementCSV(c *gin.Context, st *settlement.Settlement) {
	ctx := c.Request.Context()
	lines, err := s.Service.SettlementLines(ctx, st, time.Time{}, "", csvPage)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+st.ID+`.csv"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true
	_ = w.Write(settlementCSVHeader)
	for len(lines) > 0 {
		for _, l := range lines {
			v := toSettlementLine(l)
			_ = w.Write([]string{v.Type, v.ID, v.PaymentRequestID, v.DossierCode, v.Amount, v.BookedAt, v.BankCode, v.BankReference})
		}
		last := lines[len(lines)-1]
		if len(lines) < csvPage {
			break
		}
		if lines, err = s.Service.SettlementLines(ctx, st, last.BookedAt, last.ID, csvPage); err != nil {
			// The status is sent: a cut-off body is what the client sees.
			s.Log.Error("settlement CSV cut off", "settlement", st.ID, "err", err)
			break
		}
	}
	w.Flush()
}
