package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/plaintext"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/wire"
)

// bankCallbackRoutes serves the banks' callbacks (PROTOCOL.md §7).
func (s *Server) bankCallbackRoutes(r *gin.Engine) {
	r.POST("/v1/bank-callbacks/:bank_code", s.bankCallback)
}

// bankCallback checks a bank's signature, then applies its callback once.
// An unknown bank is refused like a bad signature, so that the route does
// not tell which bank codes exist.
func (s *Server) bankCallback(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	code := c.Param("bank_code")
	if bank.CheckCode(code) != nil {
		s.fail(c, errBadSignature)
		return
	}
	msg := signature.FromRequest(c.Request, body)
	header := c.GetHeader(signature.HeaderSignature)
	now := s.Now()
	// What needs no secret first: a malformed signature or a timestamp out
	// of the window costs no lookup.
	if err := signature.Precheck(header, msg.Timestamp, now); err != nil {
		c.Set("error", err)
		s.fail(c, errBadSignature)
		return
	}
	ctx := c.Request.Context()
	b, fresh, err := s.Banks.Lookup(ctx, code)
	if fault.Is(err, fault.NotFound) {
		s.fail(c, errBadSignature)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	err = signature.Verify(header, b.SigningSecrets(now), msg, now)
	if errors.Is(err, signature.ErrMismatch) && !fresh {
		// The secret may have been rotated since it was cached; the bank
		// is reread at most once per reload interval.
		var reloaded bool
		if b, reloaded, err = s.Banks.Reload(ctx, code); err == nil && reloaded {
			err = signature.Verify(header, b.SigningSecrets(now), msg, now)
		} else if err == nil {
			err = signature.ErrMismatch
		}
	}
	if err != nil && !errors.Is(err, signature.ErrMismatch) && !fault.Is(err, fault.NotFound) {
		s.fail(c, err)
		return
	}
	if err != nil {
		c.Set("error", err)
		s.fail(c, errBadSignature)
		return
	}
	c.Set(ctxActor, "bank:"+code)
	cb, err := parseCallback(code, body)
	if err != nil {
		s.fail(c, err)
		return
	}
	result, err := s.Callbacks.Apply(ctx, cb)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"result": result})
}

// parseCallback reads {event_id, type, occurred_at, data}; unknown fields
// are ignored (PROTOCOL.md §1). A type the gateway does not know is left to
// the dispatcher, which records it. Every string the bank sent loses its
// control and bidirectional formatting characters (bank_text.go): the
// callback is applied with what remains, never refused for its spelling.
func parseCallback(bankCode string, body []byte) (service.Callback, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil || !utf8.Valid(body) {
		return service.Callback{}, fault.New(fault.InvalidRequest, "the body is not a JSON object")
	}
	var problems []fault.FieldError
	add := func(field, msg string) {
		problems = append(problems, fault.FieldError{Field: field, Code: fault.ValidationFailed, Message: msg})
	}
	str := func(field string) string {
		var v string
		if json.Unmarshal(raw[field], &v) != nil {
			return ""
		}
		return plaintext.Strip(v)
	}
	cb := service.Callback{BankCode: bankCode, EventID: str("event_id"), Type: str("type"), Body: storableEvidence(body)}
	if n := utf8.RuneCountInString(cb.EventID); n < 1 || n > 200 {
		add("event_id", "event_id must be a string of 1 to 200 characters")
	}
	if cb.Type == "" || len(cb.Type) > 100 {
		add("type", "type must be a callback type such as account_verification.succeeded")
	}
	at, err := wire.ParseTime(str("occurred_at"))
	if err != nil {
		add("occurred_at", "occurred_at must be an RFC 3339 time")
	}
	cb.OccurredAt = at
	if d := bytes.TrimSpace(raw["data"]); len(d) == 0 || d[0] != '{' {
		add("data", "data must be an object")
	} else if cb.Data, err = stripBankData(d); err != nil {
		add("data", "data must be an object")
	}
	switch len(problems) {
	case 0:
		return cb, nil
	case 1:
		return cb, &fault.Error{Code: fault.ValidationFailed, Message: problems[0].Message, Fields: problems}
	}
	return cb, &fault.Error{Code: fault.ValidationFailed, Message: "some fields are invalid", Fields: problems}
}
