package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
)

type eventList struct {
	Data       []json.RawMessage `json:"data"`
	NextCursor string            `json:"next_cursor"`
}

// listEvents pages through a portal's events in commit order. next_cursor
// is always set: after the last event, or the same position when none came.
func (s *Server) listEvents(c *gin.Context) {
	q, err := parseQuery(c, "ev")
	if err != nil {
		s.fail(c, err)
		return
	}
	var after int64
	if q.cursor != "" {
		after, err = strconv.ParseInt(q.cursor, 10, 64)
		if err != nil || after < 0 {
			s.fail(c, fault.Field(fault.InvalidRequest, "cursor", "cursor is not one this list gave"))
			return
		}
	}
	evs, err := s.Service.ListEvents(c.Request.Context(), portalOf(c).ID, after, q.limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := eventList{Data: make([]json.RawMessage, 0, len(evs))}
	for _, e := range evs {
		out.Data = append(out.Data, e.Payload)
		after = e.Seq
	}
	out.NextCursor = encodeCursor("ev", strconv.FormatInt(after, 10))
	c.JSON(http.StatusOK, out)
}
