package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes of the gateway's refusals (PROTOCOL.md §1) that a portal
// meets. Clients must accept codes they do not know.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeIdempotencyKeyMissing   = "idempotency_key_missing"
	CodeIdempotencyKeyInvalid   = "idempotency_key_invalid"
	CodeInvalidSignature        = "invalid_signature"
	CodeNotFound                = "not_found"
	CodeIdempotencyKeyInUse     = "idempotency_key_in_use"
	CodeInvalidState            = "invalid_state"
	CodeDuplicateDossier        = "duplicate_dossier"
	CodePayloadTooLarge         = "payload_too_large"
	CodeValidationFailed        = "validation_failed"
	CodeInvalidAmount           = "invalid_amount"
	CodeAmountMismatch          = "amount_mismatch"
	CodeInvalidPID              = "invalid_pid"
	CodeInvalidExpiry           = "invalid_expiry"
	CodeInvalidReturnURL        = "invalid_return_url"
	CodeRefundExceedsRefundable = "refund_exceeds_refundable"
	CodeIdempotencyKeyReused    = "idempotency_key_reused"
	CodeRateLimited             = "rate_limited"
	CodeUnavailable             = "unavailable"
	CodeInternal                = "internal"
)

// The checks of a request signature an invalid_signature names in
// Error.SignatureError.
const (
	SignatureMissingHeaders = "missing_headers"
	SignatureMalformed      = "malformed_headers"
	SignatureOutOfWindow    = "timestamp_out_of_window"
	SignatureUnknownKeyID   = "unknown_key_id"
	SignatureMismatch       = "signature_mismatch"
)

// Error is a refusal by the gateway: its RFC 9457 problem document, with
// the HTTP status and, when the gateway sent one, its Retry-After.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int `json:"-"`
	// RetryAfter is the wait the gateway asked for, or zero.
	RetryAfter time.Duration `json:"-"`
	// Body is the response body as received.
	Body []byte `json:"-"`

	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Code      string       `json:"code"`
	RequestID string       `json:"request_id"`
	Errors    []FieldError `json:"errors,omitempty"`

	// SignatureError names the check of an invalid_signature that failed
	// (Signature… constants).
	SignatureError string `json:"signature_error,omitempty"`
	// GatewayTime is the gateway's clock when it refused a signature.
	GatewayTime *time.Time `json:"gateway_time,omitempty"`
	// CanonicalString is, for a signature_mismatch, the string the gateway
	// computed from the request: compare it with what was signed
	// (Client's WithExplain shows that).
	CanonicalString string `json:"canonical_string,omitempty"`
	// PaymentRequestID names, for a duplicate_dossier, the dossier's live
	// request.
	PaymentRequestID string `json:"payment_request_id,omitempty"`
}

// FieldError is one field's problem in a validation_failed (or a
// single-field refusal such as invalid_amount).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string {
	msg := fmt.Sprintf("gateway: %d %s", e.StatusCode, e.Code)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	for _, f := range e.Errors {
		msg += fmt.Sprintf("; %s: %s", f.Field, f.Message)
	}
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

// IsCode reports whether err is (or wraps) an *Error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// errorOf reads a refusal from a response with status ≥ 400. A body that is
// not a problem document still gives an *Error with the status.
func errorOf(status int, header http.Header, body []byte) *Error {
	e := &Error{}
	if json.Unmarshal(body, e) != nil {
		*e = Error{}
	}
	e.StatusCode, e.Body = status, body
	if e.Code == "" {
		e.Code = http.StatusText(status)
	}
	e.RetryAfter, _ = parseRetryAfter(header.Get("Retry-After"), time.Now())
	return e
}
