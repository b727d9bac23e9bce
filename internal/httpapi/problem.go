package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// codeEntry is everything the HTTP layer says and does for one error code.
type codeEntry struct {
	// status is the HTTP status of a refusal with the code (PROTOCOL.md §1).
	status int
	// title is the problem document's title.
	title string
	// decidedOnState marks a refusal decided on the current state of the
	// gateway's objects rather than on the request's own form: such a
	// refusal is an outcome of a request that ran, stored under its
	// Idempotency-Key and replayed (PROTOCOL.md §4). Refusals of malformed
	// input, authentication and load store nothing: a retry runs anew.
	decidedOnState bool
	// retryAfter is the Retry-After sent with the code when the caller
	// gives no wait of its own; zero for a code that carries none.
	retryAfter time.Duration
}

// The problem titles, one per status.
const (
	titleBadRequest    = "Bad request"
	titleUnauthorized  = "Unauthorized"
	titleForbidden     = "Forbidden"
	titleNotFound      = "Not found"
	titleConflict      = "Conflict"
	titleTooLarge      = "Payload too large"
	titleUnprocessable = "Unprocessable content"
	titleTooMany       = "Too many requests"
	titleInternal      = "Internal server error"
	titleUnavailable   = "Service unavailable"
)

// retryLater is the Retry-After of a refusal for load or an unreachable
// dependency when the caller knows no better wait.
const retryLater = 5 * time.Second

