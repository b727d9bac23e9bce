// Package fault holds the gateway's one error type. Every refusal the gateway
// makes to a portal, citizen or bank is a *Error with a stable Code from
// PROTOCOL.md §1. What a code means on the wire (its HTTP status, title,
// Retry-After, and whether idempotency stores it) is the HTTP layer's, in
// one registry there (internal/httpapi, problem.go); this package knows
// nothing of HTTP. Any other error is internal and is never shown to a
// caller.
package fault

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code (PROTOCOL.md §1).
type Code string

// The codes of PROTOCOL.md §1.
const (
	InvalidRequest          Code = "invalid_request"
	IdempotencyKeyMissing   Code = "idempotency_key_missing"
	IdempotencyKeyInvalid   Code = "idempotency_key_invalid"
	InvalidSignature        Code = "invalid_signature"
	InvalidToken            Code = "invalid_token"
	InvalidIdentity         Code = "invalid_identity"
	InsufficientAssurance   Code = "insufficient_assurance"
	PortalDisabled          Code = "portal_disabled" // well signed, but the operator disabled the portal
	NotFound                Code = "not_found"
	IdempotencyKeyInUse     Code = "idempotency_key_in_use"
	InvalidState            Code = "invalid_state"
	DuplicateDossier        Code = "duplicate_dossier"
	PaymentInProgress       Code = "payment_in_progress"
	AccountTaken            Code = "account_taken"
	AccountLimit            Code = "account_limit"
	AccountBusy             Code = "account_busy"
	OutcomeConflict         Code = "outcome_conflict"
	PayloadTooLarge         Code = "payload_too_large"
	ValidationFailed        Code = "validation_failed"
	InvalidAmount           Code = "invalid_amount"
	AmountMismatch          Code = "amount_mismatch"
	InvalidPID              Code = "invalid_pid"
	InvalidExpiry           Code = "invalid_expiry"
	InvalidReturnURL        Code = "invalid_return_url"
	RefundExceedsRefundable Code = "refund_exceeds_refundable"
	AccountNotActive        Code = "account_not_active"
	AccountRequired         Code = "account_required"
	IdempotencyKeyReused    Code = "idempotency_key_reused"
	AmountDiffers           Code = "amount_differs"
	UnknownEventType        Code = "unknown_event_type"
	RateLimited             Code = "rate_limited"
	Unavailable             Code = "unavailable"
	BankUnavailable         Code = "bank_unavailable"
	IdentityNotConfigured   Code = "identity_not_configured"
	Internal                Code = "internal"
)

// FieldError is one problem with one field of a request.
type FieldError struct {
	Field   string
	Code    Code
	Message string
}

// Error is a refusal with a stable code. Message is safe to show the caller.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Extensions are further facts about the refusal, by their snake_case
	// member names (PROTOCOL.md §1: the problem's extension members), each
	// safe to show the caller: which signature check failed, the live
	// request that holds a dossier. The HTTP layer shows those it knows.
	Extensions map[string]string
}

// Extension names of Error.Extensions.
const (
	// ExtSignatureError names the signature check that failed.
	ExtSignatureError = "signature_error"
	// ExtGatewayTime is the receiver's clock when it checked a signature.
	ExtGatewayTime = "gateway_time"
	// ExtCanonicalString is the string the receiver computed and checked
	// the signature against.
	ExtCanonicalString = "canonical_string"
	// ExtPaymentRequestID names the payment request a refusal is about.
	ExtPaymentRequestID = "payment_request_id"
)

// With returns a copy of e with the extension name set to value.
func (e *Error) With(name, value string) *Error {
	c := *e
	c.Extensions = make(map[string]string, len(e.Extensions)+1)
	for k, v := range e.Extensions {
		c.Extensions[k] = v
	}
	c.Extensions[name] = value
	return &c
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// New returns an *Error with code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns a single-field error: the field's own code (invalid_amount,
// invalid_pid, …) as the top-level code, and the field listed in Fields.
func Field(code Code, field, message string) *Error {
	return &Error{Code: code, Message: message, Fields: []FieldError{{Field: field, Code: code, Message: message}}}
}

// CodeOf returns the code of err if it is (or wraps) an *Error, else Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
