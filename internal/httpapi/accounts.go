package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/wire"
)

type linkAccountBody struct {
	BankCode      string `json:"bank_code"`
	AccountNumber string `json:"account_number"`
}

// toLinkInput checks the bank and the number; every problem is listed.
func (s *Server) toLinkInput(ctx context.Context, b linkAccountBody) (service.LinkInput, error) {
	var problems []fault.FieldError
	add := func(field, msg string) {
		problems = append(problems, fault.FieldError{Field: field, Code: fault.ValidationFailed, Message: msg})
	}
	if err := bank.CheckCode(b.BankCode); err != nil {
		add("bank_code", "bank_code must be a bank's code: 2 to 16 of A-Z and 0-9")
	} else if _, err := s.Banks.Bank(ctx, b.BankCode); fault.Is(err, fault.NotFound) {
		add("bank_code", "no bank with this code is connected to the gateway")
	} else if err != nil {
		return service.LinkInput{}, err
	}
	number, err := pii.NormalizeAccount(b.AccountNumber)
	if err != nil {
		add("account_number", "account_number must be 6 to 19 digits (spaces, dashes and dots are ignored)")
	}
	switch len(problems) {
	case 0:
		return service.LinkInput{BankCode: b.BankCode, Number: number}, nil
	case 1:
		return service.LinkInput{}, &fault.Error{Code: fault.ValidationFailed, Message: problems[0].Message, Fields: problems}
	}
	return service.LinkInput{}, &fault.Error{Code: fault.ValidationFailed, Message: "some fields are invalid", Fields: problems}
}

// linkAccount starts linking an account: 202 with the account pending its
// bank's confirmation.
func (s *Server) linkAccount(c *gin.Context) {
	key, err := idempotencyKey(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var body linkAccountBody
	if err := decode(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	in, err := s.toLinkInput(c.Request.Context(), body)
	if err != nil {
		s.fail(c, err)
		return
	}
	sess := citizenOf(c)
	citizenID, err := sess.ID(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	// A citizen whose links the banks kept refusing waits before the next,
	// told exactly how long; Link checks again under the citizen's lock.
	if wait, err := s.Citizens.LinkPause(c.Request.Context(), citizenID); err != nil {
		s.fail(c, err)
		return
	} else if wait > 0 {
		s.failAfter(c, service.LinkPaused(wait), wait)
		return
	}
	in.HolderName = sess.who.Name
	// The idempotency fingerprint is a plain hash of the body: over the
	// clear number it would let anyone holding it guess the number. It is
	// taken over the number's keyed blind index instead.
	c.Set(ctxBody, fingerprintBody(in.BankCode, s.Citizens.PII.Index(pii.KindAccount, in.Number)))
	s.mutate(c, "citizen:"+citizenID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		a, err := s.Citizens.Link(ctx, tx, citizenID, in)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, wire.ToLinkedAccount(a), nil
	})
}

func fingerprintBody(bankCode string, accountIndex []byte) []byte {
	b, _ := json.Marshal(map[string]string{"bank_code": bankCode, "account_index": hex.EncodeToString(accountIndex)})
	return b
}

// unlinkAccount ends one of the citizen's accounts.
func (s *Server) unlinkAccount(c *gin.Context) {
	s.changeAccount(c, s.Citizens.Unlink)
}

// setDefaultAccount makes one of the citizen's active accounts the default.
func (s *Server) setDefaultAccount(c *gin.Context) {
	s.changeAccount(c, s.Citizens.SetDefault)
}

func (s *Server) changeAccount(c *gin.Context, change func(ctx context.Context, tx *postgres.Tx, citizenID, accID string) (*account.Account, error)) {
	key, err := idempotencyKey(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := emptyOrObject(c); err != nil {
		s.fail(c, err)
		return
	}
	citizenID, err := citizenOf(c).ID(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	accID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	s.mutate(c, "citizen:"+citizenID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		a, err := change(ctx, tx, citizenID, accID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.ToLinkedAccount(a), nil
	})
}

// listAccounts lists the citizen's accounts, newest first. A citizen never
// seen has none; reading creates nothing.
func (s *Server) listAccounts(c *gin.Context) {
	q, err := parseQuery(c, "acc")
	if err != nil {
		s.fail(c, err)
		return
	}
	sess := citizenOf(c)
	citizenID := sess.knownID()
	if citizenID == "" {
		if citizenID, err = s.Citizens.Find(c.Request.Context(), sess.PIDIndex()); err != nil {
			s.fail(c, err)
			return
		}
		if citizenID != "" {
			sess.remember(citizenID)
		}
	}
	as, more, err := s.Citizens.ListAccounts(c.Request.Context(), account.Filter{CitizenID: citizenID, Before: q.cursor, Limit: q.limit})
	if err != nil {
		s.fail(c, err)
		return
	}
	writePage(c, as, more, "acc", func(a *account.Account) string { return a.ID }, wire.ToLinkedAccount)
}
