package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/plaintext"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

type payBody struct {
	AccountID *string `json:"account_id"`
}

// payPaymentRequest starts paying a request addressed to the citizen
// (PROTOCOL.md §6): 202 with the request in processing; the debit goes to the
// bank in the background.
func (s *Server) payPaymentRequest(c *gin.Context) {
	key, err := idempotencyKey(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var body payBody
	raw, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(raw) > 0 {
		if err := decode(c, &body); err != nil {
			s.fail(c, err)
			return
		}
	}
	cs := citizenOf(c)
	citizenID, err := cs.ID(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	accountID := ""
	if body.AccountID != nil {
		accountID = *body.AccountID
	}
	if err := checkText("account_id", accountID, plaintext.OneLine); err != nil {
		s.fail(c, err)
		return
	}
	reqID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	payer := service.Payer{CitizenID: citizenID, PIDIndex: cs.PIDIndex()}
	s.mutate(c, "citizen:"+citizenID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		r, err := s.Service.Pay(ctx, tx, payer, reqID, accountID, s.BankOpen)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, s.requestView(r), nil
	})
}
