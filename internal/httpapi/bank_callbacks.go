package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/plaintext"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/wire"
)

// bankCallbackRoutes serves the banks' callbacks (PROTOCOL.md §7).
func (s *Server) bankCallbackRoutes(r *gin.Engine) {
	r.POST("/v1/bank-callbacks/:bank_code", s.authenticateBank, s.bankCallback)
}

// bankCallback applies a bank's callback once; authenticateBank has
// checked its signature.
func (s *Server) bankCallback(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	code := c.Param("bank_code")
	ctx := c.Request.Context()
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
