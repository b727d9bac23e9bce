package httpapi

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/keycache"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/signature"
)

// authenticatePortal checks a portal's request signature (PROTOCOL.md §3)
// against the secrets of the portal its key id names.
func (s *Server) authenticatePortal(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	keyID := c.GetHeader(signature.HeaderPortalKey)
	if keyID == "" || len(keyID) > 100 {
		s.fail(c, signatureRefusal(sigMissingHeaders, "X-Portal-Key (the key id issued at onboarding) is missing or over 100 characters",
			s.Now(), signature.FromRequest(c.Request, body)))
		return
	}
	p, ok := verifySigned(s, c, body, signer[*portal.Portal]{
		lookup: func(ctx context.Context, now time.Time) (*portal.Portal, bool, error) {
			return s.portals.Get(ctx, keyID, now)
		},
		reload: func(ctx context.Context, now time.Time) (*portal.Portal, bool, error) {
			return s.portals.Reload(ctx, keyID, now)
		},
		secrets: (*portal.Portal).SigningSecrets,
	})
	if !ok {
		return
	}
	// Only after the signature: who cannot sign as the portal learns
	// nothing of its state.
	if p.Disabled() {
		s.fail(c, fault.New(fault.PortalDisabled, "portal %s is disabled by the operator", p.ID))
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
// The caller that hears of key changes (postgres.ListenKeyChanges) forgets
// a changed key id in it, so a portal onboarded or rotated just now is
// usable at once; the TTLs only bound what a process that missed the
// change may still believe.
type portalCache = keycache.Cache[*portal.Portal]

// NewPortalCache is the cache of portals by key id that authenticates
// portal requests.
func NewPortalCache(store *postgres.PortalStore) *portalCache {
	return &portalCache{
		Lookup:   store.ByKeyID,
		NotFound: func(err error) bool { return fault.Is(err, fault.NotFound) },
	}
}
