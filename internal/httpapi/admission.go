package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizenpay/gateway/internal/admission"
	"github.com/citizenpay/gateway/internal/fault"
)

// RateLimiter takes one request from a caller's allowance (the Redis rate
// limiter). An error means the allowance is not known just now.
type RateLimiter interface {
	Allow(ctx context.Context, caller string, rate float64, burst int) (bool, time.Duration, error)
}

// Admission is the gateway's peak-hour admission control: load shedding by
// class in front of every API route, a per-portal rate limit after the
// portal is authenticated, and a per-citizen one on citizen mutations. A nil
// *Admission admits everything.
type Admission struct {
	shedder      *admission.Shedder
	limiter      RateLimiter
	portalRate   float64
	portalBurst  int
	citizenRate  float64
	citizenBurst int

	shed            *prometheus.CounterVec
	limited         prometheus.Counter
	failOpen        prometheus.Counter
	citizenLimited  prometheus.Counter
	citizenFailOpen prometheus.Counter
}

// AdmissionConfig configures NewAdmission.
type AdmissionConfig struct {
	Shedder     *admission.Shedder // nil sheds nothing
	Limiter     RateLimiter        // nil limits nothing
	PortalRate  float64            // requests a second per portal; 0 limits nothing
	PortalBurst int                // requests a portal may send at once
	// CitizenRate is mutations a second per citizen (0 limits nothing);
	// CitizenBurst how many a citizen may send at once.
	CitizenRate  float64
	CitizenBurst int
	Registry     prometheus.Registerer
}

// NewAdmission builds the admission control and registers its metrics.
func NewAdmission(cfg AdmissionConfig) *Admission {
	a := &Admission{
		shedder: cfg.Shedder, limiter: cfg.Limiter, portalRate: cfg.PortalRate, portalBurst: cfg.PortalBurst,
		citizenRate: cfg.CitizenRate, citizenBurst: cfg.CitizenBurst,
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_admission_shed_total", Help: "Requests refused 503 by load shedding, by class and reason (busy, database).",
		}, []string{"class", "reason"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_rate_limited_total", Help: "Portal requests refused 429 by the per-portal rate limit.",
		}),
		failOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_rate_limit_fail_open_total", Help: "Portal requests admitted without a rate-limit decision because Redis was unavailable.",
		}),
		citizenLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_citizen_rate_limited_total", Help: "Citizen mutations refused 429 by the per-citizen rate limit.",
		}),
		citizenFailOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_citizen_rate_limit_fail_open_total", Help: "Citizen mutations admitted without a rate-limit decision because Redis was unavailable.",
		}),
	}
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(a.shed, a.limited, a.failOpen, a.citizenLimited, a.citizenFailOpen)
		if sh := cfg.Shedder; sh != nil {
			for _, c := range admission.Classes() {
				cfg.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
					Name: "gateway_admission_in_flight", Help: "Requests admitted and not yet finished, by class.",
					ConstLabels: prometheus.Labels{"class": c.String()},
				}, func() float64 { return float64(sh.InFlight(c)) }))
			}
		}
	}
	return a
}

// admissionClass is the priority of the matched route; false for the
// operations routes and unmatched paths, which are never shed.
func admissionClass(c *gin.Context) (admission.Class, bool) {
	switch route := c.FullPath(); route {
	case "", "/healthz", "/readyz", "/openapi.yaml":
		return 0, false
	case "/v1/bank-callbacks/:bank_code", "/v1/me/payment-requests/:id/pay", "/pay/:id/pay":
		return admission.Critical, true
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead:
		return admission.Low, true
	}
	return admission.Normal, true
}

// admit sheds load: a request starts only while its class has room, and is
// answered 503 unavailable with Retry-After otherwise.
func (s *Server) admit(c *gin.Context) {
	a := s.Admission
	if a == nil || a.shedder == nil {
		c.Next()
		return
	}
	class, ok := admissionClass(c)
	if !ok {
		c.Next()
		return
	}
	release, err := a.shedder.Acquire(c.Request.Context(), class)
	if err != nil {
		reason := "busy"
		if errors.Is(err, admission.ErrDatabaseBusy) {
			reason = "database"
		}
		a.shed.WithLabelValues(class.String(), reason).Inc()
		s.failAfter(c, fault.New(fault.Unavailable, "the gateway is at capacity just now; retry after the time in Retry-After"), time.Second)
		return
	}
	defer release()
	c.Next()
}

// limitPortal applies the authenticated portal's rate limit: over it, 429
// rate_limited with Retry-After. Without Redis the request is admitted and
// counted: the limit protects the gateway, and losing Redis must not stop
// the portals.
func (s *Server) limitPortal(c *gin.Context) {
	a := s.Admission
	if a == nil || a.limiter == nil || a.portalRate <= 0 {
		c.Next()
		return
	}
	s.limit(c, portalOf(c).ID, a.portalRate, a.portalBurst, a.limited, a.failOpen,
		"this portal is over its rate limit; retry after the time in Retry-After")
}

// limitCitizen applies the authenticated citizen's rate limit to their
// mutations (every POST and DELETE under /v1/me): over it, 429 rate_limited
// with Retry-After, before anything runs, so nothing is stored and no bank
// is asked. Reads pass. The limit is kept under the citizen's opaque id,
// never their pid. Without Redis the request is admitted and counted, as
// for portals.
func (s *Server) limitCitizen(c *gin.Context) {
	a := s.Admission
	if a == nil || a.limiter == nil || a.citizenRate <= 0 ||
		c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	citizenID, err := citizenOf(c).ID(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if ok, wait := a.AllowCitizen(c.Request.Context(), citizenID); !ok {
		s.failAfter(c, fault.New(fault.RateLimited, "you are making changes too fast; retry after the time in Retry-After"), wait)
		return
	}
	c.Next()
}

// AllowCitizen takes one change from the citizen's allowance, the one every
// way a citizen changes something shares (this API and the hosted
// checkout), and says whether it was there and, if not, when to try again.
// Without a limit it allows everything; without Redis it allows and counts
// the change, as for portals.
func (a *Admission) AllowCitizen(ctx context.Context, citizenID string) (bool, time.Duration) {
	if a == nil || a.limiter == nil || a.citizenRate <= 0 {
		return true, 0
	}
	ok, wait, err := a.limiter.Allow(ctx, "citizen:"+citizenID, a.citizenRate, a.citizenBurst)
	switch {
	case err != nil:
		a.citizenFailOpen.Inc()
		return true, 0
	case !ok:
		a.citizenLimited.Inc()
	}
	return ok, wait
}

// limit takes one request from caller's allowance: over it, 429 with
// detail and Retry-After, counted in limited; without a decision (Redis
// unavailable) the request goes on, counted in failOpen.
func (s *Server) limit(c *gin.Context, caller string, rate float64, burst int, limited, failOpen prometheus.Counter, detail string) {
	ok, wait, err := s.Admission.limiter.Allow(c.Request.Context(), caller, rate, burst)
	switch {
	case err != nil:
		failOpen.Inc()
	case !ok:
		limited.Inc()
		s.failAfter(c, fault.New(fault.RateLimited, "%s", detail), wait)
		return
	}
	c.Next()
}
