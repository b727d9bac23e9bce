package httpapi

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/keycache"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/signature"
)

var errBadSignature = fault.New(fault.InvalidSignature, "the request signature is missing, wrong or outside the 300 s window")

// authenticatePortal checks a portal's request signature (PROTOCOL.md §3).
// What needs no secret is checked first: a request with a malformed
// signature header or a timestamp outside the window costs no lookup.
func (s *Server) authenticatePortal(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	keyID := c.GetHeader(signature.HeaderPortalKey)
	if keyID == "" || len(keyID) > 100 {
		s.fail(c, errBadSignature)
		return
	}
	msg := signature.FromRequest(c.Request, body)
	header := c.GetHeader(signature.HeaderSignature)
	now := s.Now()
	if err := signature.Precheck(header, msg.Timestamp, now); err != nil {
		c.Set("error", err)
		s.fail(c, errBadSignature)
		return
	}
	ctx := c.Request.Context()
	p, fresh, err := s.portals.Get(ctx, keyID, now)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			s.fail(c, errBadSignature)
			return
		}
		s.fail(c, err)
		return
	}
	err = signature.Verify(header, p.SigningSecrets(now), msg, now)
	if errors.Is(err, signature.ErrMismatch) && !fresh {
		// The secret may have been rotated since it was cached; the
		// portal is reread at most once per reload interval.
		var reloaded bool
		if p, reloaded, err = s.portals.Reload(ctx, keyID, now); err == nil && reloaded {
			err = signature.Verify(header, p.SigningSecrets(now), msg, now)
		} else if err == nil {
			err = signature.ErrMismatch
		}
	}
	if err != nil {
		if !errors.Is(err, signature.ErrMismatch) && !fault.Is(err, fault.NotFound) {
			s.fail(c, err)
			return
		}
		s.fail(c, errBadSignature)
		return
	}
	c.Set(ctxPortal, p)
	c.Set(ctxActor, p.ID)
	c.Next()
}

func portalOf(c *gin.Context) *portal.Portal { return c.MustGet(ctxPortal).(*portal.Portal) }

// portalCache keeps portals by key id, and key ids that name no portal,
// for a short while (keycache): a signed request costs no database round
// trip to authenticate, and a flood of unknown key ids or bad signatures
// costs at most one lookup per key id per miss TTL or reload interval.
// A portal onboarded just now is usable within keycache.DefaultMissTTL.
type portalCache = keycache.Cache[*portal.Portal]

// NewPortalCache is the cache of portals by key id that authenticates
// portal requests; the caller that hears of key changes
// (postgres.ListenKeyChanges) forgets a changed key id in it.
func NewPortalCache(store *postgres.PortalStore) *keycache.Cache[*portal.Portal] {
	return newPortalCache(store)
}

func newPortalCache(store *postgres.PortalStore) *portalCache {
	return &portalCache{
		Lookup:   store.ByKeyID,
		NotFound: func(err error) bool { return fault.Is(err, fault.NotFound) },
	}
}
