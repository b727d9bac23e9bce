package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/plaintext"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/wire"
)

type createRefundBody struct {
	Amount json.RawMessage `json:"amount"`
	Reason *string         `json:"reason"`
}

const maxRefundReason = 500

func (s *Server) createRefund(c *gin.Context) {
	key, err := idempotencyKey(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var body createRefundBody
	if err := decode(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	text := amountText(body.Amount)
	if text == nil {
		s.fail(c, fault.Field(fault.InvalidAmount, "amount", `amount must be a string of whole đồng such as "25000"`))
		return
	}
	amount, err := money.Parse(*text)
	if err != nil {
		s.fail(c, fault.Field(fault.InvalidAmount, "amount", `amount must be a string of whole đồng such as "25000"`))
		return
	}
	reason := ""
	if body.Reason != nil {
		reason = *body.Reason
		if utf8.RuneCountInString(reason) > maxRefundReason {
			s.fail(c, fault.Field(fault.ValidationFailed, "reason", "reason is at most 500 characters"))
			return
		}
		if err := checkText("reason", reason, plaintext.MultiLine); err != nil {
			s.fail(c, err)
			return
		}
	}
	reqID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p := portalOf(c)
	s.mutate(c, "portal:"+p.ID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		rf, err := s.Service.CreateRefund(ctx, tx, p.ID, reqID, amount, reason)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, wire.ToRefund(rf), nil
	})
}

func (s *Server) getRefund(c *gin.Context) {
	rfID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	rf, err := s.Service.GetRefund(c.Request.Context(), portalOf(c).ID, rfID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.ToRefund(rf))
}
