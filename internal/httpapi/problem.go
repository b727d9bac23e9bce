package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/citizenpay/gateway/internal/fault"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[fault.Code]int{
	fault.InvalidRequest:          http.StatusBadRequest,
	fault.IdempotencyKeyMissing:   http.StatusBadRequest,
	fault.IdempotencyKeyInvalid:   http.StatusBadRequest,
	fault.InvalidSignature:        http.StatusUnauthorized,
	fault.InvalidToken:            http.StatusUnauthorized,
	fault.InvalidIdentity:         http.StatusUnauthorized,
	fault.InsufficientAssurance:   http.StatusForbidden,
	fault.NotFound:                http.StatusNotFound,
	fault.IdempotencyKeyInUse:     http.StatusConflict,
	fault.InvalidState:            http.StatusConflict,
	fault.DuplicateDossier:        http.StatusConflict,
	fault.PaymentInProgress:       http.StatusConflict,
	fault.AccountTaken:            http.StatusConflict,
	fault.AccountLimit:            http.StatusConflict,
	fault.AccountBusy:             http.StatusConflict,
	fault.OutcomeConflict:         http.StatusConflict,
	fault.PayloadTooLarge:         http.StatusRequestEntityTooLarge,
	fault.ValidationFailed:        http.StatusUnprocessableEntity,
	fault.InvalidAmount:           http.StatusUnprocessableEntity,
	fault.AmountMismatch:          http.StatusUnprocessableEntity,
	fault.InvalidPID:              http.StatusUnprocessableEntity,
	fault.InvalidExpiry:           http.StatusUnprocessableEntity,
	fault.RefundExceedsRefundable: http.StatusUnprocessableEntity,
	fault.AccountNotActive:        http.StatusUnprocessableEntity,
	fault.AccountRequired:         http.StatusUnprocessableEntity,
	fault.IdempotencyKeyReused:    http.StatusUnprocessableEntity,
	fault.AmountDiffers:           http.StatusUnprocessableEntity,
	fault.UnknownEventType:        http.StatusUnprocessableEntity,
	fault.RateLimited:             http.StatusTooManyRequests,
	fault.Unavailable:             http.StatusServiceUnavailable,
	fault.BankUnavailable:         http.StatusServiceUnavailable,
	fault.IdentityNotConfigured:   http.StatusServiceUnavailable,
	fault.Internal:                http.StatusInternalServerError,
}

var titles = map[int]string{
	400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict",
	413: "Payload too large", 422: "Unprocessable content", 429: "Too many requests",
	500: "Internal server error", 503: "Service unavailable",
}

// Problem is an RFC 9457 problem document with the gateway's extensions.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	Code      string         `json:"code"`
	RequestID string         `json:"request_id"`
	Errors    []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one field's problem.
type ProblemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// problemFor renders err. Anything that is not a *fault.Error is internal and
// shows no detail.
func problemFor(err error, requestID string) (int, []byte) {
	e, ok := fault.As(err)
	if !ok {
		e = &fault.Error{Code: fault.Internal, Message: "something went wrong on our side; it is safe to retry with the same Idempotency-Key"}
	}
	status, known := statusOf[e.Code]
	if !known {
		e = &fault.Error{Code: fault.Internal}
		status = http.StatusInternalServerError
	}
	p := Problem{
		Type:      "https://docs.citizenpay.dev/errors/" + string(e.Code),
		Title:     titles[status],
		Status:    status,
		Detail:    e.Message,
		Code:      string(e.Code),
		RequestID: requestID,
	}
	if status >= 500 && e.Code == fault.Internal {
		p.Detail = "something went wrong on our side; it is safe to retry with the same Idempotency-Key"
	}
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, ProblemField{Field: f.Field, Code: string(f.Code), Message: f.Message})
	}
	body, _ := json.Marshal(p)
	return status, body
}
