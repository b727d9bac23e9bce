package httpapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/wire"
)

// The checks of a signature that an invalid_signature names in its
// signature_error member (PROTOCOL.md §3).
const (
	sigMissingHeaders = "missing_headers"
	sigMalformed      = "malformed_headers"
	sigSkew           = "timestamp_out_of_window"
	sigUnknownKey     = "unknown_key_id"
	sigMismatch       = "signature_mismatch"
)

// signatureRefusal is the invalid_signature refusal of a request whose
// check failed, saying which in its detail and members, with the gateway's
// time. A mismatch carries the canonical string the gateway computed, which
// holds no secret, for the sender to compare with what it signed; nothing
// derived from the secret (the expected signature) is ever shown.
func signatureRefusal(check, detail string, now time.Time, msg signature.Message) *fault.Error {
	e := fault.New(fault.InvalidSignature, "%s", detail).
		With(fault.ExtSignatureError, check).
		With(fault.ExtGatewayTime, wire.Time(now))
	if check == sigMismatch {
		e = e.With(fault.ExtCanonicalString, msg.Canonical())
	}
	return e
}

// precheckRefusal is the refusal of a request that failed signature.Precheck.
func precheckRefusal(err error, now time.Time, msg signature.Message) *fault.Error {
	switch {
	case errors.Is(err, signature.ErrMissing):
		return signatureRefusal(sigMissingHeaders, "X-Timestamp or X-Signature is missing", now, msg)
	case errors.Is(err, signature.ErrTimestamp):
		return signatureRefusal(sigMalformed, "X-Timestamp must be unix seconds in decimal digits", now, msg)
	case errors.Is(err, signature.ErrSkew):
		return signatureRefusal(sigSkew, fmt.Sprintf("X-Timestamp %s is more than 300 s from the gateway's time %s (see gateway_time); check the sender's clock",
			msg.Timestamp, wire.Time(now)), now, msg)
	default:
		return signatureRefusal(sigMalformed, "X-Signature holds no well-formed v1=<64 lowercase hex digits> value", now, msg)
	}
}

// mismatchRefusal is the refusal of a well-formed signature that matches
// none of the key's secrets.
func mismatchRefusal(now time.Time, msg signature.Message) *fault.Error {
	return signatureRefusal(sigMismatch, "no signature matches the request; compare canonical_string, the string the gateway "+
		"computed, with the one you signed (method, request target with its query, Idempotency-Key, SHA-256 of the exact body)", now, msg)
}

// signer says where the secrets of the key that signed a request come from
// (a portal's, a bank's).
type signer[V any] struct {
	// lookup returns the key's holder, from a cache when it is recent;
	// fresh reports that it was read just now.
	lookup func(ctx context.Context, now time.Time) (v V, fresh bool, err error)
	// reload rereads the holder, at most once per reload interval;
	// reloaded is false when it answered from the cache.
	reload func(ctx context.Context, now time.Time) (v V, reloaded bool, err error)
	// secrets returns the secrets the holder may sign with at now.
	secrets func(v V, now time.Time) []string
	// logRefusal records in the request log why a signature checked
	// against the holder's secrets was refused.
	logRefusal bool
	// hideUnknown refuses an unknown key like a signature that does not
	// match, so that the answer does not tell which keys exist.
	hideUnknown bool
}

// verifySigned checks the signature of a request with body against the
// secrets of k (PROTOCOL.md §3) and returns the key's holder. What needs no
// secret is checked first: a malformed signature header or a timestamp
// outside the window costs no lookup. A signature that does not verify
// under cached secrets is checked once more after a reload, as the secret
// may have been rotated since it was cached. An unknown key is refused like
// a bad signature (unknown_key_id, or signature_mismatch when k hides
// unknown keys); a failed lookup answers with its own error (a database out
// of reach is 503). On refusal the answer is written and ok is false.
func verifySigned[V any](s *Server, c *gin.Context, body []byte, k signer[V]) (v V, ok bool) {
	msg := signature.FromRequest(c.Request, body)
	header := c.GetHeader(signature.HeaderSignature)
	now := s.Now()
	if err := signature.Precheck(header, msg.Timestamp, now); err != nil {
		c.Set("error", err)
		s.fail(c, precheckRefusal(err, now, msg))
		return v, false
	}
	unknown := func() *fault.Error {
		if k.hideUnknown {
			return mismatchRefusal(now, msg)
		}
		return signatureRefusal(sigUnknownKey, "X-Portal-Key names no portal: check the key id issued at onboarding", now, msg)
	}
	ctx := c.Request.Context()
	v, fresh, err := k.lookup(ctx, now)
	if fault.Is(err, fault.NotFound) {
		s.fail(c, unknown())
		return v, false
	}
	if err != nil {
		s.fail(c, err)
		return v, false
	}
	err = signature.Verify(header, k.secrets(v, now), msg, now)
	if errors.Is(err, signature.ErrMismatch) && !fresh {
		var reloaded bool
		if v, reloaded, err = k.reload(ctx, now); err == nil && reloaded {
			err = signature.Verify(header, k.secrets(v, now), msg, now)
		} else if err == nil {
			err = signature.ErrMismatch
		}
	}
	if err != nil && !errors.Is(err, signature.ErrMismatch) && !fault.Is(err, fault.NotFound) {
		s.fail(c, err)
		return v, false
	}
	if fault.Is(err, fault.NotFound) {
		s.fail(c, unknown())
		return v, false
	}
	if err != nil {
		if k.logRefusal {
			c.Set("error", err)
		}
		s.fail(c, mismatchRefusal(now, msg))
		return v, false
	}
	return v, true
}
