package httpapi

import (
	"context"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/signature"
)

var errBadSignature = fault.New(fault.InvalidSignature, "the request signature is missing, wrong or outside the 300 s window")

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
}

// verifySigned checks the signature of a request with body against the
// secrets of k (PROTOCOL.md §3) and returns the key's holder. What needs no
// secret is checked first: a malformed signature header or a timestamp
// outside the window costs no lookup. A signature that does not verify
// under cached secrets is checked once more after a reload, as the secret
// may have been rotated since it was cached. An unknown key is refused like
// a bad signature; a failed lookup answers with its own error (a database
// out of reach is 503). On refusal the answer is written and ok is false.
func verifySigned[V any](s *Server, c *gin.Context, body []byte, k signer[V]) (v V, ok bool) {
	msg := signature.FromRequest(c.Request, body)
	header := c.GetHeader(signature.HeaderSignature)
	now := s.Now()
	if err := signature.Precheck(header, msg.Timestamp, now); err != nil {
		c.Set("error", err)
		s.fail(c, errBadSignature)
		return v, false
	}
	ctx := c.Request.Context()
	v, fresh, err := k.lookup(ctx, now)
	if fault.Is(err, fault.NotFound) {
		s.fail(c, errBadSignature)
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
	if err != nil {
		if k.logRefusal {
			c.Set("error", err)
		}
		s.fail(c, errBadSignature)
		return v, false
	}
	return v, true
}
