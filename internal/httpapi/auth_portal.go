package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/signature"
)

const ctxBody = "body"

// readBody reads the whole body once, refusing more than MaxBody bytes.
func readBody(c *gin.Context) ([]byte, error) {
	if v, ok := c.Get(ctxBody); ok {
		return v.([]byte), nil
	}
	if c.Request.ContentLength > MaxBody {
		return nil, fault.New(fault.PayloadTooLarge, "the body is over 64 KiB")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxBody+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A client trickling its body holds a connection: it gets its
		// answer and the connection is closed.
		c.Header("Connection", "close")
		return nil, fault.New(fault.InvalidRequest, "the body did not arrive in time")
	}
	if err != nil {
		return nil, fault.New(fault.InvalidRequest, "could not read the body")
	}
	bodyRead(c)
	if len(body) > MaxBody {
		return nil, fault.New(fault.PayloadTooLarge, "the body is over 64 KiB")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	c.Set(ctxBody, body)
	return body, nil
}

var errBadSignature = fault.New(fault.InvalidSignature, "the request signature is missing, wrong or outside the 300 s window")

// authenticatePortal checks a portal's request signature (PROTOCOL.md §3).
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
	p, fresh, err := s.portals.get(c.Request.Context(), keyID, false)
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
		// The secret may have been rotated since it was cached.
		if p, _, err = s.portals.get(c.Request.Context(), keyID, true); err == nil {
			err = signature.Verify(header, p.SigningSecrets(now), msg, now)
		}
	}
	if err != nil {
		s.fail(c, errBadSignature)
		return
	}
	c.Set(ctxPortal, p)
	c.Set(ctxActor, p.ID)
	c.Next()
}

func portalOf(c *gin.Context) *portal.Portal { return c.MustGet(ctxPortal).(*portal.Portal) }

// portalCache keeps portals by key id for a short while, so that a signed
// request costs no database round trip to authenticate.
type portalCache struct {
	store *postgres.PortalStore
	ttl   time.Duration
	mu    sync.RWMutex
	byKey map[string]cachedPortal
}

type cachedPortal struct {
	p  *portal.Portal
	at time.Time
}

func newPortalCache(store *postgres.PortalStore) *portalCache {
	return &portalCache{store: store, ttl: 30 * time.Second, byKey: map[string]cachedPortal{}}
}

// get returns the portal and whether it was read from the database just now.
func (pc *portalCache) get(ctx context.Context, keyID string, reload bool) (*portal.Portal, bool, error) {
	if !reload {
		pc.mu.RLock()
		e, ok := pc.byKey[keyID]
		pc.mu.RUnlock()
		if ok && time.Since(e.at) < pc.ttl {
			return e.p, false, nil
		}
	}
	p, err := pc.store.ByKeyID(ctx, keyID)
	if err != nil {
		return nil, true, err
	}
	pc.mu.Lock()
	if len(pc.byKey) > 10000 {
		pc.byKey = map[string]cachedPortal{}
	}
	pc.byKey[keyID] = cachedPortal{p: p, at: time.Now()}
	pc.mu.Unlock()
	return p, true, nil
}
