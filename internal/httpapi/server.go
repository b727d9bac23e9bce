// Package httpapi is the gateway's HTTP adapter: the Gin router, request
// authentication, idempotency, and the translation between wire shapes and
// the service. Handlers translate; they decide nothing.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/keycache"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/redisstore"
	"github.com/citizenpay/gateway/internal/service"
)

// MaxBody is the largest request body accepted (PROTOCOL.md §1).
const MaxBody = 64 << 10

// Deps is what the HTTP layer needs.
type Deps struct {
	Log      *slog.Logger
	DB       *postgres.DB
	Redis    *redisstore.Store
	Service  *service.Service
	Guard    *idempotency.Guard
	Portals  *postgres.PortalStore
	Metrics  *Metrics
	Identity *identity.Verifier // nil: the citizen API answers identity_not_configured
	OpenAPI  []byte
	Now      func() time.Time
	// FingerprintKey keys idempotency fingerprints.
	FingerprintKey []byte
	// BankOpen reports whether a bank's circuit breaker is open.
	BankOpen func(bankCode string) bool

	// The citizen API and the banks' callbacks (PROTOCOL.md §6, §7).
	Banks     *service.Banks
	Citizens  *service.Citizens
	Callbacks *service.Callbacks

	// PortalKeys caches portals by key id (NewPortalCache); nil: a cache
	// of the router's own, which nobody tells of changes.
	PortalKeys *keycache.Cache[*portal.Portal]

	// Admission sheds load and rate-limits portals (admission.go); nil
	// admits everything.
	Admission *Admission
	// Checkout serves the hosted checkout's pages (PROTOCOL.md §10) on this
	// listener; nil serves none.
	Checkout Routes
	// BodyReadTimeout bounds the time a request's body takes to arrive,
	// from the end of its headers (BODY_READ_TIMEOUT; 0: no bound of its
	// own). 64 KiB from an honest client takes well under a second.
	BodyReadTimeout time.Duration
}

// Routes are routes another package adds to the router, behind the same
// request ids, logging, recovery, body bound and admission control.
type Routes interface {
	Routes(r gin.IRouter)
}

// Server holds the router and its dependencies.
type Server struct {
	Deps
	portals *portalCache
	views   *requestViews
	// methods are the methods the router registers: the only ones that
	// become a metrics label or a log field as they are.
	methods map[string]bool
}

// New builds the router of the API listener. /metrics is not on it (see
// NewOps).
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{Deps: d, portals: d.PortalKeys, views: newRequestViews(maxRequestViews)}
	if s.portals == nil {
		s.portals = NewPortalCache(d.Portals)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.HandleMethodNotAllowed = false
	r.Use(s.observe, s.recover, s.boundBody, s.admit)
	r.NoRoute(func(c *gin.Context) {
		s.fail(c, fault.New(fault.NotFound, "no route %s %s", s.methodLabel(c), c.Request.URL.Path))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", func(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", d.OpenAPI) })

	portal := r.Group("/v1", s.authenticatePortal, s.limitPortal)
	portal.POST("/payment-requests", s.createPaymentRequest)
	portal.GET("/payment-requests", s.listPaymentRequests)
	portal.GET("/payment-requests/:id", s.getPaymentRequest)
	portal.POST("/payment-requests/:id/cancel", s.cancelPaymentRequest)
	portal.POST("/payment-requests/:id/refunds", s.createRefund)
	portal.GET("/refunds/:id", s.getRefund)
	portal.GET("/events", s.listEvents)
	portal.GET("/settlements", s.listSettlements)
	portal.GET("/settlements/:id", s.getSettlement)
	portal.GET("/settlements/:id/lines", s.listSettlementLines)
	s.receiptRoutes(r, portal, s.citizenRoutes(r))
	s.errorRoutes(r)
	s.bankCallbackRoutes(r)
	if d.Checkout != nil {
		d.Checkout.Routes(r)
	}
	s.methods = registeredMethods(r)
	return r
}

// registeredMethods lists the methods of r's routes.
func registeredMethods(r *gin.Engine) map[string]bool {
	methods := map[string]bool{}
	for _, route := range r.Routes() {
		methods[route.Method] = true
	}
	return methods
}

// methodLabel is the request's method if the router registers it, and
// "other" otherwise: Go accepts any token as a method, and each one made a
// label would be a new series kept for the life of the process.
func (s *Server) methodLabel(c *gin.Context) string {
	if m := c.Request.Method; s.methods[m] {
		return m
	}
	return "other"
}

const (
	ctxRequestID = "request_id"
	ctxPortal    = "portal"
	ctxActor     = "actor"
)

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// newRequestID is the id of a request whose client sent none.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// observe gives every request an id, and logs and measures it once.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	rid := c.GetHeader("X-Request-Id")
	if !validRequestID(rid) {
		rid = newRequestID()
	}
	c.Set(ctxRequestID, rid)
	c.Header("X-Request-Id", rid)
	c.Next()
	// Labels come from bounded sets only: the router's routes (its
	// templates, never the path) and methods.
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := s.methodLabel(c)
	status := c.Writer.Status()
	elapsed := time.Since(start)
	s.Metrics.Requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	s.Metrics.Latency.WithLabelValues(route, method).Observe(elapsed.Seconds())
	if route == "/healthz" || route == "/readyz" || route == "/metrics" {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", rid), slog.String("method", method), slog.String("route", route),
		slog.Int("status", status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
	}
	if a := c.GetString(ctxActor); a != "" {
		attrs = append(attrs, slog.String("actor", a))
	}
	if e, ok := c.Get("error"); ok {
		attrs = append(attrs, slog.String("error", e.(error).Error()))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.Log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.Log.Error("panic", "request_id", requestID(c), "panic", v)
			s.fail(c, fault.New(fault.Internal, "panic"))
		}
	}()
	c.Next()
}

// fail answers with the problem for err. Internal errors are logged by
// observe and never shown.
func (s *Server) fail(c *gin.Context, err error) { s.failAfter(c, err, noWait) }

// failAfter is fail with the caller's wait as the Retry-After of a code
// that carries one (a rate limit's time to the next allowance, …); noWait
// leaves the code's own.
func (s *Server) failAfter(c *gin.Context, err error, wait time.Duration) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		// The client went away (it timed out, or hung up): nobody reads an
		// answer, and it is not the gateway's failure. Logged as 499, as
		// proxies do, never as a 500.
		c.Status(statusClientClosed)
		c.Abort()
		return
	}
	if _, ok := fault.As(err); !ok {
		c.Set("error", err)
		if isUnavailable(err) {
			err = fault.New(fault.Unavailable, "the gateway cannot reach its database just now; retry shortly")
		}
	}
	status, body := problemFor(err, requestID(c), s.problemTypeBase())
	if v := retryAfter(fault.CodeOf(err), wait); v != "" {
		c.Header("Retry-After", v)
	}
	c.Data(status, "application/problem+json", body)
	c.Abort()
}

// statusClientClosed is the status logged for a request whose client hung
// up before its answer (nginx's 499).
const statusClientClosed = 499

func isUnavailable(err error) bool {
	return postgres.IsUnavailable(err)
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	out := gin.H{"postgres": "ok", "redis": "ok"}
	status := http.StatusOK
	if err := s.DB.Ping(ctx); err != nil {
		out["postgres"] = "unavailable"
		status = http.StatusServiceUnavailable
		c.Header("Retry-After", "5")
	}
	if s.Redis == nil || s.Redis.Ping(ctx) != nil {
		out["redis"] = "degraded"
	}
	c.JSON(status, out)
}
