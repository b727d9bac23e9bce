package httpapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/plaintext"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/wire"
)

type createItemBody struct {
	Code        string          `json:"code"`
	Description string          `json:"description"`
	Amount      json.RawMessage `json:"amount"`
}

type createPaymentRequestBody struct {
	CitizenPID  string            `json:"citizen_pid"`
	DossierCode string            `json:"dossier_code"`
	ServiceCode string            `json:"service_code"`
	Description string            `json:"description"`
	Items       []createItemBody  `json:"items"`
	Amount      json.RawMessage   `json:"amount"`
	Currency    string            `json:"currency"`
	ExpiresAt   *string           `json:"expires_at"`
	Metadata    map[string]string `json:"metadata"`
	ReturnURL   string            `json:"return_url"`
}

// amountText returns the amount if raw is a JSON string, else nil (a number
// or anything else is an invalid amount, not a type error).
func amountText(raw json.RawMessage) *string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return &s
}

func toCreateInput(b createPaymentRequestBody) payment.CreateInput {
	in := payment.CreateInput{
		CitizenPID: b.CitizenPID, DossierCode: b.DossierCode, ServiceCode: b.ServiceCode,
		Description: b.Description, Amount: amountText(b.Amount), Currency: b.Currency, Metadata: b.Metadata,
		ReturnURL: b.ReturnURL,
	}
	for _, it := range b.Items {
		in.Items = append(in.Items, payment.ItemInput{Code: it.Code, Description: it.Description, Amount: amountText(it.Amount)})
	}
	if b.ExpiresAt != nil {
		t, err := wire.ParseTime(*b.ExpiresAt)
		if err != nil {
			in.ExpiresAtMalformed = true
		} else {
			in.ExpiresAt = &t
		}
	}
	return in
}

// requestView is a payment request as portals and citizens see it, its
// checkout_url under the gateway's public URL.
func (s *Server) requestView(r *payment.Request) wire.PaymentRequest {
	return wire.ToPaymentRequest(r, s.Service.PublicURL)
}

func (s *Server) createPaymentRequest(c *gin.Context) {
	key, err := idempotencyKey(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var body createPaymentRequestBody
	if err := decode(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	in := toCreateInput(body)
	p := portalOf(c)
	// Validation runs inside the guarded work: a retry of a finished
	// create replays it even when the time rules (expires_at in the future)
	// would now refuse the body. A refusal here stores nothing.
	s.mutateAtCommit(c, "portal:"+p.ID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		draft, err := payment.Validate(in, s.Now())
		if err != nil {
			return 0, nil, err
		}
		_, view, err := s.Service.CreatePaymentRequestJSON(ctx, tx, p.ID, draft)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, view, nil
	})
}

func (s *Server) getPaymentRequest(c *gin.Context) {
	reqID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.Service.GetPaymentRequest(c.Request.Context(), payment.PortalScope(portalOf(c).ID), reqID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.requestView(r))
}

func (s *Server) cancelPaymentRequest(c *gin.Context) {
	key, err := idempotencyKey(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := emptyOrObject(c); err != nil {
		s.fail(c, err)
		return
	}
	reqID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p := portalOf(c)
	s.mutate(c, "portal:"+p.ID, key, func(ctx context.Context, tx *postgres.Tx) (int, any, error) {
		r, err := s.Service.CancelPaymentRequest(ctx, tx, p.ID, reqID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.requestView(r), nil
	})
}

// emptyOrObject accepts an empty body or an empty JSON object.
func emptyOrObject(c *gin.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	var v struct{}
	return decode(c, &v)
}

func (s *Server) listPaymentRequests(c *gin.Context) {
	q, err := parseQuery(c, "pr", "status", "dossier_code",
		"created_from", "created_to", "updated_from", "updated_to", "paid_from", "paid_to")
	if err != nil {
		s.fail(c, err)
		return
	}
	f := payment.Filter{Scope: payment.PortalScope(portalOf(c).ID), Limit: q.limit, Before: q.cursor,
		Status: q.params["status"], DossierCode: q.params["dossier_code"]}
	for _, r := range []struct {
		name string
		span *payment.TimeRange
	}{{"created", &f.Created}, {"updated", &f.Updated}, {"paid", &f.Paid}} {
		if *r.span, err = q.timeRange(r.name); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.writeRequestList(c, f)
}

func (s *Server) writeRequestList(c *gin.Context, f payment.Filter) {
	if f.Status != "" && !payment.ValidStatus(f.Status) {
		s.fail(c, fault.Field(fault.InvalidRequest, "status", "status is not a payment request state"))
		return
	}
	if len(f.DossierCode) > 64 {
		s.fail(c, fault.Field(fault.InvalidRequest, "dossier_code", "dossier_code is at most 64 characters"))
		return
	}
	if _, _, bad := plaintext.Find(f.Before, plaintext.OneLine); bad {
		s.fail(c, fault.Field(fault.InvalidRequest, "cursor", "cursor is not one this list gave"))
		return
	}
	if msg := plaintext.Problem("dossier_code", f.DossierCode, plaintext.OneLine); msg != "" {
		s.fail(c, fault.Field(fault.InvalidRequest, "dossier_code", msg))
		return
	}
	if err := s.writeRequestPage(c, f); err != nil {
		s.fail(c, err)
	}
}