// codes is the one registry of error codes: for each, its HTTP status,
// title, whether it is stored and replayed, and its Retry-After. A code
// missing here is answered as internal.
var codes = map[fault.Code]codeEntry{
	fault.InvalidRequest:          {status: http.StatusBadRequest, title: titleBadRequest},
	fault.IdempotencyKeyMissing:   {status: http.StatusBadRequest, title: titleBadRequest},
	fault.IdempotencyKeyInvalid:   {status: http.StatusBadRequest, title: titleBadRequest},
	fault.InvalidSignature:        {status: http.StatusUnauthorized, title: titleUnauthorized},
	fault.InvalidToken:            {status: http.StatusUnauthorized, title: titleUnauthorized},
	fault.InvalidIdentity:         {status: http.StatusUnauthorized, title: titleUnauthorized},
	fault.InsufficientAssurance:   {status: http.StatusForbidden, title: titleForbidden},
	fault.PortalDisabled:          {status: http.StatusForbidden, title: titleForbidden},
	fault.NotFound:                {status: http.StatusNotFound, title: titleNotFound, decidedOnState: true},
	fault.IdempotencyKeyInUse:     {status: http.StatusConflict, title: titleConflict, retryAfter: time.Second},
	fault.InvalidState:            {status: http.StatusConflict, title: titleConflict, decidedOnState: true},
	fault.DuplicateDossier:        {status: http.StatusConflict, title: titleConflict, decidedOnState: true},
	fault.PaymentInProgress:       {status: http.StatusConflict, title: titleConflict, decidedOnState: true},
	fault.AccountTaken:            {status: http.StatusConflict, title: titleConflict, decidedOnState: true},
	fault.AccountLimit:            {status: http.StatusConflict, title: titleConflict, decidedOnState: true},
	fault.AccountBusy:             {status: http.StatusConflict, title: titleConflict, decidedOnState: true},
	fault.OutcomeConflict:         {status: http.StatusConflict, title: titleConflict},
	fault.PayloadTooLarge:         {status: http.StatusRequestEntityTooLarge, title: titleTooLarge},
	fault.ValidationFailed:        {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.InvalidAmount:           {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.AmountMismatch:          {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.InvalidPID:              {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.InvalidExpiry:           {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.InvalidReturnURL:        {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.RefundExceedsRefundable: {status: http.StatusUnprocessableEntity, title: titleUnprocessable, decidedOnState: true},
	fault.AccountNotActive:        {status: http.StatusUnprocessableEntity, title: titleUnprocessable, decidedOnState: true},
	fault.AccountRequired:         {status: http.StatusUnprocessableEntity, title: titleUnprocessable, decidedOnState: true},
	fault.IdempotencyKeyReused:    {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.AmountDiffers:           {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.UnknownEventType:        {status: http.StatusUnprocessableEntity, title: titleUnprocessable},
	fault.RateLimited:             {status: http.StatusTooManyRequests, title: titleTooMany, retryAfter: retryLater},
	fault.Unavailable:             {status: http.StatusServiceUnavailable, title: titleUnavailable, retryAfter: retryLater},
	fault.BankUnavailable:         {status: http.StatusServiceUnavailable, title: titleUnavailable, retryAfter: retryLater},
	fault.IdentityNotConfigured:   {status: http.StatusServiceUnavailable, title: titleUnavailable, retryAfter: retryLater},
	fault.Internal:                {status: http.StatusInternalServerError, title: titleInternal},
}

// internalDetail is the only detail an internal error shows.
const internalDetail = "something went wrong on our side; it is safe to retry with the same Idempotency-Key"

// decidedOnState reports whether a refusal with err's code is stored under
// the request's Idempotency-Key and replayed (see codeEntry).
func decidedOnState(err error) bool {
	return codes[fault.CodeOf(err)].decidedOnState
}

// DecidedOnState reports whether a refusal is an outcome stored under its
// idempotency key and replayed (PROTOCOL.md §4): the rule the hosted
// checkout's guarded mutations follow too.
func DecidedOnState(err error) bool { return decidedOnState(err) }

// noWait is the wait of a caller that knows none: the code's own
// Retry-After applies.
const noWait time.Duration = -1

// retryAfter is the Retry-After header of a refusal with code, in whole
// seconds: wait if the caller gave one (at least one second), else the
// code's own. It is "" for a code that carries no Retry-After.
func retryAfter(code fault.Code, wait time.Duration) string {
	e := codes[code]
	if e.retryAfter == 0 {
		return ""
	}
	if wait < 0 {
		wait = e.retryAfter
	}
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
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

	// SignatureError names the check of an invalid_signature that failed
	// (PROTOCOL.md §3): missing_headers, malformed_headers,
	// timestamp_out_of_window, unknown_key_id or signature_mismatch.
	SignatureError string `json:"signature_error,omitempty"`
	// GatewayTime is the gateway's clock when it checked a signature.
	GatewayTime string `json:"gateway_time,omitempty"`
	// CanonicalString is, for a signature that did not match, the string
	// the gateway computed from the request and checked it against: no
	// secret, for the caller to compare with the string it signed.
	CanonicalString string `json:"canonical_string,omitempty"`
	// PaymentRequestID names the live request of a duplicate_dossier.
	PaymentRequestID string `json:"payment_request_id,omitempty"`
}

// ProblemField is one field's problem.
type ProblemField struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// problemFor renders err, its type URI under typeBase (errorTypeBase: the
// code's page, /errors/{code}). Anything that is not a *fault.Error, or
// carries a code the registry does not know, is internal and shows no detail.
func problemFor(err error, requestID, typeBase string) (int, []byte) {
	e, ok := fault.As(err)
	if !ok {
		e = &fault.Error{Code: fault.Internal, Message: internalDetail}
	}
	entry, known := codes[e.Code]
	if !known {
		e = &fault.Error{Code: fault.Internal}
		entry = codes[fault.Internal]
	}
	p := Problem{
		Type:      typeBase + string(e.Code),
		Title:     entry.title,
		Status:    entry.status,
		Detail:    e.Message,
		Code:      string(e.Code),
		RequestID: requestID,
	}
	if e.Code == fault.Internal {
		p.Detail = internalDetail
	}
	if e.Code != fault.Internal {
		p.SignatureError = e.Extensions[fault.ExtSignatureError]
		p.GatewayTime = e.Extensions[fault.ExtGatewayTime]
		p.CanonicalString = e.Extensions[fault.ExtCanonicalString]
		p.PaymentRequestID = e.Extensions[fault.ExtPaymentRequestID]
	}
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, ProblemField{Field: f.Field, Code: string(f.Code), Message: f.Message})
	}
	body, _ := json.Marshal(p)
	return entry.status, body
}
