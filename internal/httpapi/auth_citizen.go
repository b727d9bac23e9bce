package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/identity"
)

const ctxCitizen = "citizen"

// minMutationLOA is the level of assurance every citizen mutation needs
// (PROTOCOL.md §2).
const minMutationLOA = 2

// citizenSession is the citizen a verified token names, kept with the token
// until it expires. The clear pid stays in memory; it is never logged.
type citizenSession struct {
	who      identity.Citizen
	pidIndex []byte
	ensure   func(ctx context.Context, pid string) (string, error)

	mu sync.Mutex
	id string // the citizen's id once their row is known
}

// ID returns the citizen's id, creating the citizen on first sight. Only
// mutations call it: reading never writes.
func (cs *citizenSession) ID(ctx context.Context) (string, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.id != "" {
		return cs.id, nil
	}
	id, err := cs.ensure(ctx, cs.who.PID)
	if err != nil {
		return "", err
	}
	cs.id = id
	return id, nil
}

// knownID returns the citizen's id if it is already known in this session.
func (cs *citizenSession) knownID() string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.id
}

func (cs *citizenSession) remember(id string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.id = id
}

// PIDIndex is the blind index the citizen's payment requests are found by.
func (cs *citizenSession) PIDIndex() []byte { return cs.pidIndex }

func citizenOf(c *gin.Context) *citizenSession { return c.MustGet(ctxCitizen).(*citizenSession) }

// tokenCache keeps verified tokens until they expire, by the SHA-256 of the
// token (never the token itself), so that a citizen's next requests cost a
// hash and a map read. It holds at most max entries: when full, expired ones
// go first, then everything.
type tokenCache struct {
	mu     sync.RWMutex
	max    int
	byHash map[[sha256.Size]byte]*citizenSession
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, byHash: map[[sha256.Size]byte]*citizenSession{}}
}

func (tc *tokenCache) get(h [sha256.Size]byte, now time.Time) *citizenSession {
	tc.mu.RLock()
	s := tc.byHash[h]
	tc.mu.RUnlock()
	if s == nil || !now.Before(s.who.ExpiresAt) {
		return nil
	}
	return s
}

func (tc *tokenCache) put(h [sha256.Size]byte, s *citizenSession, now time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.byHash) >= tc.max {
		for k, v := range tc.byHash {
			if !now.Before(v.who.ExpiresAt) {
				delete(tc.byHash, k)
			}
		}
		if len(tc.byHash) >= tc.max {
			clear(tc.byHash)
		}
	}
	tc.byHash[h] = s
}

// citizenAuth verifies citizens' bearer tokens (PROTOCOL.md §2).
type citizenAuth struct {
	s      *Server
	tokens *tokenCache
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// authenticate admits a request with a valid citizen token: 503
// identity_not_configured without an identity provider, 401 invalid_token or
// invalid_identity for a bad token, 503 unavailable when the provider's keys
// cannot be had, and 403 insufficient_assurance for a mutation below loa 2.
func (a *citizenAuth) authenticate(c *gin.Context) {
	s := a.s
	if s.Identity == nil {
		s.fail(c, fault.New(fault.IdentityNotConfigured, "the citizen API needs an identity provider, and none is configured"))
		return
	}
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		a.refuse(c, fault.New(fault.InvalidToken, "send the identity provider's token as Authorization: Bearer <token>"), nil)
		return
	}
	h := sha256.Sum256([]byte(token))
	now := s.Now()
	sess := a.tokens.get(h, now)
	if sess == nil {
		who, err := s.Identity.Verify(c.Request.Context(), token)
		switch {
		case errors.Is(err, identity.ErrInvalidIdentity):
			a.refuse(c, fault.New(fault.InvalidIdentity, "the token's personal identification number is not valid"), err)
			return
		case errors.Is(err, identity.ErrInvalidToken):
			a.refuse(c, fault.New(fault.InvalidToken, "the token is not valid: malformed, expired, not for this gateway, or not signed by the identity provider"), err)
			return
		case errors.Is(err, identity.ErrKeysUnavailable):
			c.Set("error", err)
			s.fail(c, fault.New(fault.Unavailable, "the identity provider's keys cannot be loaded just now; retry shortly"))
			return
		case err != nil:
			s.fail(c, err)
			return
		}
		sess = &citizenSession{who: who, pidIndex: s.Citizens.PIDIndex(who.PID), ensure: s.Citizens.Ensure}
		a.tokens.put(h, sess, now)
	}
	c.Set(ctxCitizen, sess)
	// A pseudonym for the logs: a prefix of the keyed blind index, never the pid.
	c.Set(ctxActor, "citizen:"+hex.EncodeToString(sess.pidIndex[:6]))
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead && sess.who.LOA < minMutationLOA {
		s.fail(c, fault.New(fault.InsufficientAssurance, "this needs a level of assurance of at least %d; the token has %d",
			minMutationLOA, sess.who.LOA))
		return
	}
	c.Next()
}

// refuse answers 401 with the Bearer challenge; why (never personal data)
// goes to the request's log line.
func (a *citizenAuth) refuse(c *gin.Context, f *fault.Error, why error) {
	if why != nil {
		c.Set("error", why)
	}
	c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
	a.s.fail(c, f)
}

// citizenRoutes serves the citizen API (PROTOCOL.md §6) under /v1/me and
// returns the group, for the routes other files add.
func (s *Server) citizenRoutes(r *gin.Engine) *gin.RouterGroup {
	auth := &citizenAuth{s: s, tokens: newTokenCache(100_000)}
	me := r.Group("/v1/me", auth.authenticate, s.limitCitizen)
	me.GET("", s.getMe)
	me.GET("/payment-requests", s.listMyPaymentRequests)
	me.POST("/accounts", s.linkAccount)
	me.GET("/accounts", s.listAccounts)
	me.DELETE("/accounts/:id", s.unlinkAccount)
	me.POST("/accounts/:id/default", s.setDefaultAccount)
	me.POST("/payment-requests/:id/pay", s.payPaymentRequest)
	return me
}
