package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/wire"
)

// getMe answers the citizen the token names, masked. It writes nothing.
func (s *Server) getMe(c *gin.Context) {
	who := citizenOf(c).who
	c.JSON(http.StatusOK, wire.Me{CitizenPIDMasked: pii.MaskPID(who.PID), Name: who.Name, LOA: who.LOA})
}

// listMyPaymentRequests lists the requests addressed to the citizen's pid,
// found by its blind index.
func (s *Server) listMyPaymentRequests(c *gin.Context) {
	q, err := parseQuery(c, "pr", "status")
	if err != nil {
		s.fail(c, err)
		return
	}
	f := payment.Filter{Scope: payment.CitizenScope(citizenOf(c).PIDIndex()),
		Limit: q.limit, Before: q.cursor, Status: q.params["status"]}
	s.writeRequestList(c, f)
}
