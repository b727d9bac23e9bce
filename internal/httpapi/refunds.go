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
	reqID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p := portalOf(c)
	// The body's values are checked inside the guarded work, after the
	// key: the same key with another body is idempotency_key_reused
	// whatever that body says (PROTOCOL.md §4). A refusal here stores nothing.
	s.mutate(c, "portal:"+p.ID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		text := amountText(body.Amount)
		if text == nil {
			return 0, nil, fault.Field(fault.InvalidAmount, "amount", `amount must be a string of whole đồng such as "25000"`)
		}
		amount, err := money.Parse(*text)
		if err != nil {
			return 0, nil, fault.Field(fault.InvalidAmount, "amount", `amount must be a string of whole đồng such as "25000"`)
		}
		reason := ""
		if body.Reason != nil {
			reason = *body.Reason
			if utf8.RuneCountInString(reason) > maxRefundReason {
				return 0, nil, fault.Field(fault.ValidationFailed, "reason", "reason is at most 500 characters")
			}
			if err := checkText("reason", reason, plaintext.MultiLine); err != nil {
				return 0, nil, err
			}
		}
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
